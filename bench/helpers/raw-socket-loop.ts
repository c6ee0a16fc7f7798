/**
 * The second ceiling of the send-rate bench: raw-socket's own floor. One prebuilt IPv4 packet
 * sent over and over by the bare addon (its native handle's send(), one synchronous sendto a
 * call, as src/io/raw-sender.ts calls it), with nothing of synack around it: no send(), no
 * transmit loop, no packet preparation. The socket is opened as RawSender opens it
 * (IPPROTO_RAW, IP_HDRINCL, SO_MARK).
 *
 * Between this and the C loop of sendto is what raw-socket itself costs per packet (each call
 * converts the address string, creates and frees a persistent handle for its callback and calls
 * back into JavaScript: perf record of this loop, see bench/helpers/send-rate.ts); between this
 * and synack's send is what synack costs. raw-socket has no batched send (sendmmsg), so a
 * sender that keeps raw-socket as its way out cannot go below this.
 *   raw-socket-loop.ts <ip-bytes-hex> <seconds> <count>
 * Only 127.0.0.0/8 and 198.51.100.0/24 (the bench's namespaces). Bounded in count and time;
 * SIGINT/SIGTERM stop it. Prints 'sending' when it starts and one JSON line when it stops.
 */
import { rawSocketAddon } from '../../src/io/addons.js';
import { IPPROTO_IP, IPPROTO_RAW, IP_HDRINCL, SOL_SOCKET, SO_MARK, SYNACK_MARK } from '../../src/io/constants.js';
import { formatIPv4 } from '../../src/wire/addr.js';

const [hex, secondsArg, countArg] = process.argv.slice(2);
const packet = Buffer.from(hex ?? '', 'hex');
const seconds = Number(secondsArg);
const count = Number(countArg);
const dst = packet.length >= 20 && packet[0]! >> 4 === 4 ? formatIPv4(packet, 16) : '';
if (!(dst.startsWith('127.') || dst.startsWith('198.51.100.')) || !(seconds > 0 && seconds <= 30) || !(count >= 1 && count <= 50_000_000)) {
  console.error('usage: raw-socket-loop.ts <IPv4 packet hex, to 127.0.0.0/8 or 198.51.100.0/24> <seconds 0-30> <count 1-50000000>');
  process.exit(2);
}

const raw = rawSocketAddon();
const socket = raw.createSocket({ protocol: IPPROTO_RAW, addressFamily: raw.AddressFamily.IPv4 });
socket.pauseRecv();
socket.setOption(IPPROTO_IP, IP_HDRINCL, 1);
socket.setOption(SOL_SOCKET, SO_MARK, SYNACK_MARK);
const wrap = socket.wrap!;

let stop = false;
process.once('SIGINT', () => (stop = true));
process.once('SIGTERM', () => (stop = true));
const noop = (): void => {};

console.log('sending');
const started = performance.now();
const deadline = started + seconds * 1000;
let sent = 0;
let failed = 0;
// Batches of 1024 with a turn of the event loop between them, so the signals above can land.
while (!stop && sent < count && performance.now() < deadline) {
  const end = Math.min(count, sent + 1024);
  while (sent < end) {
    try {
      wrap.send(packet, 0, packet.length, dst, noop);
      sent++;
    } catch {
      failed++;
      break;
    }
  }
  await new Promise((resolve) => setImmediate(resolve));
}
console.log(JSON.stringify({ sent, failed, ms: performance.now() - started }));
socket.close();

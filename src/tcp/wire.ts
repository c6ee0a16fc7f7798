/**
 * The wire under a hand-made conversation: a marked raw socket out, the shared capture of an
 * interface in (running before anything is sent), and a cheap pre-filter on raw bytes so that
 * only TCP segments to our port are dissected. connect() and listen() both stand on this.
 */
import { RawSender } from '../io/raw-sender.js';
import { leaseCapture, type HubLease } from '../io/capture-hub.js';
import { networkOffset } from '../io/framing.js';
import { interfaceMtu } from '../io/route.js';
import { dissect } from '../packet/dissect.js';
// dissect('ip') needs the link types and the IPv6 layer registered, whoever imported us.
import '../packet/link-types.js';
import '../layers/ipv6.js';
import type { Packet } from '../packet/packet.js';
import type { ConversationLink } from './conversation.js';

export interface TcpWire {
  sender: RawSender;
  lease: HubLease;
  /** A ConversationLink sending to `dst`; closing it runs `onClose` after the wire is released. */
  link(dst: string, onClose: () => Promise<void>): ConversationLink;
  close(): void;
}

/**
 * Opens the wire for TCP segments arriving on `iface` for local port `ourPort` (and from
 * `peerPort` when given). `onSegment` gets each one dissected (a copy: the capture buffer is
 * reused) with its source address.
 */
export function openTcpWire(
  iface: string,
  family: 4 | 6,
  ourPort: number,
  peerPort: number | undefined,
  onSegment: (p: Packet, src: string, dst: string) => void,
): TcpWire {
  const sender = new RawSender(family);
  let lease: HubLease;
  try {
    lease = leaseCapture(iface, (buf, length, _time, linkType) => {
      const off = networkOffset(buf, length, linkType);
      if (off < 0 || !isTcpToPort(buf, off, length, family, ourPort, peerPort)) return;
      // Copied: the capture buffer is the next packet's, and the trace keeps this one.
      const p = dissect(buf.subarray(off, length), 'ip', { copy: true });
      const ip = p.layers[0];
      if (!ip) return;
      onSegment(p, String(ip.get('src' as never)), String(ip.get('dst' as never)));
    });
  } catch (err) {
    sender.close();
    throw err;
  }
  const mtu = interfaceMtu(iface);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    lease.release();
    sender.close();
  };
  return {
    sender,
    lease,
    close,
    link: (dst, onClose) => ({
      mtu,
      send: async (p: Packet) => {
        const bytes = p.bytes();
        // A full queue is rare for one conversation; yield and try again a few times.
        for (let i = 0; i < 100 && !sender.trySend(bytes, dst); i++) await new Promise((r) => setImmediate(r));
      },
      close: async () => {
        close();
        await onClose();
      },
    }),
  };
}

/** Quick test on raw bytes before dissecting: TCP, to our port, from the peer's port if known. */
function isTcpToPort(buf: Buffer, off: number, length: number, family: 4 | 6, ourPort: number, peerPort: number | undefined): boolean {
  let tcp: number;
  if (family === 4) {
    if (length < off + 20 || buf[off]! >> 4 !== 4 || buf[off + 9] !== 6) return false;
    tcp = off + (buf[off]! & 15) * 4;
  } else {
    if (length < off + 40 || buf[off]! >> 4 !== 6 || buf[off + 6] !== 6) return false;
    tcp = off + 40;
  }
  if (length < tcp + 4) return false;
  return buf.readUInt16BE(tcp + 2) === ourPort && (peerPort === undefined || buf.readUInt16BE(tcp) === peerPort);
}

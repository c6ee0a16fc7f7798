/**
 * A scan's probe, built once as bytes: an IPv4 or IPv6 header and a TCP header (with an MSS
 * option on SYNs, as nmap sends), destination port 0. Each probe is the template with its
 * port written in and the TCP checksum patched by RFC 1624's incremental update, so a port
 * costs two 16-bit writes, not a build. Written here rather than with the layer factories:
 * the scan needs one fixed shape, and loading every layer is start-up time a full-port scan
 * pays before its first probe.
 */
import { finishChecksum, pseudoHeaderSum, sumWords } from '../wire/checksum.js';
import { writeIPv4, writeIPv6 } from '../wire/addr.js';

export interface ProbeTemplate {
  /** The IP packet, destination port 0. */
  bytes: Buffer;
  /** Offset of the TCP header in `bytes`. */
  tcp: number;
  /** The one's-complement sum the checksum was made from (port 0): add the port, fold, complement. */
  baseSum: number;
}

export interface ProbeFields {
  src: string;
  dst: string;
  sport: number;
  seq: number;
  /** TCP flag bits (S 0x02, F 0x01, ...). */
  flags: number;
  /** IPv4 identification. */
  id: number;
  /** IPv4 TTL / IPv6 hop limit (default 64). */
  ttl?: number;
}

/** The TCP header for a probe: 20 bytes, 24 with MSS 1460 on a SYN. */
function tcpHeader(sport: number, seq: number, flags: number): Buffer {
  const syn = (flags & 0x02) !== 0;
  const t = Buffer.alloc(syn ? 24 : 20);
  t.writeUInt16BE(sport, 0);
  t.writeUInt32BE(seq >>> 0, 4);
  t[12] = (t.length / 4) << 4;
  t[13] = flags;
  t.writeUInt16BE(1024, 14);
  if (syn) {
    t[20] = 2; // MSS
    t[21] = 4;
    t.writeUInt16BE(1460, 22);
  }
  return t;
}

export function buildProbe(f: ProbeFields): ProbeTemplate {
  const tcp = tcpHeader(f.sport, f.seq, f.flags);
  const v6 = f.dst.includes(':');
  const ipLength = v6 ? 40 : 20;
  const bytes = Buffer.alloc(ipLength + tcp.length);
  if (v6) {
    bytes[0] = 0x60;
    bytes.writeUInt16BE(tcp.length, 4);
    bytes[6] = 6;
    bytes[7] = f.ttl ?? 64;
    writeIPv6(f.src, bytes, 8);
    writeIPv6(f.dst, bytes, 24);
  } else {
    bytes[0] = 0x45;
    bytes.writeUInt16BE(bytes.length, 2);
    bytes.writeUInt16BE(f.id & 0xffff, 4);
    bytes[8] = f.ttl ?? 64;
    bytes[9] = 6;
    writeIPv4(f.src, bytes, 12);
    writeIPv4(f.dst, bytes, 16);
    bytes.writeUInt16BE(finishChecksum(sumWords(bytes, 0, 20)), 10);
  }
  tcp.copy(bytes, ipLength);
  const baseSum = v6 ? pseudoHeaderSum(bytes, 8, 16, 6, tcp.length) : pseudoHeaderSum(bytes, 12, 4, 6, tcp.length);
  const folded = finishChecksum(sumWords(bytes, ipLength, bytes.length, baseSum));
  bytes.writeUInt16BE(folded, ipLength + 16);
  return { bytes, tcp: ipLength, baseSum: ~folded & 0xffff };
}

/** Writes `port` as the destination of the probe at buf[tcp...] and patches its checksum. */
export function patchPort(buf: Buffer, tcp: number, baseSum: number, port: number): void {
  buf[tcp + 2] = port >>> 8;
  buf[tcp + 3] = port & 0xff;
  let sum = baseSum + port;
  sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  buf[tcp + 16] = c >>> 8;
  buf[tcp + 17] = c & 0xff;
}

/**
 * The few header fields the analysis needs, read straight from a frame's bytes (no dissection,
 * no allocation but the address keys): the analyzer runs at millions of packets a second.
 * One FrameView is reused for every frame; `decodeFrame` fills it and says what it found.
 *
 * Link types: whatever src/wire/network-start.ts knows (Ethernet with VLAN tags, raw IP,
 * Linux cooked, BSD loopback). IPv6 extension headers (hop-by-hop, routing,
 * destination options) are skipped; fragments other than the first carry no ports and are
 * reported as plain IP.
 */
import { formatIPv4, formatIPv6 } from '../wire/addr.js';
import { ipOffset } from '../wire/network-start.js';

export const enum Transport {
  None = 0,
  TCP = 6,
  UDP = 17,
}

export class FrameView {
  /** 4 or 6; 0 when the frame is not IP. */
  ipVersion = 0;
  /** Offset of the IP header in the frame. */
  ipOffset = 0;
  /** IPv4 addresses as numbers (0 for IPv6). */
  src4 = 0;
  dst4 = 0;
  private srcKeyCache: string | undefined;
  private dstKeyCache: string | undefined;

  /** Address keys: compact strings that identify an address (not its text form), made on demand. */
  get srcKey(): string {
    return (this.srcKeyCache ??= this.keyAt(this.ipVersion === 4 ? this.ipOffset + 12 : this.ipOffset + 8));
  }

  get dstKey(): string {
    return (this.dstKeyCache ??= this.keyAt(this.ipVersion === 4 ? this.ipOffset + 16 : this.ipOffset + 24));
  }

  private keyAt(off: number): string {
    return this.frame!.toString('latin1', off, off + (this.ipVersion === 4 ? 4 : 16));
  }

  /** Forgets the keys of the previous frame. */
  clearKeys(): void {
    this.srcKeyCache = undefined;
    this.dstKeyCache = undefined;
  }
  transport: Transport = Transport.None;
  sport = 0;
  dport = 0;
  // TCP only:
  seq = 0;
  ack = 0;
  /** The 12 flag bits (NS..FIN). */
  flags = 0;
  window = 0;
  /** Bytes of payload the IP length implies (what Wireshark calls tcp.len). */
  seglen = 0;
  /** Offset of the TCP payload in the frame, and how much of it was captured. */
  payloadOffset = 0;
  payloadCaptured = 0;
  /** Offset and length of the TCP options. */
  optionsOffset = 0;
  optionsLength = 0;
  /** True when the TCP header itself was cut off or lies about its length. */
  short = false;

  private frame: Buffer | undefined;

  /** The source address as text ('127.0.0.1', '::1'). */
  srcText(): string {
    return this.addressText(this.ipVersion === 4 ? this.ipOffset + 12 : this.ipOffset + 8);
  }

  dstText(): string {
    return this.addressText(this.ipVersion === 4 ? this.ipOffset + 16 : this.ipOffset + 24);
  }

  private addressText(off: number): string {
    const f = this.frame!;
    return this.ipVersion === 4 ? formatIPv4(f, off) : formatIPv6(f, off);
  }

  /** The frame last decoded (valid only while the caller holds it). */
  get bytes(): Buffer {
    return this.frame!;
  }

  set bytes(frame: Buffer) {
    this.frame = frame;
  }
}

/**
 * Fills `v` from the frame at data[start, start + caplen) (a record's own buffer, or the read
 * chunk it lies in: offsets in `v` are then offsets in that chunk, and no slice is made).
 * Returns false when the frame is not IP. Never throws: a cut-off header leaves transport
 * None (or `short` set for a cut-off TCP header).
 */
export function decodeFrame(data: Buffer, start: number, caplen: number, linkType: number, v: FrameView): boolean {
  v.ipVersion = 0;
  v.transport = Transport.None;
  v.short = false;
  v.bytes = data;
  v.clearKeys();
  // The one home of "where the network layer starts" (VLAN tags skipped).
  const at = ipOffset(data, start, caplen, linkType);
  const ip = start + at;
  // Every length check below is against the captured end, not the buffer's.
  const captured = start + caplen;
  if (at < 0 || captured < ip + 1) return false;
  const version = data[ip]! >> 4;
  let proto: number;
  let l4: number;
  let end: number;
  if (version === 4) {
    if (captured < ip + 20) return false;
    const ihl = (data[ip]! & 0x0f) * 4;
    if (ihl < 20) return false;
    v.ipVersion = 4;
    v.ipOffset = ip;
    v.src4 = u32(data, ip + 12);
    v.dst4 = u32(data, ip + 16);
    proto = data[ip + 9]!;
    l4 = ip + ihl;
    end = ip + u16(data, ip + 2);
    // Only the first fragment carries the transport header.
    if ((u16(data, ip + 6) & 0x3fff) !== 0) return true;
  } else if (version === 6) {
    if (captured < ip + 40) return false;
    v.ipVersion = 6;
    v.ipOffset = ip;
    v.src4 = 0;
    v.dst4 = 0;
    proto = data[ip + 6]!;
    l4 = ip + 40;
    end = l4 + u16(data, ip + 4);
    // Hop-by-hop, routing and destination options: skip to the transport header.
    while ((proto === 0 || proto === 43 || proto === 60) && captured >= l4 + 8) {
      proto = data[l4]!;
      l4 += (data[l4 + 1]! + 1) * 8;
    }
    if (proto === 44) return true;
  } else {
    return false;
  }
  if (proto === 6) {
    if (captured < l4 + 20) {
      if (captured >= l4 + 4) {
        v.transport = Transport.TCP;
        v.short = true;
        v.sport = u16(data, l4);
        v.dport = u16(data, l4 + 2);
      }
      return true;
    }
    v.transport = Transport.TCP;
    v.sport = u16(data, l4);
    v.dport = u16(data, l4 + 2);
    v.seq = u32(data, l4 + 4);
    v.ack = u32(data, l4 + 8);
    const hlen = (data[l4 + 12]! >> 4) * 4;
    v.flags = u16(data, l4 + 12) & 0x0fff;
    v.window = u16(data, l4 + 14);
    if (hlen < 20 || end - l4 < hlen) {
      v.short = true;
      v.seglen = 0;
      v.optionsLength = 0;
      v.payloadOffset = l4 + 20;
      v.payloadCaptured = 0;
      return true;
    }
    v.optionsOffset = l4 + 20;
    v.optionsLength = Math.max(0, Math.min(hlen, captured - l4) - 20);
    v.seglen = end - l4 - hlen;
    v.payloadOffset = l4 + hlen;
    v.payloadCaptured = Math.max(0, Math.min(end, captured) - v.payloadOffset);
    return true;
  }
  if (proto === 17 && captured >= l4 + 8) {
    v.transport = Transport.UDP;
    v.sport = u16(data, l4);
    v.dport = u16(data, l4 + 2);
    v.payloadOffset = l4 + 8;
    v.seglen = Math.max(0, end - l4 - 8);
  }
  return true;
}

// Plain byte reads: Buffer's readUInt* check their argument on every call, and these run for
// every frame (the bounds are checked above, against the captured length).
const u16 = (b: Buffer, at: number): number => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Buffer, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export interface TcpOptionsSeen {
  /** Window scale shift, -1 when absent. */
  wscale: number;
  mss: number;
  sackOk: boolean;
  timestamps: boolean;
  /** SACK blocks as [left, right] pairs, flattened. */
  sack: number[];
}

/** The options the analysis looks at (window scale, SACK blocks; the rest for --explain). */
export function readTcpOptions(data: Buffer, off: number, len: number, out: TcpOptionsSeen): TcpOptionsSeen {
  out.wscale = -1;
  out.mss = 0;
  out.sackOk = false;
  out.timestamps = false;
  out.sack.length = 0;
  const end = off + len;
  let i = off;
  while (i < end) {
    const kind = data[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const olen = data[i + 1]!;
    if (olen < 2 || i + olen > end) break;
    if (kind === 2 && olen === 4) out.mss = data.readUInt16BE(i + 2);
    else if (kind === 3 && olen === 3) out.wscale = Math.min(14, data[i + 2]!);
    else if (kind === 4) out.sackOk = true;
    else if (kind === 5) for (let j = i + 2; j + 8 <= i + olen; j += 8) out.sack.push(data.readUInt32BE(j), data.readUInt32BE(j + 4));
    else if (kind === 8) out.timestamps = true;
    i += olen;
  }
  return out;
}

export const newOptions = (): TcpOptionsSeen => ({ wscale: -1, mss: 0, sackOk: false, timestamps: false, sack: [] });

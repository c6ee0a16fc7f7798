/**
 * Inputs for the dissector fuzz (the suite's 100k run and bench/'s 10M run): random bytes, and
 * valid packets mutated the ways real bad packets are bad: flipped bits, cut short, lengths
 * that lie (IPv4 len and ihl, IPv6 plen, TCP dataofs, UDP len, extension-header len), options
 * whose length overruns their header, and splices of two packets.
 */
import { Rng } from './random-specs.js';

export const FUZZ_LINKS = ['ip', 'ether', 'sll', 'sll2', 'null'] as const;
export type FuzzLink = (typeof FUZZ_LINKS)[number];

export interface FuzzInput {
  bytes: Buffer;
  /** How it was made, for reports: 'random', or the mutations applied to a corpus packet. */
  how: string;
  /** The link type the corpus packet was built for (random inputs: 'ip'). */
  link: FuzzLink;
}

/** Valid packets to mutate, by the link type they start with. */
export type Corpus = Record<FuzzLink, Buffer[]>;

const INTERESTING = [0, 1, 2, 3, 4, 5, 6, 8, 0x0f, 0x10, 0x11, 0x28, 0x3a, 0x40, 0x45, 0x4f, 0x50, 0x60, 0x7f, 0x80, 0xf0, 0xfe, 0xff];

/** Where the network header starts in a frame of this link type, or undefined when not IP. */
function networkOffset(buf: Buffer, link: FuzzLink): number | undefined {
  switch (link) {
    case 'ip':
      return 0;
    case 'null':
      return 4;
    case 'ether':
      return buf.length >= 14 && (buf.readUInt16BE(12) === 0x0800 || buf.readUInt16BE(12) === 0x86dd) ? 14 : undefined;
    case 'sll':
      return buf.length >= 16 && (buf.readUInt16BE(14) === 0x0800 || buf.readUInt16BE(14) === 0x86dd) ? 16 : undefined;
    case 'sll2':
      return buf.length >= 20 && (buf.readUInt16BE(0) === 0x0800 || buf.readUInt16BE(0) === 0x86dd) ? 20 : undefined;
  }
}

/** Regions of a packet worth aiming at: length fields and option areas. */
interface Anatomy {
  ip?: number;
  v6?: boolean;
  /** Start and end of the IPv4 options. */
  ipOptions?: [number, number];
  transport?: number;
  proto?: number;
}

function anatomy(buf: Buffer, link: FuzzLink): Anatomy {
  const ip = networkOffset(buf, link);
  if (ip === undefined || ip >= buf.length) return {};
  const version = buf[ip]! >> 4;
  if (version === 4 && ip + 20 <= buf.length) {
    const ihl = (buf[ip]! & 15) * 4;
    return { ip, ipOptions: ihl > 20 ? [ip + 20, Math.min(ip + ihl, buf.length)] : undefined, transport: ip + Math.max(ihl, 20), proto: buf[ip + 9] };
  }
  if (version === 6 && ip + 40 <= buf.length) return { ip, v6: true, transport: ip + 40, proto: buf[ip + 6] };
  return { ip };
}

function setByte(buf: Buffer, at: number, value: number): void {
  if (at >= 0 && at < buf.length) buf[at] = value & 0xff;
}

function lengthLie(rng: Rng, buf: Buffer, a: Anatomy): string {
  if (a.ip === undefined) return 'lie:none';
  const lies: Array<() => string> = [];
  const ip = a.ip;
  const anyLen = (): number => rng.pick([0, 1, 19, 20, 21, 39, 40, 60, buf.length - ip - 1, buf.length - ip + 1, buf.length - ip + 100, 0xffff, rng.int(0, 0xffff)]) & 0xffff;
  if (!a.v6) {
    lies.push(() => {
      if (ip + 4 <= buf.length) buf.writeUInt16BE(anyLen(), ip + 2);
      return 'lie:ip.len';
    });
    lies.push(() => {
      setByte(buf, ip, (buf[ip]! & 0xf0) | rng.int(0, 15));
      return 'lie:ip.ihl';
    });
  } else {
    lies.push(() => {
      if (ip + 6 <= buf.length) buf.writeUInt16BE(anyLen(), ip + 4);
      return 'lie:ipv6.plen';
    });
    lies.push(() => {
      // The first extension header's length byte (or whatever sits there).
      setByte(buf, ip + 41, rng.pick([0, 1, 2, 0x7f, 0xff, rng.int(0, 255)]));
      return 'lie:ext.len';
    });
  }
  const t = a.transport;
  if (t !== undefined && t < buf.length) {
    lies.push(() => {
      setByte(buf, t + 12, (rng.int(0, 15) << 4) | (buf[t + 12]! & 15));
      return 'lie:tcp.dataofs';
    });
    lies.push(() => {
      if (t + 6 <= buf.length) buf.writeUInt16BE(anyLen(), t + 4);
      return 'lie:udp.len';
    });
  }
  return rng.pick(lies)();
}

function optionOverrun(rng: Rng, buf: Buffer, a: Anatomy): string {
  const regions: Array<[number, number, string]> = [];
  if (a.ipOptions) regions.push([...a.ipOptions, 'ip']);
  const t = a.transport;
  if (t !== undefined && t + 13 <= buf.length && a.proto === 6) {
    const dataofs = (buf[t + 12]! >> 4) * 4;
    if (dataofs > 20) regions.push([t + 20, Math.min(t + dataofs, buf.length), 'tcp']);
  }
  if (a.v6 && t !== undefined && (a.proto === 0 || a.proto === 60 || a.proto === 43)) regions.push([t + 2, Math.min(t + 8, buf.length), 'ext']);
  if (regions.length === 0) return 'overrun:none';
  const [start, end, where] = rng.pick(regions);
  if (end - start < 1) return 'overrun:none';
  const at = rng.int(start, end - 1);
  // An option's length byte follows its kind byte: make it too big, too small or zero.
  setByte(buf, at + 1, rng.pick([0, 1, 2, 3, end - at, end - at + 1, 40, 0x7f, 0xff]));
  return `overrun:${where}`;
}

/** One mutation of `buf` (which it may replace); returns the new bytes and what was done. */
function mutateOnce(rng: Rng, input: Buffer, link: FuzzLink, corpus: Corpus): [Buffer, string] {
  let buf = input;
  const kind = rng.int(0, 9);
  switch (kind) {
    case 0:
    case 1: {
      const n = rng.int(1, 4);
      for (let i = 0; i < n && buf.length > 0; i++) {
        const at = rng.int(0, buf.length - 1);
        buf[at] = buf[at]! ^ (1 << rng.int(0, 7));
      }
      return [buf, 'bitflip'];
    }
    case 2: {
      const n = rng.int(1, 3);
      for (let i = 0; i < n && buf.length > 0; i++) {
        // Aim at the headers, where the structure is.
        const at = rng.chance(0.8) ? rng.int(0, Math.min(buf.length, 80) - 1) : rng.int(0, buf.length - 1);
        buf[at] = rng.chance(0.7) ? rng.pick(INTERESTING) : rng.int(0, 255);
      }
      return [buf, 'bytes'];
    }
    case 3:
      return [buf.subarray(0, rng.int(0, Math.max(buf.length - 1, 0))), 'truncate'];
    case 4:
      return [Buffer.concat([buf, rng.bytes(rng.int(1, 40))]), 'extend'];
    case 5:
    case 6:
      return [buf, lengthLie(rng, buf, anatomy(buf, link))];
    case 7:
    case 8:
      return [buf, optionOverrun(rng, buf, anatomy(buf, link))];
    default: {
      const others = corpus[link];
      if (others.length === 0) return [buf, 'splice:none'];
      const other = rng.pick(others);
      buf = Buffer.concat([buf.subarray(0, rng.int(0, buf.length)), other.subarray(rng.int(0, other.length))]);
      return [buf, 'splice'];
    }
  }
}

/** Random bytes: mostly short, sometimes shaped to pass the first checks (an IP version nibble). */
function randomInput(rng: Rng): Buffer {
  const len = rng.chance(0.9) ? rng.int(0, 128) : rng.int(129, 1600);
  const buf = rng.bytes(len);
  if (len > 0 && rng.chance(0.5)) buf[0] = rng.pick([0x45, 0x46, 0x4f, 0x60, 0x40, 0x00]);
  return buf;
}

/** `count` inputs from `seed`: about a quarter random bytes, the rest mutated corpus packets. */
export function* fuzzInputs(count: number, seed: number, corpus: Corpus): Generator<FuzzInput> {
  const rng = new Rng(seed);
  const links = FUZZ_LINKS.filter((l) => corpus[l].length > 0);
  for (let i = 0; i < count; i++) {
    if (links.length === 0 || rng.chance(0.25)) {
      yield { bytes: randomInput(rng), how: 'random', link: 'ip' };
      continue;
    }
    const link = rng.pick(links);
    let buf: Buffer = Buffer.from(rng.pick(corpus[link]));
    const hows: string[] = [];
    const n = rng.chance(0.6) ? 1 : rng.int(2, 3);
    for (let k = 0; k < n; k++) {
      const [next, how] = mutateOnce(rng, buf, link, corpus);
      buf = next;
      hows.push(how);
    }
    yield { bytes: buf, how: hows.join('+'), link };
  }
}

/** Wraps an IP packet in the link headers dissect() knows, so every link type has a corpus. */
export function wrapForLink(ipPacket: Buffer, link: FuzzLink): Buffer {
  const v6 = ipPacket.length > 0 && ipPacket[0]! >> 4 === 6;
  const ethertype = v6 ? 0x86dd : 0x0800;
  switch (link) {
    case 'ip':
      return ipPacket;
    case 'ether': {
      const h = Buffer.from('02000000000102000000000200000000', 'hex').subarray(0, 14);
      h.writeUInt16BE(ethertype, 12);
      return Buffer.concat([h, ipPacket]);
    }
    case 'sll': {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0); // to us
      h.writeUInt16BE(1, 2); // ARPHRD_ETHER
      h.writeUInt16BE(6, 4);
      Buffer.from('020000000001', 'hex').copy(h, 6);
      h.writeUInt16BE(ethertype, 14);
      return Buffer.concat([h, ipPacket]);
    }
    case 'sll2': {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(ethertype, 0);
      h.writeUInt32BE(1, 4); // ifindex
      h.writeUInt16BE(1, 8);
      h[10] = 4; // outgoing
      h[11] = 6;
      Buffer.from('020000000001', 'hex').copy(h, 12);
      return Buffer.concat([h, ipPacket]);
    }
    case 'null': {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(v6 ? 10 : 2, 0); // AF_INET6 / AF_INET as Linux numbers them
      return Buffer.concat([h, ipPacket]);
    }
  }
}

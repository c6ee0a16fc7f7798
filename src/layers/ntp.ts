/**
 * NTP (RFC 5905) time messages with Scapy 2.5's names (NTPHeader; NTP is its dispatching
 * base and builds the same header): leap, version, mode, stratum, poll, precision, delay and
 * dispersion (seconds, 16.16 fixed point), id (an IPv4 address, for stratum 2 and above) or
 * ref_id (4 bytes, for stratum 0 and 1), and the four timestamps ref, orig, recv, sent.
 *
 * A timestamp is seconds since 1900 as a number (fractions allowed, written as Scapy writes
 * them: int(value * 2^32)) or the raw 64-bit value as a bigint, which is what dissection gives
 * for a timestamp with a fraction (so a dissected header rebuilds bit for bit; whole seconds
 * dissect as a number). As in Scapy, orig and sent left unset are the
 * time of the build. Over UDP, NTP binds to port 123 (UDP()/NTP() builds 123 > 123).
 * Control (mode 6) and private (mode 7) messages, and extension fields, stay Raw.
 */
import { formatIPv4, writeIPv4 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { intField } from './field.js';
import { Layer, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, registerLayer } from './registry.js';
import { RawLayer, toBytes } from './raw.js';
import { UDPLayer } from './udp.js';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET = 2208988800;
const NTP_HEADER = 48;

/** A timestamp: seconds since 1900 (a number), or the raw 64-bit fixed-point value (a bigint). */
export type NTPTimestamp = number | bigint;

export interface NTPFields {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  poll: number;
  precision: number;
  /** Root delay in seconds (16.16 fixed point on the wire). */
  delay: number;
  /** Root dispersion in seconds (16.16 fixed point on the wire). */
  dispersion: number;
  id: string;
  ref_id: Buffer | string;
  ref: NTPTimestamp;
  orig: NTPTimestamp;
  recv: NTPTimestamp;
  sent: NTPTimestamp;
}

const NTP_MODES: Readonly<Record<number, string>> = {
  0: 'reserved', 1: 'symmetric active', 2: 'symmetric passive', 3: 'client', 4: 'server', 5: 'broadcast', 6: 'NTP control message', 7: 'reserved for private use',
};
const LEAP_NAMES: Readonly<Record<number, string>> = {
  0: 'no warning', 1: 'last minute of the day has 61 seconds', 2: 'last minute of the day has 59 seconds', 3: 'unknown (clock unsynchronized)',
};

const timestamp = (name: string, computed: boolean): FieldSpec => ({ name, kind: 'int', default: 0, ...(computed ? { computed: true } : {}) });

const ntpFields: readonly FieldSpec[] = [
  intField('leap', 2, 0, { names: LEAP_NAMES }),
  intField('version', 3, 4),
  intField('mode', 3, 3, { names: NTP_MODES }),
  intField('stratum', 8, 2),
  intField('poll', 8, 0xa),
  intField('precision', 8, 0),
  { name: 'delay', kind: 'int', default: 0 },
  { name: 'dispersion', kind: 'int', default: 0 },
  { name: 'id', kind: 'ipv4', default: '127.0.0.1', when: (v) => ((v.stratum as number | undefined) ?? 2) > 1 },
  { name: 'ref_id', kind: 'bytes', default: Buffer.alloc(0), when: (v) => ((v.stratum as number | undefined) ?? 2) < 2 },
  timestamp('ref', false),
  timestamp('orig', true),
  timestamp('recv', false),
  timestamp('sent', true),
];

const TWO_32 = 4294967296;

/** The 64-bit fixed-point value of a timestamp, as Scapy's FixedPointField writes it (int(v * 2^32)). */
export function ntpTimestampBits(value: NTPTimestamp): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  return BigInt.asUintN(64, BigInt(Math.trunc(value * TWO_32)));
}

/** A timestamp as seconds since 1900 (a number; fractions below 2^-21 s may round). */
export function ntpSeconds(value: NTPTimestamp): number {
  return typeof value === 'bigint' ? Number(value >> 32n) + Number(value & 0xffffffffn) / TWO_32 : value;
}

/** Whole seconds as a number (what the text form writes back), any fraction as the exact 64-bit value. */
function readTimestamp(b: Buffer, off: number): NTPTimestamp {
  return b.readUInt32BE(off + 4) === 0 ? b.readUInt32BE(off) : b.readBigUInt64BE(off);
}

function checkTimestamp(name: string, value: unknown): void {
  if (typeof value === 'bigint') return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= TWO_32) {
    throw usageError(`NTP ${name} takes seconds since 1900 (0 to 2^32), or the raw 64-bit value as a bigint; not ${String(value)}`);
  }
}

function checkShortFixed(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 65536) {
    throw usageError(`NTP ${name} takes seconds from 0 to 65535.99998 (16.16 fixed point), not ${String(value)}`);
  }
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface NTPHeaderLayer extends FieldValues<Omit<NTPFields, 'ref' | 'orig' | 'recv' | 'sent'>> {}

export class NTPHeaderLayer extends Layer<NTPFields> {
  static readonly layerName: string = 'NTPHeader';
  static readonly fieldSpecs = ntpFields;

  protected override normalize(fields: Partial<NTPFields>): Partial<NTPFields> {
    for (const k of ['ref', 'orig', 'recv', 'sent'] as const) if (fields[k] !== undefined) checkTimestamp(k, fields[k]);
    for (const k of ['delay', 'dispersion'] as const) if (fields[k] !== undefined) checkShortFixed(k, fields[k]);
    // Fractions are allowed in these, which the generic integer check would refuse.
    const saved = { delay: fields.delay, dispersion: fields.dispersion, ref: fields.ref, orig: fields.orig, recv: fields.recv, sent: fields.sent };
    for (const k of Object.keys(saved) as (keyof typeof saved)[]) delete fields[k];
    super.normalize(fields);
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) (fields as Record<string, unknown>)[k] = v;
    if (typeof fields.id === 'string') writeIPv4(fields.id, Buffer.alloc(4), 0);
    return fields;
  }

  headerLength(): number {
    return NTP_HEADER;
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    const stratum = f.stratum ?? 2;
    out[off] = (((f.leap ?? 0) & 3) << 6) | (((f.version ?? 4) & 7) << 3) | ((f.mode ?? 3) & 7);
    out[off + 1] = stratum & 0xff;
    out[off + 2] = (f.poll ?? 0xa) & 0xff;
    out[off + 3] = (f.precision ?? 0) & 0xff;
    out.writeUInt32BE(Math.trunc((f.delay ?? 0) * 65536) >>> 0, off + 4);
    out.writeUInt32BE(Math.trunc((f.dispersion ?? 0) * 65536) >>> 0, off + 8);
    // Scapy writes id for stratum 2 and up, ref_id (4 bytes, zero-padded) below.
    if (stratum > 1) writeIPv4(f.id ?? '127.0.0.1', out, off + 12);
    else {
      out.fill(0, off + 12, off + 16);
      toBytes(f.ref_id).copy(out, off + 12, 0, 4);
    }
    const now = (): number => Date.now() / 1000 + NTP_UNIX_OFFSET;
    const stamps: NTPTimestamp[] = [f.ref ?? 0, f.orig ?? now(), f.recv ?? 0, f.sent ?? now()];
    stamps.forEach((t, i) => out.writeBigUInt64BE(ntpTimestampBits(t), off + 16 + 8 * i));
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const mode = (buf[off] ?? 0) & 7;
    // Scapy reads fewer than 48 bytes as Raw, and control (6) and private (7) messages with
    // classes synack does not have: Raw here too.
    if (!ctx.quoted && (end - off < NTP_HEADER || mode === 6 || mode === 7)) return RawLayer.decode(buf, off, end);
    const layer = new this();
    const f = layer.fields;
    if (end - off < NTP_HEADER) {
      layer.truncatedTo = Math.max(end - off, 0);
    }
    const b = end - off >= NTP_HEADER ? buf : Buffer.concat([buf.subarray(off, end), Buffer.alloc(NTP_HEADER - (end - off))]);
    const o = end - off >= NTP_HEADER ? off : 0;
    f.leap = b[o]! >> 6;
    f.version = (b[o]! >> 3) & 7;
    f.mode = b[o]! & 7;
    f.stratum = b[o + 1]!;
    f.poll = b[o + 2]!;
    f.precision = b[o + 3]!;
    f.delay = b.readUInt32BE(o + 4) / 65536;
    f.dispersion = b.readUInt32BE(o + 8) / 65536;
    if (f.stratum > 1) f.id = formatIPv4(b, o + 12);
    else f.ref_id = Buffer.from(b.subarray(o + 12, o + 16));
    f.ref = readTimestamp(b, o + 16);
    f.orig = readTimestamp(b, o + 24);
    f.recv = readTimestamp(b, o + 32);
    f.sent = readTimestamp(b, o + 40);
    if (layer.truncatedTo !== undefined) return { layer, payloadStart: end, payloadEnd: end };
    return { layer, payloadStart: off + NTP_HEADER, payloadEnd: end };
  }

  hashret(): string {
    return '';
  }

  /** A server's reply answers a client request (Scapy's NTPHeader matches a reply to its request by mode). */
  answers(other: Layer): boolean {
    if (!(other instanceof NTPHeaderLayer)) return false;
    const mine = this.fields.mode ?? 3;
    const theirs = other.fields.mode ?? 3;
    return (mine === 4 && theirs === 3) || (mine === 2 && theirs === 1);
  }
}

/** Scapy's NTP: the dispatching base; built, it is the RFC 5905 header. */
export class NTPLayer extends NTPHeaderLayer {
  static override readonly layerName: string = 'NTP';

  static override decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    return NTPHeaderLayer.decode(buf, off, end, ctx);
  }
}


registerLayer(NTPHeaderLayer);
registerLayer(NTPLayer);

// Scapy binds NTP to UDP port 123 on either side (its last binding, both ports, sets the build's ports).
bind(UDPLayer, NTPHeaderLayer, 'sport', 123);
bind(UDPLayer, NTPHeaderLayer, 'dport', 123);

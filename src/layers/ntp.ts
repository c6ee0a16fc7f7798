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
 * Control (mode 6) and private (mode 7) messages have their own headers (NTPControl and
 * NTPPrivate, below); extension fields stay Raw.
 */
import { formatIPv4, writeIPv4 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import { fieldStarts, intField, type FieldSpec } from './field.js';
import { Layer, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, registerLayer } from './registry.js';
import { RawLayer, toBytes } from './raw.js';
import { UDPLayer } from './udp.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET = 2208988800;
const NTP_HEADER = 48;
/** Scapy's _NTP_PACKET_MIN_SIZE: the shortest message its dispatch gives a class. */
const NTP_MIN_MESSAGE = 8;

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
    // Scapy's dispatch: control (6) and private (7) messages of 8 bytes or more have classes
    // of their own; anything else shorter than the 48-byte header is Raw.
    if (!ctx.quoted && end - off >= NTP_MIN_MESSAGE && mode === 6) return NTPControlLayer.decode(buf, off, end, ctx);
    if (!ctx.quoted && end - off >= NTP_MIN_MESSAGE && mode === 7) return NTPPrivateLayer.decode(buf, off, end, ctx);
    if (!ctx.quoted && end - off < NTP_HEADER) return RawLayer.decode(buf, off, end);
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

export interface NTPControlFields {
  zeros: number;
  version: number;
  mode: number;
  response: number;
  err: number;
  more: number;
  op_code: number;
  sequence: number;
  /** A request's status word. */
  status: number;
  /** A response's status word, as bytes (Scapy decodes it into a packet and builds it from bytes too). */
  status_word: Buffer | string;
  association_id: number;
  offset: number;
  count: number;
  data: Buffer | string;
}

const CONTROL_HEADER = 12;
const CONTROL_OPS: Readonly<Record<number, string>> = {
  0: 'CTL_OP_UNSPEC', 1: 'CTL_OP_READSTAT', 2: 'CTL_OP_READVAR', 3: 'CTL_OP_WRITEVAR', 4: 'CTL_OP_READCLOCK', 5: 'CTL_OP_WRITECLOCK',
  6: 'CTL_OP_SETTRAP', 7: 'CTL_OP_ASYNCMSG', 8: 'CTL_OP_CONFIGURE', 9: 'CTL_OP_SAVECONFIG', 10: 'CTL_OP_READ_MRU', 11: 'CTL_OP_READ_ORDLIST_A',
  12: 'CTL_OP_REQ_NONCE', 31: 'CTL_OP_UNSETTRAP',
};

const controlFields: readonly FieldSpec[] = [
  intField('zeros', 2, 0),
  intField('version', 3, 2),
  intField('mode', 3, 6),
  intField('response', 1, 0),
  intField('err', 1, 0),
  intField('more', 1, 0),
  intField('op_code', 5, 0, { names: CONTROL_OPS }),
  intField('sequence', 16, 0),
  intField('status', 16, 0, { when: (v) => v.response !== 1 }),
  { name: 'status_word', kind: 'bytes', default: Buffer.alloc(2), when: (v) => v.response === 1 },
  intField('association_id', 16, 0),
  intField('offset', 16, 0),
  { name: 'count', kind: 'int', bits: 16, default: 0, computed: true },
  { name: 'data', kind: 'bytes', default: Buffer.alloc(0) },
];

const CONTROL_FIELD_STARTS = fieldStarts(controlFields);

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface NTPControlLayer extends FieldValues<NTPControlFields> {}

/**
 * A mode 6 control message (RFC 1305 appendix B, Scapy's NTPControl): the 12-byte header, then
 * count bytes of data; what follows (an authenticator) is the payload. count left unset is the
 * data's length. A response's status word is bytes (two, zero, when unset). Scapy 2.5 parts
 * from the RFC's layout twice, and synack keeps the layout: its post_build writes an unset
 * count one byte early (p[:11]), growing the message by a byte, and an unset status_word
 * writes nothing. Give count (and status_word) to get Scapy's bytes exactly.
 */
export class NTPControlLayer extends Layer<NTPControlFields> {
  static readonly layerName: string = 'NTPControl';
  static readonly displayName: string = 'Control message';
  static readonly fieldSpecs = controlFields;

  /** The status word as written: a request's 16-bit status, or a response's bytes. */
  private statusBytes(): Buffer {
    if (this.fields.response === 1) return this.fields.status_word === undefined ? Buffer.alloc(2) : toBytes(this.fields.status_word);
    const b = Buffer.alloc(2);
    b.writeUInt16BE((this.fields.status ?? 0) & 0xffff);
    return b;
  }

  headerLength(): number {
    return CONTROL_HEADER - 2 + this.statusBytes().length + toBytes(this.fields.data).length;
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    const data = toBytes(f.data);
    out[off] = (((f.zeros ?? 0) & 3) << 6) | (((f.version ?? 2) & 7) << 3) | ((f.mode ?? 6) & 7);
    out[off + 1] = (((f.response ?? 0) & 1) << 7) | (((f.err ?? 0) & 1) << 6) | (((f.more ?? 0) & 1) << 5) | ((f.op_code ?? 0) & 31);
    out.writeUInt16BE((f.sequence ?? 0) & 0xffff, off + 2);
    const status = this.statusBytes();
    status.copy(out, off + 4);
    let p = off + 4 + status.length;
    out.writeUInt16BE((f.association_id ?? 0) & 0xffff, p);
    out.writeUInt16BE((f.offset ?? 0) & 0xffff, p + 2);
    out.writeUInt16BE((f.count ?? data.length) & 0xffff, p + 4);
    p += 6;
    data.copy(out, p);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail >= CONTROL_HEADER;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, CONTROL_HEADER);
    const o = whole ? off : 0;
    f.zeros = b[o]! >> 6;
    f.version = (b[o]! >> 3) & 7;
    f.mode = b[o]! & 7;
    f.response = b[o + 1]! >> 7;
    f.err = (b[o + 1]! >> 6) & 1;
    f.more = (b[o + 1]! >> 5) & 1;
    f.op_code = b[o + 1]! & 31;
    f.sequence = b.readUInt16BE(o + 2);
    if (f.response === 1) f.status_word = Buffer.from(b.subarray(o + 4, o + 6));
    else f.status = b.readUInt16BE(o + 4);
    f.association_id = b.readUInt16BE(o + 6);
    f.offset = b.readUInt16BE(o + 8);
    f.count = b.readUInt16BE(o + 10);
    if (!whole) {
      forgetFieldsPast(f, CONTROL_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|ntp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    // Data that the count says runs past the message is all the data there is (the count is kept).
    const dataEnd = Math.min(end, off + CONTROL_HEADER + f.count);
    f.data = Buffer.from(buf.subarray(off + CONTROL_HEADER, dataEnd));
    return { layer, payloadStart: dataEnd, payloadEnd: end, next: dataEnd < end ? RawLayer : undefined };
  }

  hashret(): string {
    return '';
  }

  /** A response answers the request with its sequence number (Scapy matches control messages by class). */
  answers(other: Layer): boolean {
    return other instanceof NTPControlLayer && this.fields.response === 1 && (this.fields.sequence ?? 0) === (other.fields.sequence ?? 0);
  }
}

export interface NTPPrivateFields {
  response: number;
  more: number;
  version: number;
  mode: number;
  auth: number;
  seq: number;
  implementation: number;
  request_code: number;
  err: number;
  nb_items: number;
  mbz: number;
  data_item_size: number;
}

const PRIVATE_HEADER = 8;
const IMPLEMENTATIONS: Readonly<Record<number, string>> = { 0: 'IMPL_UNIV', 2: 'IMPL_XNTPD_OLD', 3: 'XNTPD' };

const privateFields: readonly FieldSpec[] = [
  intField('response', 1, 0),
  intField('more', 1, 0),
  intField('version', 3, 2),
  intField('mode', 3, 0),
  intField('auth', 1, 0),
  intField('seq', 7, 0),
  intField('implementation', 8, 0, { names: IMPLEMENTATIONS }),
  intField('request_code', 8, 0),
  intField('err', 4, 0),
  intField('nb_items', 12, 0),
  intField('mbz', 4, 0),
  intField('data_item_size', 12, 0),
];

const PRIVATE_FIELD_STARTS = fieldStarts(privateFields);

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface NTPPrivateLayer extends FieldValues<NTPPrivateFields> {}

/**
 * A mode 7 private message (ntpd's ntp_request.h, Scapy's NTPPrivate; monlist is request code
 * 42, REQ_MON_GETLIST_1): the 8-byte header. The data items and any authenticator that follow
 * stay Raw here (Scapy decodes a few request codes' items). Scapy's default mode is 0: give
 * mode=7, as Scapy users do.
 */
export class NTPPrivateLayer extends Layer<NTPPrivateFields> {
  static readonly layerName: string = 'NTPPrivate';
  static readonly displayName: string = 'Private (mode 7)';
  static readonly fieldSpecs = privateFields;

  headerLength(): number {
    return PRIVATE_HEADER;
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    out[off] = (((f.response ?? 0) & 1) << 7) | (((f.more ?? 0) & 1) << 6) | (((f.version ?? 2) & 7) << 3) | ((f.mode ?? 0) & 7);
    out[off + 1] = (((f.auth ?? 0) & 1) << 7) | ((f.seq ?? 0) & 127);
    out[off + 2] = (f.implementation ?? 0) & 0xff;
    out[off + 3] = (f.request_code ?? 0) & 0xff;
    out.writeUInt16BE((((f.err ?? 0) & 15) << 12) | ((f.nb_items ?? 0) & 0xfff), off + 4);
    out.writeUInt16BE((((f.mbz ?? 0) & 15) << 12) | ((f.data_item_size ?? 0) & 0xfff), off + 6);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const whole = avail >= PRIVATE_HEADER;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, PRIVATE_HEADER);
    const o = whole ? off : 0;
    f.response = b[o]! >> 7;
    f.more = (b[o]! >> 6) & 1;
    f.version = (b[o]! >> 3) & 7;
    f.mode = b[o]! & 7;
    f.auth = b[o + 1]! >> 7;
    f.seq = b[o + 1]! & 127;
    f.implementation = b[o + 2]!;
    f.request_code = b[o + 3]!;
    f.err = b[o + 4]! >> 4;
    f.nb_items = b.readUInt16BE(o + 4) & 0xfff;
    f.mbz = b[o + 6]! >> 4;
    f.data_item_size = b.readUInt16BE(o + 6) & 0xfff;
    if (!whole) {
      forgetFieldsPast(f, PRIVATE_FIELD_STARTS, avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|ntp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: off + PRIVATE_HEADER, payloadEnd: end, next: off + PRIVATE_HEADER < end ? RawLayer : undefined };
  }

  hashret(): string {
    return '';
  }

  /** A response answers a request of the same implementation and request code. */
  answers(other: Layer): boolean {
    if (!(other instanceof NTPPrivateLayer) || this.fields.response !== 1) return false;
    return (this.fields.implementation ?? 0) === (other.fields.implementation ?? 0) && (this.fields.request_code ?? 0) === (other.fields.request_code ?? 0);
  }
}

registerLayer(NTPHeaderLayer);
registerLayer(NTPLayer);
registerLayer(NTPControlLayer);
registerLayer(NTPPrivateLayer);

// Scapy binds NTP to UDP port 123 on either side (its last binding, both ports, sets the build's
// ports); NTPControl and NTPPrivate are NTPs there, so UDP()/NTPPrivate() is 123 > 123 too.
bind(UDPLayer, NTPHeaderLayer, 'sport', 123);
bind(UDPLayer, NTPHeaderLayer, 'dport', 123);
for (const cls of [NTPControlLayer, NTPPrivateLayer]) {
  bind(UDPLayer, cls, 'sport', 123);
  bind(UDPLayer, cls, 'dport', 123);
}

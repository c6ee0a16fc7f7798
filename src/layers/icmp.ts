/**
 * ICMP for IPv4 (RFC 792), as Scapy 2.5's one ICMP class: type, code and chksum, then fields
 * that exist only for some types (Scapy's ConditionalField), in this wire order:
 *   id, seq            echo 0/8, timestamp 13/14, info 15/16, mask 17/18, domain name 37/38
 *   ts_ori/rx/tx       timestamp 13/14 (ms since midnight UTC; 'HH:MM:SS.mmm' accepted)
 *   gw                 redirect 5
 *   ptr                parameter problem 12
 *   reserved           unreachable 3, time exceeded 11
 *   length             3, 11, 12 (RFC 4884 length of the quote, in words; not computed)
 *   addr_mask          17/18
 *   nexthopmtu         3 (the MTU of "fragmentation needed", code 4)
 *   unused             16 bits for 11 and 12; 32 bits for types Scapy knows no layout of
 *                      (and for 37/38 after id and seq, as Scapy does); absent otherwise
 * chksum covers the ICMP header and everything after it. Error types (3, 4, 5, 11, 12) quote the
 * offending packet: IPerror and a transport header follow, dissected as a quote.
 *
 * Differs from Scapy by design: the timestamps default to 0, not the time of the build, so
 * that builds are deterministic.
 */
import { finishChecksum, sumWords } from '../wire/checksum.js';
import { formatIPv4, writeIPv4 } from '../wire/addr.js';
import { didYouMean, usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { computedInt, intField } from './field.js';
import { IPerrorLayer, IPv4Layer } from './ipv4.js';
import { Layer, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, registerLayer } from './registry.js';
import { cutShortBelow } from './udp.js';
import { forgetFieldsPast, zeroFilledHeader } from './partial.js';

export interface ICMPFields {
  /** A number or Scapy's name ('echo-request', 'dest-unreach', ...). */
  type: number | string;
  /** A number or Scapy's name for the type ('port-unreachable', ...). */
  code: number | string;
  chksum: number;
  id: number;
  seq: number;
  ts_ori: number | string;
  ts_rx: number | string;
  ts_tx: number | string;
  gw: string;
  ptr: number;
  reserved: number;
  length: number;
  addr_mask: string;
  nexthopmtu: number;
  unused: number;
}

export const ICMP_TYPES: Readonly<Record<number, string>> = {
  0: 'echo-reply',
  3: 'dest-unreach',
  4: 'source-quench',
  5: 'redirect',
  8: 'echo-request',
  9: 'router-advertisement',
  10: 'router-solicitation',
  11: 'time-exceeded',
  12: 'parameter-problem',
  13: 'timestamp-request',
  14: 'timestamp-reply',
  15: 'information-request',
  16: 'information-response',
  17: 'address-mask-request',
  18: 'address-mask-reply',
  30: 'traceroute',
  31: 'datagram-conversion-error',
  32: 'mobile-host-redirect',
  33: 'ipv6-where-are-you',
  34: 'ipv6-i-am-here',
  35: 'mobile-registration-request',
  36: 'mobile-registration-reply',
  37: 'domain-name-request',
  38: 'domain-name-reply',
  39: 'skip',
  40: 'photuris',
};

export const ICMP_CODES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  3: {
    0: 'network-unreachable',
    1: 'host-unreachable',
    2: 'protocol-unreachable',
    3: 'port-unreachable',
    4: 'fragmentation-needed',
    5: 'source-route-failed',
    6: 'network-unknown',
    7: 'host-unknown',
    9: 'network-prohibited',
    10: 'host-prohibited',
    11: 'TOS-network-unreachable',
    12: 'TOS-host-unreachable',
    13: 'communication-prohibited',
    14: 'host-precedence-violation',
    15: 'precedence-cutoff',
  },
  5: { 0: 'network-redirect', 1: 'host-redirect', 2: 'TOS-network-redirect', 3: 'TOS-host-redirect' },
  11: { 0: 'ttl-zero-during-transit', 1: 'ttl-zero-during-reassembly' },
  12: { 0: 'ip-header-bad', 1: 'required-option-missing' },
  40: {
    0: 'bad-spi',
    1: 'authentication-failed',
    2: 'decompression-failed',
    3: 'decryption-failed',
    4: 'need-authentification',
    5: 'need-authorization',
  },
};

const TYPE_BY_NAME = new Map(Object.entries(ICMP_TYPES).map(([n, name]) => [name, Number(n)]));

/** Types whose body starts with id and seq (Scapy's icmp_id_seq_types). */
const ID_SEQ_TYPES = new Set([0, 8, 13, 14, 15, 16, 17, 18, 37, 38]);
/** Types that quote the packet that caused them. */
export const ICMP_ERROR_TYPES: ReadonlySet<number> = new Set([3, 4, 5, 11, 12]);
/** Types with a layout of their own; any other gets a 32-bit unused field. */
const LAID_OUT_TYPES = new Set([0, 3, 5, 8, 11, 12, 13, 14, 15, 16, 17, 18]);
/** Request and reply pairs that match on id and seq. */
const REPLY_OF: ReadonlyMap<number, number> = new Map([
  [0, 8],
  [14, 13],
  [16, 15],
  [18, 17],
  [34, 33],
  [36, 35],
  [38, 37],
]);

const ICMP_PROTO = 1;
const DEFAULT_TYPE = 8;

function typeOf(values: Record<string, unknown>): number {
  return (values.type as number | undefined) ?? DEFAULT_TYPE;
}
const whenType = (...types: number[]) => (v: Record<string, unknown>) => types.includes(typeOf(v));

const icmpFields: readonly FieldSpec[] = [
  intField('type', 8, DEFAULT_TYPE, { names: ICMP_TYPES }),
  intField('code', 8, 0, { names: (code, values) => ICMP_CODES[typeof values.type === 'number' ? values.type : DEFAULT_TYPE]?.[code] }),
  computedInt('chksum', 16, { hex: true }),
  intField('id', 16, 0, { hex: true, when: (v) => ID_SEQ_TYPES.has(typeOf(v)) }),
  intField('seq', 16, 0, { hex: true, when: (v) => ID_SEQ_TYPES.has(typeOf(v)) }),
  intField('ts_ori', 32, 0, { when: whenType(13, 14) }),
  intField('ts_rx', 32, 0, { when: whenType(13, 14) }),
  intField('ts_tx', 32, 0, { when: whenType(13, 14) }),
  { name: 'gw', kind: 'ipv4', default: '0.0.0.0', when: whenType(5) },
  intField('ptr', 8, 0, { when: whenType(12) }),
  intField('reserved', 8, 0, { when: whenType(3, 11) }),
  intField('length', 8, 0, { when: whenType(3, 11, 12) }),
  { name: 'addr_mask', kind: 'ipv4', default: '0.0.0.0', when: whenType(17, 18) },
  intField('nexthopmtu', 16, 0, { when: whenType(3) }),
  intField('unused', 16, 0, { when: whenType(11, 12) }),
  intField('unused', 32, 0, { when: (v) => !LAID_OUT_TYPES.has(typeOf(v)) }),
];

/** 'echo-request' -> 8. Numbers pass through. */
export function parseICMPType(value: number | string): number {
  if (typeof value === 'number') return value;
  const type = TYPE_BY_NAME.get(value);
  if (type === undefined) {
    throw usageError(`unknown ICMP type '${value}'${didYouMean(value, TYPE_BY_NAME.keys())}; use a number or a name like 'echo-request'`);
  }
  return type;
}

/** 'port-unreachable' -> 3, looked up among the codes of `type`. */
export function parseICMPCode(type: number, value: number | string): number {
  if (typeof value === 'number') return value;
  const codes = ICMP_CODES[type] ?? {};
  for (const [n, name] of Object.entries(codes)) if (name === value) return Number(n);
  const names = Object.values(codes);
  const known = names.length > 0 ? `codes of type ${type} are ${names.join(', ')}` : `type ${type} has no named codes`;
  throw usageError(`unknown ICMP code '${value}' for type ${type}${didYouMean(value, names)}; ${known}, or use a number`);
}

const TIME_OF_DAY = /^([0-2]?[0-9])[Hh:](([0-5]?[0-9])([Mm:]([0-5]?[0-9])([sS:.]([0-9]{0,3}))?)?)?$/;

/** Scapy's ICMP timestamp text 'H:M:S.mmm' -> milliseconds since midnight (0 when it does not parse, as Scapy). */
export function parseICMPTimestamp(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = TIME_OF_DAY.exec(value);
  if (!m) return 0;
  const ms = Number(((m[7] ?? '') + '000').slice(0, 3));
  return ((Number(m[1]) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[5] ?? 0)) * 1000 + ms;
}

/** A normalized timestamp as written (normalize() has turned text into milliseconds). */
function timestampValue(value: number | string | undefined): number {
  return typeof value === 'number' ? value >>> 0 : 0;
}

/** Where each field of a type's header starts, for forgetting the ones a cut leaves out. */
function icmpFieldStarts(type: number): Partial<Record<keyof ICMPFields, number>> {
  const starts: Partial<Record<keyof ICMPFields, number>> = { type: 0, code: 1, chksum: 2 };
  if (ID_SEQ_TYPES.has(type)) {
    Object.assign(starts, { id: 4, seq: 6 });
    if (type === 13 || type === 14) Object.assign(starts, { ts_ori: 8, ts_rx: 12, ts_tx: 16 });
    else if (type === 17 || type === 18) starts.addr_mask = 8;
    else if (type === 37 || type === 38) starts.unused = 8;
  } else if (type === 3) Object.assign(starts, { reserved: 4, length: 5, nexthopmtu: 6 });
  else if (type === 5) starts.gw = 4;
  else if (type === 11) Object.assign(starts, { reserved: 4, length: 5, unused: 6 });
  else if (type === 12) Object.assign(starts, { ptr: 4, length: 5, unused: 6 });
  else starts.unused = 4;
  return starts;
}

/** Header bytes for a type: 8, except timestamps (20), address masks and domain names (12). */
export function icmpHeaderLength(type: number): number {
  if (type === 13 || type === 14) return 20;
  if (type === 17 || type === 18 || type === 37 || type === 38) return 12;
  return 8;
}

/** Typed field accessors (layer.sport...), defined from the field table by registerLayer(). */
export interface ICMPLayer extends Omit<FieldValues<ICMPFields>, 'type' | 'code'> {}

export class ICMPLayer extends Layer<ICMPFields> {
  static readonly layerName: string = 'ICMP';
  static readonly fieldSpecs = icmpFields;

  protected override normalize(fields: Partial<ICMPFields>): Partial<ICMPFields> {
    super.normalize(fields);
    if (fields.type !== undefined) fields.type = parseICMPType(fields.type);
    if (fields.code !== undefined) fields.code = parseICMPCode((fields.type as number | undefined) ?? DEFAULT_TYPE, fields.code);
    if (fields.ts_ori !== undefined) fields.ts_ori = parseICMPTimestamp(fields.ts_ori);
    if (fields.ts_rx !== undefined) fields.ts_rx = parseICMPTimestamp(fields.ts_rx);
    if (fields.ts_tx !== undefined) fields.ts_tx = parseICMPTimestamp(fields.ts_tx);
    return fields;
  }

  get type(): number {
    return (this.fields.type as number | undefined) ?? DEFAULT_TYPE;
  }

  get code(): number {
    return (this.fields.code as number | undefined) ?? 0;
  }

  /** Whether this message is an error that quotes the packet that caused it (types 3, 4, 5, 11, 12). */
  get isError(): boolean {
    return ICMP_ERROR_TYPES.has(this.type);
  }

  /** For the matcher: an error answers by the packet it quotes. */
  override get isErrorMessage(): boolean {
    return this.isError;
  }

  headerLength(): number {
    return icmpHeaderLength(this.type);
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    const type = this.type & 0xff;
    out[off] = type;
    out[off + 1] = this.code & 0xff;
    out.writeUInt16BE((f.chksum ?? 0) & 0xffff, off + 2);
    const body = off + 4;
    if (ID_SEQ_TYPES.has(type)) {
      out.writeUInt16BE((f.id ?? 0) & 0xffff, body);
      out.writeUInt16BE((f.seq ?? 0) & 0xffff, body + 2);
      if (type === 13 || type === 14) {
        out.writeUInt32BE(timestampValue(f.ts_ori), body + 4);
        out.writeUInt32BE(timestampValue(f.ts_rx), body + 8);
        out.writeUInt32BE(timestampValue(f.ts_tx), body + 12);
      } else if (type === 17 || type === 18) writeIPv4(f.addr_mask ?? '0.0.0.0', out, body + 4);
      else if (type === 37 || type === 38) out.writeUInt32BE((f.unused ?? 0) >>> 0, body + 4);
      return;
    }
    switch (type) {
      case 3:
        out[body] = (f.reserved ?? 0) & 0xff;
        out[body + 1] = (f.length ?? 0) & 0xff;
        out.writeUInt16BE((f.nexthopmtu ?? 0) & 0xffff, body + 2);
        return;
      case 5:
        writeIPv4(f.gw ?? '0.0.0.0', out, body);
        return;
      case 11:
      case 12:
        out[body] = ((type === 11 ? f.reserved : f.ptr) ?? 0) & 0xff;
        out[body + 1] = (f.length ?? 0) & 0xff;
        out.writeUInt16BE((f.unused ?? 0) & 0xffff, body + 2);
        return;
      default:
        out.writeUInt32BE((f.unused ?? 0) >>> 0, body);
    }
  }

  override fixChecksum(out: Buffer, off: number, end: number): void {
    if (this.fields.chksum !== undefined) return;
    out.writeUInt16BE(finishChecksum(sumWords(out, off, end)), off + 2);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const type = avail >= 1 ? buf[off]! : DEFAULT_TYPE;
    const full = icmpHeaderLength(type);
    const whole = avail >= full;
    const b = whole ? buf : zeroFilledHeader(buf, off, end, full);
    const o = whole ? off : 0;
    f.type = b[o]!;
    f.code = b[o + 1]!;
    f.chksum = b.readUInt16BE(o + 2);
    layer.readBody(b, o + 4, type);
    if (!whole) {
      forgetFieldsPast(f, icmpFieldStarts(type), avail);
      layer.truncatedTo = avail;
      if (!ctx.quoted) layer.addProblem('[|icmp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    if (!ctx.quoted && !cutShortBelow(ctx)) layer.checksumValid = finishChecksum(sumWords(buf, off, end)) === 0;
    const headerEnd = off + full;
    if (ICMP_ERROR_TYPES.has(type)) return { layer, payloadStart: headerEnd, payloadEnd: end, next: IPerrorLayer, quotes: true };
    return { layer, payloadStart: headerEnd, payloadEnd: end };
  }

  /** Reads the type-specific fields of a whole header (decode hands a zero-filled copy of a cut one). */
  private readBody(b: Buffer, p: number, type: number): void {
    const f = this.fields;
    if (ID_SEQ_TYPES.has(type)) {
      f.id = b.readUInt16BE(p);
      f.seq = b.readUInt16BE(p + 2);
      if (type === 13 || type === 14) {
        f.ts_ori = b.readUInt32BE(p + 4);
        f.ts_rx = b.readUInt32BE(p + 8);
        f.ts_tx = b.readUInt32BE(p + 12);
      } else if (type === 17 || type === 18) f.addr_mask = formatIPv4(b, p + 4);
      else if (type === 37 || type === 38) f.unused = b.readUInt32BE(p + 4);
      return;
    }
    switch (type) {
      case 3:
        f.reserved = b[p]!;
        f.length = b[p + 1]!;
        f.nexthopmtu = b.readUInt16BE(p + 2);
        return;
      case 5:
        f.gw = formatIPv4(b, p);
        return;
      case 11:
      case 12:
        if (type === 11) f.reserved = b[p]!;
        else f.ptr = b[p]!;
        f.length = b[p + 1]!;
        f.unused = b.readUInt16BE(p + 2);
        return;
      default:
        f.unused = b.readUInt32BE(p);
    }
  }

  /** Direction-free key: id and seq for queries and their replies; errors key as the packet they quote (the caller looks there). */
  hashret(): string {
    if (!ID_SEQ_TYPES.has(this.type)) return '';
    return `${this.fields.id ?? 0},${this.fields.seq ?? 0}`;
  }

  /**
   * Whether this received message answers `other` (sent): a reply of the request's type with
   * the same id and seq. An error (isError) answers by its quote, which the caller compares
   * with the sent packet; this method says no for errors.
   */
  answers(other: Layer): boolean {
    if (!(other instanceof ICMPLayer)) return false;
    if (REPLY_OF.get(this.type) !== other.type) return false;
    return (this.fields.id ?? 0) === (other.fields.id ?? 0) && (this.fields.seq ?? 0) === (other.fields.seq ?? 0);
  }
}

/**
 * The ICMP header an ICMP error quotes (Scapy's ICMPerror): the sent message itself, so it
 * matches on type and code, and on id and seq for the types that have them. (Scapy tests the
 * code against the id/seq type list, an evident slip; the type is tested here.)
 */
export class ICMPerrorLayer extends ICMPLayer {
  static override readonly layerName: string = 'ICMPerror';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'ICMP in ICMP';

  override answers(other: Layer): boolean {
    if (!(other instanceof ICMPLayer)) return false;
    if (this.type !== other.type || this.code !== other.code) return false;
    if (!ID_SEQ_TYPES.has(this.type)) return true;
    return (this.fields.id ?? 0) === (other.fields.id ?? 0) && (this.fields.seq ?? 0) === (other.fields.seq ?? 0);
  }
}

registerLayer(ICMPLayer);
registerLayer(ICMPerrorLayer);

// ICMP is protocol 1 over IPv4, and over the IP header an ICMP error quotes.
bind(IPv4Layer, ICMPLayer, 'proto', ICMP_PROTO);
bind(IPerrorLayer, ICMPerrorLayer, 'proto', ICMP_PROTO);

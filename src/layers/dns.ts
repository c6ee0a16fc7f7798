/**
 * DNS (RFC 1035, EDNS0 RFC 6891) as Scapy 2.5 has it: the message header `DNS` with its four
 * sections held in fields (qd, an, ns, ar: lists of record layers), and the records `DNSQR`,
 * `DNSRR` (A, AAAA, NS, CNAME, PTR, TXT and any other type as bytes), `DNSRRSOA`, `DNSRRMX`,
 * `DNSRRSRV`, `DNSRROPT` with its `EDNS0TLV` options. Field names, defaults and bytes are
 * Scapy's, quirks included: `DNS()` asks for www.example.com with rd=1; DNSRRMX's type
 * defaults to 6, as Scapy's does; names are built uncompressed (Scapy compresses only when
 * asked) and read with compression pointers followed; a record whose rdata used a pointer
 * forgets its rdlen, so it is recomputed when rebuilt. Over TCP the message carries its 2-byte
 * length first (`length`). A message that does not parse becomes Raw, as Scapy falls back to.
 *
 * Bound to UDP and TCP port 53 and UDP 5353 (mDNS) both ways.
 */
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import { computedInt, intField, type FieldSpec } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues, type LayerClass } from './layer.js';
import { RawLayer } from './raw.js';
import { bind, registerLayer } from './registry.js';
import { TCPLayer } from './tcp.js';
import { UDPLayer } from './udp.js';

/** Scapy's dnstypes (the common part), for show() and the text form's names. */
export const DNS_TYPES: Readonly<Record<number, string>> = {
  0: 'ANY', 1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL',
  11: 'WKS', 12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 24: 'SIG',
  25: 'KEY', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG',
  47: 'NSEC', 48: 'DNSKEY', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF',
  250: 'TSIG', 256: 'URI', 257: 'CAA', 32769: 'DLV', 65535: 'RESERVED',
};
/** Scapy's dnsqtypes: the record types plus the query-only ones. */
export const DNS_QTYPES: Readonly<Record<number, string>> = { ...DNS_TYPES, 251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: 'ALL' };
export const DNS_CLASSES: Readonly<Record<number, string>> = { 1: 'IN', 2: 'CS', 3: 'CH', 4: 'HS', 255: 'ANY' };
const OPCODES: Readonly<Record<number, string>> = { 0: 'QUERY', 1: 'IQUERY', 2: 'STATUS' };
const RCODES: Readonly<Record<number, string>> = { 0: 'ok', 1: 'format-error', 2: 'server-failure', 3: 'name-error', 4: 'not-implemented', 5: 'refused' };
const EDNS0_TYPES: Readonly<Record<number, string>> = { 0: 'Reserved', 1: 'LLQ', 2: 'UL', 3: 'NSID', 4: 'Reserved', 5: 'PING', 8: 'edns-client-subnet' };

const DNS_PORT = 53;
const MDNS_PORT = 5353;
const HEADER = 12;
/** Types whose rdata is one domain name (NS, MD, MF, CNAME, PTR), as Scapy's DNSRR reads them. */
const NAME_TYPES = new Set([2, 3, 4, 5, 12]);
/** Bounds for hostile input: labels followed per name, records per section. */
const MAX_NAME_STEPS = 256;

/** A name given as bytes is kept as text, one character per byte (names are bytes to Scapy). */
function nameText(value: unknown): unknown {
  return Buffer.isBuffer(value) || value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value;
}

/** Whether a name is already in wire form (Scapy's _is_ptr): no dot, ending in a 0 label or a pointer. */
function isWireName(x: string): boolean {
  if (x.includes('.')) return false;
  const n = x.length;
  return (n > 0 && x.charCodeAt(n - 1) === 0) || (n >= 2 && (x.charCodeAt(n - 2) & 0xc0) === 0xc0);
}

/** A name in wire form, as Scapy builds it: a dot is added at the end, labels cut to 63 bytes, no compression. */
export function encodeName(value: unknown): Buffer {
  const text = nameText(value);
  let x = typeof text === 'string' ? text : String(text ?? '');
  if (x === '' || x === '.') return ROOT_NAME;
  if (x.charCodeAt(x.length - 1) !== DOT) {
    if (isWireName(x)) return Buffer.from(x, 'latin1');
    x += '.';
  }
  // One pass to size, one to write: each label (an empty one too, as Scapy splits) is its
  // length byte and its first 63 characters as bytes; the name's final dot writes the 0 label.
  let size = 0;
  for (let start = 0; start < x.length; ) {
    const dot = x.indexOf('.', start);
    size += 1 + Math.min(dot - start, 63);
    start = dot + 1;
  }
  const out = Buffer.allocUnsafe(size + 1);
  let p = 0;
  for (let start = 0; start < x.length; ) {
    const dot = x.indexOf('.', start);
    const n = Math.min(dot - start, 63);
    out[p++] = n;
    for (let i = 0; i < n; i++) out[p++] = x.charCodeAt(start + i) & 0xff;
    start = dot + 1;
  }
  out[p] = 0;
  return out;
}

const DOT = 0x2e;
/** The root name's wire form (shared: callers copy names, never write into them). */
const ROOT_NAME = Buffer.from([0]);

/** buf[start, end) as text, a character per byte: short labels by char codes, cheaper than toString's checks. */
function latin1(buf: Buffer, start: number, end: number): string {
  if (end - start > 24) return buf.toString('latin1', start, end);
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

interface ReadName {
  name: string;
  /** Offset after the name where it sits (after the first pointer when there is one). */
  next: number;
  compressed: boolean;
  /** The name ran past the message's end. */
  cut: boolean;
}

/**
 * Reads the name at buf[pos] of the message that starts at msg and ends at end, following
 * compression pointers (which count from msg); a loop or a name past the end stops it.
 */
export function readName(buf: Buffer, msg: number, pos: number, end: number): ReadName {
  let name = '';
  let after = -1;
  // Most names have no pointer: the set that catches pointer loops is made for those that do.
  let seen: Set<number> | undefined;
  let cut = false;
  for (let steps = 0; ; steps++) {
    if (pos >= end || steps > MAX_NAME_STEPS) {
      cut = true;
      break;
    }
    const len = buf[pos]!;
    pos++;
    if (len & 0xc0) {
      if (pos >= end) {
        cut = true;
        break;
      }
      if (after < 0) after = pos + 1;
      const target = msg + (((len & 0x3f) << 8) | buf[pos]!);
      seen ??= new Set();
      if (seen.has(target)) break;
      seen.add(target);
      pos = target;
      continue;
    }
    if (len === 0) break;
    if (pos + len > end) cut = true;
    name += latin1(buf, pos, Math.min(pos + len, end)) + '.';
    pos += len;
  }
  return { name, next: after >= 0 ? after : pos, compressed: seen !== undefined, cut };
}

/** Thrown inside decoding when the message does not parse: the DNS layer becomes Raw. */
const MALFORMED = { malformed: true } as const;

/** What record decoders read the message with. */
interface RecordReader {
  buf: Buffer;
  msg: number;
  end: number;
}

function u16(r: RecordReader, at: number, limit: number): number {
  if (at + 2 > limit) throw MALFORMED;
  return r.buf.readUInt16BE(at);
}

function u32(r: RecordReader, at: number, limit: number): number {
  if (at + 4 > limit) throw MALFORMED;
  return r.buf.readUInt32BE(at);
}

/** The common base of question and resource records: each builds its own bytes. */
export abstract class DNSRecordLayer<F extends object = Record<string, unknown>> extends Layer<F> {
  private built: Buffer | undefined;

  protected override normalize(fields: Partial<F>): Partial<F> {
    const values = fields as Record<string, unknown>;
    for (const key of ['qname', 'rrname', 'mname', 'rname', 'exchange', 'target']) {
      if (values[key] !== undefined) values[key] = nameText(values[key]);
    }
    return super.normalize(fields);
  }

  /** This record's wire bytes, uncompressed. */
  abstract toBytes(): Buffer;

  headerLength(): number {
    this.built = this.toBytes();
    return this.built.length;
  }

  encode(out: Buffer, off: number): void {
    (this.built ?? this.toBytes()).copy(out, off);
    this.built = undefined;
  }

  /** One record on its own (DNSRR(b'...') in the text form): names may point only inside it. */
  static decode(buf: Buffer, off: number, end: number): Decoded {
    const r: RecordReader = { buf, msg: off, end };
    try {
      const got = this === (DNSQRLayer as unknown) ? readQuestion(r, off) : this === (EDNS0TLVLayer as unknown) ? readTLV(r, off, end) : readRecord(r, off);
      return { layer: got.rec, payloadStart: got.next, payloadEnd: end };
    } catch (err) {
      if (err !== MALFORMED) throw err;
      return RawLayer.decode(buf, off, end);
    }
  }
}

// ---- DNSQR ---------------------------------------------------------------------------------

export interface DNSQRFields {
  qname: string;
  qtype: number;
  qclass: number;
}

const dnsqrFields: readonly FieldSpec[] = [
  { name: 'qname', kind: 'value', default: 'www.example.com' },
  intField('qtype', 16, 1, { names: DNS_QTYPES }),
  intField('qclass', 16, 1, { names: DNS_CLASSES }),
];

export interface DNSQRLayer extends FieldValues<DNSQRFields> {}

export class DNSQRLayer extends DNSRecordLayer<DNSQRFields> {
  static readonly layerName: string = 'DNSQR';
  static readonly displayName: string = 'DNS Question Record';
  static readonly fieldSpecs = dnsqrFields;

  toBytes(): Buffer {
    const name = encodeName(this.fields.qname ?? 'www.example.com');
    const out = Buffer.allocUnsafe(name.length + 4);
    name.copy(out);
    out.writeUInt16BE((this.fields.qtype ?? 1) & 0xffff, name.length);
    out.writeUInt16BE((this.fields.qclass ?? 1) & 0xffff, name.length + 2);
    return out;
  }
}

function readQuestion(r: RecordReader, pos: number): { rec: DNSQRLayer; next: number } {
  // A name that runs out of bytes just ends there, as Scapy's dns_get_str stops.
  const n = readName(r.buf, r.msg, pos, r.end);
  const rec = new DNSQRLayer();
  rec.fields = { qname: n.name === '' ? '.' : n.name, qtype: u16(r, n.next, r.end), qclass: u16(r, n.next + 2, r.end) };
  return { rec, next: n.next + 4 };
}

// ---- resource records ----------------------------------------------------------------------

/** The fields every resource record starts with (Scapy's order: rrname type rclass ttl rdlen). */
function rrHead(type: number, rclass: FieldSpec = intField('rclass', 16, 1, { names: DNS_CLASSES })): FieldSpec[] {
  return [
    { name: 'rrname', kind: 'value', default: '' },
    intField('type', 16, type, { names: DNS_TYPES }),
    rclass,
  ];
}

/** Writes name, type, class, ttl (or OPT's three fields), rdlen and rdata. */
function rrBytes(layer: Layer, defaultType: number, ttlBytes: Buffer, rdata: Buffer): Buffer {
  const f = layer.fields as Record<string, unknown>;
  const name = encodeName(f.rrname ?? '');
  const head = Buffer.alloc(4);
  head.writeUInt16BE(((f.type as number | undefined) ?? defaultType) & 0xffff, 0);
  head.writeUInt16BE(((f.rclass as number | undefined) ?? (defaultType === 41 ? 4096 : 1)) & 0xffff, 2);
  const rdlen = Buffer.alloc(2);
  rdlen.writeUInt16BE(((f.rdlen as number | undefined) ?? rdata.length) & 0xffff);
  return Buffer.concat([name, head, ttlBytes, rdlen, rdata]);
}

function ttlOf(ttl: number | undefined): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE((ttl ?? 0) >>> 0);
  return b;
}

export interface DNSRRFields {
  rrname: string;
  type: number;
  rclass: number;
  ttl: number;
  rdlen: number;
  /** A: '192.0.2.1'; AAAA: '2001:db8::1'; NS, CNAME, PTR: a name; TXT: a list of strings; else bytes. */
  rdata: unknown;
}

const dnsrrFields: readonly FieldSpec[] = [
  ...rrHead(1),
  intField('ttl', 32, 0),
  computedInt('rdlen', 16),
  { name: 'rdata', kind: 'value', default: '0.0.0.0', when: (v) => ((v.type as number | undefined) ?? 1) === 1 },
  { name: 'rdata', kind: 'value', default: '::', when: (v) => v.type === 28 },
  { name: 'rdata', kind: 'value', default: '', when: (v) => NAME_TYPES.has(v.type as number) },
  { name: 'rdata', kind: 'value', default: [], when: (v) => v.type === 16 },
  { name: 'rdata', kind: 'value', default: '', when: (v) => ![undefined, 1, 28, 16].includes(v.type as number) && !NAME_TYPES.has(v.type as number) },
];

function toBuf(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  return Buffer.from(String(v ?? ''), 'utf8');
}

/** TXT rdata as Scapy's DNSTextField writes it: each string in pieces of at most 255 bytes. */
function txtBytes(value: unknown): Buffer {
  const list = Array.isArray(value) ? value : [value];
  const parts: Buffer[] = [];
  for (const item of list) {
    let text = toBuf(item);
    while (text.length >= 255) {
      parts.push(Buffer.from([255]), text.subarray(0, 255));
      text = text.subarray(255);
    }
    if (text.length) parts.push(Buffer.from([text.length]), text);
  }
  return Buffer.concat(parts);
}

export interface DNSRRLayer extends FieldValues<DNSRRFields> {}

export class DNSRRLayer extends DNSRecordLayer<DNSRRFields> {
  static readonly layerName: string = 'DNSRR';
  static readonly displayName: string = 'DNS Resource Record';
  static readonly fieldSpecs = dnsrrFields;

  rdataBytes(): Buffer {
    const type = this.fields.type ?? 1;
    const v = this.fields.rdata;
    if (type === 1) {
      const out = Buffer.alloc(4);
      writeIPv4(v === undefined ? '0.0.0.0' : String(v), out, 0);
      return out;
    }
    if (type === 28) {
      const out = Buffer.alloc(16);
      writeIPv6(v === undefined ? '::' : String(v), out, 0);
      return out;
    }
    if (NAME_TYPES.has(type)) return encodeName(v ?? '');
    if (type === 16) return txtBytes(v ?? []);
    return toBuf(v ?? '');
  }

  toBytes(): Buffer {
    return rrBytes(this, 1, ttlOf(this.fields.ttl), this.rdataBytes());
  }

  protected override normalize(fields: Partial<DNSRRFields>): Partial<DNSRRFields> {
    const type = fields.type ?? 1;
    if (fields.rdata !== undefined && NAME_TYPES.has(type)) fields.rdata = nameText(fields.rdata);
    if (fields.rdata !== undefined && type === 16 && !Array.isArray(fields.rdata)) fields.rdata = [fields.rdata];
    return super.normalize(fields);
  }
}

export interface DNSRRSOAFields {
  rrname: string; type: number; rclass: number; ttl: number; rdlen: number;
  mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number;
}

const soaFields: readonly FieldSpec[] = [
  ...rrHead(6), intField('ttl', 32, 0), computedInt('rdlen', 16),
  { name: 'mname', kind: 'value', default: '' }, { name: 'rname', kind: 'value', default: '' },
  intField('serial', 32, 0), intField('refresh', 32, 0), intField('retry', 32, 0), intField('expire', 32, 0), intField('minimum', 32, 0),
];

export interface DNSRRSOALayer extends FieldValues<DNSRRSOAFields> {}

export class DNSRRSOALayer extends DNSRecordLayer<DNSRRSOAFields> {
  static readonly layerName: string = 'DNSRRSOA';
  static readonly displayName: string = 'DNS SOA Resource Record';
  static readonly fieldSpecs = soaFields;

  toBytes(): Buffer {
    const f = this.fields;
    const nums = Buffer.alloc(20);
    [f.serial, f.refresh, f.retry, f.expire, f.minimum].forEach((n, i) => nums.writeUInt32BE((n ?? 0) >>> 0, i * 4));
    return rrBytes(this, 6, ttlOf(f.ttl), Buffer.concat([encodeName(f.mname ?? ''), encodeName(f.rname ?? ''), nums]));
  }
}

export interface DNSRRMXFields {
  rrname: string; type: number; rclass: number; ttl: number; rdlen: number; preference: number; exchange: string;
}

// Scapy 2.5's DNSRRMX defaults its type to 6 (SOA), not 15: kept, so the same call builds the same bytes.
const mxFields: readonly FieldSpec[] = [
  ...rrHead(6), intField('ttl', 32, 0), computedInt('rdlen', 16), intField('preference', 16, 0), { name: 'exchange', kind: 'value', default: '' },
];

export interface DNSRRMXLayer extends FieldValues<DNSRRMXFields> {}

export class DNSRRMXLayer extends DNSRecordLayer<DNSRRMXFields> {
  static readonly layerName: string = 'DNSRRMX';
  static readonly displayName: string = 'DNS MX Resource Record';
  static readonly fieldSpecs = mxFields;

  toBytes(): Buffer {
    const pref = Buffer.alloc(2);
    pref.writeUInt16BE((this.fields.preference ?? 0) & 0xffff);
    return rrBytes(this, 6, ttlOf(this.fields.ttl), Buffer.concat([pref, encodeName(this.fields.exchange ?? '')]));
  }
}

export interface DNSRRSRVFields {
  rrname: string; type: number; rclass: number; ttl: number; rdlen: number; priority: number; weight: number; port: number; target: string;
}

const srvFields: readonly FieldSpec[] = [
  ...rrHead(33), intField('ttl', 32, 0), computedInt('rdlen', 16),
  intField('priority', 16, 0), intField('weight', 16, 0), intField('port', 16, 0), { name: 'target', kind: 'value', default: '' },
];

export interface DNSRRSRVLayer extends FieldValues<DNSRRSRVFields> {}

export class DNSRRSRVLayer extends DNSRecordLayer<DNSRRSRVFields> {
  static readonly layerName: string = 'DNSRRSRV';
  static readonly displayName: string = 'DNS SRV Resource Record';
  static readonly fieldSpecs = srvFields;

  toBytes(): Buffer {
    const f = this.fields;
    const nums = Buffer.alloc(6);
    nums.writeUInt16BE((f.priority ?? 0) & 0xffff, 0);
    nums.writeUInt16BE((f.weight ?? 0) & 0xffff, 2);
    nums.writeUInt16BE((f.port ?? 0) & 0xffff, 4);
    return rrBytes(this, 33, ttlOf(f.ttl), Buffer.concat([nums, encodeName(f.target ?? '')]));
  }
}

export interface EDNS0TLVFields {
  optcode: number;
  optlen: number;
  optdata: Buffer | string;
}

const tlvFields: readonly FieldSpec[] = [
  intField('optcode', 16, 0, { names: EDNS0_TYPES }),
  computedInt('optlen', 16),
  { name: 'optdata', kind: 'bytes', default: Buffer.alloc(0) },
];

export interface EDNS0TLVLayer extends FieldValues<EDNS0TLVFields> {}

/** One EDNS0 option (Scapy's EDNS0TLV): code, length, data. */
export class EDNS0TLVLayer extends DNSRecordLayer<EDNS0TLVFields> {
  static readonly layerName: string = 'EDNS0TLV';
  static readonly displayName: string = 'DNS EDNS0 TLV';
  static readonly fieldSpecs = tlvFields;

  toBytes(): Buffer {
    const data = typeof this.fields.optdata === 'string' ? Buffer.from(this.fields.optdata, 'latin1') : (this.fields.optdata ?? Buffer.alloc(0));
    const head = Buffer.alloc(4);
    head.writeUInt16BE((this.fields.optcode ?? 0) & 0xffff, 0);
    head.writeUInt16BE((this.fields.optlen ?? data.length) & 0xffff, 2);
    return Buffer.concat([head, data]);
  }
}

export interface DNSRROPTFields {
  rrname: string; type: number; rclass: number; extrcode: number; version: number; z: number; rdlen: number; rdata: EDNS0TLVLayer[];
}

const optFields: readonly FieldSpec[] = [
  ...rrHead(41, intField('rclass', 16, 4096)),
  intField('extrcode', 8, 0), intField('version', 8, 0), intField('z', 16, 32768, { names: { 32768: 'D0' } }),
  computedInt('rdlen', 16),
  { name: 'rdata', kind: 'packets', default: [] },
];

export interface DNSRROPTLayer extends FieldValues<DNSRROPTFields> {}

/** The EDNS0 pseudo-record (Scapy's DNSRROPT): class is the UDP payload size, ttl holds extrcode, version, z. */
export class DNSRROPTLayer extends DNSRecordLayer<DNSRROPTFields> {
  static readonly layerName: string = 'DNSRROPT';
  static readonly displayName: string = 'DNS OPT Resource Record';
  static readonly fieldSpecs = optFields;

  protected override normalize(fields: Partial<DNSRROPTFields>): Partial<DNSRROPTFields> {
    if (fields.rdata !== undefined) fields.rdata = recordList(fields.rdata, 'DNSRROPT rdata', [EDNS0TLVLayer]) as EDNS0TLVLayer[];
    return super.normalize(fields);
  }

  toBytes(): Buffer {
    const f = this.fields;
    const ttl = Buffer.alloc(4);
    ttl[0] = (f.extrcode ?? 0) & 0xff;
    ttl[1] = (f.version ?? 0) & 0xff;
    ttl.writeUInt16BE((f.z ?? 32768) & 0xffff, 2);
    return rrBytes(this, 41, ttl, Buffer.concat((f.rdata ?? []).map((o) => o.toBytes())));
  }
}

/** One EDNS0 option at q, within the OPT record's rdata ending at limit. */
function readTLV(r: RecordReader, q: number, limit: number): { rec: EDNS0TLVLayer; next: number } {
  const tlv = new EDNS0TLVLayer();
  const optcode = u16(r, q, limit);
  const optlen = u16(r, q + 2, limit);
  const dataEnd = Math.min(q + 4 + optlen, limit);
  Object.assign(tlv.fields, { optcode, optlen, optdata: Buffer.from(r.buf.subarray(q + 4, dataEnd)) });
  return { rec: tlv, next: dataEnd };
}

/** Reads one resource record at pos: Scapy's decodeRR, with its dispatch on type. */
function readRecord(r: RecordReader, pos: number): { rec: DNSRecordLayer; next: number } {
  const n = readName(r.buf, r.msg, pos, r.end);
  let p = n.next;
  const type = u16(r, p, r.end);
  const rclass = u16(r, p + 2, r.end);
  const ttl = u32(r, p + 4, r.end);
  const rdlen = u16(r, p + 8, r.end);
  p += 10;
  const rdEnd = p + rdlen;
  if (rdEnd > r.end) throw MALFORMED;
  const rrname = n.name === '' ? '.' : n.name;
  let compressed = false;
  const name = (at: number, limit: number): { name: string; next: number } => {
    const got = readName(r.buf, r.msg, at, limit);
    compressed ||= got.compressed;
    return got;
  };
  let rec: DNSRecordLayer;
  switch (type) {
    case 6: {
      const m = name(p, rdEnd);
      const rn = name(m.next, rdEnd);
      const q = rn.next;
      const soa = new DNSRRSOALayer();
      Object.assign(soa.fields, { rrname, type, rclass, ttl, rdlen, mname: m.name, rname: rn.name, serial: u32(r, q, rdEnd), refresh: u32(r, q + 4, rdEnd), retry: u32(r, q + 8, rdEnd), expire: u32(r, q + 12, rdEnd), minimum: u32(r, q + 16, rdEnd) });
      rec = soa;
      break;
    }
    case 15: {
      const mx = new DNSRRMXLayer();
      const preference = u16(r, p, rdEnd);
      Object.assign(mx.fields, { rrname, type, rclass, ttl, rdlen, preference, exchange: name(p + 2, rdEnd).name });
      rec = mx;
      break;
    }
    case 33: {
      const srv = new DNSRRSRVLayer();
      Object.assign(srv.fields, { rrname, type, rclass, ttl, rdlen, priority: u16(r, p, rdEnd), weight: u16(r, p + 2, rdEnd), port: u16(r, p + 4, rdEnd), target: name(p + 6, rdEnd).name });
      rec = srv;
      break;
    }
    case 41: {
      const opt = new DNSRROPTLayer();
      const options: EDNS0TLVLayer[] = [];
      for (let q = p; q < rdEnd;) {
        const tlv = readTLV(r, q, rdEnd);
        options.push(tlv.rec);
        q = tlv.next;
      }
      Object.assign(opt.fields, { rrname, type, rclass, extrcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, z: ttl & 0xffff, rdlen, rdata: options });
      rec = opt;
      break;
    }
    default: {
      const rr = new DNSRRLayer();
      let rdata: unknown;
      if (type === 1) {
        if (rdlen !== 4) throw MALFORMED;
        rdata = formatIPv4(r.buf, p);
      } else if (type === 28) {
        if (rdlen !== 16) throw MALFORMED;
        rdata = formatIPv6(r.buf.subarray(p, p + 16));
      } else if (NAME_TYPES.has(type)) rdata = name(p, rdEnd).name;
      else if (type === 16) {
        const list: Buffer[] = [];
        for (let q = p; q < rdEnd;) {
          const len = r.buf[q]!;
          list.push(Buffer.from(r.buf.subarray(q + 1, Math.min(q + 1 + len, rdEnd))));
          q += len + 1;
        }
        rdata = list;
      } else rdata = Buffer.from(r.buf.subarray(p, rdEnd));
      Object.assign(rr.fields, { rrname, type, rclass, ttl, rdlen, rdata });
      rec = rr;
    }
  }
  // Scapy forgets rdlen when the rdata followed a pointer: rebuilt uncompressed, it is recomputed.
  if (compressed) delete (rec.fields as Record<string, unknown>).rdlen;
  return { rec, next: rdEnd };
}

// ---- the message ---------------------------------------------------------------------------

export interface DNSFields {
  length: number;
  id: number;
  qr: number;
  opcode: number;
  aa: number;
  tc: number;
  rd: number;
  ra: number;
  z: number;
  ad: number;
  cd: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  qd: DNSQRLayer[];
  an: DNSRecordLayer[];
  ns: DNSRecordLayer[];
  ar: DNSRecordLayer[];
}

const dnsFields: readonly FieldSpec[] = [
  // Over TCP only (Scapy's ConditionalField on the layer below): shown when read or given.
  computedInt('length', 16, { when: (v) => v.length !== undefined }),
  intField('id', 16, 0),
  intField('qr', 1, 0),
  intField('opcode', 4, 0, { names: OPCODES }),
  intField('aa', 1, 0),
  intField('tc', 1, 0),
  intField('rd', 1, 1),
  intField('ra', 1, 0),
  intField('z', 1, 0),
  intField('ad', 1, 0),
  intField('cd', 1, 0),
  intField('rcode', 4, 0, { names: RCODES }),
  computedInt('qdcount', 16),
  computedInt('ancount', 16),
  computedInt('nscount', 16),
  computedInt('arcount', 16),
  { name: 'qd', kind: 'packets', default: [new DNSQRLayer()] },
  { name: 'an', kind: 'packets', default: [] },
  { name: 'ns', kind: 'packets', default: [] },
  { name: 'ar', kind: 'packets', default: [] },
];

const QUESTION_CLASSES: readonly LayerClass[] = [DNSQRLayer as unknown as LayerClass];
const RECORD_CLASSES: readonly LayerClass[] = [DNSRRLayer, DNSRRSOALayer, DNSRRMXLayer, DNSRRSRVLayer, DNSRROPTLayer] as unknown as LayerClass[];

/**
 * A section as given: one record, a packet of records (DNSRR(...) from the factory), or a list
 * of either. Each must be one of `classes`.
 */
function recordList(value: unknown, where: string, classes: readonly unknown[]): Layer[] {
  if (value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  const out: Layer[] = [];
  for (const item of items) {
    const layers: unknown[] = item instanceof Layer ? [item] : item && typeof item === 'object' && Array.isArray((item as { layers?: unknown }).layers) ? (item as { layers: unknown[] }).layers : [item];
    for (const layer of layers) {
      if (!(layer instanceof Layer) || !classes.some((c) => layer instanceof (c as typeof Layer))) {
        const names = classes.map((c) => (c as LayerClass).layerName).join(', ');
        throw usageError(`${where} takes ${names} records, like ${where.startsWith('DNS qd') ? "DNSQR(qname='example.test')" : "DNSRR(rrname='example.test', rdata='192.0.2.1')"}; not ${layer instanceof Layer ? layer.name + '()' : typeof layer}`);
      }
      out.push(layer);
    }
  }
  return out;
}

/** What a section takes when a message is made: a record, a packet of records (DNSRR(...)), a list of either, or null for none. */
export type RecordsInput = Layer | { readonly layers: readonly Layer[] } | readonly (Layer | { readonly layers: readonly Layer[] })[] | null;

/** The fields DNS({...}) takes: the sections as RecordsInput, the rest as stored. */
export type DNSInput = Omit<DNSFields, 'qd' | 'an' | 'ns' | 'ar'> & { qd: RecordsInput; an: RecordsInput; ns: RecordsInput; ar: RecordsInput };

/** The fields DNSRROPT({...}) takes: its options as RecordsInput. */
export type DNSRROPTInput = Omit<DNSRROPTFields, 'rdata'> & { rdata: RecordsInput };

export interface DNSLayer extends FieldValues<DNSFields> {}

export class DNSLayer extends Layer<DNSFields> {
  static readonly layerName: string = 'DNS';
  static readonly fieldSpecs = dnsFields;
  /** decode() asks the layer below only whether it is TCP (a lazy TCP layer is one): dissect() leaves it lazy. */
  static readonly decodeAsksBelowClassOnly = true;
  private built: Buffer | undefined;
  /**
   * The length of the bytes a dissected message came from (TCP's length prefix included when
   * `wireTCP`), and a fingerprint of the fields read from them. Scapy rebuilds a read message
   * uncompressed; here it rebuilds to the bytes it came from (compression pointers, odd labels
   * and all) until a field changes, which is what a capture rewritten untouched must give.
   */
  declare wireLength?: number;
  /** The bytes from the message's start to the end of what held it: the first wireLength are the message. */
  declare wireSource?: Buffer;
  declare wireKey?: string;
  declare wireTCP?: boolean;

  /**
   * The read bytes, when nothing was changed since they were read. What they read as is worked
   * out here, on the first build, by reading them again: dissecting pays only for a copy.
   */
  private unchangedWire(tcp: boolean): Buffer | undefined {
    if (this.wireSource === undefined || this.wireTCP !== tcp) return undefined;
    // Read again with the bytes that followed (a TCP length may count them), as the first reading had them.
    this.wireKey ??= fingerprint(decodeMessage(this.wireSource, 0, this.wireSource.length, tcp, false).layer);
    return fingerprint(this) === this.wireKey ? this.wireSource.subarray(0, this.wireLength) : undefined;
  }

  protected override normalize(fields: Partial<DNSFields>): Partial<DNSFields> {
    if (fields.qd !== undefined) fields.qd = recordList(fields.qd, 'DNS qd', QUESTION_CLASSES) as DNSQRLayer[];
    for (const key of ['an', 'ns', 'ar'] as const) {
      if (fields[key] !== undefined) fields[key] = recordList(fields[key], `DNS ${key}`, RECORD_CLASSES) as DNSRecordLayer[];
    }
    return super.normalize(fields);
  }

  /** The message (without TCP's length prefix): header, then every section uncompressed. */
  messageBytes(): Buffer {
    const f = this.fields;
    const qd = f.qd ?? (dnsFields[16]!.default as DNSQRLayer[]);
    const an = f.an ?? [];
    const ns = f.ns ?? [];
    const ar = f.ar ?? [];
    // Each record's bytes first, so the message is one allocation of the right size.
    const records: Buffer[] = [];
    let size = HEADER;
    for (const section of [qd, an, ns, ar] as DNSRecordLayer[][]) {
      for (const rec of section) {
        const b = rec.toBytes();
        records.push(b);
        size += b.length;
      }
    }
    const out = Buffer.allocUnsafe(size);
    out.writeUInt16BE((f.id ?? 0) & 0xffff, 0);
    out[2] = (((f.qr ?? 0) & 1) << 7) | (((f.opcode ?? 0) & 0xf) << 3) | (((f.aa ?? 0) & 1) << 2) | (((f.tc ?? 0) & 1) << 1) | ((f.rd ?? 1) & 1);
    out[3] = (((f.ra ?? 0) & 1) << 7) | (((f.z ?? 0) & 1) << 6) | (((f.ad ?? 0) & 1) << 5) | (((f.cd ?? 0) & 1) << 4) | ((f.rcode ?? 0) & 0xf);
    out.writeUInt16BE((f.qdcount ?? qd.length) & 0xffff, 4);
    out.writeUInt16BE((f.ancount ?? an.length) & 0xffff, 6);
    out.writeUInt16BE((f.nscount ?? ns.length) & 0xffff, 8);
    out.writeUInt16BE((f.arcount ?? ar.length) & 0xffff, 10);
    let p = HEADER;
    for (const b of records) p += b.copy(out, p);
    return out;
  }

  /** Whether this message goes over TCP (it then starts with its length), judged by the layer below. */
  private overTCP(ctx: BuildContext, index: number): boolean {
    return index > 0 && ctx.layers[index - 1] instanceof TCPLayer;
  }

  headerLength(ctx: BuildContext, index: number): number {
    const tcp = this.overTCP(ctx, index);
    const wire = this.unchangedWire(tcp);
    if (wire) {
      this.built = wire;
      return wire.length;
    }
    this.built = this.messageBytes();
    return this.built.length + (tcp ? 2 : 0);
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const tcp = this.overTCP(ctx, index);
    const wire = this.unchangedWire(tcp);
    if (wire) {
      wire.copy(out, off);
      this.built = undefined;
      return;
    }
    const msg = this.built ?? this.messageBytes();
    this.built = undefined;
    if (tcp) {
      out.writeUInt16BE((this.fields.length ?? msg.length) & 0xffff, off);
      off += 2;
    }
    msg.copy(out, off);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const below = ctx.below[ctx.below.length - 1];
    const tcp = below instanceof TCPLayer;
    try {
      return decodeMessage(buf, off, end, tcp, true, ctx.view === true);
    } catch (err) {
      if (err !== MALFORMED) throw err;
      // Scapy gives up on a message it cannot read and keeps the bytes: so do we.
      return RawLayer.decode(buf, off, end);
    }
  }

  /** Direction-free key: the id, which a reply repeats. */
  override hashret(): string {
    return String(this.fields.id ?? 0);
  }

  /** Scapy's rule (same id, a response to a query), and the question repeated when both carry one. */
  override answers(other: Layer): boolean {
    if (!(other instanceof DNSLayer)) return false;
    if ((this.fields.id ?? 0) !== (other.fields.id ?? 0) || this.qr !== 1 || other.qr !== 0) return false;
    const mine = this.fields.qd?.[0];
    const theirs = (other.fields.qd ?? (dnsFields[16]!.default as DNSQRLayer[]))[0];
    if (!mine || !theirs) return true;
    const norm = (n: unknown): string => String(n ?? '').toLowerCase().replace(/\.$/, '');
    return norm(mine.fields.qname) === norm(theirs.fields.qname ?? 'www.example.com') && (mine.fields.qtype ?? 1) === (theirs.fields.qtype ?? 1);
  }
}

/** Every field of a layer and of the records inside it, as one string: what changed since reading shows in it. */
function fingerprint(layer: Layer): string {
  return JSON.stringify(layer.fields, (_key, v: unknown) => {
    if (v instanceof Layer) return { n: v.name, f: v.fields };
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) return 'b' + Buffer.from((v as { data: number[] }).data).toString('hex');
    return v;
  });
}

/**
 * Reads a message at buf[off, end) (its TCP length prefix first when `tcp`). With `keepWire`
 * the layer keeps the bytes to rebuild from: a copy, or a view of `buf` when `view` (the packet
 * holds one anyway).
 */
function decodeMessage(buf: Buffer, off: number, end: number, tcp: boolean, keepWire = true, view = false): Decoded {
  const layer = new DNSLayer();
  let msg = off;
  let length: number | undefined;
  if (tcp) {
    // Scapy's pre_dissect: a length that cannot hold a header, or more than the segment has, is not DNS.
    if (end - off < 2) throw MALFORMED;
    length = buf.readUInt16BE(off);
    if (length < 14 || end - off < length) throw MALFORMED;
    msg = off + 2;
  }
  if (end - msg < HEADER) throw MALFORMED;
  const b2 = buf[msg + 2]!;
  const b3 = buf[msg + 3]!;
  // The header's fields in one object literal: one shape for every message read, made at once.
  const f: Partial<DNSFields> = {
    id: (buf[msg]! << 8) | buf[msg + 1]!,
    qr: b2 >> 7,
    opcode: (b2 >> 3) & 0xf,
    aa: (b2 >> 2) & 1,
    tc: (b2 >> 1) & 1,
    rd: b2 & 1,
    ra: b3 >> 7,
    z: (b3 >> 6) & 1,
    ad: (b3 >> 5) & 1,
    cd: (b3 >> 4) & 1,
    rcode: b3 & 0xf,
    qdcount: (buf[msg + 4]! << 8) | buf[msg + 5]!,
    ancount: (buf[msg + 6]! << 8) | buf[msg + 7]!,
    nscount: (buf[msg + 8]! << 8) | buf[msg + 9]!,
    arcount: (buf[msg + 10]! << 8) | buf[msg + 11]!,
    qd: undefined,
    an: undefined,
    ns: undefined,
    ar: undefined,
  };
  if (length !== undefined) f.length = length;
  layer.fields = f;
  const r: RecordReader = { buf, msg, end };
  let pos = msg + HEADER;
  // Scapy reads a section only when its count fits in the bytes left; each record takes at least one.
  const qd: DNSQRLayer[] = [];
  if (f.qdcount! <= end - pos) {
    for (let i = 0; i < f.qdcount!; i++) {
      const q = readQuestion(r, pos);
      qd.push(q.rec);
      pos = q.next;
    }
  }
  f.qd = qd;
  const section = (count: number): DNSRecordLayer[] => {
    const list: DNSRecordLayer[] = [];
    if (count > end - pos) return list;
    for (let i = 0; i < count; i++) {
      const rr = readRecord(r, pos);
      list.push(rr.rec);
      pos = rr.next;
    }
    return list;
  };
  f.an = section(f.ancount!);
  f.ns = section(f.nscount!);
  f.ar = section(f.arcount!);
  if (keepWire) {
    // A copy (the caller may reuse its buffer), unless the packet keeps a view of it anyway;
    // allocUnsafe and copy, without Buffer.from's array-like path.
    let source: Buffer;
    if (view) source = buf.subarray(off, end);
    else {
      source = Buffer.allocUnsafe(end - off);
      buf.copy(source, 0, off, end);
    }
    layer.wireSource = source;
    layer.wireLength = pos - off;
    layer.wireTCP = tcp;
  }
  return { layer, payloadStart: pos, payloadEnd: end, next: RawLayer };
}

for (const cls of [DNSLayer, DNSQRLayer, DNSRRLayer, DNSRRSOALayer, DNSRRMXLayer, DNSRRSRVLayer, DNSRROPTLayer, EDNS0TLVLayer]) {
  registerLayer(cls as unknown as LayerClass);
}

// Scapy's bindings: DNS and mDNS, the port on either side.
// The first binding of a field is the one a build fills in when the field is unset: UDP()/DNS()
// goes from port 53 to port 53, as in Scapy (whose last bind_layers call, sport=53, wins there).
bind(UDPLayer, DNSLayer, 'sport', DNS_PORT);
bind(UDPLayer, DNSLayer, 'dport', DNS_PORT);
bind(UDPLayer, DNSLayer, 'dport', MDNS_PORT);
bind(UDPLayer, DNSLayer, 'sport', MDNS_PORT);
bind(TCPLayer, DNSLayer, 'dport', DNS_PORT);
bind(TCPLayer, DNSLayer, 'sport', DNS_PORT);

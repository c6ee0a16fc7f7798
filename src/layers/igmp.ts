/**
 * IGMP (RFC 1112 v1, RFC 2236 v2, RFC 3376 v3) with the names of Scapy's scapy.contrib.igmp and
 * igmpv3: IGMP (type, mrcode, chksum, gaddr) for v1/v2 messages; IGMPv3 (type, mrcode, chksum)
 * followed by IGMPv3mq (a query), IGMPv3mr (a report, whose records are group records as
 * Scapy's IGMPv3gr) or IGMPv3mra (router advertisement). Dissection picks the class as Scapy's
 * dispatch does: types 0x22 and 0x30-0x32, and queries of 12 bytes or more, are IGMPv3.
 *
 * The checksum covers the message with what follows it (Scapy's post_build). As Scapy binds
 * them, the IPv4 header below takes TTL 1 (and for IGMPv3 also TOS 0xc0 and destination
 * 224.0.0.22) when those fields are left unset.
 */
import { finishChecksum, sumWords } from '../wire/checksum.js';
import { formatIPv4, writeIPv4 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { computedInt, intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues, type LayerClass } from './layer.js';
import { bind, boundLayer, boundValue, registerLayer } from './registry.js';
import { IPv4Layer, type IPv4Overload } from './ipv4.js';
import { zeroFilledHeader } from './partial.js';
import { RawLayer } from './raw.js';

const IPPROTO_IGMP = 2;

/** Scapy's names for IGMP types (v1/v2 and v3 tables together). */
const IGMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x11: 'Group Membership Query', 0x12: 'Version 1 - Membership Report', 0x16: 'Version 2 - Membership Report', 0x17: 'Leave Group',
};
const IGMPV3_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x11: 'Membership Query', 0x22: 'Version 3 Membership Report', 0x30: 'Multicast Router Advertisement',
  0x31: 'Multicast Router Solicitation', 0x32: 'Multicast Router Termination',
};

export interface IGMPFields {
  type: number;
  mrcode: number;
  chksum: number;
  gaddr: string;
}

/** Shared by IGMP and IGMPv3: the checksum over the message and everything after it. */
function fillChecksum(out: Buffer, off: number, end: number): void {
  out.writeUInt16BE(finishChecksum(sumWords(out, off, end)), off + 2);
}

function readHeader(layer: Layer<{ type: number; mrcode: number; chksum: number }>, buf: Buffer, off: number): void {
  const f = layer.fields;
  f.type = buf[off]!;
  f.mrcode = buf[off + 1]!;
  f.chksum = buf.readUInt16BE(off + 2);
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface IGMPLayer extends FieldValues<IGMPFields> {}

export class IGMPLayer extends Layer<IGMPFields> {
  static readonly layerName: string = 'IGMP';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('type', 8, 0x11, { names: IGMP_TYPE_NAMES }),
    intField('mrcode', 8, 20),
    computedInt('chksum', 16, { hex: true }),
    { name: 'gaddr', kind: 'ipv4', default: '0.0.0.0' },
  ];
  /** What Scapy's bind_layers(IP, IGMP, ttl=1) imposes on the IPv4 header below. */
  static readonly ipv4Overload: IPv4Overload = { ttl: 1 };

  protected override normalize(fields: Partial<IGMPFields>): Partial<IGMPFields> {
    super.normalize(fields);
    if (typeof fields.gaddr === 'string') writeIPv4(fields.gaddr, Buffer.alloc(4), 0);
    return fields;
  }

  headerLength(): number {
    return 8;
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    out[off] = (f.type ?? 0x11) & 0xff;
    out[off + 1] = (f.mrcode ?? 20) & 0xff;
    out.writeUInt16BE((f.chksum ?? 0) & 0xffff, off + 2);
    writeIPv4(f.gaddr ?? '0.0.0.0', out, off + 4);
  }

  override fixChecksum(out: Buffer, off: number, end: number): void {
    if (this.fields.chksum === undefined) fillChecksum(out, off, end);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    if (this === IGMPLayer && end - off >= 4) {
      const type = buf[off]!;
      if (type === 0x22 || (type >= 0x30 && type <= 0x32) || (type === 0x11 && end - off >= 12)) return IGMPv3Layer.decode(buf, off, end, ctx);
    }
    const layer = new this();
    if (end - off < 8) {
      // Cut short: read from a zero-filled copy, so the bytes there were rebuild exactly.
      const b = zeroFilledHeader(buf, off, end, 8);
      readHeader(layer, b, 0);
      layer.fields.gaddr = formatIPv4(b, 4);
      layer.truncatedTo = Math.max(end - off, 0);
      if (!ctx.quoted) layer.addProblem('[|igmp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    readHeader(layer, buf, off);
    layer.fields.gaddr = formatIPv4(buf, off + 4);
    if (!ctx.quoted) layer.checksumValid = finishChecksum(sumWords(buf, off, end)) === 0;
    return { layer, payloadStart: off + 8, payloadEnd: end };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof IGMPLayer && other.layerClass === this.layerClass;
  }
}

export interface IGMPv3Fields {
  type: number;
  mrcode: number;
  chksum: number;
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface IGMPv3Layer extends FieldValues<IGMPv3Fields> {}

/** The IGMPv3 common header; the message (query, report, advertisement) is the next layer. */
export class IGMPv3Layer extends Layer<IGMPv3Fields> {
  static readonly layerName: string = 'IGMPv3';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    { name: 'type', kind: 'int', bits: 8, default: 0x11, computed: true, names: IGMPV3_TYPE_NAMES },
    intField('mrcode', 8, 20),
    computedInt('chksum', 16, { hex: true }),
  ];
  /** Scapy's bind_layers(IP, IGMPv3, ttl=1, tos=0xc0, dst='224.0.0.22'). */
  static readonly ipv4Overload: IPv4Overload = { ttl: 1, tos: 0xc0, dst: '224.0.0.22' };

  headerLength(): number {
    return 4;
  }

  /** The type as built: given, else the one the message above binds (a report is 0x22), else 0x11. */
  typeValue(ctx: BuildContext, index: number): number {
    if (this.fields.type !== undefined) return this.fields.type;
    const upper = ctx.layers[index + 1];
    return (upper && boundValue(IGMPv3Layer as LayerClass, upper.layerClass, 'type')) ?? 0x11;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    const upper = ctx.layers[index + 1];
    // Scapy's binding of a report also sets mrcode 0 (it is reserved there).
    const mrcode = f.mrcode ?? (upper instanceof IGMPv3mrLayer ? 0 : 20);
    out[off] = this.typeValue(ctx, index) & 0xff;
    out[off + 1] = mrcode & 0xff;
    out.writeUInt16BE((f.chksum ?? 0) & 0xffff, off + 2);
  }

  override fixChecksum(out: Buffer, off: number, end: number): void {
    if (this.fields.chksum === undefined) fillChecksum(out, off, end);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    if (end - off < 4) {
      readHeader(layer, zeroFilledHeader(buf, off, end, 4), 0);
      layer.truncatedTo = Math.max(end - off, 0);
      if (!ctx.quoted) layer.addProblem('[|igmp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    readHeader(layer, buf, off);
    if (!ctx.quoted) layer.checksumValid = finishChecksum(sumWords(buf, off, end)) === 0;
    return { layer, payloadStart: off + 4, payloadEnd: end, next: boundLayer(IGMPv3Layer as LayerClass, 'type', layer.fields.type!) };
  }

  hashret(): string {
    return '';
  }

  answers(other: Layer): boolean {
    return other instanceof IGMPv3Layer;
  }
}

function readAddresses(buf: Buffer, off: number, count: number, end: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count && off + 4 * i + 4 <= end; i++) out.push(formatIPv4(buf, off + 4 * i));
  return out;
}

function checkAddresses(list: unknown, where: string): string[] {
  if (!Array.isArray(list)) throw usageError(`${where} takes a list of IPv4 addresses, like ['198.51.100.1']`);
  for (const a of list) writeIPv4(String(a), Buffer.alloc(4), 0);
  return list.map(String);
}

export interface IGMPv3mqFields {
  gaddr: string;
  resv: number;
  s: number;
  qrv: number;
  qqic: number;
  numsrc: number;
  srcaddrs: string[];
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface IGMPv3mqLayer extends FieldValues<IGMPv3mqFields> {}

/** IGMPv3 membership query (RFC 3376 §4.1): group, S flag, QRV, QQIC, sources. */
export class IGMPv3mqLayer extends Layer<IGMPv3mqFields> {
  static readonly layerName: string = 'IGMPv3mq';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    { name: 'gaddr', kind: 'ipv4', default: '0.0.0.0' },
    intField('resv', 4, 0),
    intField('s', 1, 0),
    intField('qrv', 3, 0),
    intField('qqic', 8, 0),
    computedInt('numsrc', 16),
    { name: 'srcaddrs', kind: 'list', default: [] },
  ];

  protected override normalize(fields: Partial<IGMPv3mqFields>): Partial<IGMPv3mqFields> {
    super.normalize(fields);
    if (typeof fields.gaddr === 'string') writeIPv4(fields.gaddr, Buffer.alloc(4), 0);
    if (fields.srcaddrs !== undefined) fields.srcaddrs = checkAddresses(fields.srcaddrs, 'IGMPv3mq srcaddrs');
    return fields;
  }

  headerLength(): number {
    return 8 + 4 * (this.fields.srcaddrs?.length ?? 0);
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    const sources = f.srcaddrs ?? [];
    writeIPv4(f.gaddr ?? '0.0.0.0', out, off);
    out[off + 4] = (((f.resv ?? 0) & 15) << 4) | (((f.s ?? 0) & 1) << 3) | ((f.qrv ?? 0) & 7);
    out[off + 5] = (f.qqic ?? 0) & 0xff;
    out.writeUInt16BE((f.numsrc ?? sources.length) & 0xffff, off + 6);
    sources.forEach((a, i) => writeIPv4(a, out, off + 8 + 4 * i));
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const numsrc = end - off >= 8 ? buf.readUInt16BE(off + 6) : 0;
    const size = 8 + 4 * numsrc;
    const cut = end - off < size;
    const b = cut ? zeroFilledHeader(buf, off, end, size) : buf;
    const o = cut ? 0 : off;
    f.gaddr = formatIPv4(b, o);
    f.resv = b[o + 4]! >> 4;
    f.s = (b[o + 4]! >> 3) & 1;
    f.qrv = b[o + 4]! & 7;
    f.qqic = b[o + 5]!;
    f.numsrc = b.readUInt16BE(o + 6);
    f.srcaddrs = readAddresses(b, o + 8, f.numsrc, o + size);
    if (cut) {
      // Cut short (or fewer sources than numsrc says): the bytes there were rebuild exactly.
      if (!ctx.quoted) layer.addProblem('[|igmp]');
      layer.truncatedTo = Math.max(end - off, 0);
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: off + size, payloadEnd: end };
  }
}

/** One group record of a report (Scapy's IGMPv3gr): record type, group, sources, aux data. */
export interface IGMPv3GroupRecord {
  name?: 'IGMPv3gr';
  /** 1 mode is include ... 6 block old sources; Scapy's default 1. */
  rtype?: number;
  /** Aux data length in 32-bit words; computed from auxdata when unset. */
  auxdlen?: number;
  numsrc?: number;
  maddr?: string;
  srcaddrs?: string[];
  /** Auxiliary data (RFC 3376 §4.2.6), kept so a dissected record rebuilds exactly. */
  auxdata?: Buffer;
}

const RECORD_FIELDS = new Set(['name', 'rtype', 'auxdlen', 'numsrc', 'maddr', 'srcaddrs', 'auxdata']);

/** Checks one group record as written by a user (the text form's IGMPv3gr(...) call makes one). */
export function checkGroupRecord(record: IGMPv3GroupRecord): IGMPv3GroupRecord {
  if (record === null || typeof record !== 'object') throw usageError("IGMPv3mr records take group records, like IGMPv3gr(rtype=4, maddr='239.1.1.1')");
  for (const key of Object.keys(record)) {
    if (!RECORD_FIELDS.has(key)) throw usageError(`unknown field '${key}' for IGMPv3gr; fields are: rtype, auxdlen, numsrc, maddr, srcaddrs`);
  }
  for (const key of ['rtype', 'auxdlen'] as const) {
    const v = record[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 255)) throw usageError(`IGMPv3gr ${key} takes 0 to 255, not ${String(v)}`);
  }
  if (record.numsrc !== undefined && (!Number.isInteger(record.numsrc) || record.numsrc < 0 || record.numsrc > 0xffff)) throw usageError(`IGMPv3gr numsrc takes 0 to 65535, not ${String(record.numsrc)}`);
  if (record.maddr !== undefined) writeIPv4(record.maddr, Buffer.alloc(4), 0);
  const checked: IGMPv3GroupRecord = { ...record, name: 'IGMPv3gr' };
  if (record.srcaddrs !== undefined) checked.srcaddrs = checkAddresses(record.srcaddrs, 'IGMPv3gr srcaddrs');
  return checked;
}

function recordLength(r: IGMPv3GroupRecord): number {
  return 8 + 4 * (r.srcaddrs?.length ?? 0) + (r.auxdata?.length ?? 0);
}

export interface IGMPv3mrFields {
  res2: number;
  numgrp: number;
  records: IGMPv3GroupRecord[];
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface IGMPv3mrLayer extends FieldValues<IGMPv3mrFields> {}

/** IGMPv3 membership report (RFC 3376 §4.2): reserved, record count, group records. */
export class IGMPv3mrLayer extends Layer<IGMPv3mrFields> {
  static readonly layerName: string = 'IGMPv3mr';
  static readonly fieldSpecs: readonly FieldSpec[] = [
    intField('res2', 16, 0, { hex: true }),
    computedInt('numgrp', 16),
    { name: 'records', kind: 'options', default: [] },
  ];

  protected override normalize(fields: Partial<IGMPv3mrFields>): Partial<IGMPv3mrFields> {
    super.normalize(fields);
    if (fields.records !== undefined) {
      const list = Array.isArray(fields.records) ? fields.records : [fields.records as IGMPv3GroupRecord];
      fields.records = list.map(checkGroupRecord);
    }
    return fields;
  }

  headerLength(): number {
    let n = 4;
    for (const r of this.fields.records ?? []) n += recordLength(r);
    return n;
  }

  encode(out: Buffer, off: number): void {
    const f = this.fields;
    const records = f.records ?? [];
    out.writeUInt16BE((f.res2 ?? 0) & 0xffff, off);
    out.writeUInt16BE((f.numgrp ?? records.length) & 0xffff, off + 2);
    let p = off + 4;
    for (const r of records) {
      const sources = r.srcaddrs ?? [];
      const aux = r.auxdata ?? Buffer.alloc(0);
      out[p] = (r.rtype ?? 1) & 0xff;
      out[p + 1] = (r.auxdlen ?? aux.length >> 2) & 0xff;
      out.writeUInt16BE((r.numsrc ?? sources.length) & 0xffff, p + 2);
      writeIPv4(r.maddr ?? '0.0.0.0', out, p + 4);
      sources.forEach((a, i) => writeIPv4(a, out, p + 8 + 4 * i));
      aux.copy(out, p + 8 + 4 * sources.length);
      p += recordLength(r);
    }
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    if (end - off < 4) {
      const b = zeroFilledHeader(buf, off, end, 4);
      f.res2 = b.readUInt16BE(0);
      f.numgrp = b.readUInt16BE(2);
      f.records = [];
      if (!ctx.quoted) layer.addProblem('[|igmp]');
      layer.truncatedTo = Math.max(end - off, 0);
      return { layer, payloadStart: end, payloadEnd: end };
    }
    f.res2 = buf.readUInt16BE(off);
    f.numgrp = buf.readUInt16BE(off + 2);
    const records: IGMPv3GroupRecord[] = [];
    let p = off + 4;
    for (let i = 0; i < f.numgrp && p + 8 <= end; i++) {
      const numsrc = buf.readUInt16BE(p + 2);
      const auxdlen = buf[p + 1]!;
      const size = 8 + 4 * numsrc + 4 * auxdlen;
      if (p + size > end) {
        if (!ctx.quoted) layer.addProblem('[invalid number of sources]');
        break;
      }
      const r: IGMPv3GroupRecord = { name: 'IGMPv3gr', rtype: buf[p]!, auxdlen, numsrc, maddr: formatIPv4(buf, p + 4), srcaddrs: readAddresses(buf, p + 8, numsrc, end) };
      if (auxdlen) r.auxdata = Buffer.from(buf.subarray(p + 8 + 4 * numsrc, p + size));
      records.push(r);
      p += size;
    }
    f.records = records;
    // Records the count promises but the bytes do not hold stay as payload bytes (Raw).
    return { layer, payloadStart: p, payloadEnd: end, next: p < end ? RawLayer : undefined };
  }
}

export interface IGMPv3mraFields {
  qryIntvl: number;
  robust: number;
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface IGMPv3mraLayer extends FieldValues<IGMPv3mraFields> {}

/** Multicast router advertisement (RFC 4286) after an IGMPv3 header of type 0x30. */
export class IGMPv3mraLayer extends Layer<IGMPv3mraFields> {
  static readonly layerName: string = 'IGMPv3mra';
  static readonly fieldSpecs: readonly FieldSpec[] = [intField('qryIntvl', 16, 0), intField('robust', 16, 0)];

  headerLength(): number {
    return 4;
  }

  encode(out: Buffer, off: number): void {
    out.writeUInt16BE((this.fields.qryIntvl ?? 0) & 0xffff, off);
    out.writeUInt16BE((this.fields.robust ?? 0) & 0xffff, off + 2);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const cut = end - off < 4;
    const b = cut ? zeroFilledHeader(buf, off, end, 4) : buf;
    const o = cut ? 0 : off;
    layer.fields.qryIntvl = b.readUInt16BE(o);
    layer.fields.robust = b.readUInt16BE(o + 2);
    if (cut) {
      if (!ctx.quoted) layer.addProblem('[|igmp]');
      layer.truncatedTo = Math.max(end - off, 0);
      return { layer, payloadStart: end, payloadEnd: end };
    }
    return { layer, payloadStart: off + 4, payloadEnd: end };
  }
}

registerLayer(IGMPLayer);
registerLayer(IGMPv3Layer);
registerLayer(IGMPv3mqLayer);
registerLayer(IGMPv3mrLayer);
registerLayer(IGMPv3mraLayer);

// IGMP is protocol 2 (IGMP's decode hands v3 messages to IGMPv3, as Scapy's dispatch does).
bind(IPv4Layer, IGMPLayer, 'proto', IPPROTO_IGMP);
bind(IPv4Layer, IGMPv3Layer, 'proto', IPPROTO_IGMP);
bind(IGMPv3Layer, IGMPv3mqLayer, 'type', 0x11);
bind(IGMPv3Layer, IGMPv3mrLayer, 'type', 0x22);
bind(IGMPv3Layer, IGMPv3mraLayer, 'type', 0x30);

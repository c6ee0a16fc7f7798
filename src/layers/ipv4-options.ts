/**
 * IPv4 options (RFC 791), named and shaped as Scapy's IPOption_* classes so that the text form
 * maps one to one: {name: 'IPOption_RR', routers: ['127.0.0.2']} is IPOption_RR(routers=[...]).
 * Kinds without a shape of their own travel as the generic IPOption: type byte, length, value.
 */
import { formatIPv4, writeIPv4 } from '../wire/addr.js';
import { usageError, didYouMean } from '../wire/errors.js';

export interface IPOptionHeader {
  /** The type byte's parts; left unset, each variant's own values are used. */
  copy_flag?: number;
  optclass?: number;
  option?: number;
}
export interface IPOptionEOL extends IPOptionHeader { name: 'IPOption_EOL' }
export interface IPOptionNOP extends IPOptionHeader { name: 'IPOption_NOP' }
export interface IPOptionRoute extends IPOptionHeader {
  name: 'IPOption_RR' | 'IPOption_LSRR' | 'IPOption_SSRR';
  length?: number;
  pointer?: number;
  routers?: string[];
}
export interface IPOptionTimestamp extends IPOptionHeader {
  name: 'IPOption_Timestamp';
  length?: number;
  pointer?: number;
  oflw?: number;
  flg?: number;
  internet_address?: string;
  timestamp?: number;
}
export interface IPOptionRouterAlert extends IPOptionHeader {
  name: 'IPOption_Router_Alert';
  length?: number;
  alert?: number;
}
export interface IPOptionSDBM extends IPOptionHeader {
  name: 'IPOption_SDBM';
  length?: number;
  addresses?: string[];
}
export interface IPOptionSecurity extends IPOptionHeader {
  name: 'IPOption_Security';
  length?: number;
  security?: number;
  compartment?: number;
  handling_restrictions?: number;
  /** Three bytes; Scapy's default 'xxx'. */
  transmission_control_code?: Buffer | string;
}
export interface IPOptionGeneric extends IPOptionHeader {
  name: 'IPOption';
  length?: number;
  value?: Buffer | string;
}
export type IPOption = IPOptionEOL | IPOptionNOP | IPOptionRoute | IPOptionTimestamp | IPOptionRouterAlert | IPOptionSDBM | IPOptionSecurity | IPOptionGeneric;

interface Variant {
  copy: number;
  cls: number;
  option: number;
  fields: readonly string[];
}

export const IP_OPTION_VARIANTS: Record<IPOption['name'], Variant> = {
  IPOption_EOL: { copy: 0, cls: 0, option: 0, fields: [] },
  IPOption_NOP: { copy: 0, cls: 0, option: 1, fields: [] },
  IPOption_RR: { copy: 0, cls: 0, option: 7, fields: ['length', 'pointer', 'routers'] },
  IPOption_LSRR: { copy: 1, cls: 0, option: 3, fields: ['length', 'pointer', 'routers'] },
  IPOption_SSRR: { copy: 1, cls: 0, option: 9, fields: ['length', 'pointer', 'routers'] },
  IPOption_Timestamp: { copy: 0, cls: 2, option: 4, fields: ['length', 'pointer', 'oflw', 'flg', 'internet_address', 'timestamp'] },
  IPOption_Router_Alert: { copy: 1, cls: 0, option: 20, fields: ['length', 'alert'] },
  IPOption_SDBM: { copy: 1, cls: 0, option: 21, fields: ['length', 'addresses'] },
  IPOption_Security: { copy: 1, cls: 0, option: 2, fields: ['length', 'security', 'compartment', 'handling_restrictions', 'transmission_control_code'] },
  IPOption: { copy: 0, cls: 0, option: 0, fields: ['length', 'value'] },
};

/**
 * The options list a user gave, as a list: Scapy takes raw bytes (options='\x02') and a single
 * option object where a list is expected, so do we. Bytes are read as the dissector reads them,
 * which rebuilds them verbatim.
 */
export function ipOptionList(value: unknown): IPOption[] {
  if (Array.isArray(value)) return value.map(checkIPOption);
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    return readIPOptions(bytes, 0, bytes.length, []);
  }
  if (value !== null && typeof value === 'object' && 'name' in value) return [checkIPOption(value as IPOption)];
  throw usageError(`IP options take a list like [{ name: 'IPOption_NOP' }] or the options' bytes, not ${JSON.stringify(value)}`);
}

/** Checks an option object built by hand or by the text form; unknown names and fields are usage errors. */
export function checkIPOption(opt: IPOption): IPOption {
  const variant = IP_OPTION_VARIANTS[opt.name];
  if (!variant) {
    throw usageError(`unknown IP option '${String(opt.name)}'${didYouMean(String(opt.name), Object.keys(IP_OPTION_VARIANTS))}`);
  }
  for (const key of Object.keys(opt)) {
    if (key === 'name' || key === 'copy_flag' || key === 'optclass' || key === 'option') continue;
    if (!variant.fields.includes(key)) {
      throw usageError(`unknown field '${key}' for ${opt.name}${didYouMean(key, variant.fields)}; fields are: copy_flag, optclass, option, ${variant.fields.join(', ')}`);
    }
  }
  return opt;
}

function typeByte(opt: IPOption): number {
  const v = IP_OPTION_VARIANTS[opt.name];
  return (((opt.copy_flag ?? v.copy) & 1) << 7) | (((opt.optclass ?? v.cls) & 3) << 5) | ((opt.option ?? v.option) & 0x1f);
}

function valueBytes(v: Buffer | string | undefined): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
}

/** Encoded size of one option, before the header is padded to 32 bits. */
export function ipOptionLength(opt: IPOption): number {
  switch (opt.name) {
    case 'IPOption_EOL':
    case 'IPOption_NOP':
      return 1;
    case 'IPOption_RR':
    case 'IPOption_LSRR':
    case 'IPOption_SSRR':
      return 3 + 4 * (opt.routers?.length ?? 0);
    case 'IPOption_Timestamp':
      return 4 + ((opt.flg ?? 1) !== 0 ? 4 : 0) + 4;
    case 'IPOption_Router_Alert':
      return 4;
    case 'IPOption_SDBM':
      return 2 + 4 * (opt.addresses?.length ?? 0);
    case 'IPOption_Security':
      return 11;
    case 'IPOption':
      return 2 + valueBytes(opt.value).length;
  }
}

export function ipOptionsLength(opts: readonly IPOption[]): number {
  let n = 0;
  for (const o of opts) n += ipOptionLength(o);
  return n;
}

/** Writes one option at out[off]; returns the offset after it. Given lengths are written verbatim. */
export function writeIPOption(opt: IPOption, out: Buffer, off: number): number {
  const start = off;
  out[off++] = typeByte(opt);
  const size = ipOptionLength(opt);
  switch (opt.name) {
    case 'IPOption_EOL':
    case 'IPOption_NOP':
      return off;
    case 'IPOption_RR':
    case 'IPOption_LSRR':
    case 'IPOption_SSRR':
      out[off++] = (opt.length ?? size) & 0xff;
      out[off++] = (opt.pointer ?? 4) & 0xff;
      for (const r of opt.routers ?? []) {
        writeIPv4(r, out, off);
        off += 4;
      }
      return off;
    case 'IPOption_Timestamp':
      out[off++] = (opt.length ?? size) & 0xff;
      out[off++] = (opt.pointer ?? 9) & 0xff;
      out[off++] = (((opt.oflw ?? 0) & 15) << 4) | ((opt.flg ?? 1) & 15);
      if ((opt.flg ?? 1) !== 0) {
        writeIPv4(opt.internet_address ?? '0.0.0.0', out, off);
        off += 4;
      }
      out.writeUInt32BE((opt.timestamp ?? 0) >>> 0, off);
      return off + 4;
    case 'IPOption_Router_Alert':
      out[off++] = (opt.length ?? 4) & 0xff;
      out.writeUInt16BE((opt.alert ?? 0) & 0xffff, off);
      return off + 2;
    case 'IPOption_SDBM':
      out[off++] = (opt.length ?? size) & 0xff;
      for (const a of opt.addresses ?? []) {
        writeIPv4(a, out, off);
        off += 4;
      }
      return off;
    case 'IPOption_Security': {
      out[off++] = (opt.length ?? 11) & 0xff;
      out.writeUInt16BE((opt.security ?? 0) & 0xffff, off);
      out.writeUInt16BE((opt.compartment ?? 0) & 0xffff, off + 2);
      out.writeUInt16BE((opt.handling_restrictions ?? 0) & 0xffff, off + 4);
      const tcc = Buffer.alloc(3);
      (opt.transmission_control_code === undefined ? Buffer.from('xxx') : valueBytes(opt.transmission_control_code)).copy(tcc, 0, 0, 3);
      tcc.copy(out, off + 6);
      return off + 9;
    }
    case 'IPOption': {
      const value = valueBytes(opt.value);
      out[off++] = (opt.length ?? value.length + 2) & 0xff;
      value.copy(out, off);
      return start + size;
    }
  }
}

const NAME_BY_NUMBER: Record<number, IPOption['name']> = {
  0: 'IPOption_EOL',
  1: 'IPOption_NOP',
  7: 'IPOption_RR',
  3: 'IPOption_LSRR',
  9: 'IPOption_SSRR',
  4: 'IPOption_Timestamp',
  20: 'IPOption_Router_Alert',
  21: 'IPOption_SDBM',
  2: 'IPOption_Security',
};

/**
 * Reads the options in buf[off, end). Never throws: an option whose length overruns the header
 * ends the list, the defect goes to `problems`, and its bytes are kept as a generic option so
 * the header rebuilds to the same bytes.
 */
export function readIPOptions(buf: Buffer, off: number, end: number, problems: string[]): IPOption[] {
  const opts: IPOption[] = [];
  while (off < end) {
    const type = buf[off]!;
    const number = type & 0x1f;
    const header = { copy_flag: type >> 7, optclass: (type >> 5) & 3, option: number };
    if (number === 0 || number === 1) {
      opts.push({ name: NAME_BY_NUMBER[number] as 'IPOption_EOL', ...header });
      off += 1;
      continue;
    }
    if (off + 1 >= end) {
      // A kind byte with no room for its length: keep it as a one-byte option of that kind.
      problems.push(`option ${number} cut off`);
      opts.push({ name: 'IPOption_NOP', ...header });
      break;
    }
    const length = buf[off + 1]!;
    if (length < 2 || off + length > end) {
      problems.push(`bad option length ${length}`);
      opts.push({ name: 'IPOption', ...header, length, value: Buffer.from(buf.subarray(Math.min(off + 2, end), end)) });
      break;
    }
    const name = NAME_BY_NUMBER[number];
    const body = off + 2;
    if ((name === 'IPOption_RR' || name === 'IPOption_LSRR' || name === 'IPOption_SSRR') && length >= 3 && (length - 3) % 4 === 0) {
      const routers: string[] = [];
      for (let p = body + 1; p + 4 <= off + length; p += 4) routers.push(formatIPv4(buf, p));
      opts.push({ name, ...header, length, pointer: buf[body]!, routers });
    } else if (name === 'IPOption_Timestamp' && (length === 8 || length === 12) && ((buf[body + 1]! & 15) !== 0) === (length === 12)) {
      const flg = buf[body + 1]! & 15;
      const ts: IPOptionTimestamp = { name, ...header, length, pointer: buf[body]!, oflw: buf[body + 1]! >> 4, flg };
      if (flg !== 0) ts.internet_address = formatIPv4(buf, body + 2);
      ts.timestamp = buf.readUInt32BE(off + length - 4);
      opts.push(ts);
    } else if (name === 'IPOption_SDBM' && (length - 2) % 4 === 0) {
      const addresses: string[] = [];
      for (let p = body; p + 4 <= off + length; p += 4) addresses.push(formatIPv4(buf, p));
      opts.push({ name, ...header, length, addresses });
    } else if (name === 'IPOption_Security' && length === 11) {
      opts.push({
        name, ...header, length, security: buf.readUInt16BE(body), compartment: buf.readUInt16BE(body + 2),
        handling_restrictions: buf.readUInt16BE(body + 4), transmission_control_code: Buffer.from(buf.subarray(body + 6, body + 9)),
      });
    } else if (name === 'IPOption_Router_Alert' && length === 4) {
      opts.push({ name, ...header, length, alert: buf.readUInt16BE(body) });
    } else {
      opts.push({ name: 'IPOption', ...header, length, value: Buffer.from(buf.subarray(body, off + length)) });
    }
    off += length;
  }
  return opts;
}

/**
 * The options of the IPv6 hop-by-hop and destination-options headers (RFC 8200 §4.2), named and
 * shaped as Scapy's option classes so the text form maps one to one: {name: 'RouterAlert',
 * value: 0} is RouterAlert(value=0). Kinds without a shape of their own travel as
 * HBHOptUnknown: type byte, length, data.
 *
 * With autopad on (the default, as in Scapy) each option is preceded by the Pad1/PadN its
 * alignment rule asks for (RFC 8200's xn+y), and the header is padded to a multiple of 8 bytes.
 */
import { formatIPv6 } from '../wire/addr.js';
import { usageError, didYouMean } from '../wire/errors.js';
import { ipv6Bytes } from './ipv6.js';
import { toBytes } from './raw.js';

interface OptionType {
  /** Option type byte; left unset, the variant's own. */
  otype?: number;
}
export interface Pad1Option extends OptionType { name: 'Pad1' }
export interface PadNOption extends OptionType { name: 'PadN'; optlen?: number; optdata?: Buffer | string }
export interface RouterAlertOption extends OptionType { name: 'RouterAlert'; optlen?: number; value?: number }
export interface JumboOption extends OptionType { name: 'Jumbo'; optlen?: number; jumboplen?: number }
/** Home Address (RFC 6275), which also replaces the source in the upper-layer pseudo-header. */
export interface HAOOption extends OptionType { name: 'HAO'; optlen?: number; hoa?: string }
export interface HBHOptUnknownOption extends OptionType { name: 'HBHOptUnknown'; optlen?: number; optdata?: Buffer | string }
export type IPv6ExtOption = Pad1Option | PadNOption | RouterAlertOption | JumboOption | HAOOption | HBHOptUnknownOption;

interface Variant {
  readonly otype: number;
  readonly fields: readonly string[];
  /** Alignment xn+y (RFC 8200 §4.2); x 1 means none. */
  readonly x: number;
  readonly y: number;
}

export const IPV6_EXT_OPTION_VARIANTS: Record<IPv6ExtOption['name'], Variant> = {
  Pad1: { otype: 0x00, fields: [], x: 1, y: 0 },
  PadN: { otype: 0x01, fields: ['optlen', 'optdata'], x: 1, y: 0 },
  RouterAlert: { otype: 0x05, fields: ['optlen', 'value'], x: 2, y: 0 },
  Jumbo: { otype: 0xc2, fields: ['optlen', 'jumboplen'], x: 4, y: 2 },
  HAO: { otype: 0xc9, fields: ['optlen', 'hoa'], x: 8, y: 6 },
  HBHOptUnknown: { otype: 0x01, fields: ['optlen', 'optdata'], x: 1, y: 0 },
};

/** Checks an option written by hand or by the text form; unknown names and fields are usage errors. */
export function checkIPv6ExtOption(opt: IPv6ExtOption): IPv6ExtOption {
  const variant = opt && typeof opt === 'object' ? IPV6_EXT_OPTION_VARIANTS[opt.name] : undefined;
  if (!variant) {
    const name = String((opt as { name?: unknown } | undefined)?.name);
    throw usageError(`unknown IPv6 extension header option '${name}'${didYouMean(name, Object.keys(IPV6_EXT_OPTION_VARIANTS))}; options are ${Object.keys(IPV6_EXT_OPTION_VARIANTS).join(', ')}`);
  }
  for (const key of Object.keys(opt)) {
    if (key === 'name' || key === 'otype') continue;
    if (!variant.fields.includes(key)) {
      throw usageError(`unknown field '${key}' for ${opt.name}${didYouMean(key, variant.fields)}; fields are: otype${variant.fields.map((f) => `, ${f}`).join('')}`);
    }
  }
  if (opt.name === 'HAO' && opt.hoa !== undefined) ipv6Bytes(opt.hoa);
  return opt;
}

/** Encoded size of one option. */
export function ipv6ExtOptionLength(opt: IPv6ExtOption): number {
  switch (opt.name) {
    case 'Pad1':
      return 1;
    case 'RouterAlert':
      return 4;
    case 'Jumbo':
      return 6;
    case 'HAO':
      return 18;
    case 'PadN':
    case 'HBHOptUnknown':
      return 2 + toBytes(opt.optdata).length;
  }
}

/** Padding needed before an option at `position` (from the start of the header) to meet its alignment. */
function alignmentDelta(opt: IPv6ExtOption, position: number): number {
  const { x, y } = IPV6_EXT_OPTION_VARIANTS[opt.name];
  if (x === 1) return 0;
  return x * Math.floor((position - y + x - 1) / x) + y - position;
}

/** Writes `count` bytes of padding at out[off]: a Pad1 for one byte, a PadN of zeros for more. */
function writePadding(count: number, out: Buffer | undefined, off: number): void {
  if (!out || count === 0) return;
  if (count === 1) {
    out[off] = 0;
    return;
  }
  out[off] = 1;
  out[off + 1] = count - 2;
  out.fill(0, off + 2, off + count);
}

/**
 * Lays the options out from header position 2 (after next header and length), padding as
 * autopad asks, and writes them at out[off] when `out` is given. Returns the byte count.
 */
export function placeIPv6ExtOptions(options: readonly IPv6ExtOption[], autopad: boolean, out?: Buffer, off = 0): number {
  const start = 2;
  let position = start;
  for (const opt of options) {
    if (autopad) {
      const delta = alignmentDelta(opt, position);
      writePadding(delta, out, off + position - start);
      position += delta;
    }
    if (out) writeOption(opt, out, off + position - start);
    position += ipv6ExtOptionLength(opt);
  }
  if (autopad && position % 8 !== 0) {
    const delta = 8 - (position % 8);
    writePadding(delta, out, off + position - start);
    position += delta;
  }
  return position - start;
}

function writeOption(opt: IPv6ExtOption, out: Buffer, off: number): void {
  out[off] = (opt.otype ?? IPV6_EXT_OPTION_VARIANTS[opt.name].otype) & 0xff;
  switch (opt.name) {
    case 'Pad1':
      return;
    case 'RouterAlert':
      out[off + 1] = (opt.optlen ?? 2) & 0xff;
      out.writeUInt16BE((opt.value ?? 0) & 0xffff, off + 2);
      return;
    case 'Jumbo':
      out[off + 1] = (opt.optlen ?? 4) & 0xff;
      out.writeUInt32BE((opt.jumboplen ?? 0) >>> 0, off + 2);
      return;
    case 'HAO':
      out[off + 1] = (opt.optlen ?? 16) & 0xff;
      ipv6Bytes(opt.hoa ?? '::').copy(out, off + 2);
      return;
    case 'PadN':
    case 'HBHOptUnknown': {
      const data = toBytes(opt.optdata);
      out[off + 1] = (opt.optlen ?? data.length) & 0xff;
      data.copy(out, off + 2);
      return;
    }
  }
}

/**
 * Whether autopad would rebuild these options unchanged: no option needs padding before it
 * and the header already ends on 8 bytes. Dissected headers whose options are laid out
 * otherwise get autopad 0, so they rebuild to the bytes they came from.
 */
export function alreadyPadded(options: readonly IPv6ExtOption[]): boolean {
  let position = 2;
  for (const opt of options) {
    if (alignmentDelta(opt, position) !== 0) return false;
    position += ipv6ExtOptionLength(opt);
  }
  return position % 8 === 0;
}

/**
 * The options list a user gave, as a list: one option object where Scapy takes one
 * (options=HAO(...)), or the options' bytes, read as the dissector reads them.
 */
export function ipv6ExtOptionList(value: unknown): IPv6ExtOption[] {
  if (Array.isArray(value)) return value.map(checkIPv6ExtOption);
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    return readIPv6ExtOptions(bytes, 0, bytes.length, []);
  }
  if (value !== null && typeof value === 'object' && 'name' in value) return [checkIPv6ExtOption(value as IPv6ExtOption)];
  throw usageError(`extension header options take a list like [{ name: 'PadN', optdata: Buffer.alloc(2) }] or the options' bytes, not ${JSON.stringify(value)}`);
}

/**
 * Reads the options in buf[off, end). Never throws: an option whose length overruns the
 * region ends the list with its bytes kept (the length as read, the data there is), and the
 * defect goes to `problems`. A known type whose length is not its own is kept as HBHOptUnknown.
 */
export function readIPv6ExtOptions(buf: Buffer, off: number, end: number, problems: string[]): IPv6ExtOption[] {
  const options: IPv6ExtOption[] = [];
  while (off < end) {
    const otype = buf[off]!;
    if (otype === 0) {
      options.push({ name: 'Pad1' });
      off += 1;
      continue;
    }
    if (off + 1 >= end) {
      problems.push(`option ${otype} cut off`);
      options.push(loneTypeByte(otype));
      break;
    }
    const optlen = buf[off + 1]!;
    const body = off + 2;
    if (body + optlen > end) {
      problems.push(`bad option length ${optlen}`);
      const optdata = Buffer.from(buf.subarray(body, end));
      options.push(otype === 1 ? { name: 'PadN', optlen, optdata } : { name: 'HBHOptUnknown', otype, optlen, optdata });
      break;
    }
    if (otype === 1) options.push({ name: 'PadN', optdata: Buffer.from(buf.subarray(body, body + optlen)) });
    else if (otype === 0x05 && optlen === 2) options.push({ name: 'RouterAlert', value: buf.readUInt16BE(body) });
    else if (otype === 0xc2 && optlen === 4) options.push({ name: 'Jumbo', jumboplen: buf.readUInt32BE(body) });
    else if (otype === 0xc9 && optlen === 16) options.push({ name: 'HAO', hoa: formatIPv6(buf, body) });
    else options.push({ name: 'HBHOptUnknown', otype, optdata: Buffer.from(buf.subarray(body, body + optlen)) });
    off = body + optlen;
  }
  return options;
}

/**
 * A type byte with no room for its length at the end of the region. Only Pad1 is one byte
 * long, so it is kept as a Pad1 with the type byte read: the header rebuilds byte for byte.
 */
function loneTypeByte(otype: number): Pad1Option {
  return { name: 'Pad1', otype };
}

/**
 * TCP options (RFC 9293 §3.2 and friends) written as Scapy writes them, as [name, value]
 * tuples: ['MSS', 1460], ['SAckOK'], ['Timestamp', [val, ecr]], ['NOP'], ['WScale', 7],
 * ['SAck', [left, right, ...]], ['EOL']. A kind with no name is [kind, bytes]. A named option
 * whose value is bytes is written as those bytes, so wrong-length options can be crafted.
 * ['bytes', buf] (synack's own) is written verbatim with no kind or length: the dissector
 * keeps there what is not a well-formed option, so every header rebuilds to its bytes.
 */
import { usageError, didYouMean } from '../wire/errors.js';

export type TCPOption =
  | readonly ['MSS', number | Buffer]
  | readonly ['WScale', number | Buffer]
  | readonly ['SAckOK', (Buffer | string | null)?]
  | readonly ['SAck', readonly number[] | Buffer]
  | readonly ['Timestamp', readonly [number, number] | Buffer]
  | readonly ['NOP', null?]
  | readonly ['EOL', null?]
  | readonly ['AltChkSum', readonly [number, number] | Buffer]
  | readonly ['AltChkSumOpt', (Buffer | string | null)?]
  | readonly ['MD5', Buffer | string]
  | readonly ['Mood', Buffer | string]
  | readonly ['UTO', number | Buffer]
  | readonly ['AO', Buffer | string]
  | readonly ['TFO', readonly [number, number] | Buffer]
  | readonly ['bytes', Buffer]
  | readonly [number, Buffer | string];

/** Kind numbers by Scapy's names, and the shape of each value. */
export const TCP_OPTION_KINDS: Record<string, number> = {
  EOL: 0, NOP: 1, MSS: 2, WScale: 3, SAckOK: 4, SAck: 5, Timestamp: 8,
  AltChkSum: 14, AltChkSumOpt: 15, MD5: 19, Mood: 25, UTO: 28, AO: 29, TFO: 34,
};
const NAMES_BY_KIND: Record<number, string> = Object.fromEntries(Object.entries(TCP_OPTION_KINDS).map(([k, v]) => [v, k]));

function asBytes(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  return undefined;
}

/** Validates a list given by a user: unknown names fail with the nearest valid one. */
export function checkTCPOptions(options: readonly TCPOption[]): TCPOption[] {
  let skipped = false;
  for (const opt of options) {
    if ((opt as readonly unknown[])[0] === SKIPPED_NAME) skipped = true;
    else checkTCPOption(opt);
  }
  // Scapy skips an option it has no name for (with a warning): ('unknown', b'') builds nothing.
  return skipped ? options.filter((o) => (o as readonly unknown[])[0] !== SKIPPED_NAME) : (options as TCPOption[]);
}

/** The one unknown name taken, as Scapy takes it: skipped. Other unknown names are refused with a suggestion. */
const SKIPPED_NAME = 'unknown';

const KNOWN_NAMES = new Set([...Object.keys(TCP_OPTION_KINDS), 'bytes']);

function checkTCPOption(opt: TCPOption): void {
  // The common case, a known name, needs one comparison or one lookup.
  const name = (opt as readonly unknown[])[0];
  if (name === 'MSS' || name === 'NOP' || name === 'SAckOK' || name === 'Timestamp' || name === 'WScale') return;
  if (Array.isArray(opt) && typeof name === 'string' && KNOWN_NAMES.has(name)) return;
  {
    if (!Array.isArray(opt) || (opt as readonly unknown[]).length === 0) throw usageError(`bad TCP option ${JSON.stringify(opt)}: write it as ['MSS', 1460]`);
    const [name] = opt;
    if (typeof name === 'number') {
      if (!Number.isInteger(name) || name < 0 || name > 255) throw usageError(`bad TCP option kind ${name}: kinds are 0-255`);
      if (name > 1 && asBytes(opt[1]) === undefined) throw usageError(`TCP option kind ${name} needs its value as bytes, e.g. [${name}, Buffer.from([1, 2])]`);
      return;
    }
    if (!(name in TCP_OPTION_KINDS) && name !== 'bytes') {
      throw usageError(`unknown TCP option '${String(name)}'${didYouMean(String(name), Object.keys(TCP_OPTION_KINDS))}; or give [kind, bytes]`);
    }
  }
}

/** The value bytes of one option (without kind and length), or null for the one-byte kinds. */
function optionBody(opt: TCPOption): { kind: number; body: Buffer | null } {
  let [name, value] = opt as readonly [string | number, unknown];
  if (name === 0) name = 'EOL';
  if (name === 1) name = 'NOP';
  if (typeof name === 'number') return { kind: name, body: asBytes(value) ?? Buffer.alloc(0) };
  const kind = TCP_OPTION_KINDS[name]!;
  if (kind === 0 || kind === 1) return { kind, body: null };
  const raw = asBytes(value);
  if (raw) return { kind, body: raw };
  switch (name) {
    case 'MSS':
    case 'UTO': {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(Number(value) & 0xffff);
      return { kind, body: b };
    }
    case 'WScale':
      return { kind, body: Buffer.from([Number(value) & 0xff]) };
    case 'SAckOK':
    case 'AltChkSumOpt':
      return { kind, body: Buffer.alloc(0) };
    case 'SAck': {
      const blocks = (value ?? []) as readonly number[];
      const b = Buffer.alloc(4 * blocks.length);
      blocks.forEach((n, i) => b.writeUInt32BE(n >>> 0, 4 * i));
      return { kind, body: b };
    }
    case 'Timestamp':
    case 'TFO': {
      const [a, c] = (value ?? [0, 0]) as readonly [number, number];
      const b = Buffer.alloc(8);
      b.writeUInt32BE(a >>> 0, 0);
      b.writeUInt32BE(c >>> 0, 4);
      return { kind, body: b };
    }
    case 'AltChkSum': {
      const [a, c] = (value ?? [0, 0]) as readonly [number, number];
      const b = Buffer.alloc(3);
      b[0] = a & 0xff;
      b.writeUInt16BE(c & 0xffff, 1);
      return { kind, body: b };
    }
    default:
      return { kind, body: Buffer.alloc(0) };
  }
}

/** Encoded length of the options before padding to 32 bits. */
export function tcpOptionsLength(options: readonly TCPOption[]): number {
  let n = 0;
  for (const opt of options) n += tcpOptionLength(opt);
  return n;
}

function tcpOptionLength(opt: TCPOption): number {
  const name = opt[0];
  const value = opt[1];
  // The SYN options first, without touching their values' types twice: most builds are these.
  if (name === 'NOP' || name === 'EOL' || name === 0 || name === 1) return 1;
  if (name === 'MSS' && typeof value === 'number') return 4;
  if (name === 'Timestamp' && Array.isArray(value)) return 10;
  if (name === 'WScale' && typeof value === 'number') return 3;
  if (name === 'SAckOK' && (value === undefined || value === null || value === '')) return 2;
  if (name === 'bytes') return asBytes(value)?.length ?? 0;
  const raw = asBytes(value);
  if (raw && name !== 'SAck' && typeof name === 'string') return 2 + raw.length;
  const { body } = optionBody(opt);
  return 2 + (body?.length ?? 0);
}

/** Writes the options at out[off] and zero-pads to `end`; returns nothing, lengths were sized before. */
export function writeTCPOptions(options: readonly TCPOption[], out: Buffer, off: number, end: number): void {
  for (const opt of options) {
    const name = opt[0];
    const value = opt[1];
    // The five SYN options take a fast path: they are most of what is ever built.
    if (name === 'MSS' && typeof value === 'number') {
      out[off] = 2;
      out[off + 1] = 4;
      out[off + 2] = (value >> 8) & 0xff;
      out[off + 3] = value & 0xff;
      off += 4;
    } else if (name === 'NOP' || name === 1) {
      out[off++] = 1;
    } else if (name === 'WScale' && typeof value === 'number') {
      out[off] = 3;
      out[off + 1] = 3;
      out[off + 2] = value & 0xff;
      off += 3;
    } else if (name === 'SAckOK' && (value === undefined || value === null || value === '')) {
      out[off] = 4;
      out[off + 1] = 2;
      off += 2;
    } else if (name === 'Timestamp' && Array.isArray(value)) {
      out[off] = 8;
      out[off + 1] = 10;
      const val = (value as readonly number[])[0]! >>> 0;
      const ecr = (value as readonly number[])[1]! >>> 0;
      out[off + 2] = val >>> 24;
      out[off + 3] = (val >>> 16) & 0xff;
      out[off + 4] = (val >>> 8) & 0xff;
      out[off + 5] = val & 0xff;
      out[off + 6] = ecr >>> 24;
      out[off + 7] = (ecr >>> 16) & 0xff;
      out[off + 8] = (ecr >>> 8) & 0xff;
      out[off + 9] = ecr & 0xff;
      off += 10;
    } else if (name === 'EOL' || name === 0) {
      out[off++] = 0;
    } else if (name === 'bytes') {
      off += asBytes(value)?.copy(out, off) ?? 0;
    } else {
      const { kind, body } = optionBody(opt);
      out[off] = kind;
      out[off + 1] = (2 + body!.length) & 0xff;
      off += 2 + body!.copy(out, off + 2);
    }
  }
  if (off < end) out.fill(0, off, end);
}

/**
 * Reads options from buf[off, end), as Scapy does: values of the expected size become numbers
 * or tuples, others stay bytes. Never throws. After EOL, bytes that padding would not rebuild
 * (anything not zero, or more than three) follow as a ['bytes', ...] entry; an option whose
 * length is bad ends the list, with the defect recorded and its bytes kept the same way.
 */
export function readTCPOptions(buf: Buffer, off: number, end: number, problems: string[]): TCPOption[] {
  const opts: TCPOption[] = [];
  while (off < end) {
    const kind = buf[off]!;
    if (kind === 0) {
      const rest = end - off - 1;
      let zeros = true;
      for (let i = off + 1; i < end; i++) if (buf[i] !== 0) zeros = false;
      // Padding to the 32-bit boundary is rebuilt by the encoder; keep only what it would not.
      const padding = (4 - ((tcpOptionsLength(opts) + 1) % 4)) % 4;
      opts.push(['EOL']);
      if (!zeros || rest !== padding) opts.push(['bytes', Buffer.from(buf.subarray(off + 1, end))]);
      return opts;
    }
    if (kind === 1) {
      opts.push(['NOP']);
      off++;
      continue;
    }
    const len = off + 1 < end ? buf[off + 1]! : -1;
    if (len < 2 || off + len > end) {
      problems.push(len < 0 ? `truncated option kind ${kind}` : `bad option length ${len} for kind ${kind}`);
      opts.push(['bytes', Buffer.from(buf.subarray(off, end))]);
      return opts;
    }
    const body = off + 2;
    const size = len - 2;
    switch (kind) {
      case 2:
        opts.push(size === 2 ? ['MSS', buf.readUInt16BE(body)] : ['MSS', Buffer.from(buf.subarray(body, body + size))]);
        break;
      case 3:
        opts.push(size === 1 ? ['WScale', buf[body]!] : ['WScale', Buffer.from(buf.subarray(body, body + size))]);
        break;
      case 4:
        opts.push(size === 0 ? ['SAckOK', Buffer.alloc(0)] : ['SAckOK', Buffer.from(buf.subarray(body, body + size))]);
        break;
      case 5:
        if (size % 4 === 0) {
          const blocks: number[] = [];
          for (let p = body; p < body + size; p += 4) blocks.push(buf.readUInt32BE(p));
          opts.push(['SAck', blocks]);
        } else opts.push(['SAck', Buffer.from(buf.subarray(body, body + size))]);
        break;
      case 8:
        opts.push(size === 8 ? ['Timestamp', [buf.readUInt32BE(body), buf.readUInt32BE(body + 4)]] : ['Timestamp', Buffer.from(buf.subarray(body, body + size))]);
        break;
      default: {
        const name = NAMES_BY_KIND[kind];
        const value = Buffer.from(buf.subarray(body, body + size));
        if (name === 'UTO' && size === 2) opts.push(['UTO', value.readUInt16BE(0)]);
        else if ((name === 'TFO' || name === 'AltChkSum') && size === (name === 'TFO' ? 8 : 3)) {
          opts.push(name === 'TFO' ? ['TFO', [value.readUInt32BE(0), value.readUInt32BE(4)]] : ['AltChkSum', [value[0]!, value.readUInt16BE(1)]]);
        } else if (name !== undefined) opts.push([name, value] as unknown as TCPOption);
        else opts.push([kind, value]);
      }
    }
    off += len;
  }
  return opts;
}

/**
 * What the commands share: parsing the user's words (addresses, ports, port lists, numbers)
 * into values or one-line usage errors, colours that appear only on a terminal, and output
 * written in large blocking chunks (a pipe to `head` ends us quietly, not with a stack).
 */
import { writeSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import { printable, usageError } from '../wire/errors.js';
import { labHostAddress } from '../lab/names.js';

/**
 * An IPv4 or IPv6 address, 'localhost', or (inside a lab) a lab host's name such as `server`;
 * anything else is a usage error (synack never asks DNS).
 */
export function parseAddress(text: string, what = 'address'): string {
  if (text === 'localhost') return '127.0.0.1';
  if (isIPv4(text) || isIPv6(text)) return text;
  if (/^[a-z][a-z0-9]{0,9}$/.test(text)) return labHostAddress(text, 4, what);
  throw usageError(`bad ${what} ${quoted(text)}: give an IPv4 or IPv6 address such as 127.0.0.1 or ::1 (names are not resolved)`);
}

/** A word of the user's in a one-line message: 'x', or "x\ny" (escaped) when it holds control characters. */
export function quoted(text: string): string {
  return /[\x00-\x1f\x7f]/.test(text) ? printable(text) : `'${printable(text)}'`;
}

/** A port number 0..65535 (0 only where `allowZero`). */
export function parsePort(text: string, what = 'port', allowZero = false): number {
  if (!/^\d+$/.test(text)) throw usageError(`bad ${what} ${quoted(text)}: give a number from ${allowZero ? 0 : 1} to 65535`);
  const n = Number(text);
  if (n > 65535 || (!allowZero && n < 1)) throw usageError(`${what} ${text} is out of range: ports are ${allowZero ? 0 : 1}-65535`);
  return n;
}

/** 'HOST:PORT', '[v6]:PORT' or 'v6.PORT'-free forms; returns the address and the port. */
export function parseHostPort(text: string): { host: string; port: number } {
  let host: string;
  let port: string;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2]!;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || (text.indexOf(':') !== colon && !text.startsWith('['))) {
      throw usageError(`${quoted(text)} is not HOST:PORT: write it like 127.0.0.1:80 or [::1]:80`);
    }
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
  }
  return { host: parseAddress(host), port: parsePort(port) };
}

/**
 * nmap's port list: '22', '1-1024,8080', '-' (every port), '-100' (1-100), '60000-' (to 65535).
 * Returns the ports in ascending order, each once.
 */
export function parsePortList(text: string): number[] {
  const seen = new Uint8Array(65536);
  let total = 0;
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') throw usageError(`bad port list '${text}': an empty item between commas`);
    const m = /^(\d*)-(\d*)$/.exec(item);
    let lo: number;
    let hi: number;
    if (m) {
      lo = m[1] === '' ? 1 : parsePort(m[1]!, 'port', true);
      hi = m[2] === '' ? 65535 : parsePort(m[2]!, 'port', true);
      if (lo > hi) throw usageError(`bad port range '${item}': the first port is above the last`);
    } else {
      lo = hi = parsePort(item, 'port', true);
    }
    for (let p = lo; p <= hi; p++) {
      if (!seen[p]) {
        seen[p] = 1;
        total++;
      }
    }
  }
  const ports = new Array<number>(total);
  let k = 0;
  for (let p = 0; p < 65536; p++) if (seen[p]) ports[k++] = p;
  return ports;
}

/** A commander argParser for whole numbers in [min, max]. */
export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string): number => {
    const n = /^(0x[0-9a-f]+|\d+)$/i.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}`);
    }
    return n;
  };
}

/** Colours, only when the stream is a terminal and NO_COLOR is unset. */
export interface Palette {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function palette(stream: { isTTY?: boolean } = process.stdout): Palette {
  const on = stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const wrap = (code: number) => (s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1) };
}

/** Thrown (and caught by the command) when the reader of our output went away. */
export class OutputClosed extends Error {}

/** Something to Atomics.wait() on while a full pipe drains. */
let sleeper: Int32Array | undefined;

/** Writes all of `text` to a file descriptor, waiting out a full non-blocking pipe. */
export function writeAll(fd: number, text: string | Buffer): void {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // Made only when needed: `synack read` calls this once per 64 KiB of lines.
        Atomics.wait((sleeper ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, 1);
        continue;
      }
      if (code === 'EPIPE') throw new OutputClosed();
      throw err;
    }
  }
}

/**
 * Lines gathered into one big buffer before they are written: one write per ~1 MiB, not per
 * line. Each line is encoded straight into the buffer (no joined string, no garbage per line).
 */
export class LineWriter {
  private buf: Buffer;
  private pos = 0;
  constructor(
    private readonly fd = 1,
    size = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  line(text: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit; make sure the line fits.
    const worst = text.length * 3 + 1;
    if (this.pos + worst > this.buf.length) {
      this.flush();
      if (worst > this.buf.length) this.buf = Buffer.allocUnsafe(worst);
    }
    this.pos += (this.buf as unknown as FastWrite).utf8Write(text, this.pos, this.buf.length - this.pos);
    this.buf[this.pos++] = 10;
  }

  /** Bytes already encoded (ending in their own newline). */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
    if (n <= 256) {
      // A line or two: copied byte by byte, no view object per call (subarray makes one).
      const buf = this.buf;
      let at = this.pos;
      for (let i = start; i < end; i++) buf[at++] = src[i]!;
    } else this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    writeAll(this.fd, this.buf.subarray(0, n));
  }
}

/** Writes to stdout (for data) in one blocking call. */
export function out(text: string): void {
  writeAll(1, text);
}

/** Writes to stderr (for progress and notes). */
export function note(text: string): void {
  writeAll(2, text);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** '--help' footer: the examples, one per line. */
export function examples(...lines: string[]): string {
  return '\nExamples:\n' + lines.map((l) => `  ${l}`).join('\n');
}

/** The microseconds of an RTT as hping3 and ping print milliseconds: '0.1', '12.3'. */
export function ms(micros: number): string {
  return (micros / 1000).toFixed(1);
}

/** Buffer's own encoder, without write()'s argument checks (it is on every Buffer in Node 20). */
interface FastWrite {
  utf8Write(text: string, offset: number, length: number): number;
}

/** --send text: \n \r \t \\ and \xNN escapes, so a line ending or a byte can be sent. */
export function unescapeData(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const e = text[++i]!;
    if (e === 'n') bytes.push(10);
    else if (e === 'r') bytes.push(13);
    else if (e === 't') bytes.push(9);
    else if (e === '\\') bytes.push(92);
    else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw usageError(`unknown escape '\\${e}' in --send '${text}': use \\n \\r \\t \\\\ or \\xNN`);
  }
  return Buffer.from(bytes);
}

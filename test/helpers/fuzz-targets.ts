/**
 * The fuzz targets of issue 14 item 4, one per input surface: the text form, the pcap/pcapng
 * reader, the script parser, the pcap-filter compiler, and the dissector with every printer.
 * (The CLI's argument handling is fuzz-cli.ts: it spawns the real program.) Each target makes
 * a deterministic stream of inputs from a seed (valid seeds, mutated the ways hostile input is
 * hostile) and runs one input; a defect is what run() lets escape: any throw that is not a
 * SynackError (the dissector and the printers may not throw at all).
 *
 * Used by test/fuzz.test.ts (a short seeded pass in `npm test`) and by bench/fuzz.ts (`npm run
 * fuzz`: 1M inputs per target, each target in a child process under a watchdog).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SynackError, dissect, packet } from '../../src/index.js';
import '../../src/packet/link-types.js';
import { ChunkedReader } from '../../src/pcap/chunked-reader.js';
import { parseScript } from '../../src/script/parse.js';
import { createPrinter, hexdump, show, summary } from '../../src/show/index.js';
import { FUZZ_LINKS, fuzzInputs, wrapForLink, type Corpus, type FuzzLink } from './fuzz-inputs.js';
import { Rng, randomSpecs } from './random-specs.js';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  /** An endless, deterministic stream of inputs for this seed. */
  inputs(seed: number): Generator<T>;
  /** Runs one input; throws only what counts as a defect (see isDefect). */
  run(input: T): void;
  /** The input in a form to reproduce it (hex or JSON), for reports. */
  show(input: T): string;
  /** Whether an escaped error is a defect: by default anything but a SynackError. */
  isDefect?(err: unknown): boolean;
}

// ---------------------------------------------------------------------------------------------
// Seeds.

const LINK_NUMBERS: Record<FuzzLink, number> = { ether: 1, ip: 101, sll: 113, sll2: 276, null: 0 };

let seedPackets: { corpus: Corpus; expressions: string[] } | undefined;

/** Packets of every layer kind, built by synack from the random Scapy expressions (no Scapy needed). */
export function seedCorpus(): { corpus: Corpus; expressions: string[] } {
  if (seedPackets) return seedPackets;
  const corpus: Corpus = { ip: [], ether: [], sll: [], sll2: [], null: [] };
  const expressions: string[] = [];
  for (const spec of randomSpecs(400, 0x5eed, () => true)) {
    try {
      const bytes = packet(spec.expr).bytes();
      corpus[spec.link].push(bytes);
      expressions.push(spec.expr);
    } catch {
      // A layer synack does not have (yet): Scapy-only kinds are the dissector fuzz's business.
    }
  }
  const ip = corpus.ip.slice(0, 100);
  for (const link of FUZZ_LINKS) if (link !== 'ip') for (const p of ip) corpus[link].push(wrapForLink(p, link));
  return (seedPackets = { corpus, expressions });
}

function mutateBytes(rng: Rng, input: Buffer, pool: readonly Buffer[]): Buffer {
  let buf = Buffer.from(input);
  const n = rng.int(1, 4);
  for (let k = 0; k < n; k++) {
    switch (rng.int(0, 7)) {
      case 0:
        if (buf.length) buf[rng.int(0, buf.length - 1)]! ^= 1 << rng.int(0, 7);
        break;
      case 1:
        if (buf.length) buf[rng.int(0, buf.length - 1)] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(0, 255)]);
        break;
      case 2:
        buf = buf.subarray(0, rng.int(0, buf.length));
        break;
      case 3: {
        // A 32-bit field set to an edge value (lengths and counts in capture files are 32-bit).
        if (buf.length >= 4) {
          const at = rng.int(0, buf.length - 4) & ~3;
          buf.writeUInt32LE(rng.pick([0, 1, 0xffffffff, 0x7fffffff, 0x10000, 0x40000, rng.u32()]), at);
        }
        break;
      }
      case 4: {
        const at = rng.int(0, buf.length);
        buf = Buffer.concat([buf.subarray(0, at), rng.bytes(rng.int(1, 16)), buf.subarray(at)]);
        break;
      }
      case 5: {
        const from = rng.int(0, buf.length);
        const to = Math.min(buf.length, from + rng.int(1, 64));
        buf = Buffer.concat([buf.subarray(0, to), buf.subarray(from, to), buf.subarray(to)]);
        break;
      }
      case 6: {
        const other = rng.pick(pool);
        buf = Buffer.concat([buf.subarray(0, rng.int(0, buf.length)), other.subarray(rng.int(0, other.length))]);
        break;
      }
      default:
        if (buf.length) buf.fill(rng.int(0, 255), rng.int(0, buf.length - 1), rng.int(0, buf.length));
    }
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// The text form: packet(), then everything a user does with the result.

const TEXT_PIECES = [
  '(', ')', '[', ']', ',', '=', '/', '*', '-', "'", '"', "b'", '\\', '\\x', '\\U', '\\u', '\\0', '\n', ' ', '0x', '1048576', '65536',
  '4294967296', '99999999999999999999', 'None', 'True', 'IP(', 'TCP(', 'UDP(', 'ICMP(', 'Raw(', 'IPv6(', 'Ether(', 'options=', 'load=',
  "('MSS', 1460)", "('SAck', (1, 2))", "('Timestamp', (1, 0))", '(254, b\'\\x01\')', 'IPOption_RR(routers=[', "'127.0.0.1'", "'::1'",
  "'198.51.100.0/30'", '(1, 3)', '[1, 2, 3]', "b'A'*", 'constructor', '__proto__', 'toString', "flags='SA'", 'dport=', 'sport=', 'ttl=',
];

const HOSTILE_TEXTS = [
  "IP()/'\\U7fffffff'", 'IP(options=' + '['.repeat(70) + ']'.repeat(70) + ')', 'IP('.repeat(70) + ')'.repeat(70),
  "IP()/(b'A'*65536*16)", "IP()/TCP(options=[(254, b'\\x01\\x02'), ('MSS'*1048576, 0)])", 'IP(options=((((1))))', 'TCP(options=[1])',
  "IP(dst='127.0.0.0/30')/TCP(dport=(1, 4))", "IPv6(dst='::1')/IPv6ExtHdrHopByHop(options=[Pad1()])/TCP()",
];

function mutateText(rng: Rng, text: string, pool: readonly string[]): string {
  let s = text;
  const n = rng.int(1, 3);
  for (let k = 0; k < n; k++) {
    const at = rng.int(0, s.length);
    switch (rng.int(0, 6)) {
      case 0:
        s = s.slice(0, at) + rng.pick(TEXT_PIECES) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(Math.min(s.length, at + rng.int(1, 8)));
        break;
      case 2: {
        // Repetition: the shape of the nesting and size attacks.
        const piece = s.slice(at, at + rng.int(1, 6)) || rng.pick(TEXT_PIECES);
        s = s.slice(0, at) + piece.repeat(rng.pick([2, 10, 100, 1000])) + s.slice(at);
        break;
      }
      case 3: {
        const other = rng.pick(pool);
        s = s.slice(0, at) + other.slice(rng.int(0, other.length));
        break;
      }
      case 4:
        s = s.slice(0, at) + String.fromCharCode(rng.pick([0, 9, 10, 13, 0x7f, 0xa0, 0xe9, 0x2028, 0xd800, rng.int(0, 0xffff)])) + s.slice(at);
        break;
      case 5: {
        // A number replaced by an edge value.
        s = s.replace(/\d+/, () => rng.pick(['0', '65535', '65536', '4294967295', '4294967296', '9007199254740993', '0x' + 'f'.repeat(20)]));
        break;
      }
      default:
        s = s.slice(0, at) + rng.pick(TEXT_PIECES) + rng.pick(TEXT_PIECES) + s.slice(at);
    }
    if (s.length > 200_000) s = s.slice(0, 200_000);
  }
  return s;
}

export const textTarget: FuzzTarget<string> = {
  name: 'text',
  *inputs(seed) {
    const rng = new Rng(seed);
    const pool = [...seedCorpus().expressions, ...HOSTILE_TEXTS];
    for (;;) yield rng.chance(0.05) ? rng.pick(pool) : mutateText(rng, rng.pick(pool), pool);
  },
  run(text) {
    const p = packet(text);
    // What a user does next: every one must give text or a SynackError, never a TypeError.
    guarded(() => p.bytes());
    guarded(() => p.summary());
    guarded(() => p.show());
    guarded(() => p.command());
  },
  show: (text) => JSON.stringify(text.length > 2000 ? `${text.slice(0, 2000)}...(${text.length})` : text),
};

function guarded(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof SynackError)) throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Capture files: pcap and pcapng, read through the real chunked reader.

/** A classic pcap file (little-endian) holding `packets`, one second apart. */
export function pcapFile(packets: readonly Buffer[], linkType: number, nano: boolean): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  packets.forEach((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(i * 1000, 4);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    parts.push(r, p);
  });
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const b = Buffer.alloc(12 + padded.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  padded.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

function pcapngFile(packets: readonly Buffer[], linkType: number, rng: Rng): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idbHead = Buffer.alloc(8);
  idbHead.writeUInt16LE(linkType, 0);
  idbHead.writeUInt32LE(262144, 4);
  // Options: if_tsresol (9) and if_tsoffset (14), the two that the timestamps depend on.
  const tsresol = Buffer.from([9, 0, 1, 0, rng.pick([6, 9, 0x8a, 0x7f, 0xff, 0]), 0, 0, 0]);
  const tsoffset = Buffer.alloc(12);
  tsoffset.writeUInt16LE(14, 0);
  tsoffset.writeUInt16LE(8, 2);
  tsoffset.writeBigInt64LE(rng.pick([0n, 1n, -1n, 1n << 62n, -(1n << 62n)]), 4);
  const idb = Buffer.concat([idbHead, tsresol, rng.chance(0.3) ? tsoffset : Buffer.alloc(0), Buffer.alloc(4)]);
  const parts = [block(0x0a0d0d0a, shb), block(1, idb)];
  packets.forEach((p, i) => {
    const e = Buffer.alloc(20);
    e.writeUInt32LE(0, 0);
    e.writeUInt32LE(0x60000, 4);
    e.writeUInt32LE(i * 1000, 8);
    e.writeUInt32LE(p.length, 12);
    e.writeUInt32LE(p.length, 16);
    parts.push(block(6, Buffer.concat([e, p])));
  });
  return Buffer.concat(parts);
}

interface CaptureInput {
  file: Buffer;
  chunk: number;
}

/** Reads a capture from memory through ChunkedReader, as readPcapSync does from a file. */
function readCapture(input: CaptureInput, each: (rec: { data: Buffer; origLen: number; seconds: number; nanos: number; linkType: number }) => void): void {
  const reader = new ChunkedReader('fuzz.pcap', input.chunk);
  let at = 0;
  let steps = 0;
  while (!reader.done) {
    if (++steps > 100_000) throw new Error('the reader makes no progress');
    const length = reader.readLength();
    const n = Math.min(length, input.file.length - at);
    input.file.copy(reader.buf, reader.readAt, at, at + n);
    at += n;
    for (const rec of reader.advance(n)) each(rec);
  }
  if (reader.error) throw reader.error;
}

const capturePrinter = createPrinter({ verbose: 1, link: true });

export const captureTarget: FuzzTarget<CaptureInput> = {
  name: 'pcap',
  *inputs(seed) {
    const rng = new Rng(seed);
    const { corpus } = seedCorpus();
    const seeds: Buffer[] = [];
    for (const link of FUZZ_LINKS) {
      for (let i = 0; i < 6; i++) {
        const pk = Array.from({ length: rng.int(1, 6) }, () => rng.pick(corpus[link]));
        seeds.push(pcapFile(pk, LINK_NUMBERS[link], rng.chance(0.5)), pcapngFile(pk, LINK_NUMBERS[link], rng));
      }
    }
    for (;;) yield { file: rng.chance(0.05) ? rng.pick(seeds) : mutateBytes(rng, rng.pick(seeds), seeds), chunk: rng.pick([4096, 4096, 65536]) };
  },
  run(input) {
    readCapture(input, (rec) => {
      capturePrinter.formatRecord(rec);
    });
  },
  show: (input) => `chunk ${input.chunk} ${input.file.toString('hex').slice(0, 4000)}`,
};

// ---------------------------------------------------------------------------------------------
// Conversation scripts (packetdrill syntax).

const SCRIPT_PIECES = ['0', '+0', '+.1', '*', '>', '<', 'S', 'S.', 'F.', 'R', 'P.', '.', '0:0(0)', '1:11(10)', 'ack', 'win', '<mss 1460,sackOK,nop,wscale 7>',
  '\n', '//', '/*', '*/', '`', '%{', '}%', '65535', '4294967296', '99999999999999999999', '-1', '...', '0x', '[', ']', ':', ';', 'target', 'tolerance'];

function mutateScript(rng: Rng, text: string, pool: readonly string[]): string {
  let s = text;
  for (let k = rng.int(1, 3); k > 0; k--) {
    const at = rng.int(0, s.length);
    switch (rng.int(0, 4)) {
      case 0:
        s = s.slice(0, at) + rng.pick(SCRIPT_PIECES) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(Math.min(s.length, at + rng.int(1, 10)));
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at, at + rng.int(1, 20)).repeat(rng.pick([2, 10, 200])) + s.slice(at);
        break;
      case 3: {
        const other = rng.pick(pool);
        s = s.slice(0, at) + other.slice(rng.int(0, other.length));
        break;
      }
      default:
        s = s.replace(/\d+/, () => rng.pick(['0', '4294967295', '4294967296', '1e309', '9'.repeat(30)]));
    }
  }
  return s.length > 200_000 ? s.slice(0, 200_000) : s;
}

let scripts: string[] | undefined;

function seedScripts(): string[] {
  if (scripts) return scripts;
  const dir = join(ROOT, 'examples', 'scripts');
  scripts = readdirSync(dir).filter((f) => f.endsWith('.pkt')).map((f) => readFileSync(join(dir, f), 'utf8'));
  return scripts;
}

export const scriptTarget: FuzzTarget<string> = {
  name: 'script',
  *inputs(seed) {
    const rng = new Rng(seed);
    const pool = seedScripts();
    for (;;) yield mutateScript(rng, rng.pick(pool), pool);
  },
  run(text) {
    parseScript(text, 'fuzz.pkt');
  },
  show: (text) => JSON.stringify(text.slice(0, 4000)),
};

// ---------------------------------------------------------------------------------------------
// The pcap-filter compiler, reached through the package's export, as a user reaches it.

type Predicate = (data: Buffer, wireLength: number, linkType: number) => boolean;
type CompileFilter = (text: string) => Predicate;

let compileFilter: CompileFilter | undefined;

export async function loadFilterCompiler(): Promise<CompileFilter> {
  if (compileFilter) return compileFilter;
  const mod = (await import('../../src/index.js')) as unknown as { compileFilter: CompileFilter };
  return (compileFilter = mod.compileFilter);
}

const FILTER_SEEDS = [
  'tcp port 80', 'host 127.0.0.1 and tcp[tcpflags] & tcp-syn != 0', 'ip6 or icmp', 'udp', 'ether', 'arp', 'vlan and tcp',
  'ip and src host 127.0.0.1 and (tcp[13] = 0x18 or udp)', 'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0', 'greater 60', 'less 100',
  'net 198.51.100.0/24', 'portrange 1000-2000', 'not (tcp or udp)', 'ip[8] < 5', 'ip6 and tcp dst port 22', 'icmp[icmptype] == icmp-echo',
  'dst net 2001:db8::/32', 'src port 53 or dst port 53', 'len >= 100 and ip[2:2] > 40', 'ether host 02:00:00:00:00:01', 'tcp[4:4] = 1',
];

const FILTER_PIECES = ['and', 'or', 'not', '(', ')', '[', ']', ':', '&', '|', '!=', '=', '==', '<', '>', '+', '-', '*', '/', '%', '<<', '>>',
  'tcp', 'udp', 'ip', 'ip6', 'host', 'port', 'net', 'src', 'dst', '4294967296', '0xffffffff', '99999999999999999999', '-1', '/33', '/129', ':4',
  'tcp-syn', 'icmp-echo', 'tcpflags', 'portrange', '1-', 'vlan', 'ether', 'proto', '\\', 'len', '127.0.0.1', '::1', '::ffff:1.2.3.4'];

export interface FilterInput {
  text: string;
}

let filterFrames: Array<{ data: Buffer; link: number }> | undefined;

export const filterTarget: FuzzTarget<FilterInput> = {
  name: 'filter',
  *inputs(seed) {
    const rng = new Rng(seed);
    for (;;) {
      let words = rng.pick(FILTER_SEEDS).split(' ');
      for (let k = rng.int(1, 3); k > 0; k--) {
        const at = rng.int(0, words.length);
        switch (rng.int(0, 3)) {
          case 0:
            words.splice(at, 0, rng.pick(FILTER_PIECES));
            break;
          case 1:
            words.splice(at, 1);
            break;
          case 2:
            words = [...words.slice(0, at), ...rng.pick(FILTER_SEEDS).split(' ')];
            break;
          default:
            words.splice(at, 0, ...Array.from({ length: rng.pick([2, 50, 500]) }, () => rng.pick(['(', 'not', '!'])));
        }
      }
      yield { text: words.join(rng.chance(0.9) ? ' ' : '') };
    }
  },
  run(input) {
    if (!compileFilter) throw new Error('call loadFilterCompiler() first');
    const match = compileFilter(input.text);
    if (!filterFrames) {
      const { corpus } = seedCorpus();
      filterFrames = FUZZ_LINKS.flatMap((l) => corpus[l].slice(0, 8).map((data) => ({ data, link: LINK_NUMBERS[l] })));
    }
    for (const f of filterFrames) match(f.data, f.data.length, f.link);
  },
  show: (input) => JSON.stringify(input.text.slice(0, 4000)),
};

// ---------------------------------------------------------------------------------------------
// The dissector with every printer: summary(), show(), hexdump(), and the tcpdump printer with
// -v, -vv, -e, -x and -xx. Nothing here may throw, SynackError or not.

const printers = [
  createPrinter({}),
  createPrinter({ verbose: 1 }),
  createPrinter({ verbose: 2, link: true }),
  createPrinter({ hex: 'x', absolute: true }),
  createPrinter({ hex: 'xx', link: true, verbose: 1 }),
];

export const dissectTarget: FuzzTarget<{ bytes: Buffer; link: FuzzLink }> = {
  name: 'dissect',
  *inputs(seed) {
    for (;;) for (const input of fuzzInputs(1_000_000, seed++, seedCorpus().corpus)) yield { bytes: input.bytes, link: input.link };
  },
  run(input) {
    // Every link type, every printer: each printer reads the bytes as a different link type,
    // so that one input meets all five printers and all five links without 25 passes.
    FUZZ_LINKS.forEach((link, i) => {
      const p = dissect(input.bytes, link);
      summary(p);
      show(p);
      hexdump(p);
      p.bytes();
      printers[i]!.format({ data: input.bytes, linkType: LINK_NUMBERS[link], sec: 1_700_000_000, frac: 0 });
    });
  },
  show: (input) => `${input.link} ${input.bytes.toString('hex')}`,
  isDefect: () => true,
};

export const TARGETS: Record<string, FuzzTarget> = {
  text: textTarget as FuzzTarget,
  pcap: captureTarget as FuzzTarget,
  script: scriptTarget as FuzzTarget,
  filter: filterTarget as FuzzTarget,
  dissect: dissectTarget as FuzzTarget,
};

export interface TargetStats {
  target: string;
  inputs: number;
  /** Inputs answered with a SynackError (the expected answer to most mutated inputs). */
  refused: number;
  defects: number;
  /** First few defects: what escaped, and the input. */
  samples: Array<{ index: number; error: string; input: string }>;
  slowestMs: number;
  slowestInput: string;
  slowOverLimit: number;
}

export function newTargetStats(target: string): TargetStats {
  return { target, inputs: 0, refused: 0, defects: 0, samples: [], slowestMs: 0, slowestInput: '', slowOverLimit: 0 };
}

/** Runs one input of `target`, adding to `stats`; `index` names it for a reproduction. */
export function runOne(target: FuzzTarget, input: unknown, index: number, stats: TargetStats, slowMs = 1000): void {
  stats.inputs++;
  const started = performance.now();
  try {
    target.run(input);
  } catch (err) {
    const defect = target.isDefect ? target.isDefect(err) : !(err instanceof SynackError);
    if (defect) {
      stats.defects++;
      const key = String((err as Error)?.message ?? err).slice(0, 200);
      if (stats.samples.length < 10 && !stats.samples.some((s) => s.error.startsWith(key))) {
        stats.samples.push({ index, error: `${key}\n${String((err as Error)?.stack ?? '').split('\n').slice(1, 6).join('\n')}`, input: target.show(input).slice(0, 4000) });
      }
    } else stats.refused++;
  }
  const ms = performance.now() - started;
  if (ms > stats.slowestMs) {
    stats.slowestMs = ms;
    stats.slowestInput = target.show(input).slice(0, 400);
  }
  if (ms > slowMs) stats.slowOverLimit++;
}

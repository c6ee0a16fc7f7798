/**
 * Capture files against the tools people already trust: tcpdump captures real loopback traffic
 * and is the oracle for what a file holds (tcpdump -r -xx); Scapy writes files of every link
 * type and byte order; pcapng files with several interfaces and sections are built here by hand
 * (Scapy writes only the simplest pcapng). Our writer's files must read back in tcpdump with no
 * warnings and show exactly what the originals show.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oracleMissing } from './helpers/oracle.js';
import {
  CaptureFileError, IP, TCP, Raw, formatEpoch, readPackets, readPacketsSync, readPcap, readPcapBatches, readPcapBatchesSync,
  readPcapSync, writePcap, PcapRecord, type CaptureInterface,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;
const haveTcpdump = oracleMissing('tcpdump', ['--version']) === undefined;

interface Shown {
  time: string;
  hex: string;
  /** The frame length tcpdump -e prints for Ethernet ("length 74:"), i.e. the original length. */
  frameLength?: number;
}

/** What tcpdump says a file holds: one entry per packet, plus its stderr. */
function tcpdumpView(file: string, nano = false): { packets: Shown[]; stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('tcpdump', ['-nn', '-tt', '-e', '-xx', ...(nano ? ['--nano'] : []), '-r', file], {
    env: { ...process.env, TZ: 'UTC' },
    encoding: 'latin1',
    maxBuffer: 64 << 20,
  });
  const packets: Shown[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('\t0x')) {
      packets[packets.length - 1]!.hex += line.slice(line.indexOf(':') + 1).replace(/\s+/g, '');
    } else if (!line.startsWith('\t') && !line.startsWith(' ')) {
      const m = / length (\d+): /.exec(line);
      packets.push({ time: line.split(' ')[0]!, hex: '', ...(m ? { frameLength: Number(m[1]) } : {}) });
    }
  }
  return { packets, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

async function collect(file: string, onInterface?: (i: CaptureInterface) => void): Promise<PcapRecord[]> {
  const out: PcapRecord[] = [];
  for await (const rec of readPcap(file, onInterface ? { onInterface } : {})) out.push(rec);
  return out;
}

function ours(records: PcapRecord[], nano = false): Shown[] {
  return records.map((r) => ({ time: formatEpoch(r, nano ? 9 : 6), hex: r.data.toString('hex') }));
}

/**
 * tcpdump's stderr for a clean file: the one "reading from file" line and nothing else, except
 * the note tcpdump always adds for SLL2 (whose interface indexes it maps to this host's names).
 */
function expectNoWarnings(stderr: string): void {
  const rest = stderr.replace(/\nWarning: interface names might be incorrect\n$/, '\n');
  if (rest !== stderr) expect(stderr).toContain('LINUX_SLL2');
  expect(rest).toMatch(/^reading from file [^\n]*, link-type [^\n]*, snapshot length \d+\n$/);
}

/** Rewrites a capture with our writer, keeping link type, precision and snaplen. */
async function rewrite(src: string, dst: string, nano: boolean): Promise<number> {
  let writer: ReturnType<typeof writePcap> | undefined;
  let n = 0;
  for await (const rec of readPcap(src, {
    onInterface: (i) => {
      writer ??= writePcap(dst, { linkType: i.linkType, nanosecond: nano, snaplen: i.snaplen || 262144 });
    },
  })) {
    writer!.write(rec);
    n++;
  }
  writer!.close();
  return n;
}

// ---------------------------------------------------------------- live captures by tcpdump

/** Captures a short real TCP conversation on loopback with tcpdump, into `file`. */
async function liveCapture(file: string, extra: string[]): Promise<void> {
  const server = createServer((sock) => {
    sock.on('data', (d) => sock.write(Buffer.concat([Buffer.from('ok:'), d.subarray(0, 50)])));
    sock.on('end', () => sock.end());
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const td = spawn('tcpdump', ['-i', 'lo', '-Z', 'root', '--immediate-mode', '-U', '-w', file, ...extra, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => td.on('exit', () => resolve()));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    td.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const client = connect(port, '127.0.0.1');
  const replies: Buffer[] = [];
  client.on('data', (d) => replies.push(d));
  const waitReplies = async (n: number) => {
    for (let i = 0; i < 200 && replies.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  await new Promise<void>((resolve) => client.on('connect', () => resolve()));
  client.write('hello');
  await waitReplies(1);
  client.write(Buffer.alloc(3000, 0x61));
  await waitReplies(2);
  client.write('bye');
  await waitReplies(3);
  client.end();
  await new Promise<void>((resolve) => client.on('close', () => resolve()));
  await new Promise((r) => setTimeout(r, 300));
  td.kill('SIGINT');
  await exited;
  server.close();
}

describe.skipIf(!haveTcpdump || !isRoot)('live loopback captures written by tcpdump', () => {
  const micro = join(dir, 'live-micro.pcap');
  const nano = join(dir, 'live-nano.pcap');
  const short = join(dir, 'live-snap80.pcap');
  beforeAll(async () => {
    await liveCapture(micro, []);
    await liveCapture(nano, ['--time-stamp-precision=nano']);
    await liveCapture(short, ['-s', '80']);
  });

  for (const [name, file, isNano] of [['microsecond', micro, false], ['nanosecond', nano, true], ['snaplen 80', short, false]] as const) {
    it(`reads the ${name} capture exactly as tcpdump shows it`, async () => {
      const shown = tcpdumpView(file, isNano);
      expect(shown.status).toBe(0);
      expect(shown.packets.length).toBeGreaterThanOrEqual(8);
      let iface: CaptureInterface | undefined;
      const records = await collect(file, (i) => (iface = i));
      expect(iface?.linkType).toBe(1);
      expect(iface?.precisionDigits).toBe(isNano ? 9 : 6);
      expect(ours(records, isNano)).toEqual(shown.packets.map(({ time, hex }) => ({ time, hex })));
      expect(records.map((r) => r.origLen)).toEqual(shown.packets.map((p) => p.frameLength));
      if (name === 'snaplen 80') expect(records.some((r) => r.caplen === 80 && r.origLen > 80)).toBe(true);
      for (const r of records) {
        expect(r.caplen).toBe(r.data.length);
        expect(r.linkType).toBe(1);
        expect(r.timestamp).toBe(BigInt(r.seconds) * 1_000_000_000n + BigInt(r.nanos));
      }
      // The three other ways in agree with the first.
      expect(ours([...readPcapSync(file)], isNano)).toEqual(ours(records, isNano));
      const batched: PcapRecord[] = [];
      for await (const b of readPcapBatches(file, { chunkSize: 4096 })) batched.push(...b);
      expect(ours(batched, isNano)).toEqual(ours(records, isNano));
      const packets = [];
      for await (const p of readPackets(file)) packets.push(p);
      expect(packets.map((p) => p.time)).toEqual(records.map((r) => r.time));
      expect(packets.map((p) => p.timeNs)).toEqual(records.map((r) => r.timestamp));
    });

    it(`rewrites the ${name} capture so that tcpdump shows the same thing, without warnings`, async () => {
      const out = join(dir, `rewritten-${name.replace(/ /g, '')}.pcap`);
      const n = await rewrite(file, out, isNano);
      const before = tcpdumpView(file, isNano);
      const after = tcpdumpView(out, isNano);
      expect(after.status).toBe(0);
      expectNoWarnings(after.stderr);
      expect(after.packets.length).toBe(n);
      expect(after.stdout).toBe(before.stdout);
    });
  }
});

// ---------------------------------------------------------------- files written by Scapy

/** Writes one file per link type, byte order and precision with Scapy; prints what it wrote. */
const SCAPY_WRITER = String.raw`
import json, sys
from decimal import Decimal
from scapy.all import *
out = sys.argv[1]
ip4 = [IP(src='127.0.0.1', dst='127.0.0.%d' % (i + 1), id=i) / TCP(sport=40000 + i, dport=80, flags='S', seq=1000 * i) / Raw(b'x' * (7 * i)) for i in range(5)]
ip6 = [IPv6(src='::1', dst='::1') / TCP(sport=41000 + i, dport=443, flags='SA') / Raw(b'y' * i) for i in range(3)]
specs = [
    ('ether-le-micro.pcap', 1, '<', False, [Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') / p for p in ip4 + ip6]),
    ('ether-be-nano.pcap', 1, '>', True, [Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') / p for p in ip4]),
    ('raw-le.pcap', 101, '<', False, ip4 + ip6),
    ('raw-be-nano.pcap', 101, '>', True, ip4 + ip6),
    ('sll.pcap', 113, '<', False, [CookedLinux(pkttype=0, lladdrtype=772, lladdrlen=6, src=b'\0' * 8, proto=0x800) / p for p in ip4]),
    ('sll2.pcap', 276, '>', True, [CookedLinuxV2(proto=0x800, ifindex=1, pkttype=0, lladdrtype=772, lladdrlen=6, src=b'\0' * 8) / p for p in ip4]),
    ('null.pcap', 0, '<', False, [Loopback(type=2) / p for p in ip4]),
    ('loop.pcap', 108, '>', False, [Loopback(type=2) / p for p in ip4]),
    ('ipv4.pcap', 228, '<', True, ip4),
    ('ipv6.pcap', 229, '>', False, ip6),
]
result = []
for name, lt, endian, nano, pkts in specs:
    path = out + '/' + name
    w = PcapWriter(path, linktype=lt, endianness=endian, nano=nano, snaplen=262144)
    recs = []
    for i, p in enumerate(pkts):
        frac = (i * 123456789) % 10**9 if nano else ((i * 123457) % 10**6) * 1000
        ns = (1700000000 + 3 * i) * 10**9 + frac
        p.time = Decimal(ns) / Decimal(10**9)
        w.write(p)
        recs.append([str(ns), bytes(p).hex()])
    w.close()
    result.append({'file': path, 'linkType': lt, 'nano': nano, 'bigEndian': endian == '>', 'records': recs})
ng = out + '/scapy.pcapng'
pkts = [Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') / p for p in ip4 + ip6]
for i, p in enumerate(pkts):
    p.time = 1700000000 + i * 0.25
wrpcapng(ng, pkts)
result.append({'file': ng, 'linkType': 1, 'nano': False, 'bigEndian': False, 'records': [[str((1700000000 * 4 + i) * 250000000), bytes(p).hex()] for i, p in enumerate(pkts)]})
print(json.dumps(result))
`;

interface ScapyFile {
  file: string;
  linkType: number;
  nano: boolean;
  bigEndian: boolean;
  records: [string, string][];
}

const haveScapy = oracleMissing('/usr/bin/python3', ['-c', 'import scapy.all'], 'python3-scapy') === undefined;

describe.skipIf(!haveScapy)('files written by Scapy', () => {
  let files: ScapyFile[] = [];
  const scapyDir = join(dir, 'scapy');
  beforeAll(() => {
    mkdirSync(scapyDir);
    const r = spawnSync('/usr/bin/python3', ['-c', SCAPY_WRITER, scapyDir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    files = JSON.parse(r.stdout) as ScapyFile[];
  });

  it('reads every link type, byte order and precision as Scapy wrote it and as tcpdump shows it', async () => {
    expect(files.length).toBe(11);
    for (const f of files) {
      let format: { bigEndian: boolean } | undefined;
      let iface: CaptureInterface | undefined;
      const records: PcapRecord[] = [];
      for await (const rec of readPcap(f.file, { onInterface: (i, fmt) => ((iface = i), (format = fmt)) })) records.push(rec);
      expect(iface?.linkType, f.file).toBe(f.linkType);
      expect(format?.bigEndian, f.file).toBe(f.bigEndian);
      expect(records.map((r) => [String(r.timestamp), r.data.toString('hex')]), f.file).toEqual(f.records);
      expect(records.every((r) => r.linkType === f.linkType && r.origLen === r.caplen)).toBe(true);
      if (haveTcpdump) {
        const shown = tcpdumpView(f.file, f.nano);
        expect(shown.status, f.file).toBe(0);
        expect(ours(records, f.nano), f.file).toEqual(shown.packets.map(({ time, hex }) => ({ time, hex })));
      }
    }
  });

  it('rewrites every file so that tcpdump shows the same packets without warnings', async () => {
    for (const f of files) {
      const out = f.file.replace(/\.pcap(ng)?$/, '.rewritten.pcap');
      const n = await rewrite(f.file, out, f.nano);
      expect(n).toBe(f.records.length);
      const back = await collect(out);
      expect(back.map((r) => [String(r.timestamp), r.data.toString('hex')])).toEqual(f.records);
      if (!haveTcpdump) continue;
      const before = tcpdumpView(f.file, f.nano);
      const after = tcpdumpView(out, f.nano);
      expectNoWarnings(after.stderr);
      expect(after.stdout, f.file).toBe(before.stdout);
    }
  });

  it('dissects packets from raw IP files, with the capture time', async () => {
    const raw = files.find((f) => f.file.endsWith('raw-le.pcap'))!;
    const packets = [];
    for await (const p of readPackets(raw.file)) packets.push(p);
    expect(packets.length).toBe(8);
    expect(packets[1]!.getLayer('TCP')?.fields.sport).toBe(40001);
    expect(packets[1]!.getLayer('IP')?.fields.dst).toBe('127.0.0.2');
    expect(packets[1]!.time).toBe(Number(BigInt(raw.records[1]![0]) / 1000n));
    expect(packets[1]!.timeNs).toBe(BigInt(raw.records[1]![0]));
    expect([...readPacketsSync(raw.file)].map((p) => p.bytes().toString('hex'))).toEqual(raw.records.map((r) => r[1]));
  });
});

// ---------------------------------------------------------------- pcapng built by hand

function u16(v: number, be: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (be) b.writeUInt16BE(v);
  else b.writeUInt16LE(v);
  return b;
}
function u32(v: number, be: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (be) b.writeUInt32BE(v);
  else b.writeUInt32LE(v);
  return b;
}
function padded(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}
function block(type: number, body: Buffer[], be: boolean): Buffer {
  const content = padded(Buffer.concat(body));
  const length = 12 + content.length;
  return Buffer.concat([u32(type, be), u32(length, be), content, u32(length, be)]);
}
function option(code: number, value: Buffer, be: boolean): Buffer {
  return Buffer.concat([u16(code, be), u16(value.length, be), padded(value)]);
}
const endOfOptions = Buffer.alloc(4);
function shb(be: boolean): Buffer {
  return block(0x0a0d0d0a, [u32(0x1a2b3c4d, be), u16(1, be), u16(0, be), Buffer.alloc(8, 0xff)], be);
}
function idb(linkType: number, snaplen: number, options: Buffer[], be: boolean): Buffer {
  return block(1, [u16(linkType, be), u16(0, be), u32(snaplen, be), ...options, endOfOptions], be);
}
function stamp(units: bigint, be: boolean): Buffer[] {
  return [u32(Number(units >> 32n), be), u32(Number(units & 0xffffffffn), be)];
}
function epb(iface: number, units: bigint, data: Buffer, origLen: number, be: boolean, options: Buffer[] = []): Buffer {
  return block(6, [u32(iface, be), ...stamp(units, be), u32(data.length, be), u32(origLen, be), padded(data), ...options], be);
}

interface Expected {
  ns: bigint;
  hex: string;
  linkType: number;
  iface: number;
  origLen: number;
}

/** Two sections (big- then little-endian), five interfaces, every packet block kind, skipped blocks between. */
function handMadePcapng(): { bytes: Buffer; blocks: Buffer[]; expected: Expected[] } {
  const frame = (n: number, len: number) => Buffer.alloc(len, n);
  const blocks: Buffer[] = [];
  const expected: Expected[] = [];
  const be = true;
  blocks.push(shb(be));
  blocks.push(idb(1, 65535, [option(2, Buffer.from('eth0'), be)], be)); // µs by default
  blocks.push(idb(101, 0, [option(9, Buffer.from([9]), be)], be)); // ns
  blocks.push(idb(113, 262144, [option(9, Buffer.from([0x80 | 20]), be)], be)); // 2^-20 s
  blocks.push(idb(1, 262144, [option(9, Buffer.from([3]), be), option(14, Buffer.from('0000000000000064', 'hex'), be)], be)); // ms, +100 s
  blocks.push(block(4, [Buffer.from('0001000c7f000001686f737400000000', 'hex')], be)); // NRB: skipped
  blocks.push(epb(0, 1700000000123456n, frame(1, 60), 60, be));
  expected.push({ ns: 1700000000123456000n, hex: frame(1, 60).toString('hex'), linkType: 1, iface: 0, origLen: 60 });
  blocks.push(epb(1, 1700000000123456789n, frame(2, 41), 41, be));
  expected.push({ ns: 1700000000123456789n, hex: frame(2, 41).toString('hex'), linkType: 101, iface: 1, origLen: 41 });
  blocks.push(epb(2, (1700000000n << 20n) + 524288n, frame(3, 44), 44, be));
  expected.push({ ns: 1700000000500000000n, hex: frame(3, 44).toString('hex'), linkType: 113, iface: 2, origLen: 44 });
  blocks.push(epb(3, 1700000000123n, frame(4, 62), 62, be));
  expected.push({ ns: 1700000100123000000n, hex: frame(4, 62).toString('hex'), linkType: 1, iface: 3, origLen: 62 });
  blocks.push(block(5, [u32(0, be), ...stamp(0n, be), endOfOptions], be)); // ISB: skipped
  blocks.push(block(3, [u32(100, be), frame(5, 100)], be)); // SPB: no timestamp
  expected.push({ ns: 0n, hex: frame(5, 100).toString('hex'), linkType: 1, iface: 0, origLen: 100 });
  blocks.push(block(0x40000bad, [u32(32473, be), Buffer.from('private')], be)); // custom: skipped
  blocks.push(block(2, [u16(1, be), u16(0, be), ...stamp(1700000001000000001n, be), u32(33, be), u32(33, be), frame(6, 33)], be)); // obsolete PB
  expected.push({ ns: 1700000001000000001n, hex: frame(6, 33).toString('hex'), linkType: 101, iface: 1, origLen: 33 });
  blocks.push(epb(0, 1700000002000001n, frame(7, 64), 1500, be, [option(1, Buffer.from('a comment'), be), endOfOptions]));
  expected.push({ ns: 1700000002000001000n, hex: frame(7, 64).toString('hex'), linkType: 1, iface: 0, origLen: 1500 });
  // A new section switches to little-endian and starts the interface numbering again.
  blocks.push(shb(false));
  blocks.push(idb(228, 262144, [], false));
  blocks.push(epb(0, 1700000003000002n, frame(8, 20), 20, false));
  expected.push({ ns: 1700000003000002000n, hex: frame(8, 20).toString('hex'), linkType: 228, iface: 0, origLen: 20 });
  return { bytes: Buffer.concat(blocks), blocks, expected };
}

function asExpected(records: PcapRecord[]): Expected[] {
  return records.map((r) => ({ ns: r.timestamp, hex: r.data.toString('hex'), linkType: r.linkType, iface: r.interfaceIndex, origLen: r.origLen }));
}

describe('pcapng', () => {
  it('reads several sections, byte orders, interfaces, resolutions and block kinds', async () => {
    const { bytes, expected } = handMadePcapng();
    const file = join(dir, 'hand.pcapng');
    writeFileSync(file, bytes);
    const interfaces: CaptureInterface[] = [];
    const records: PcapRecord[] = [];
    for await (const rec of readPcap(file, { onInterface: (i) => interfaces.push(i) })) records.push(rec);
    expect(asExpected(records)).toEqual(expected);
    expect(records.every((r) => r.caplen === r.data.length)).toBe(true);
    expect(interfaces.map((i) => [i.index, i.linkType, i.precisionDigits, i.name])).toEqual([
      [0, 1, 6, 'eth0'], [1, 101, 9, undefined], [2, 113, 7, undefined], [3, 1, 3, undefined], [0, 228, 6, undefined],
    ]);
    // Tiny chunks put every block across a chunk boundary.
    for (const chunkSize of [4096, 5000]) {
      const again: PcapRecord[] = [];
      for (const batch of readPcapBatchesSync(file, { chunkSize })) again.push(...batch);
      expect(asExpected(again)).toEqual(expected);
    }
  });

  it.skipIf(!haveTcpdump)('agrees with tcpdump on a big-endian file with micro- and nanosecond interfaces', async () => {
    const be = true;
    const frames = [0, 1, 2, 3].map((i) =>
      Buffer.concat([Buffer.from('020000000002020000000001', 'hex'), Buffer.from([0x08, 0x00]),
        IP({ src: '127.0.0.1', dst: '127.0.0.1', id: i }).add(TCP({ sport: 1000 + i, dport: 80, flags: 'S' })).bytes()]));
    const bytes = Buffer.concat([
      shb(be),
      idb(1, 262144, [], be),
      idb(1, 262144, [option(9, Buffer.from([9]), be)], be),
      epb(0, 1700000000654321n, frames[0]!, frames[0]!.length, be),
      epb(1, 1700000000987654321n, frames[1]!, frames[1]!.length, be),
      epb(0, 1700000001000001n, frames[2]!.subarray(0, 40), frames[2]!.length, be),
      epb(1, 1700000002000000009n, frames[3]!, frames[3]!.length, be),
    ]);
    const file = join(dir, 'be.pcapng');
    writeFileSync(file, bytes);
    const records = await collect(file);
    for (const nano of [false, true]) {
      const shown = tcpdumpView(file, nano);
      expect(shown.status).toBe(0);
      expect(ours(records, nano)).toEqual(shown.packets.map(({ time, hex }) => ({ time, hex })));
      expect(records.map((r) => r.origLen)).toEqual(shown.packets.map((p) => p.frameLength));
    }
  });
});

// ---------------------------------------------------------------- damaged and wrong files

/** Reads with the blocking reader; returns the records read and the error, if any. */
function readAll(file: string): { records: PcapRecord[]; error: unknown } {
  const records: PcapRecord[] = [];
  try {
    for (const rec of readPcapSync(file)) records.push(rec);
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

/** Cuts `bytes` at every offset; `units` are [start, end) of header, records or blocks in order. */
async function checkEveryCut(name: string, bytes: Buffer, units: [number, number][], expectedHex: string[][]): Promise<void> {
  const file = join(dir, name);
  for (let cut = 0; cut < bytes.length; cut++) {
    writeFileSync(file, bytes.subarray(0, cut));
    const { records, error } = readAll(file);
    const complete = units.filter(([, end]) => end <= cut);
    const expected = expectedHex.slice(0, Math.max(0, complete.length - 1)).flat();
    if (cut < 4) {
      expect(String(error)).toContain(`not a pcap or pcapng file: ${file} (`);
      continue;
    }
    expect(records.map((r) => r.data.toString('hex')), `cut ${cut}`).toEqual(expected);
    const partial = units.find(([start, end]) => start < cut && cut < end);
    if (!partial) {
      expect(error, `cut ${cut}`).toBeUndefined();
      continue;
    }
    expect(error, `cut ${cut}`).toBeInstanceOf(CaptureFileError);
    expect((error as CaptureFileError).offset).toBe(partial[0]);
    expect((error as Error).message).toContain(`truncated capture file ${file}: `);
    expect((error as Error).message).toContain(` at byte ${partial[0]} `);
  }
  // The async reader too yields every complete record before it throws.
  writeFileSync(file, bytes.subarray(0, bytes.length - 1));
  const seen: string[] = [];
  await expect(async () => {
    for await (const rec of readPcap(file)) seen.push(rec.data.toString('hex'));
  }).rejects.toThrow(/^truncated capture file .* at byte \d+ /);
  expect(seen).toEqual(expectedHex.slice(0, -1).flat());
}

describe('damaged and wrong files', () => {
  it('yields every complete pcap record of a cut file, then names the file and the offset', async () => {
    const file = join(dir, 'whole.pcap');
    const w = writePcap(file, { linkType: 'ip' });
    const payloads = [10, 0, 1, 60, 333, 2, 1500].map((n, i) => Buffer.alloc(n, i + 1));
    for (const p of payloads) w.write(p, 1700000000000000);
    w.close();
    const bytes = readFileSync(file);
    const units: [number, number][] = [[0, 24]];
    for (const p of payloads) units.push([units.at(-1)![1], units.at(-1)![1] + 16 + p.length]);
    expect(units.at(-1)![1]).toBe(bytes.length);
    await checkEveryCut('cut.pcap', bytes, units, payloads.map((p) => [p.toString('hex')]));
  });

  it('yields every complete pcapng packet of a cut file, then names the file and the offset', async () => {
    const { bytes, blocks, expected } = handMadePcapng();
    const units: [number, number][] = [];
    const perBlock: string[][] = [];
    let off = 0;
    let next = 0;
    for (const b of blocks) {
      units.push([off, off + b.length]);
      // The block type in either byte order (no other type used here reads as 2, 3 or 6 swapped).
      const isPacket = [2, 3, 6].includes(b.readUInt32BE(0)) || [2, 3, 6].includes(b.readUInt32LE(0));
      perBlock.push(isPacket ? [expected[next++]!.hex] : []);
      off += b.length;
    }
    expect(next).toBe(expected.length);
    // checkEveryCut treats the first unit as a header with no records: give it the SHB.
    await checkEveryCut('cut.pcapng', bytes, units, perBlock.slice(1));
  });

  it('stops at a corrupt pcap record after yielding the good ones', () => {
    const file = join(dir, 'corrupt.pcap');
    const w = writePcap(file, { linkType: 'ether' });
    w.write(Buffer.alloc(60, 1), 1n);
    w.write(Buffer.alloc(60, 2), 2n);
    w.close();
    const bad = Buffer.concat([readFileSync(file), Buffer.from('0000000000000000ffffff7fffffff7f', 'hex'), Buffer.alloc(100)]);
    writeFileSync(file, bad);
    const { records, error } = readAll(file);
    expect(records.length).toBe(2);
    expect(error).toBeInstanceOf(CaptureFileError);
    expect((error as Error).message).toBe(
      `corrupt capture file ${file} at byte ${24 + 2 * 76}: the packet record claims 2147483647 captured bytes, more than the largest plausible 262144`,
    );
  });

  it('stops at a corrupt pcapng block after yielding the good ones', () => {
    const { blocks } = handMadePcapng();
    const file = join(dir, 'corrupt.pcapng');
    const damaged = Buffer.from(blocks[7]!);
    damaged.writeUInt32BE(damaged.length + 4, damaged.length - 4);
    writeFileSync(file, Buffer.concat([...blocks.slice(0, 7), damaged, ...blocks.slice(8)]));
    const { records, error } = readAll(file);
    expect(records.length).toBe(1);
    const at = blocks.slice(0, 7).reduce((n, b) => n + b.length, 0);
    expect((error as Error).message).toBe(`corrupt capture file ${file} at byte ${at}: block of type 0x6 says length ${damaged.length} at its start but ${damaged.length + 4} at its end`);
    // A packet on an interface the section never described.
    writeFileSync(file, Buffer.concat([shb(false), idb(1, 0, [], false), epb(0, 0n, Buffer.alloc(4), 4, false), epb(5, 0n, Buffer.alloc(4), 4, false)]));
    const second = readAll(file);
    expect(second.records.length).toBe(1);
    expect(String(second.error)).toContain('packet block refers to interface 5, but the section describes 1');
  });

  it('says plainly when a file is not a capture, is empty or is missing', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello world\n');
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const gz = join(dir, 'x.pcap.gz');
    writeFileSync(gz, Buffer.from('1f8b0800000000000003', 'hex'));
    const cases: [string, string][] = [
      [text, `not a pcap or pcapng file: ${text} (starts with 68 65 6c 6c 6f 20 77 6f); it looks like text, not a capture`],
      [empty, `not a pcap or pcapng file: ${empty} (it is empty)`],
      [gz, `not a pcap or pcapng file: ${gz} (starts with 1f 8b 08 00 00 00 00 00); it is gzip-compressed: gunzip it first`],
      [join(dir, 'nope.pcap'), `no such file: ${join(dir, 'nope.pcap')}`],
      [dir, `cannot read ${dir}: it is a directory, not a capture file`],
    ];
    for (const [file, message] of cases) {
      await expect(collect(file)).rejects.toThrow(message);
      expect(() => [...readPcapSync(file)]).toThrow(message);
      await expect(collect(file)).rejects.toMatchObject({ kind: 'usage' });
    }
  });
});

// ---------------------------------------------------------------- writing

describe('writing', () => {
  it.skipIf(!haveTcpdump)('writes built packets that tcpdump reads without warnings, with the given times', async () => {
    const packets = [0, 1, 2].map((i) => IP({ src: '127.0.0.1', dst: '127.0.0.2' }).add(TCP({ sport: 5000 + i, dport: 80, flags: 'S' }), Raw({ load: 'x'.repeat(i) })));
    packets[2]!.time = 1700000009000009;
    for (const nanosecond of [false, true]) {
      const file = join(dir, `built-${nanosecond}.pcap`);
      const w = writePcap(file, { linkType: 'ip', nanosecond });
      w.write(packets[0]!, 1700000000123456789n);
      w.write(packets[1]!, new Date(Date.UTC(2023, 10, 14, 22, 13, 20, 5)));
      w.write(packets[2]!);
      w.write(Buffer.from(packets[0]!.bytes()), 1700000003000001);
      expect(w.count).toBe(4);
      w.close();
      const shown = tcpdumpView(file, nanosecond);
      expectNoWarnings(shown.stderr);
      expect(shown.stderr).toContain('link-type RAW (Raw IP)');
      expect(shown.packets.map((p) => p.time)).toEqual(nanosecond
        ? ['1700000000.123456789', '1700000000.005000000', '1700000009.000009000', '1700000003.000001000']
        : ['1700000000.123456', '1700000000.005000', '1700000009.000009', '1700000003.000001']);
      expect(shown.packets.map((p) => p.hex)).toEqual([0, 1, 2, 0].map((i) => packets[i]!.bytes().toString('hex')));
    }
  });

  it('cuts packets at the snapshot length, keeps the original length, and handles huge records', async () => {
    const file = join(dir, 'snap.pcap');
    const w = writePcap(file, { snaplen: 100 });
    w.write(Buffer.alloc(1000, 7), 5);
    w.close();
    const [rec] = await collect(file);
    expect([rec!.caplen, rec!.origLen, rec!.time]).toEqual([100, 1000, 5]);
    const hugeFile = join(dir, 'huge.pcap');
    const big = writePcap(hugeFile, { snaplen: 4_000_000 });
    const huge = Buffer.alloc(3_000_000, 9);
    big.write(Buffer.alloc(10, 1), 1);
    big.write(huge, 2);
    big.write(Buffer.alloc(10, 3), 3);
    big.close();
    const back = await collect(hugeFile);
    expect(back.map((r) => [r.caplen, r.time])).toEqual([[10, 1], [3_000_000, 2], [10, 3]]);
    expect(back[1]!.data.equals(huge)).toBe(true);
  });

  it('refuses what cannot be written, saying why', async () => {
    expect(() => writePcap(join(dir, 'x.pcap'), { linkType: 'ethr' })).toThrow("unknown link type 'ethr' (did you mean 'ether'?)");
    expect(() => writePcap(join(dir, 'no/such/dir/x.pcap'))).toThrow(`cannot write ${join(dir, 'no/such/dir/x.pcap')}: its directory does not exist`);
    const w = writePcap(join(dir, 'x.pcap'), { linkType: 'ether' });
    const { expected } = handMadePcapng();
    const file = join(dir, 'hand2.pcapng');
    writeFileSync(file, handMadePcapng().bytes);
    const raw = (await collect(file)).find((r) => r.linkType === 101)!;
    expect(raw.data.toString('hex')).toBe(expected[1]!.hex);
    expect(() => w.write(raw)).toThrow('a RAW (Raw IP) record cannot go into');
    w.close();
    expect(() => w.write(Buffer.alloc(1))).toThrow('the writer is closed');
  });

  it.skipIf(oracleMissing('tshark', ['-v']) !== undefined)('writes files tshark reads without complaint', () => {
    const file = join(dir, 'tshark.pcap');
    const w = writePcap(file, { linkType: 'ip' });
    w.write(IP({ dst: '127.0.0.1' }).add(TCP()), 1);
    w.close();
    const r = spawnSync('tshark', ['-r', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // As root, tshark warns that it runs as root: that line is about the user, not the file.
    const complaints = r.stderr.split('\n').filter((line) => line !== '' && !/^Running as user "root" and group "root"\. This could be dangerous\.$/.test(line));
    expect(complaints).toEqual([]);
    expect(r.stdout).toContain('TCP');
  });
});

// ---------------------------------------------------------------- big files, constant memory

describe('a file of a million records', () => {
  const file = join(dir, 'million.pcap');
  const N = 1_000_000;
  beforeAll(() => {
    const w = writePcap(file, { linkType: 'ether' });
    const frame = Buffer.alloc(74, 0x42);
    for (let i = 0; i < N; i++) {
      frame.writeUInt32BE(i, 14);
      w.write(frame, 1700000000000000 + i);
    }
    w.close();
  });

  it('streams in constant memory, batch by batch and record by record', async () => {
    expect(statSync(file).size).toBe(24 + N * 90);
    const baseline = process.memoryUsage();
    let peakHeap = 0;
    let peakBuffers = 0;
    const sample = () => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed - baseline.heapUsed);
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers - baseline.arrayBuffers);
    };
    let count = 0;
    let last = -1;
    let ordered = true;
    const t0 = performance.now();
    for await (const batch of readPcapBatches(file)) {
      for (const rec of batch) {
        const i = rec.data.readUInt32BE(14);
        if (i !== last + 1 || rec.time !== 1700000000000000 + i) ordered = false;
        last = i;
      }
      count += batch.length;
      sample();
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`readPcapBatches: ${N} records in ${seconds.toFixed(2)} s = ${Math.round(N / seconds)} records/s`);
    expect(count).toBe(N);
    expect(ordered).toBe(true);
    let one = 0;
    for await (const rec of readPcap(file)) {
      if ((++one & 0xffff) === 0) sample();
      void rec;
    }
    expect(one).toBe(N);
    // The file is 90 MB; holding it (or its records) would show here.
    expect(peakHeap).toBeLessThan(48 << 20);
    expect(peakBuffers).toBeLessThan(16 << 20);
  });
});

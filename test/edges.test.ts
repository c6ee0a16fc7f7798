/**
 * The library's edges, from the outside (issue 20, issue 11 item 3): one unit for time on the
 * command line, bounded numbers, every file error as one line, 32-bit filter numbers, hosts
 * with newlines, stacked layers built in linear time, pcapng timestamps as tcpdump prints them.
 * Nothing here touches the network: no lock needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationOption, formatDuration } from '../src/cli/duration.js';
import { ensureBuilt, synack, type Run } from './helpers/cli.js';
import { ICMP, IP, packet, send, sr1 } from '../src/index.js';
import { Packet } from '../src/packet/packet.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-edges-'));
beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A user mistake or a file error: exactly one line on stderr, no stack, the given exit code. */
function oneLine(r: Run, code: number, pattern: RegExp): void {
  expect(r.stderr, r.stderr).toMatch(pattern);
  // tcpdump's 'reading from file' announcement may come first, as it does for tcpdump.
  expect(r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('reading from file ')), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|    at |TimeoutOverflowWarning/);
  expect(r.code, r.stderr).toBe(code);
}

describe('durations on the command line: nmap units, bounded', () => {
  it('a bare number is seconds; ms, s, m, h suffixes; the API value is ms', () => {
    const ms = durationOption();
    expect(ms('2')).toBe(2000);
    expect(ms('0.5')).toBe(500);
    expect(ms('500ms')).toBe(500);
    expect(ms('1.5s')).toBe(1500);
    expect(ms('2m')).toBe(120_000);
    expect(ms('1h')).toBe(3_600_000);
    expect(ms('2147483647ms')).toBe(2 ** 31 - 1);
    expect(formatDuration(1999.9987359999996)).toBe('2000 ms');
  });

  it('the API refuses timeouts a timer cannot hold, before anything is opened', async () => {
    await expect(sr1(IP({ dst: '127.0.0.1' }).add(ICMP()), { timeout: 2 ** 31 })).rejects.toThrow(/timeout must be a number of milliseconds from 0 to 2147483647/);
    await expect(sr1(IP({ dst: '127.0.0.1' }).add(ICMP()), { timeout: NaN })).rejects.toThrow(/timeout must be/);
    await expect(send(IP({ dst: '127.0.0.1' }).add(ICMP()), { duration: -1 })).rejects.toThrow(/duration must be/);
  });

  const bad: Array<[string[], RegExp]> = [
    [['sr1', "IP(dst='127.0.0.1')/ICMP()", '--timeout', '99999999999999999999'], /--timeout.*too long: at most 2147483647 ms/],
    [['sr1', "IP(dst='127.0.0.1')/ICMP()", '--timeout', '2147483648ms'], /too long: at most 2147483647 ms/],
    [['sr', "IP(dst='127.0.0.1')/ICMP()", '--timeout', '25d'], /--timeout.*not a duration/],
    [['send', "IP(dst='127.0.0.1')/ICMP()", '-i', 'NaN'], /--interval.*not a duration/],
    [['ping', '127.0.0.1', '-i', '-1'], /--interval.*negative/],
    [['ping', '127.0.0.1', '--timeout', ''], /--timeout.*blank/],
    [['script', '--record', '127.0.0.1:1', '--wait', ' '], /--wait.*blank/],
    [['script', 'x.pkt', '--tolerance', '1e3'], /--tolerance.*not a duration/],
    [['scan', '127.0.0.1', '--timeout', '30000000s'], /too long/],
    [['sniff', '--duration', '0x10'], /--duration.*not a duration/],
    [['handshake', '127.0.0.1:1', '--timeout', 'Infinity'], /not a duration/],
    [['probe', '127.0.0.1:1', '--timeout', '1e400'], /not a duration/],
    [['lab', 'up', '--delay', '11s'], /--delay.*too long: at most 10000 ms/],
  ];
  for (const [args, pattern] of bad) {
    it(`refuses ${args.join(' ')}`, async () => oneLine(await synack(args), 2, pattern));
  }

  it("every --help that mentions a duration says seconds or a unit, none says '<ms>'", async () => {
    const commands = ['send', 'sr', 'sr1', 'ping', 'probe', 'scan', 'sniff', 'handshake', 'script', 'lab up'];
    const helps = await Promise.all(commands.map((cmd) => synack([...cmd.split(' '), '--help'])));
    for (const r of helps) {
      expect(r.stdout).not.toMatch(/<ms>|<seconds>/);
      expect(r.stdout).toMatch(/<time>/);
    }
  });
});

describe('every file error is one line naming the file and the cause', () => {
  const long = 'x'.repeat(300);
  beforeAll(() => {
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
  });

  it('ENAMETOOLONG: read and build -f', async () => {
    oneLine(await synack(['read', long]), 2, /cannot read x{100,}.*: the name is too long/);
    oneLine(await synack(['build', '-f', long]), 2, /cannot read x{100,}.*: the name is too long/);
  });

  it('EIO: /proc/self/mem (exit 1: the machine, not the user)', async () => {
    oneLine(await synack(['read', '/proc/self/mem']), 1, /^synack: cannot read \/proc\/self\/mem: input\/output error$/m);
  });

  it('ELOOP: a symlink loop', async () => {
    oneLine(await synack(['read', join(dir, 'loop-a')]), 2, /cannot read .*loop-a: too many levels of symbolic links/);
    oneLine(await synack(['script', join(dir, 'loop-a')]), 2, /cannot read .*loop-a: too many levels of symbolic links/);
  });

  it('ENOSPC: --pcap /dev/full', async () => {
    oneLine(await synack(['build', "IP(dst='127.0.0.1')/TCP()", '--pcap', '/dev/full']), 1, /cannot write \/dev\/full: no space left on the device/);
  });

  it('a missing directory for -o is named before any work is done', async () => {
    oneLine(await synack(['script', '--record', '127.0.0.1:1', '-o', '/missing/dir/x']), 2, /cannot write \/missing\/dir\/x: its directory does not exist/);
  });

  it('an output that is a directory', async () => {
    oneLine(await synack(['script', '--record', '127.0.0.1:1', '-o', dir]), 2, /cannot write .*: it is a directory/);
  });
});

describe('numbers and words past their range', () => {
  const pcap = join(dir, 'filter.pcap');
  beforeAll(async () => {
    expect((await synack(['build', "IP(dst='127.0.0.1')/TCP(flags='S')", '--pcap', pcap])).code).toBe(0);
  });

  it("filter numbers past 32 bits: tcpdump's 'overflows 32 bits'", async () => {
    for (const filter of ['tcp[4294967296] = 1', 'tcp[0] = 0x100000000']) {
      const td = spawnSync('tcpdump', ['-r', pcap, filter], { encoding: 'utf8' });
      expect(td.stderr).toMatch(/overflows 32 bits/);
      oneLine(await synack(['read', pcap, filter]), 2, /number (4294967296|0x100000000) overflows 32 bits/);
    }
    // The largest 32-bit value is still a number.
    expect((await synack(['read', pcap, 'tcp[4294967295] = 1'])).code).toBe(0);
  });

  it('a host or port with a newline is one escaped line', async () => {
    const cases: string[][] = [
      ['ping', '127.0.0.1\nx'],
      ['scan', '127.0.0.1\nx'],
      ['probe', '127.0.0.1\nx:1'],
      ['handshake', '127.0.0.1\n:80'],
      ['handshake', '127.0.0.1:8\n0'],
    ];
    for (const args of cases) oneLine(await synack(args), 2, /\\n/);
  });
});

describe('stacked layers build in linear time', () => {
  it("'ICMP()/' x 40000 builds in well under a second per 10k layers (was quadratic: 4.8 s for 20k)", () => {
    const layers = [IP({ dst: '127.0.0.1' }).layers[0]!];
    for (let i = 0; i < 40_000; i++) layers.push(ICMP().layers[0]!);
    const stacked = new Packet(layers);
    const started = performance.now();
    const bytes = stacked.bytes();
    const took = performance.now() - started;
    expect(bytes.length).toBe(20 + 8 * 40_000);
    // A correctness bound on the complexity, not a benchmark: quadratic summing took ~20 s here.
    expect(took).toBeLessThan(3000);
  });

  it('the checksums of stacked headers are still Scapy’s (odd and even payloads)', () => {
    const exprs = [
      "IP(dst='127.0.0.1')/ICMP()/ICMP()/ICMP()/Raw(load=b'abcd')",
      "IP(dst='127.0.0.1')/ICMP()/ICMP()/Raw(load=b'abc')",
      "IP(dst='127.0.0.1')/UDP()/ICMP()/ICMP()",
      "IP(dst='127.0.0.1')/TCP()/Raw(load=b'xy')",
    ];
    const py = spawnSync('/usr/bin/python3', ['-c', `from scapy.all import *\nfor e in ${JSON.stringify(exprs)}: print(bytes(eval(e)).hex())`], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    expect(exprs.map((e) => packet(e).bytes().toString('hex'))).toEqual(py.stdout.trim().split('\n'));
  });
});

describe('pcapng edges as tcpdump reads them', () => {
  const shb = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.from('ffffffffffffffff', 'hex')]));
  const ip = Buffer.from('450000140001000040007cd87f0000017f000001', 'hex');

  function u16(n: number): Buffer {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  }
  function u32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  }
  function block(type: number, body: Buffer): Buffer {
    return Buffer.concat([u32(type), u32(12 + body.length), body, u32(12 + body.length)]);
  }
  function option(code: number, value: Buffer): Buffer {
    return Buffer.concat([u16(code), u16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  }
  function file(name: string, options: Buffer[]): string {
    const idb = block(1, Buffer.concat([u16(101), u16(0), u32(262144), ...options, options.length ? Buffer.alloc(4) : Buffer.alloc(0)]));
    const epb = block(6, Buffer.concat([u32(0), u32(0), u32(1_000_000), u32(ip.length), u32(ip.length), ip]));
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([shb, idb, epb]));
    return path;
  }
  const offset = (n: bigint): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  };
  const tcpdump = (path: string) => spawnSync('tcpdump', ['-nn', '-r', path], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });

  it('if_tsoffset of ±2^62 (and a time before the epoch): [Error converting time], line for line', async () => {
    for (const [name, n] of [['plus', 1n << 62n], ['minus', -(1n << 62n)], ['before-epoch', -100n], ['fine', 1n << 40n]] as const) {
      const path = file(`tsoffset-${name}.pcapng`, [option(14, offset(n))]);
      const td = tcpdump(path);
      const ours = await synack(['read', path]);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(td.stdout);
      if (name !== 'fine') expect(ours.stdout).toMatch(/^\[Error converting time\] IP 127\.0\.0\.1/);
    }
  });

  it("if_tsresol past 10^-19 or 2^-63 is refused with libpcap's words; 10^-19 and 2^-63 are read", async () => {
    for (const value of [127, 20, 0x80 | 64]) {
      const path = file(`tsresol-${value}.pcapng`, [option(9, Buffer.from([value]))]);
      const td = tcpdump(path);
      const words = td.stderr.replace(/^tcpdump: /, '').trim();
      expect(words).toMatch(/if_tsresol option resolution .* is too high/);
      oneLine(await synack(['read', path]), 2, new RegExp(words.replace(/[\^$.*+?()[\]{}|\\]/g, '\\$&')));
    }
    for (const value of [19, 0x80 | 63]) {
      const path = file(`tsresol-ok-${value}.pcapng`, [option(9, Buffer.from([value]))]);
      const ours = await synack(['read', path]);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(tcpdump(path).stdout);
    }
  });

  it('a block whose length is not a multiple of 4, or below 12: one line naming the offset', async () => {
    for (const length of [33, 8]) {
      const path = file(`blocklen-${length}.pcapng`, []);
      const bytes = Buffer.from(spawnSync('cat', [path]).stdout);
      bytes.writeUInt32LE(length, shb.length + 20 + 4);
      writeFileSync(path, bytes);
      expect(tcpdump(path).stderr).toMatch(/length of \d+/);
      oneLine(await synack(['read', path]), 2, /corrupt capture file .* at byte \d+: block .* impossible length/);
    }
  });
});

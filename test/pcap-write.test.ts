/**
 * Writing capture files that the tools people trust read back as they were meant: the link type
 * comes from the first packet when not given, a packet that does not fit a pcap file is refused
 * with a clear error, pcapng holds mixed link types (one interface each) and packet comments,
 * and `synack build --pcap` with Ethernet and IPv6 packets makes one file tcpdump, tshark and
 * synack's own reader all read. tcpdump 4.99 and tshark 4.0 are the oracles.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ether, IP, IPv6, TCP, UDP, readPackets, readPcap, writePcap, writePcapng, SynackError, type PcapRecord } from '../src/index.js';
import { ensureBuilt, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-pcapw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Oracles must be there; on CI a missing one fails loudly instead of skipping. */
function tool(name: string, versionFlag: string): boolean {
  const ok = spawnSync(name, [versionFlag]).status === 0;
  if (!ok && process.env.CI === 'true') throw new Error(`${name} is not installed: CI must install it (.ci/run)`);
  if (!ok) console.warn(`skipping ${name} checks: ${name} is not installed`);
  return ok;
}
const haveTcpdump = tool('tcpdump', '--version');
const haveTshark = tool('tshark', '-v');

function tcpdump(file: string, ...args: string[]): { lines: string[]; stderr: string; status: number | null } {
  const r = spawnSync('tcpdump', ['-nn', '-r', file, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr, status: r.status };
}

/** tshark's output and its stderr without the one warning it prints when run as root. */
function tshark(file: string, ...args: string[]): { lines: string[]; stderr: string; status: number | null } {
  const r = spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  const stderr = r.stderr.split('\n').filter((l) => l !== '' && !/^Running as user "root"/.test(l)).join('\n');
  return { lines: r.stdout.split('\n').filter((l) => l !== ''), stderr, status: r.status };
}

async function records(file: string): Promise<PcapRecord[]> {
  const out: PcapRecord[] = [];
  for await (const r of readPcap(file)) out.push(r);
  return out;
}

const syn = () => IP({ dst: '127.0.0.1' }).add(TCP({ dport: 80, flags: 'S' }));
const SYN_LINE = 'IP 127.0.0.1.20 > 127.0.0.1.80: Flags [S], seq 0, win 8192, length 0';
const SYN6_LINE = 'IP6 ::1.20 > ::1.80: Flags [S], seq 0, win 8192, length 0';

describe('writePcap takes the link type from the first packet', () => {
  const cases: [string, () => ReturnType<typeof syn>, number, string][] = [
    ['IP', syn, 101, SYN_LINE],
    ['IPv6', () => IPv6({ dst: '::1' }).add(TCP({ dport: 80, flags: 'S' })), 101, SYN6_LINE],
    ['Ether', () => Ether().add(syn()), 1, SYN_LINE],
  ];
  for (const [name, make, linkType, line] of cases) {
    it(`${name} → LINKTYPE ${linkType}, read back by tcpdump and synack`, async () => {
      const file = join(dir, `first-${name}.pcap`);
      const w = writePcap(file);
      w.write(make(), 1700000000000001);
      w.close();
      expect(w.linkType).toBe(linkType);
      const recs = await records(file);
      expect(recs.map((r) => r.linkType)).toEqual([linkType]);
      if (haveTcpdump) {
        const r = tcpdump(file, '-t');
        expect(r.status, r.stderr).toBe(0);
        expect(r.lines).toEqual([line]);
      }
    });
  }

  it('refuses a packet of another link type with one line naming the way out', () => {
    const file = join(dir, 'refused.pcap');
    const w = writePcap(file);
    w.write(Ether().add(syn()));
    let error: unknown;
    try {
      w.write(IPv6({ dst: '::1' }).add(TCP()));
    } catch (err) {
      error = err;
    }
    w.close();
    expect(error).toBeInstanceOf(SynackError);
    expect((error as Error).message).toMatch(/IPv6 \(RAW \(Raw IP\)\) cannot go into .*refused\.pcap, which holds EN10MB \(Ethernet\).*pcapng/);
    expect(w.count).toBe(1);
  });

  it('keeps IPv4 and IPv6 together in one raw-IP file, and an explicit link type', async () => {
    const file = join(dir, 'raw.pcap');
    const w = writePcap(file, { linkType: 'ipv4' });
    w.write(syn());
    expect(() => w.write(IPv6({ dst: '::1' }).add(TCP()))).toThrow(/cannot go into/);
    w.close();
    expect((await records(file)).map((r) => r.linkType)).toEqual([228]);
  });

  it('an empty writer still makes a valid file', async () => {
    const file = join(dir, 'empty.pcap');
    writePcap(file).close();
    expect(await records(file)).toEqual([]);
    if (haveTcpdump) expect(tcpdump(file).status).toBe(0);
  });

  it('a comment has no place in a pcap file: an error, not a silent loss', () => {
    const w = writePcap(join(dir, 'comment.pcap'));
    expect(() => w.write(syn(), { comment: 'hi' })).toThrow(/no place for comments.*pcapng/);
    w.close();
  });
});

describe('pcapng writer', () => {
  const file = join(dir, 'mixed.pcapng');
  beforeAll(() => {
    const w = writePcapng(file, { nanosecond: true });
    w.write(Ether().add(syn()), { time: 1700000000123456789n, comment: 'first, ünïcode' });
    w.write(IPv6({ dst: '::1' }).add(TCP({ dport: 80, flags: 'S' })), { time: 1700000001000000001n, comment: 'the second' });
    w.write(IP({ dst: '127.0.0.1' }).add(UDP({ dport: 53 })), 1700000002000001);
    w.close();
    expect(w.interfaces).toEqual([1, 101]);
  });

  it('synack reads back link types, interfaces, ns times and comments', async () => {
    const recs = await records(file);
    expect(recs.map((r) => [r.linkType, r.interfaceIndex, r.timestamp, r.comment])).toEqual([
      [1, 0, 1700000000123456789n, 'first, ünïcode'],
      [101, 1, 1700000001000000001n, 'the second'],
      [101, 1, 1700000002000001000n, undefined],
    ]);
    const packets = [];
    for await (const p of readPackets(file)) packets.push(p);
    expect(packets.map((p) => p.comment)).toEqual(['first, ünïcode', 'the second', undefined]);
    expect(packets[1]!.summary()).toBe(SYN6_LINE);
  });

  it.skipIf(!haveTshark)('tshark reads every packet, its interface, time and comment (frame.comment)', () => {
    const r = tshark(file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_id', '-e', 'frame.time_epoch', '-e', 'frame.comment', '-e', 'frame.protocols');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines).toEqual([
      '0|1700000000.123456789|first, ünïcode|eth:ethertype:ip:tcp',
      '1|1700000001.000000001|the second|raw:ipv6:tcp',
      '1|1700000002.000001000||raw:ip:udp',
    ]);
  });

  it.skipIf(!haveTcpdump)('a one-link-type pcapng with comments and µs stamps reads in tcpdump', async () => {
    const one = join(dir, 'one.pcapng');
    const w = writePcap(one); // pcapng by its name
    w.write(syn(), { time: 1700000000000001, comment: 'c' });
    w.write(syn(), 1700000000500000);
    w.close();
    const r = tcpdump(one, '-tt');
    expect(r.status, r.stderr).toBe(0);
    expect(r.lines).toEqual([`1700000000.000001 ${SYN_LINE}`, `1700000000.500000 ${SYN_LINE}`]);
    expect((await records(one)).map((x) => x.comment)).toEqual(['c', undefined]);
  });

  it('a packet bigger than the write buffer is written whole', async () => {
    const big = join(dir, 'big.pcapng');
    const w = writePcapng(big, { snaplen: 3 << 20 });
    const load = Buffer.alloc(2 << 20, 0x61);
    w.write(Ether().add(syn()).add(load), { time: 1, comment: 'big' });
    w.write(syn(), 2);
    w.close();
    const recs = await records(big);
    expect(recs.map((r) => [r.caplen, r.comment])).toEqual([[14 + 40 + load.length, 'big'], [40, undefined]]);
  });
});

describe('synack build --pcap with mixed link types', () => {
  beforeAll(() => ensureBuilt());

  it('Ether and IPv6 packets: one file that tcpdump, tshark and synack read, and it says what it did', async () => {
    const file = join(dir, 'mixed.pcap');
    const r = await synack(['build', "Ether()/IP(dst='127.0.0.1')/TCP(flags='S')", "IPv6(dst='::1')/TCP(flags='S')", '--pcap', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote 2 packets to ${file} (Ethernet: 1 packet without a link layer got an Ethernet header with zero addresses, as a pcap file holds one link type)\n`);
    const read = await synack(['read', file]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\S+ /, ''))).toEqual([SYN_LINE, SYN6_LINE]);
    if (haveTcpdump) {
      const t = tcpdump(file, '-t');
      expect(t.status, t.stderr).toBe(0);
      expect(t.lines).toEqual([SYN_LINE, SYN6_LINE]);
    }
    if (haveTshark) {
      const t = tshark(file, '-T', 'fields', '-e', 'frame.protocols', '-e', 'ipv6.dst', '-e', 'tcp.flags.syn');
      expect(t.status, t.stderr).toBe(0);
      expect(t.stderr).toBe('');
      expect(t.lines).toEqual(['eth:ethertype:ip:tcp\t\t1', 'eth:ethertype:ipv6:tcp\t::1\t1']);
    }
  });

  it.skipIf(!haveTshark)('a .pcapng path keeps each packet as built, one interface per link type', async () => {
    const file = join(dir, 'mixed-build.pcapng');
    const r = await synack(['build', "Ether()/IP(dst='127.0.0.1')/TCP()", "IPv6(dst='::1')/TCP()", '--pcap', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote 2 packets to .* \(pcapng, one interface per link type: EN10MB \(Ethernet\), RAW \(Raw IP\);/);
    const t = tshark(file, '-T', 'fields', '-e', 'frame.interface_id', '-e', 'frame.protocols');
    expect(t.lines).toEqual(['0\teth:ethertype:ip:tcp', '1\traw:ipv6:tcp']);
  });
});

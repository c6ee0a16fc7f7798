/**
 * The capture filter as a library (src/pcap/filter): compiled filters pick the same frames as
 * libpcap does for a file of varied frames (VLAN tags, IPv4 fragments, truncated captures,
 * IPv6, ARP, ICMP), with tcpdump's own `-r IN -w OUT FILTER` as the oracle. No root needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARP, Ether, ICMP, IP, IPv6, TCP, UDP, compileFilter, readPacketsSync, readPcapSync, writePcap } from '../src/index.js';
import { networkStart, networkStartSource } from '../src/wire/network-start.js';
import { oracleMissing } from './helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-filter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noTcpdump = oracleMissing('tcpdump', ['--version']);

/** A frame tagged with 802.1Q (VLAN id) in front of an IPv4 packet. */
function vlanTagged(vlan: number, inner: Buffer): Buffer {
  const eth = inner.subarray(0, 14);
  const out = Buffer.alloc(inner.length + 4);
  eth.copy(out, 0, 0, 12);
  out.writeUInt16BE(0x8100, 12);
  out.writeUInt16BE(vlan, 14);
  inner.copy(out, 16, 12);
  return out;
}

function frames(): Buffer[] {
  const e = (): ReturnType<typeof Ether> => Ether({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' });
  const out: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const flags = ['S', 'SA', 'A', 'PA', 'FA', 'R'][i % 6]!;
    out.push(e().add(IP({ src: `198.51.100.${i % 3}`, dst: '198.51.100.9' })).add(TCP({ sport: 40000 + i, dport: i % 2 ? 80 : 443, flags })).add('GET').bytes());
    out.push(e().add(IPv6({ src: '2001:db8::1', dst: `2001:db8::${i + 2}` })).add(TCP({ sport: 80, dport: 50000 + i, flags })).bytes());
  }
  out.push(e().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(UDP({ sport: 53, dport: 5353 })).add('x').bytes());
  out.push(e().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(ICMP({ type: 8, id: 1, seq: 1 })).bytes());
  out.push(e().add(ARP({ psrc: '198.51.100.1', pdst: '198.51.100.9' })).bytes());
  // A later fragment: no transport header, so no ports.
  out.push(e().add(IP({ src: '198.51.100.1', dst: '198.51.100.2', proto: 6, frag: 100 })).add(Buffer.alloc(20, 0)).bytes());
  // Captures cut short: inside the TCP header, and inside the IP header.
  const whole = e().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(TCP({ dport: 80 })).bytes();
  out.push(whole.subarray(0, 40), whole.subarray(0, 20));
  out.push(vlanTagged(10, e().add(IP({ src: '198.51.100.5', dst: '198.51.100.9' })).add(TCP({ dport: 80, flags: 'S' })).bytes()));
  out.push(vlanTagged(20, e().add(IP({ src: '198.51.100.5', dst: '198.51.100.9' })).add(UDP({ dport: 80 })).bytes()));
  return out;
}

const FILTERS = [
  'tcp port 80',
  'host 198.51.100.1 and tcp[tcpflags] & tcp-syn != 0',
  'ip6 or icmp',
  'port http',
  'tcp port https',
  'ether proto 0x0800',
  'ether proto \\arp',
  'ip proto \\tcp',
  'ip6 proto 6',
  'vlan',
  'vlan 10',
  'vlan and tcp port 80',
  'vlan 20 and udp',
  'not vlan and ip',
  'not tcp[20] = 1',
  'tcp[13] = 2 or udp',
  'net 198.51.100.0/30',
  'src net 198.51.100.0/24 and not dst host 198.51.100.2',
  'arp host 198.51.100.9',
  'ether src 02:00:00:00:00:01 and greater 100',
  'less 60',
  'portrange 440-450',
  'ip6 dst host 2001:db8::5',
  'ip[6:2] & 0x1fff != 0',
  'tcp[tcpflags] & (tcp-fin|tcp-rst) != 0',
  'len - 14 > 60',
];

describe('the capture filter', () => {
  const file = join(dir, 'varied.pcap');
  const all = frames();
  const w = writePcap(file, { linkType: 'ether' });
  all.forEach((f, i) => w.write(f, 1_700_000_000_000_000 + i));
  w.close();

  it.skipIf(noTcpdump !== undefined)(`picks the frames libpcap picks${noTcpdump ? ` (skipped: ${noTcpdump})` : ''}`, () => {
    for (const filter of FILTERS) {
      const out = join(dir, 'tcpdump-out.pcap');
      const r = spawnSync('tcpdump', ['-r', file, '-w', out, filter], { encoding: 'utf8' });
      expect(r.status, `${filter}: ${r.stderr}`).toBe(0);
      const theirs = [...readPcapSync(out)].map((rec) => rec.data.toString('hex'));
      const f = compileFilter(filter);
      const ours = all.filter((frame) => f(frame, frame.length, 1)).map((b) => b.toString('hex'));
      expect(ours, filter).toEqual(theirs);
      // The reader's in-place path agrees with the call on a slice.
      expect([...readPcapSync(file, { filter })].map((rec) => rec.data.toString('hex')), filter).toEqual(theirs);
    }
  });

  it('is used by readPackets(path, { filter }) and keeps its own state per filter', () => {
    const syns = [...readPacketsSync(file, { filter: 'tcp[tcpflags] & tcp-syn != 0' })];
    expect(syns.length).toBeGreaterThan(0);
    const tcp = compileFilter('tcp');
    const udp = compileFilter('udp');
    const frame = all[0]!;
    // Interleaved calls on two filters do not see each other's frame.
    expect([tcp(frame, frame.length, 1), udp(frame, frame.length, 1), tcp(frame, frame.length, 1)]).toEqual([true, false, true]);
    // The same filter on another link type: raw IP.
    expect(tcp(frame.subarray(14), frame.length - 14, 101)).toBe(true);
    expect(compileFilter('tcp port 80').source(1)).toContain('return');
  });

  it('says what is wrong in one line, as tcpdump does for numbers', () => {
    expect(() => compileFilter('tcp[4294967296] = 0')).toThrow('number 4294967296 overflows 32 bits');
    expect(() => compileFilter('port nosuchservice')).toThrow(/'nosuchservice' is not a port number or a known service name/);
    expect(() => compileFilter('tcp prot 80')).toThrow(/did you mean 'port'/);
    expect(() => compileFilter('vlan 5000')).toThrow(/VLAN id 5000 is out of range/);
  });

  it('finds the network layer by one rule, in code and in generated code', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (const linkType of [1, 101, 113, 276, 228, 229]) {
      for (let i = 0; i < 300; i++) {
        const frame = Buffer.from(Array.from({ length: rand(30) }, () => rand(256)));
        if (rand(3) === 0 && frame.length > 13) frame.writeUInt16BE(0x8100, 12);
        for (const tags of [0, 1]) {
          const made = new Function('networkStart', 'b', 'o', 'n', `${networkStartSource(linkType, tags, 't', 'l')} return [t, l];`);
          const start = networkStart(frame, 0, frame.length, linkType, tags);
          const want = start < 0 ? [-1, -1] : [start >>> 16, start & 0xffff];
          expect(made(networkStart, frame, 0, frame.length), `link ${linkType} tags ${tags} ${frame.toString('hex')}`).toEqual(want);
        }
      }
    }
  });
});

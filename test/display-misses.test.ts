/**
 * The display misses of issue 15, each against tcpdump 4.99 itself on pcaps written here:
 *  - MPTCP (TCP option 30) in every form print-mptcp.c decodes, the lengths and TCP flags it
 *    refuses (a bad option ends the line), and captures cut inside and after the option;
 *  - IPv4 total length 0 (a TSO or BIG TCP capture) and IPv6 jumbograms, full size and not;
 *  - IPv6 routing headers tcpdump stops at (odd lengths) or reads on (segment routing TLVs);
 *  - an ARP operation tcpdump does not know, bad IP versions (behind Ethernet, BSD loopback and
 *    on the raw IP link types, 12 among them, where tcpdump says `unknown ip 3`), an IPv6 fragment header whose
 *    length comes out negative, IPv4 options in -v (odd, bad and cut short), ICMP errors that
 *    quote a whole packet;
 *  - pcap records whose fraction field is a second or more, and records whose original length
 *    is shorter than the captured length (or zero), in every -t style, with --nano, and through
 *    `synack read` (its output, messages and exit status against tcpdump's).
 * The MPTCP packets are Scapy's (Scapy 2.5 has no MPTCP class: it builds the option as kind 30
 * and its bytes); synack builds the same bytes from the same expression and dissects them back
 * to the same option. Pure: files only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dissect, packet } from '../src/index.js';
import { readPcapSync } from '../src/pcap/read.js';
import { oracleMissing } from './helpers/oracle.js';
import { SCAPY_PYTHON, scapyUnavailable } from './helpers/scapy.js';
import { ourLines, tcpdumpLines } from './helpers/tcpdump-lines.js';
import { synack } from './helpers/cli.js';

process.env.TZ = 'UTC';
const skip = oracleMissing('tcpdump', ['--version']) ?? scapyUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'synack-display-misses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const E = "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')";
const A = '198.51.100.1';
const B = '198.51.100.2';
const A6 = '2001:db8::1';
const B6 = '2001:db8::2';

/** Python's b'...' for bytes given in hex. */
function pyBytes(hex: string): string {
  return "b'" + hex.replace(/\s+/g, '').replace(/../g, (h) => '\\x' + h) + "'";
}

/** A segment carrying one MPTCP option (subtype and the rest in hex) under the given TCP flags. */
function mptcp(hex: string, flags = 'A'): string {
  return `${E}/IP(src='${A}', dst='${B}')/TCP(sport=1000, dport=2000, flags='${flags}', seq=1, ack=1, options=[(30, ${pyBytes(hex)})])`;
}

const KEY = '0123456789abcdef';
const KEY2 = 'fedcba9876543210';
const V4 = 'c6336401';
const V6 = '20010db8000000000000000000000001';

/** Every MPTCP form tcpdump 4.99.3 decodes, and the ones it calls bad (the value after the length byte). */
const MPTCP_CASES: readonly string[] = [
  // MP_CAPABLE: v0 and v1; 12 bytes on SYN or SYN/ACK, 4 on a v1 SYN, 20 or 22 on the third ACK.
  mptcp('0081' + KEY, 'S'),
  mptcp('0001' + KEY, 'SA'),
  mptcp('0101', 'S'),
  mptcp('0181' + KEY + KEY2),
  mptcp('0101' + KEY + KEY2 + '0005', 'PA'),
  mptcp('0201', 'S'),
  mptcp('0101' + KEY),
  mptcp('0101' + KEY + KEY2, 'SA'),
  mptcp('00', 'S'),
  // MP_JOIN: SYN (token, nonce), SYN/ACK (truncated HMAC, nonce), third ACK (whole HMAC).
  mptcp('1105' + 'aabbccdd' + '01020304', 'S'),
  mptcp('1005' + KEY + '01020304', 'SA'),
  mptcp('1000' + '000102030405060708090a0b0c0d0e0f10111213'),
  mptcp('1000' + '000102030405060708090a0b0c0d0e0f10111213', 'SA'),
  mptcp('1000' + KEY + '01020304'),
  // DSS: 4- and 8-byte data ACKs and sequence numbers, the mapping with and without checksum, DATA_FIN.
  mptcp('2001' + '00000100'),
  mptcp('2003' + KEY),
  mptcp('2005' + '00000100' + '00000009' + '00000001' + '0010'),
  mptcp('2005' + '00000100' + '00000009' + '00000001' + '0010' + 'abcd'),
  mptcp('201f' + KEY + KEY2 + '00000001' + '0010' + 'abcd'),
  mptcp('2010'),
  mptcp('2000'),
  mptcp('2001' + '00000100', 'S'),
  mptcp('2001' + '000001'),
  mptcp('2001' + '0000010000'),
  // ADD_ADDR: IPv4 and IPv6, with a port, with an HMAC, the echo bit, v0's IP version, bad bits, a bad length.
  mptcp('3001' + V4),
  mptcp('3102' + V4 + '1f90'),
  mptcp('3003' + V4 + KEY),
  mptcp('3003' + V4 + '1f90' + KEY),
  mptcp('3004' + V6),
  mptcp('3004' + V6 + '0050'),
  mptcp('3004' + V6 + KEY),
  mptcp('3004' + V6 + '0050' + KEY),
  mptcp('3404' + V4),
  mptcp('3604' + V6),
  mptcp('3f04' + V4),
  mptcp('3004' + V4 + '00'),
  // REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE, and MP_TCPRST (which 4.99.3 does not know).
  mptcp('4001'),
  mptcp('4001' + '0203'),
  mptcp('40'),
  mptcp('5103'),
  mptcp('5003'),
  mptcp('51'),
  mptcp('50'),
  mptcp('500102'),
  mptcp('6000' + KEY),
  mptcp('6000' + KEY.slice(0, 8)),
  mptcp('7000' + KEY),
  mptcp('7000'),
  mptcp('8102'),
  mptcp('9000'),
  mptcp('f00001'),
  mptcp(''),
  // Beside other options, and over IPv6.
  `${E}/IP(src='${A}', dst='${B}')/TCP(sport=1000, dport=2000, flags='A', options=[(30, ${pyBytes('2001' + '00000100')}), ('NOP', None), ('NOP', None), (30, ${pyBytes('5103')})])`,
  `${E}/IP(src='${A}', dst='${B}')/TCP(sport=1000, dport=2000, flags='A', options=[('NOP', None), (30, ${pyBytes('2001000001')}), ('NOP', None)])`,
  `${E}/IPv6(src='${A6}', dst='${B6}')/TCP(sport=1000, dport=2000, flags='S', options=[(30, ${pyBytes('0101')})])`,
];

/** Cut at every length: within the MPTCP option ([|tcp]), after it ([|mptcp]), in the payload. */
const MPTCP_CUT: readonly string[] = [
  `${E}/IP(src='${A}', dst='${B}')/TCP(sport=1000, dport=2000, flags='A', options=[(30, ${pyBytes('2001' + '00000100')}), ('NOP', None), ('MSS', 1460)])`,
  `${E}/IP(src='${A}', dst='${B}')/TCP(sport=1000, dport=80, flags='PA', options=[(30, ${pyBytes('2001' + '00000100')}), ('NOP', None), ('NOP', None)])/Raw(load=b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')`,
];

const QUOTED_TCP = `IP(src='${B}', dst='${A}')/TCP(sport=4444, dport=80, flags='PA')/Raw(load=b'GET / HTTP/1.0\\r\\n\\r\\n')`;
const QUOTED_DNS = `IP(src='${B}', dst='${A}')/UDP(sport=53, dport=3333)/DNS(rd=1, qd=DNSQR(qname='example.test'))`;

/** IPv4 length 0, jumbograms, ARP, versions, fragments, IPv4 options, ICMP errors quoting a packet. */
const MISC_CASES: readonly string[] = [
  `${E}/IP(src='${A}', dst='${B}', len=0)/TCP(sport=1, dport=2, flags='PA')/Raw(load=b'${'x'.repeat(100)}')`,
  `${E}/IP(src='${A}', dst='${B}', len=0)/UDP(sport=1, dport=2)/Raw(load=b'${'x'.repeat(100)}')`,
  `${E}/IP(src='${A}', dst='${B}', len=0)/ICMP()/Raw(load=b'xxxxxxxxxx')`,
  `${E}/IP(src='${A}', dst='${B}', len=10)/TCP()`,
  `${E}/IP(src='${A}', dst='${B}', len=0, options=[IPOption_RR()])/TCP()`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=128)])/TCP(sport=1, dport=2, flags='PA')/Raw(load=b'${'y'.repeat(100)}')`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=66)])/UDP(sport=1, dport=2)/Raw(load=b'${'y'.repeat(50)}')`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=70000)])/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=70000)])/UDP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=20)])/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}')/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=70000)])/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=100)])/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=0)/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=70000)])/ICMPv6EchoRequest()`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x806)/ARP(op=5, psrc='${A}', pdst='${B}')`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x806)/ARP(op=25, psrc='${A}', pdst='${B}')/Raw(load=b'padding!')`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x800)/Raw(load=${pyBytes('35000028000100004006000000000000000000000014005000000000000000005002200000000000')})`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x800)/IPv6(src='${A6}', dst='${B6}')/TCP()`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x86dd)/IP(src='${A}', dst='${B}')/TCP()`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=4)/IPv6ExtHdrFragment(offset=0, m=1, id=7)/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=6)/IPv6ExtHdrFragment(offset=0, m=1, id=7)/TCP(sport=1, dport=2)`,
  `${E}/IPv6(src='${A6}', dst='${B6}', plen=8)/IPv6ExtHdrFragment(offset=3, m=0, id=7, nh=6)/Raw(load=b'zzzzzzzz')`,
  ...[
    '070b0401020304',
    '070b0401020304050607',
    '440c0501' + '00'.repeat(8),
    '440c0511' + '00'.repeat(8),
    '440c0513' + '00'.repeat(8),
    '820b' + '00'.repeat(10),
    '94040000',
    '94040001',
    '94030000',
    '520c' + '00'.repeat(10),
    '01010100',
    '19020000',
    '890b04' + '0102030405060708' + '00',
    '07000000',
    '07010000',
    '07070401020304' + '00',
    '4408050000000000',
  ].map((o) => `${E}/IP(src='${A}', dst='${B}', options=${pyBytes(o)})/TCP()`),
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=3, code=3)/${QUOTED_DNS}`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=11, code=0)/${QUOTED_TCP}`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=3, code=4, nexthopmtu=1400)/${QUOTED_TCP}`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=12)/${QUOTED_TCP}`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=5, gw='198.51.100.9')/${QUOTED_TCP}`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=3, code=3)/IP(src='${B}', dst='${A}')/ICMP()/Raw(load=b'abcd')`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=3, code=3)/IP(src='${B}', dst='${A}', options=[IPOption_RR()])/UDP(sport=1, dport=2)/Raw(load=b'abcd')`,
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=11, code=0)/IP(src='${B}', dst='${A}')/TCP(sport=1000, dport=2000, flags='A', options=[(30, ${pyBytes('2001' + '00000100')})])`,
  `${E}/IPv6(src='${A6}', dst='${B6}')/ICMPv6DestUnreach()/IPv6(src='${B6}', dst='${A6}')/UDP(sport=53, dport=3333)/DNS(rd=1, qd=DNSQR(qname='example.test'))`,
];

/** IPv4 options cut at every length, and an ICMP error quoting an IPv4 header with options, cut the same way. */
const OPTIONS_CUT: readonly string[] = [
  ...['440c0501' + '00'.repeat(8), '070b0401020304050607080000', '018307040102030400000000', '94040000', '820c' + '00'.repeat(10)].map(
    (o) => `${E}/IP(src='${A}', dst='${B}', options=${pyBytes(o)})/TCP()`,
  ),
  `${E}/IP(src='${A}', dst='${B}')/ICMP(type=3, code=3)/IP(src='${B}', dst='${A}', options=${pyBytes('0707040102030400')})/UDP(sport=53, dport=9)/Raw(load=b'abcdefgh')`,
];

/** Jumbograms of full size (BIG TCP), whole and cut, and an IPv4 BIG TCP packet (total length 0). */
const J6 = `bytes(IPv6(src='${A6}', dst='${B6}', nh=0, plen=0))`;
const JUMBO: readonly string[] = [
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x86dd)/Raw(load=${J6} + bytes(IPv6ExtHdrHopByHop(nh=6, options=[Jumbo(jumboplen=70028)])) + bytes(TCP(sport=1, dport=2, flags='PA')) + b'z' * 70000)`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x86dd)/Raw(load=${J6} + bytes(IPv6ExtHdrHopByHop(nh=17, options=[Jumbo(jumboplen=70016)])) + bytes(UDP(sport=1, dport=2, len=0, chksum=0)) + b'z' * 70000)`,
  `Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x800)/Raw(load=bytes(IP(src='${A}', dst='${B}', len=0)/TCP(sport=1, dport=2, flags='PA')) + b'z' * 70000)`,
];

/** Bare IP with versions 4, 6, 3 and 7 (and one byte of it), for the raw IP link types; 3 behind BSD loopback. */
const V3 = "b'\\x35' + bytes(IP(src='198.51.100.1', dst='198.51.100.2')/TCP())[1:]";
const RAW_IP: readonly string[] = [
  `IP(src='${A}', dst='${B}')/TCP()`,
  `IPv6(src='${A6}', dst='${B6}')/TCP()`,
  `Raw(load=${V3})`,
  `Raw(load=b'\\x75' + bytes(IPv6(src='${A6}', dst='${B6}')/TCP())[1:])`,
  "Raw(load=b'\\x45')",
];
// Routing headers tcpdump 4.99 stops at or reads on: odd lengths, segment routing TLVs (read
// as addresses), a header longer than the capture.
const SRH = "IPv6(src='2001:db8::1', dst='2001:db8::9')/IPv6ExtHdrSegmentRouting";
const RT6_CASES: readonly string[] = [
  `${E}/${SRH}(addresses=['2001:db8::3'], tlv_objects=[IPv6ExtHdrSegmentRoutingTLVPadN(padding=b'\\x00' * 4)])/UDP()`,
  `${E}/${SRH}(addresses=['2001:db8::3', '2001:db8::4'], tlv_objects=[IPv6ExtHdrSegmentRoutingTLVPadN(padding=b'\\x00' * 12)])/UDP()`,
  `${E}/${SRH}(addresses=['2001:db8::3', '2001:db8::4'], len=3)/UDP()`,
  `${E}/${SRH}(addresses=['2001:db8::3', '2001:db8::4'], len=6)/UDP()`,
  `${E}/IPv6(src='2001:db8::1', dst='2001:db8::9')/IPv6ExtHdrRouting(addresses=['2001:db8::3', '2001:db8::4'], len=3)/UDP()`,
  `${E}/IPv6(src='2001:db8::1', dst='2001:db8::9')/IPv6ExtHdrRouting(addresses=['2001:db8::3', '2001:db8::4'], len=6)/UDP()`,
  `${E}/IPv6(src='2001:db8::1', dst='2200::1')/IPv6ExtHdrRouting(addresses=['2200::1', '2001:db8::2'])/UDP()`,
];
const NULL_IP: readonly string[] = [`Raw(load=struct.pack('<I', 2) + ${V3})`, `Raw(load=struct.pack('<I', 30) + ${V3})`];

// Scapy writes each group to a pcap; the cut groups get one record per captured length (from
// the end of the link header on), the whole frame's length kept as its original length.
const WRITER = String.raw`
import sys, json, struct, warnings, logging
warnings.filterwarnings("ignore"); logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
groups = json.load(open(sys.argv[1]))
for g in groups:
    frames = [bytes(eval(e)) for e in g['exprs']]
    with open(g['file'], 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, g.get('link', 1)))
        t = 1
        for p in frames:
            for cut in (range(g['cutFrom'], len(p) + 1) if g['cutFrom'] else [len(p)]):
                f.write(struct.pack('<IIII', t, 0, cut, len(p))); f.write(p[:cut]); t += 1
`;

// ---- record headers, written here byte by byte ----

/** Ether/IP/UDP with five bytes of payload, 47 bytes. */
const FRAME = Buffer.from('02000000000202000000000108004500002100010000401126' + '61c6336401c63364020001000200' + '0d6794' + '68656c6c6f', 'hex');

function pcapFile(nano: boolean, records: readonly { sec: number; frac: number; caplen?: number; wire?: number }[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const parts = [header];
  for (const r of records) {
    const caplen = r.caplen ?? FRAME.length;
    const h = Buffer.alloc(16);
    h.writeUInt32LE(r.sec, 0);
    h.writeUInt32LE(r.frac, 4);
    h.writeUInt32LE(caplen, 8);
    h.writeUInt32LE(r.wire ?? FRAME.length, 12);
    parts.push(h, FRAME.subarray(0, caplen));
  }
  return Buffer.concat(parts);
}

function pcapngShort(): Buffer {
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const n = 12 + padded.length;
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(n, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(n, 0);
    return Buffer.concat([head, padded, tail]);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(1, 0);
  idb.writeUInt32LE(65535, 4);
  const epb = (micros: number, caplen: number, wire: number): Buffer => {
    const b = Buffer.alloc(20);
    b.writeUInt32LE(0, 0);
    b.writeUInt32LE(0, 4);
    b.writeUInt32LE(micros, 8);
    b.writeUInt32LE(caplen, 12);
    b.writeUInt32LE(wire, 16);
    return block(6, Buffer.concat([b, FRAME.subarray(0, caplen)]));
  };
  const n = FRAME.length;
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), epb(1e6, n, n), epb(2e6, n, 10), epb(3e6, n, 0), epb(4e6, 0, 0), epb(5e6, n, n)]);
}

const RECORD_FILES: Record<string, Buffer> = {
  'usec.pcap': pcapFile(false, [999999, 1000000, 1000001, 1500000, 0xffffffff].map((frac) => ({ sec: 100, frac })).concat([{ sec: 200, frac: 5 }])),
  'nsec.pcap': pcapFile(true, [999999999, 1000000000, 1999999999, 0xffffffff].map((frac) => ({ sec: 100, frac }))),
  'short.pcap': pcapFile(false, [{ sec: 1, frac: 0 }, { sec: 1, frac: 0, wire: FRAME.length - 1 }, { sec: 1, frac: 0, wire: 10 }, { sec: 1, frac: 0, wire: 0 }, { sec: 1, frac: 0 }]),
  'zero.pcap': pcapFile(false, [{ sec: 1, frac: 0 }, { sec: 1, frac: 0, caplen: 0 }, { sec: 1, frac: 0 }]),
  'short.pcapng': pcapngShort(),
};

const FLAG_SETS: readonly string[][] = [[], ['-v'], ['-vv'], ['-e'], ['-x']];
const TIME_FLAGS: readonly string[][] = [[], ['-tt'], ['-ttt'], ['-tttt'], ['-ttttt'], ['--nano'], ['--nano', '-tt'], ['--nano', '-ttt'], ['--nano', '-ttttt'], ['-x']];

function expectSameLines(file: string, flags: readonly string[]): string[] {
  const expected = tcpdumpLines(file, flags);
  const got = ourLines(file, flags);
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    if (expected[i] !== got[i]) expect({ flags: flags.join(' '), line: i + 1, ours: got[i] }).toEqual({ flags: flags.join(' '), line: i + 1, ours: expected[i] });
  }
  return expected;
}

describe.skipIf(skip !== undefined)(`display misses against tcpdump${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const files = {
    mptcp: join(dir, 'mptcp.pcap'),
    mptcpCut: join(dir, 'mptcp-cut.pcap'),
    misc: join(dir, 'misc.pcap'),
    optionsCut: join(dir, 'options-cut.pcap'),
    jumbo: join(dir, 'jumbo.pcap'),
    rt6: join(dir, 'rt6.pcap'),
    raw101: join(dir, 'raw101.pcap'),
    raw228: join(dir, 'raw228.pcap'),
    raw229: join(dir, 'raw229.pcap'),
    // Link type 12: DLT_RAW as Linux and OpenBSD number it, which libpcap reads as raw IP.
    raw12: join(dir, 'raw12.pcap'),
    null: join(dir, 'null.pcap'),
  };

  beforeAll(() => {
    const groups = [
      { file: files.mptcp, exprs: MPTCP_CASES, cutFrom: 0 },
      { file: files.mptcpCut, exprs: MPTCP_CUT, cutFrom: 54 },
      { file: files.misc, exprs: MISC_CASES, cutFrom: 0 },
      { file: files.optionsCut, exprs: OPTIONS_CUT, cutFrom: 34 },
      { file: files.jumbo, exprs: JUMBO, cutFrom: 0 },
      { file: files.rt6, exprs: RT6_CASES, cutFrom: 0 },
      ...([101, 228, 229, 12] as const).map((link) => ({ file: files[`raw${link}`], exprs: RAW_IP, cutFrom: 0, link })),
      { file: files.null, exprs: NULL_IP, cutFrom: 0, link: 0 },
    ];
    writeFileSync(join(dir, 'groups.json'), JSON.stringify(groups));
    const r = spawnSync(SCAPY_PYTHON, ['-c', WRITER, join(dir, 'groups.json')], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`scapy failed: ${r.stderr}`);
    for (const [name, bytes] of Object.entries(RECORD_FILES)) writeFileSync(join(dir, name), bytes);
  }, 60_000);

  for (const flags of FLAG_SETS) {
    for (const name of Object.keys(files) as (keyof typeof files)[]) {
      it(`${name} with tcpdump -nn ${flags.join(' ')}`, () => {
        expectSameLines(files[name], flags);
      });
    }
  }

  it('covers what it claims: the forms tcpdump prints for each miss', () => {
    const mp = tcpdumpLines(files.mptcp, []).join('\n');
    for (const text of [
      'mptcp 12 capable v0 csum {0x123456789abcdef}',
      'mptcp 4 capable v1]',
      'mptcp 20 capable v1 csum {0x123456789abcdef,0xfedcba9876543210}',
      'mptcp 22 capable v1 {0x123456789abcdef,0xfedcba9876543210}',
      'mptcp 4 capable Unknown Version (2)',
      'mptcp 12 capable[bad opt]',
      'mptcp 12 join backup id 5 token 0xaabbccdd nonce 0x1020304',
      'mptcp 16 join id 5 hmac 0x123456789abcdef nonce 0x1020304',
      'mptcp 24 join hmac 0x000102030405060708090a0b0c0d0e0f10111213',
      'mptcp 8 dss ack 256]',
      'mptcp 12 dss ack 81985529216486895]',
      'mptcp 18 dss ack 256 seq 9 subseq 1 len 16,eol',
      'mptcp 28 dss fin ack 81985529216486895 seq 18364758544493064720 subseq 1 len 16 csum 0xabcd',
      'mptcp 10 add-addr v1-echo id 2 198.51.100.1:8080',
      'mptcp 30 add-addr v1 id 4 2001:db8::1:80 hmac 0x123456789abcdef',
      'mptcp 8 add-addr [bad version/echo] id 4 198.51.100.1',
      'mptcp 6 rem-addr id 1 2 3',
      'mptcp 3 prio backup',
      'mptcp 4 prio non-backup id 3',
      'mptcp 12 fail seq 81985529216486895',
      'mptcp 12 fast-close key 0x123456789abcdef',
      'mptcp 4 unknown',
      'options [mptcp[bad opt]',
    ]) expect(mp).toContain(text);
    const cut = tcpdumpLines(files.mptcpCut, []).join('\n');
    expect(cut).toContain('options [mptcp 8 dss ack 256,nop,mss [|mptcp]>');
    expect(cut).toContain('options [mptcp [|tcp]');
    const misc = tcpdumpLines(files.misc, []).join('\n');
    for (const text of [
      'IP bad-len 0',
      'HBH truncated-ip6 - 69972 bytes missing!1 > 2: Flags [S], seq 0:69972',
      'ARP, Unknown (5) \n\t0x0000:  0001 0800 0604 0005',
      'IP3 (invalid)',
      'IP6, wrong link-layer encapsulation (invalid)',
      'IP6 version error: 4 != 6',
      'frag (0|18446744073709551612) ',
    ]) expect(misc).toContain(text);
    expect(tcpdumpLines(files.jumbo, ['-v'])[0]).toContain('HBH (jumbo: 70028)  1 > 2: Flags [P.], cksum 0x0000 (incorrect -> 0x09cb), seq 0:70000, ack 0, win 8192, length 70000');
    expect(tcpdumpLines(files.raw101, [])[2]).toBe('00:00:03.000000 unknown ip 3');
    expect(tcpdumpLines(files.null, [])[0]).toBe('00:00:01.000000 IP3 (invalid)');
    const miscV = tcpdumpLines(files.misc, ['-v']).join('\n');
    for (const text of ['HBH (jumbo: 70000)  truncated-ip6 - 69972 bytes missing!', 'options (RR [bad length 11])', '\tIP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 58)\n    198.51.100.2.53 > 198.51.100.1.3333: 0+ A? example.test. (30)']) {
      expect(miscV).toContain(text);
    }
    expect(tcpdumpLines(files.optionsCut, ['-v']).join('\n')).toContain('[truncated-option])');
  });

  it('builds the MPTCP options as Scapy does, and dissects them back to the same option and bytes', () => {
    const frames = [...readPcapSync(files.mptcp)].map((r) => r.data);
    expect(frames.length).toBe(MPTCP_CASES.length);
    for (const [i, expr] of MPTCP_CASES.entries()) {
      const built = packet(expr).bytes();
      expect({ expr, hex: built.toString('hex') }).toEqual({ expr, hex: frames[i]!.toString('hex') });
      const back = dissect(built, 'ether');
      expect(back.bytes().equals(built)).toBe(true);
      const options = back.getLayer('TCP')!.fields.options as readonly (readonly unknown[])[];
      const given = packet(expr).getLayer('TCP')!.fields.options as readonly (readonly unknown[])[];
      const mp = (list: readonly (readonly unknown[])[]): string[] => list.filter((o) => o[0] === 30).map((o) => Buffer.from(o[1] as Buffer).toString('hex'));
      expect(mp(options)).toEqual(mp(given));
    }
  });

  describe('pcap records: fraction fields past a second, original lengths short of the captured length', () => {
    for (const name of Object.keys(RECORD_FILES)) {
      for (const flags of TIME_FLAGS) {
        if (flags.includes('--nano') && !name.endsWith('sec.pcap')) continue;
        it(`${name} with tcpdump -nn ${flags.join(' ')}`, () => {
          expectSameLines(join(dir, name), flags);
        });
      }
    }

    it('prints the fraction as tcpdump does, not carried into the seconds', () => {
      expect(tcpdumpLines(join(dir, 'usec.pcap'), [])[1]).toMatch(/^00:01:40\.1000000 IP /);
      expect(ourLines(join(dir, 'usec.pcap'), [])[1]).toMatch(/^00:01:40\.1000000 IP /);
      expect(tcpdumpLines(join(dir, 'short.pcap'), [])[1]).toBe('[Invalid header: len(46) < caplen(47)]');
    });

    for (const name of Object.keys(RECORD_FILES)) {
      it(`synack read ${name} says what tcpdump -r says, on both streams, with its exit status`, async () => {
        for (const flags of [[], ['-x'], ['-tt']]) {
          const file = join(dir, name);
          const theirs = spawnSync('tcpdump', ['-nn', ...flags, '-r', file], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' } });
          const ours = await synack(['read', ...flags, file]);
          expect({ flags, code: ours.code, stdout: ours.stdout, stderr: ours.stderr }).toEqual({ flags, code: theirs.status, stdout: theirs.stdout, stderr: theirs.stderr });
        }
      });
    }
  });
});

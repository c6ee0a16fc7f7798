/**
 * IPv6, its extension headers and ICMPv6: the bytes synack builds are the bytes Scapy 2.5
 * builds for the same expression (one Scapy process answers them all), dissection gives them
 * back byte for byte with the same fields, checksums verify on the way in, and no cut of any
 * of these packets makes dissection throw.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dissect, IPv6, IPerror6, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrFragment, IPv6ExtHdrDestOpt,
  ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded,
  ICMPv6ParamProblem, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr, ICMPv6NDOptUnknown,
  ICMPv6Unknown, TCP, TCPerror, UDP, UDPerror, Raw, IP, Ether, Packet, Layer,
} from '../src/index.js';
import { scapyBuild, scapyUnavailable, type ScapyAnswer } from './helpers/scapy.js';

const A = '2001:db8::1';
const B = '2001:db8::2';
const R = '2001:db8::fe';

interface Case {
  scapy: string;
  build: () => Packet;
  /** The link to dissect with (default 'ipv6'). */
  link?: 'ipv6' | 'ip' | 'ether';
  /** An extension header with nothing below: only its bytes are compared (no link starts there). */
  standalone?: boolean;
}

const allCases: Case[] = [
  // IPv6 alone and with transports.
  { scapy: `IPv6()`, build: () => IPv6() },
  { scapy: `IPv6(src='${A}', dst='${B}', tc=0xb8, fl=0x12345, hlim=7)`, build: () => IPv6({ src: A, dst: B, tc: 0xb8, fl: 0x12345, hlim: 7 }) },
  { scapy: `IPv6()/TCP()`, build: () => IPv6().add(TCP()) },
  { scapy: `IPv6(src='${A}', dst='${B}')/TCP(sport=40000, dport=443, flags='PA', seq=1000, ack=2000, options=[('MSS',1440),('NOP',None),('WScale',7)])/Raw(b'hello')`,
    build: () => IPv6({ src: A, dst: B }).add(TCP({ sport: 40000, dport: 443, flags: 'PA', seq: 1000, ack: 2000, options: [['MSS', 1440], ['NOP'], ['WScale', 7]] }), Raw({ load: 'hello' })) },
  { scapy: `IPv6(src='${A}', dst='${B}')/UDP(sport=5353, dport=53)/Raw(b'query')`, build: () => IPv6({ src: A, dst: B }).add(UDP({ sport: 5353, dport: 53 }), Raw({ load: 'query' })) },
  { scapy: `IPv6()/UDP()`, build: () => IPv6().add(UDP()) },
  { scapy: `IPv6()/Raw(b'abc')`, build: () => IPv6().add(Raw({ load: 'abc' })) },
  // What the user gives is written verbatim: a lying plen (Scapy's checksum ignores it), a wrong checksum, nh.
  { scapy: `IPv6(plen=5)/TCP()`, build: () => IPv6({ plen: 5 }).add(TCP()) },
  { scapy: `IPv6(plen=200)/TCP()/Raw(b'xy')`, build: () => IPv6({ plen: 200 }).add(TCP(), Raw({ load: 'xy' })) },
  { scapy: `IPv6(plen=20)/TCP()/Raw(b'trailing')`, build: () => IPv6({ plen: 20 }).add(TCP(), Raw({ load: 'trailing' })) },
  { scapy: `IPv6(nh=17)/TCP()`, build: () => IPv6({ nh: 17 }).add(TCP()) },
  { scapy: `IPv6()/TCP(chksum=0x1234)`, build: () => IPv6().add(TCP({ chksum: 0x1234 })) },
  { scapy: `IPv6()/ICMPv6EchoRequest(cksum=0xbeef)`, build: () => IPv6().add(ICMPv6EchoRequest({ cksum: 0xbeef })) },
  // Hop-by-hop and destination options, with every option kind and Scapy's autopadding.
  { scapy: `IPv6()/IPv6ExtHdrHopByHop()`, build: () => IPv6().add(IPv6ExtHdrHopByHop()) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(options=[RouterAlert()])/TCP()`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'RouterAlert' }] }), TCP()) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=70000)])`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'Jumbo', jumboplen: 70000 }] })) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(options=[Pad1(), Jumbo()])`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'Pad1' }, { name: 'Jumbo' }] })) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(options=[PadN(optdata=b'ab'), RouterAlert(value=1)])`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'PadN', optdata: 'ab' }, { name: 'RouterAlert', value: 1 }] })) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(options=[Pad1(), Pad1(), Pad1()])`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'Pad1' }, { name: 'Pad1' }, { name: 'Pad1' }] })) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(autopad=0, options=[Pad1(), Pad1(), Pad1()])`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ autopad: 0, options: [{ name: 'Pad1' }, { name: 'Pad1' }, { name: 'Pad1' }] })) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x1e, optdata=b'xyzxyzxyz'), RouterAlert(), Jumbo(), Pad1()])/UDP()`,
    build: () => IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'HBHOptUnknown', otype: 0x1e, optdata: 'xyzxyzxyz' }, { name: 'RouterAlert' }, { name: 'Jumbo' }, { name: 'Pad1' }] }), UDP()) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop(len=5, options=[RouterAlert(optlen=3, otype=6)])`, build: () => IPv6().add(IPv6ExtHdrHopByHop({ len: 5, options: [{ name: 'RouterAlert', optlen: 3, otype: 6 }] })) },
  { scapy: `IPv6()/IPv6ExtHdrDestOpt(options=[HAO(hoa='${R}')])/TCP()`, build: () => IPv6().add(IPv6ExtHdrDestOpt({ options: [{ name: 'HAO', hoa: R }] }), TCP()) },
  { scapy: `IPv6(src='${A}', dst='${B}')/IPv6ExtHdrDestOpt(options=[HAO(hoa='${R}')])/ICMPv6EchoRequest()`, build: () => IPv6({ src: A, dst: B }).add(IPv6ExtHdrDestOpt({ options: [{ name: 'HAO', hoa: R }] }), ICMPv6EchoRequest()) },
  { scapy: `IPv6()/IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\\x00\\x00'), HAO(hoa='${R}')])/TCP()`, build: () => IPv6().add(IPv6ExtHdrDestOpt({ options: [{ name: 'PadN', optdata: Buffer.alloc(2) }, { name: 'HAO', hoa: R }] }), TCP()) },
  // Routing: the pseudo-header's destination is the last address while segments are left.
  { scapy: `IPv6()/IPv6ExtHdrRouting()`, build: () => IPv6().add(IPv6ExtHdrRouting()) },
  { scapy: `IPv6(src='${A}', dst='${R}')/IPv6ExtHdrRouting(addresses=['${R}', '${B}'])/TCP()`, build: () => IPv6({ src: A, dst: R }).add(IPv6ExtHdrRouting({ addresses: [R, B] }), TCP()) },
  { scapy: `IPv6(src='${A}', dst='${R}')/IPv6ExtHdrRouting(segleft=0, addresses=['${R}', '${B}'])/TCP()`, build: () => IPv6({ src: A, dst: R }).add(IPv6ExtHdrRouting({ segleft: 0, addresses: [R, B] }), TCP()) },
  { scapy: `IPv6(src='${A}', dst='${R}')/IPv6ExtHdrRouting(type=2, reserved=7, addresses=['${B}'])/UDP()`, build: () => IPv6({ src: A, dst: R }).add(IPv6ExtHdrRouting({ type: 2, reserved: 7, addresses: [B] }), UDP()) },
  { scapy: `IPv6(src='${A}', dst='${R}')/IPv6ExtHdrRouting(addresses=['${B}'])/ICMPv6EchoRequest(id=7)`, build: () => IPv6({ src: A, dst: R }).add(IPv6ExtHdrRouting({ addresses: [B] }), ICMPv6EchoRequest({ id: 7 })) },
  // Fragments: later fragments carry bytes.
  { scapy: `IPv6ExtHdrFragment()`, build: () => IPv6ExtHdrFragment(), standalone: true },
  { scapy: `IPv6()/IPv6ExtHdrFragment(id=0x01020304, m=1)/TCP()`, build: () => IPv6().add(IPv6ExtHdrFragment({ id: 0x01020304, m: 1 }), TCP()) },
  { scapy: `IPv6()/IPv6ExtHdrFragment(offset=185, res1=3, res2=2, id=9)/Raw(b'0123456789abcdef')`, build: () => IPv6().add(IPv6ExtHdrFragment({ offset: 185, res1: 3, res2: 2, id: 9 }), Raw({ load: '0123456789abcdef' })) },
  // Chains.
  { scapy: `IPv6(src='${A}', dst='${R}')/IPv6ExtHdrHopByHop(options=[RouterAlert()])/IPv6ExtHdrDestOpt()/IPv6ExtHdrRouting(addresses=['${B}'])/IPv6ExtHdrFragment(id=1)/IPv6ExtHdrDestOpt(options=[PadN(optdata=b'zz')])/TCP(dport=22)/Raw(b'payload')`,
    build: () => IPv6({ src: A, dst: R }).add(IPv6ExtHdrHopByHop({ options: [{ name: 'RouterAlert' }] }), IPv6ExtHdrDestOpt(), IPv6ExtHdrRouting({ addresses: [B] }), IPv6ExtHdrFragment({ id: 1 }), IPv6ExtHdrDestOpt({ options: [{ name: 'PadN', optdata: 'zz' }] }), TCP({ dport: 22 }), Raw({ load: 'payload' })) },
  { scapy: `IPv6()/IPv6ExtHdrHopByHop()/ICMPv6EchoRequest()`, build: () => IPv6().add(IPv6ExtHdrHopByHop(), ICMPv6EchoRequest()) },
  { scapy: `IPv6ExtHdrHopByHop()/ICMPv6EchoRequest()`, build: () => IPv6ExtHdrHopByHop().add(ICMPv6EchoRequest()), standalone: true },
  // Tunnels.
  { scapy: `IP(src='127.0.0.1', dst='127.0.0.2')/IPv6()/TCP()`, build: () => IP({ src: '127.0.0.1', dst: '127.0.0.2' }).add(IPv6(), TCP()), link: 'ip' },
  { scapy: `IPv6()/IPv6()/UDP()`, build: () => IPv6().add(IPv6(), UDP()) },
  { scapy: `IPv6()/IP(src='127.0.0.1', dst='127.0.0.1')/TCP()`, build: () => IPv6().add(IP({ src: '127.0.0.1', dst: '127.0.0.1' }), TCP()) },
  { scapy: `Ether(src='00:11:22:33:44:55', dst='66:77:88:99:aa:bb')/IPv6()/TCP()`, build: () => Ether({ src: '00:11:22:33:44:55', dst: '66:77:88:99:aa:bb' }).add(IPv6(), TCP()), link: 'ether' },
  // ICMPv6 messages.
  { scapy: `IPv6()/ICMPv6EchoRequest()`, build: () => IPv6().add(ICMPv6EchoRequest()) },
  { scapy: `IPv6(src='${A}', dst='${B}')/ICMPv6EchoRequest(id=0x1234, seq=9, data=b'ping data')`, build: () => IPv6({ src: A, dst: B }).add(ICMPv6EchoRequest({ id: 0x1234, seq: 9, data: 'ping data' })) },
  { scapy: `IPv6(src='${B}', dst='${A}')/ICMPv6EchoReply(id=0x1234, seq=9, data=b'ping data')`, build: () => IPv6({ src: B, dst: A }).add(ICMPv6EchoReply({ id: 0x1234, seq: 9, data: 'ping data' })) },
  { scapy: `IPv6()/ICMPv6EchoRequest(code=3)/Raw(b'zz')`, build: () => IPv6().add(ICMPv6EchoRequest({ code: 3 }), Raw({ load: 'zz' })) },
  { scapy: `IPv6()/ICMPv6Unknown(type=200, code=1, msgbody=b'abc')`, build: () => IPv6().add(ICMPv6Unknown({ type: 200, code: 1, msgbody: 'abc' })) },
  { scapy: `IPv6(src='fe80::1')/ICMPv6ND_NS(tgt='${B}')`, build: () => IPv6({ src: 'fe80::1' }).add(ICMPv6ND_NS({ tgt: B })) },
  { scapy: `IPv6(src='fe80::1')/ICMPv6ND_NS(tgt='${B}')/ICMPv6NDOptSrcLLAddr(lladdr='00:11:22:33:44:55')`, build: () => IPv6({ src: 'fe80::1' }).add(ICMPv6ND_NS({ tgt: B }), ICMPv6NDOptSrcLLAddr({ lladdr: '00:11:22:33:44:55' })) },
  { scapy: `IPv6(src='fe80::1', dst='fe80::2', hlim=64)/ICMPv6ND_NS(tgt='fe80::2', res=5)/ICMPv6NDOptSrcLLAddr(lladdr='00:11:22:33:44:55')/ICMPv6NDOptUnknown(type=14, data=b'abcdef')`,
    build: () => IPv6({ src: 'fe80::1', dst: 'fe80::2', hlim: 64 }).add(ICMPv6ND_NS({ tgt: 'fe80::2', res: 5 }), ICMPv6NDOptSrcLLAddr({ lladdr: '00:11:22:33:44:55' }), ICMPv6NDOptUnknown({ type: 14, data: 'abcdef' })) },
  { scapy: `IPv6(src='fe80::2')/ICMPv6ND_NA(tgt='fe80::2')/ICMPv6NDOptDstLLAddr(lladdr='66:77:88:99:aa:bb')`, build: () => IPv6({ src: 'fe80::2' }).add(ICMPv6ND_NA({ tgt: 'fe80::2' }), ICMPv6NDOptDstLLAddr({ lladdr: '66:77:88:99:aa:bb' })) },
  { scapy: `IPv6(src='fe80::2', dst='fe80::1')/ICMPv6ND_NA(R=0, S=1, O=0, res=3, tgt='fe80::2')`, build: () => IPv6({ src: 'fe80::2', dst: 'fe80::1' }).add(ICMPv6ND_NA({ R: 0, S: 1, O: 0, res: 3, tgt: 'fe80::2' })) },
  // Errors, quoting what caused them.
  { scapy: `IPv6()/ICMPv6DestUnreach()/IPerror6()/TCPerror()`, build: () => IPv6().add(ICMPv6DestUnreach(), IPerror6(), TCPerror()) },
  { scapy: `IPv6(src='${R}', dst='${A}')/ICMPv6DestUnreach(code=4)/IPerror6(src='${A}', dst='${B}')/TCPerror(sport=40000, dport=443, flags='S', seq=77)`,
    build: () => IPv6({ src: R, dst: A }).add(ICMPv6DestUnreach({ code: 4 }), IPerror6({ src: A, dst: B }), TCPerror({ sport: 40000, dport: 443, flags: 'S', seq: 77 })) },
  { scapy: `IPv6(src='${R}', dst='${A}')/ICMPv6DestUnreach(code=4, length=3, unused=5)/IPerror6(src='${A}', dst='${B}')/UDPerror(sport=3333, dport=53)/Raw(b'q')`,
    build: () => IPv6({ src: R, dst: A }).add(ICMPv6DestUnreach({ code: 4, length: 3, unused: 5 }), IPerror6({ src: A, dst: B }), UDPerror({ sport: 3333, dport: 53 }), Raw({ load: 'q' })) },
  { scapy: `IPv6(src='${R}', dst='${A}')/ICMPv6PacketTooBig(mtu=1280)/IPerror6(src='${A}', dst='${B}')/TCPerror()/Raw(b'x'*30)`,
    build: () => IPv6({ src: R, dst: A }).add(ICMPv6PacketTooBig({ mtu: 1280 }), IPerror6({ src: A, dst: B }), TCPerror(), Raw({ load: 'x'.repeat(30) })) },
  { scapy: `IPv6(src='${R}', dst='${A}')/ICMPv6TimeExceeded(code=1)/IPerror6(src='${A}', dst='${B}', hlim=1)/IPv6ExtHdrFragment(id=3)/TCPerror()`,
    build: () => IPv6({ src: R, dst: A }).add(ICMPv6TimeExceeded({ code: 1 }), IPerror6({ src: A, dst: B, hlim: 1 }), IPv6ExtHdrFragment({ id: 3 }), TCPerror()) },
  { scapy: `IPv6(src='${R}', dst='${A}')/ICMPv6ParamProblem(code=1, ptr=40)/IPerror6(src='${A}', dst='${B}')/ICMPv6EchoRequest(id=5)`,
    build: () => IPv6({ src: R, dst: A }).add(ICMPv6ParamProblem({ code: 1, ptr: 40 }), IPerror6({ src: A, dst: B }), ICMPv6EchoRequest({ id: 5 })) },
  { scapy: `IPv6(src='${R}', dst='${A}')/ICMPv6ParamProblem()/IPerror6(src='${A}', dst='${B}')/IPv6ExtHdrRouting(addresses=['${R}'])/TCPerror()`,
    build: () => IPv6({ src: R, dst: A }).add(ICMPv6ParamProblem(), IPerror6({ src: A, dst: B }), IPv6ExtHdrRouting({ addresses: [R] }), TCPerror()) },
];

/** The cases that start with a header a link type can start with. */
const cases = allCases.filter((c) => !c.standalone);

/** Scapy's answers, one per case, in order. */
let answers: ScapyAnswer[] | undefined;
const noScapy = scapyUnavailable();

beforeAll(async () => {
  if (noScapy === undefined) answers = await scapyBuild(allCases.map((c) => c.scapy));
}, 120_000);

/** The checksum verdicts of every layer that has one, outside error quotes. */
function verdicts(p: Packet): (boolean | undefined)[] {
  return p.layers.map((l) => l.checksumValid);
}

function fieldsOf(p: Packet): unknown[] {
  return p.layers.map((l) => [l.name, JSON.parse(JSON.stringify(l.fields))]);
}

describe('IPv6 builds the bytes Scapy 2.5 builds', () => {
  it.skipIf(noScapy !== undefined)('matches Scapy for every expression', () => {
    const mismatches: string[] = [];
    allCases.forEach((c, i) => {
      const answer = answers![i]!;
      if (answer.error !== undefined) {
        mismatches.push(`${c.scapy}: Scapy failed: ${answer.error}`);
        return;
      }
      const ours = c.build().bytes().toString('hex');
      if (ours !== answer.hex) mismatches.push(`${c.scapy}\n  scapy  ${answer.hex}\n  synack ${ours}`);
    });
    expect(mismatches).toEqual([]);
  });
});

describe('IPv6 dissection', () => {
  it('rebuilds every case byte for byte, with the same fields the second time', () => {
    for (const c of cases) {
      const built = c.build().bytes();
      const once = dissect(built, c.link ?? 'ipv6');
      expect(once.bytes().toString('hex'), c.scapy).toBe(built.toString('hex'));
      const twice = dissect(once.bytes(), c.link ?? 'ipv6');
      expect(fieldsOf(twice), c.scapy).toEqual(fieldsOf(once));
    }
  });

  it('finds every checksum right when synack computed it, through routing headers and home addresses', () => {
    for (const c of cases) {
      if (/cksum=|chksum=|plen=|nh=17/.test(c.scapy)) continue;
      // Scapy sums the home address only when HAO is the one option written; on receipt any HAO counts.
      if (/PadN\(optdata=b'\\x00\\x00'\), HAO/.test(c.scapy)) continue;
      const p = dissect(c.build().bytes(), c.link ?? 'ipv6');
      for (const v of verdicts(p)) expect(v, c.scapy).not.toBe(false);
    }
    const routed = dissect(IPv6({ src: A, dst: R }).add(IPv6ExtHdrRouting({ addresses: [R, B] }), TCP()).bytes(), 'ipv6');
    expect(routed.getLayer('TCP')!.checksumValid).toBe(true);
    const home = dissect(IPv6().add(IPv6ExtHdrDestOpt({ options: [{ name: 'HAO', hoa: R }] }), TCP()).bytes(), 'ipv6');
    expect(home.getLayer('TCP')!.checksumValid).toBe(true);
  });

  it('says so when a checksum is wrong', () => {
    const bad = dissect(IPv6().add(ICMPv6EchoRequest({ cksum: 0xbeef })).bytes(), 'ipv6');
    expect(bad.layers[1]!.checksumValid).toBe(false);
    const badTcp = dissect(IPv6().add(TCP({ chksum: 0x1234 })).bytes(), 'ipv6');
    expect(badTcp.layers[1]!.checksumValid).toBe(false);
  });

  it('picks classes as Scapy does', () => {
    const names = (p: Packet, link: 'ipv6' | 'ip' = 'ipv6') => dissect(p.bytes(), link).layers.map((l) => l.name).join('/');
    expect(names(IPv6().add(IPv6ExtHdrFragment({ offset: 5 }), TCP()))).toBe('IPv6/IPv6ExtHdrFragment/Raw');
    expect(names(IPv6().add(IPv6ExtHdrFragment(), TCP()))).toBe('IPv6/IPv6ExtHdrFragment/TCP');
    expect(names(IPv6().add(ICMPv6DestUnreach(), IPerror6(), TCPerror()))).toBe('IPv6/ICMPv6DestUnreach/IPerror6/TCPerror');
    expect(names(IPv6().add(ICMPv6DestUnreach(), IPerror6(), UDPerror()))).toBe('IPv6/ICMPv6DestUnreach/IPerror6/UDPerror');
    expect(names(IPv6().add(ICMPv6ND_NS(), ICMPv6NDOptSrcLLAddr(), ICMPv6NDOptUnknown({ type: 9, len: 1, data: 'abcdef' })))).toBe(
      'IPv6/ICMPv6ND_NS/ICMPv6NDOptSrcLLAddr/ICMPv6NDOptUnknown',
    );
    expect(names(IPv6().add(ICMPv6Unknown({ type: 143 })))).toBe('IPv6/ICMPv6Unknown');
    expect(names(IPv6().add(ICMPv6EchoReply()), 'ip')).toBe('IPv6/ICMPv6EchoReply');
    const echo = dissect(IPv6().add(ICMPv6EchoRequest({ data: 'abc' })).bytes(), 'ipv6');
    expect(echo.layers[1]!.fields).toMatchObject({ type: 128, data: Buffer.from('abc') });
    // Quoted layers are partial by nature: no truncation problems inside the quote.
    const quoted = dissect(IPv6({ plen: 8 + 40 + 8 }).add(ICMPv6DestUnreach(), IPerror6({ plen: 400 }), TCPerror()).bytes().subarray(0, 40 + 8 + 40 + 8), 'ipv6');
    expect(quoted.layers.map((l) => l.problems ?? [])).toEqual([[], [], [], []]);
  });

  it('records defects in tcpdump words', () => {
    const full = IPv6().add(IPv6ExtHdrHopByHop({ options: [{ name: 'RouterAlert' }] }), ICMPv6EchoRequest({ data: 'abcdefgh' })).bytes();
    expect(dissect(full.subarray(0, 20), 'ipv6').layers[0]!.problems).toEqual(['[|ip6]']);
    expect(dissect(full.subarray(0, 45), 'ipv6').layers[1]!.problems).toEqual(['[|hbhopt]']);
    expect(dissect(full.subarray(0, 52), 'ipv6').layers[2]!.problems).toEqual(['[|icmp6]']);
    expect(dissect(full.subarray(0, 60), 'ipv6').layers[0]!.problems).toEqual(['truncated-ip6 - 4 bytes missing!']);
  });

  it('never throws on any cut, and rebuilds every cut of its own headers to the bytes there were', () => {
    for (const c of cases) {
      const built = c.build().bytes();
      for (let n = 0; n <= built.length; n++) {
        const cut = built.subarray(0, n);
        const p = dissect(cut, c.link ?? 'ipv6');
        const rebuilt = p.bytes();
        // TCP and UDP keep what they can of a cut header (their own tests cover them).
        const last = p.layers[p.layers.length - 1];
        if (last && /^(TCP|UDP)/.test(last.name) && (last.truncatedTo !== undefined || last.problems !== undefined)) continue;
        expect(rebuilt.toString('hex'), `${c.scapy} cut at ${n}`).toBe(cut.toString('hex'));
      }
    }
  });

  it('never throws on random bytes behind an IPv6 header, and rebuilds them when only its own layers read them', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    let checked = 0;
    for (let i = 0; i < 6000; i++) {
      const nh = [0, 43, 44, 60, 58, 6, 17][i % 7]!;
      const body = Buffer.from(Array.from({ length: rand() % 90 }, rand));
      if (nh === 58 && body.length > 0) body[0] = [1, 2, 3, 4, 128, 129, 135, 136, 200][i % 9]!;
      // Small extension-header lengths and chained next headers, so chains form often.
      if (body.length > 1 && rand() < 200) body[1] = rand() % 6;
      if (body.length > 0 && nh !== 58 && rand() < 128) body[0] = [0, 43, 44, 60, 58, 59][rand() % 6]!;
      const p = IPv6({ nh }).add(Raw({ load: body })).bytes();
      let d: Packet | undefined;
      expect(() => (d = dissect(p, 'ipv6')).bytes()).not.toThrow();
      expect(d!.layers.flatMap((l) => l.problems ?? []).filter((x) => x.includes('decode failed'))).toEqual([]);
      if (d!.layers.some((l) => /^(TCP|UDP|IP$|IPerror$|ICMP$|ICMPerror)/.test(l.name))) continue;
      checked++;
      expect(d!.bytes().toString('hex'), p.toString('hex')).toBe(p.toString('hex'));
    }
    expect(checked).toBeGreaterThan(3000);
  });
});

describe('IPv6 fields and their checks', () => {
  it('computes src from dst and lets neighbor discovery choose dst and hlim', () => {
    expect(IPv6().layers[0]!.get('dst' as never)).toBe('::1');
    const ns = dissect(IPv6().add(ICMPv6ND_NS()).bytes(), 'ipv6').layers[0]!;
    expect(ns.fields).toMatchObject({ dst: 'ff02::1', hlim: 255, src: '::' });
    const toLoopback = dissect(IPv6().add(TCP()).bytes(), 'ipv6').layers[0]!;
    expect(toLoopback.fields).toMatchObject({ src: '::1', dst: '::1', nh: 6, plen: 20 });
  });

  it('rejects bad addresses, unknown fields and unknown options with a way out', () => {
    expect(() => IPv6({ dst: '2001:db8::zz' })).toThrow(/bad IPv6 address/);
    expect(() => IPv6({ hlimit: 3 } as never)).toThrow(/did you mean 'hlim'/);
    expect(() => IPv6ExtHdrHopByHop({ options: [{ name: 'RouterAlrt' } as never] })).toThrow(/did you mean 'RouterAlert'/);
    expect(() => IPv6ExtHdrRouting({ addresses: ['nope'] })).toThrow(/bad IPv6 address/);
    expect(() => ICMPv6NDOptSrcLLAddr({ lladdr: 'xx' })).toThrow(/bad MAC address/);
    expect(() => ICMPv6EchoRequest({ chksum: 1 } as never)).toThrow(/did you mean 'cksum'/);
  });

  it('marks extension headers for the checksum walk, and errors for the matcher', () => {
    for (const p of [IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(), IPv6ExtHdrFragment(), IPv6ExtHdrDestOpt()]) {
      expect('isExtensionHeader' in p.layers[0]!).toBe(true);
      expect('isExtensionHeader' in p.layers[0]!.clone()).toBe(true);
    }
    expect((ICMPv6DestUnreach().layers[0] as unknown as { isError: boolean }).isError).toBe(true);
    expect((ICMPv6EchoRequest().layers[0] as unknown as { isError: boolean }).isError).toBe(false);
  });
});

describe('IPv6 request/reply matching (hashret and answers)', () => {
  type Matchable = Layer & { hashret(above?: readonly Layer[]): string; answers(other: Layer, a?: readonly Layer[], b?: readonly Layer[]): boolean };
  const hash = (p: Packet) => p.layers.map((l, i) => (l as Matchable).hashret?.(p.layers.slice(i + 1)) ?? '').join('|');
  const answersAt = (reply: Packet, i: number, sent: Packet, j: number) =>
    (reply.layers[i] as Matchable).answers(sent.layers[j]!, reply.layers.slice(i + 1), sent.layers.slice(j + 1));

  it('matches an echo reply to its request by id, seq and data', () => {
    const sent = IPv6({ src: A, dst: B }).add(ICMPv6EchoRequest({ id: 1, seq: 2, data: 'x' }));
    const reply = dissect(IPv6({ src: B, dst: A }).add(ICMPv6EchoReply({ id: 1, seq: 2, data: 'x' })).bytes(), 'ipv6');
    expect(hash(reply)).toBe(hash(sent));
    expect(answersAt(reply, 0, sent, 0)).toBe(true);
    expect(answersAt(reply, 1, sent, 1)).toBe(true);
    const other = dissect(IPv6({ src: B, dst: A }).add(ICMPv6EchoReply({ id: 1, seq: 3, data: 'x' })).bytes(), 'ipv6');
    expect(hash(other)).not.toBe(hash(sent));
    expect(answersAt(other, 1, sent, 1)).toBe(false);
    const stranger = dissect(IPv6({ src: B, dst: R }).add(ICMPv6EchoReply({ id: 1, seq: 2, data: 'x' })).bytes(), 'ipv6');
    expect(answersAt(stranger, 0, sent, 0)).toBe(false);
  });

  it('matches a neighbor advertisement to the solicitation for its target', () => {
    const sent = IPv6({ src: 'fe80::1' }).add(ICMPv6ND_NS({ tgt: 'fe80::2' }), ICMPv6NDOptSrcLLAddr());
    const reply = dissect(IPv6({ src: 'fe80::2', dst: 'fe80::1' }).add(ICMPv6ND_NA({ tgt: 'fe80::2' }), ICMPv6NDOptDstLLAddr()).bytes(), 'ipv6');
    expect(hash(reply)).toBe(hash(sent));
    expect(answersAt(reply, 0, sent, 0)).toBe(true);
    expect(answersAt(reply, 1, sent, 1)).toBe(true);
    const wrong = dissect(IPv6({ src: 'fe80::2', dst: 'fe80::1' }).add(ICMPv6ND_NA({ tgt: 'fe80::3' })).bytes(), 'ipv6');
    expect(answersAt(wrong, 1, sent, 1)).toBe(false);
  });

  it('matches an error by the headers it quotes', () => {
    const sent = IPv6({ src: A, dst: B }).add(TCP({ sport: 40000, dport: 443 }));
    const error = dissect(IPv6({ src: R, dst: A }).add(ICMPv6DestUnreach({ code: 4 }), IPerror6({ src: A, dst: B }), TCPerror({ sport: 40000, dport: 443 })).bytes(), 'ipv6');
    const icmp = error.layers[1] as unknown as { isError: boolean };
    expect(icmp.isError).toBe(true);
    expect(answersAt(error, 0, sent, 0)).toBe(true);
    expect(answersAt(error, 2, sent, 0)).toBe(true);
    // The quote hashes as the packet sent (the outer header and the error add nothing).
    expect(hash(new Packet(error.layers.slice(2)))).toBe(hash(sent));
    expect(hash(error)).toBe('||' + hash(sent));
    const elsewhere = dissect(IPv6({ src: R, dst: A }).add(ICMPv6DestUnreach(), IPerror6({ src: A, dst: R }), TCPerror()).bytes(), 'ipv6');
    expect(answersAt(elsewhere, 2, sent, 0)).toBe(false);
    // With a routing header in the request, only the source has to match.
    const routed = IPv6({ src: A, dst: R }).add(IPv6ExtHdrRouting({ addresses: [B] }), TCP());
    const routedError = dissect(IPv6({ src: R, dst: A }).add(ICMPv6DestUnreach(), IPerror6({ src: A, dst: B }), TCPerror()).bytes(), 'ipv6');
    expect(answersAt(routedError, 2, routed, 0)).toBe(true);
  });

  it('hashes through hop-by-hop and fragment headers as Scapy does', () => {
    const sent = IPv6({ src: A, dst: B }).add(IPv6ExtHdrFragment(), TCP());
    const reply = IPv6({ src: B, dst: A }).add(TCP());
    expect(hash(sent).split('|')[0]).toBe(hash(reply).split('|')[0]);
    expect(answersAt(dissect(reply.bytes(), 'ipv6'), 0, sent, 0)).toBe(true);
  });
});

/**
 * Link layers (Ether, ARP, Linux cooked v1/v2, BSD loopback), UDP and ICMP: byte-exact against
 * Scapy 2.5 for the same packet (one python process for the whole batch), dissection round trips,
 * tcpdump's words for defects, cut-off bytes at every length, and the matcher's hashret/answers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scapyBuild, scapyUnavailable } from './helpers/scapy.js';
import {
  ARP,
  CookedLinux,
  CookedLinuxV2,
  Ether,
  ICMP,
  ICMPerror,
  IP,
  IPerror,
  Loopback,
  Raw,
  TCP,
  TCPerror,
  UDP,
  UDPerror,
  dissect,
  Packet as PacketClass,
  type LinkType,
  type Packet,
} from '../src/index.js';
import { dissectLayers } from '../src/packet/dissect.js';
import { ARPLayer } from '../src/layers/arp.js';
import { EtherLayer } from '../src/layers/ether.js';
import { ICMPLayer, ICMPerrorLayer } from '../src/layers/icmp.js';
import type { Layer } from '../src/layers/layer.js';
import { UDPLayer, UDPerrorLayer } from '../src/layers/udp.js';

const noScapy = scapyUnavailable();

const LO = { src: '127.0.0.1', dst: '127.0.0.1' };
const LO_S = "src='127.0.0.1',dst='127.0.0.1'";
const MACS = { dst: '00:11:22:33:44:55', src: '66:77:88:99:aa:bb' };
const MACS_S = "dst='00:11:22:33:44:55',src='66:77:88:99:aa:bb'";
const BCAST_S = "dst='ff:ff:ff:ff:ff:ff',src='00:00:00:00:00:00'";
const SLL_ADDR = Buffer.from('0011223344550000', 'hex');
const SLL_ADDR_S = "b'\\x00\\x11\\x22\\x33\\x44\\x55\\x00\\x00'";
const QUOTE = { src: '127.0.0.1', dst: '127.0.0.2' };
const QUOTE_S = "src='127.0.0.1',dst='127.0.0.2'";

/** A payload of two bytes that makes IP/UDP's checksum compute to 0, which must go out as 0xffff. */
function zeroChecksumPayload(): Buffer {
  const probe = IP(LO).add(UDP({ sport: 1000, dport: 2000 }), Raw({ load: Buffer.alloc(2) })).bytes();
  const sum = probe.readUInt16BE(26);
  return Buffer.from([sum >> 8, sum & 0xff]);
}
const ZERO_LOAD = zeroChecksumPayload();
const ZERO_LOAD_S = `b'\\x${ZERO_LOAD[0]!.toString(16).padStart(2, '0')}\\x${ZERO_LOAD[1]!.toString(16).padStart(2, '0')}'`;

interface Case {
  scapy: string;
  build: () => Packet;
  /** The value given is written in another shape, which dissection reads back (Scapy does the same). */
  reshaped?: true;
}

const cases: Case[] = [
  // Ethernet
  { scapy: `Ether(${BCAST_S})`, build: () => Ether() },
  { scapy: `Ether(${MACS_S})/Raw(b'abc')`, build: () => Ether(MACS).add(Raw({ load: 'abc' })) },
  { scapy: `Ether(${MACS_S},type=0x1234)/Raw(b'abc')`, build: () => Ether({ ...MACS, type: 0x1234 }).add(Raw({ load: 'abc' })) },
  {
    scapy: `Ether(${MACS_S})/IP(${LO_S})/TCP(sport=1234,dport=80,flags='S',seq=1000)`,
    build: () => Ether(MACS).add(IP(LO), TCP({ sport: 1234, dport: 80, flags: 'S', seq: 1000 })),
  },
  {
    scapy: `Ether(${MACS_S})/IP(${LO_S})/UDP(sport=1000,dport=2000)/Raw(b'hi')`,
    build: () => Ether(MACS).add(IP(LO), UDP({ sport: 1000, dport: 2000 }), Raw({ load: 'hi' })),
  },
  { scapy: `Ether(${MACS_S})/IP(${LO_S})/ICMP()`, build: () => Ether(MACS).add(IP(LO), ICMP()) },
  // ARP
  {
    scapy: `Ether(dst='ff:ff:ff:ff:ff:ff',src='00:11:22:33:44:55')/ARP(hwsrc='00:11:22:33:44:55',psrc='198.51.100.1',pdst='198.51.100.2')`,
    build: () => Ether({ dst: 'ff:ff:ff:ff:ff:ff', src: '00:11:22:33:44:55' }).add(ARP({ hwsrc: '00:11:22:33:44:55', psrc: '198.51.100.1', pdst: '198.51.100.2' })),
  },
  {
    scapy: `Ether(${MACS_S})/ARP(op='is-at',hwsrc='66:77:88:99:aa:bb',psrc='198.51.100.2',hwdst='00:11:22:33:44:55',pdst='198.51.100.1')`,
    build: () => Ether(MACS).add(ARP({ op: 'is-at', hwsrc: '66:77:88:99:aa:bb', psrc: '198.51.100.2', hwdst: '00:11:22:33:44:55', pdst: '198.51.100.1' })),
  },
  { scapy: `ARP(op=2,hwsrc='00:00:00:00:00:00',psrc='1.2.3.4',pdst='1.2.3.5')`, build: () => ARP({ op: 2, psrc: '1.2.3.4', pdst: '1.2.3.5' }) },
  {
    scapy: `ARP(hwsrc='00:00:00:00:00:00',psrc='1.2.3.4',pdst='1.2.3.5',hwlen=4)`,
    build: () => ARP({ hwsrc: '00:00:00:00:00:00', psrc: '1.2.3.4', pdst: '1.2.3.5', hwlen: 4 }),
    reshaped: true,
  },
  {
    scapy: `ARP(ptype=0x86dd,hwsrc='00:00:00:00:00:00',psrc='2001:db8::1',pdst='2001:db8::2')`,
    build: () => ARP({ ptype: 0x86dd, psrc: '2001:db8::1', pdst: '2001:db8::2' }),
  },
  // Linux cooked captures
  {
    scapy: `CookedLinux(pkttype=4,lladdrtype=1,lladdrlen=6,src=${SLL_ADDR_S})/IP(${LO_S})/UDP(sport=1000,dport=2000)/Raw(b'hi')`,
    build: () => CookedLinux({ pkttype: 4, lladdrtype: 1, lladdrlen: 6, src: SLL_ADDR }).add(IP(LO), UDP({ sport: 1000, dport: 2000 }), Raw({ load: 'hi' })),
  },
  { scapy: `CookedLinux()/Raw(b'ab')`, build: () => CookedLinux().add(Raw({ load: 'ab' })) },
  { scapy: `CookedLinux(src=b'abc')`, build: () => CookedLinux({ src: 'abc' }) },
  {
    scapy: `CookedLinux()/ARP(hwsrc='00:00:00:00:00:00',psrc='1.2.3.4',pdst='1.2.3.5')`,
    build: () => CookedLinux().add(ARP({ psrc: '1.2.3.4', pdst: '1.2.3.5' })),
  },
  {
    scapy: `CookedLinuxV2(ifindex=7,pkttype=4,lladdrtype=772,lladdrlen=6,src=${SLL_ADDR_S})/IP(${LO_S})/TCP(sport=40000,dport=80,flags='SA')`,
    build: () => CookedLinuxV2({ ifindex: 7, pkttype: 4, lladdrtype: 772, lladdrlen: 6, src: SLL_ADDR }).add(IP(LO), TCP({ sport: 40000, dport: 80, flags: 'SA' })),
  },
  {
    scapy: `CookedLinuxV2()/ARP(hwsrc='00:00:00:00:00:00',psrc='1.2.3.4',pdst='1.2.3.5')`,
    build: () => CookedLinuxV2().add(ARP({ psrc: '1.2.3.4', pdst: '1.2.3.5' })),
  },
  // BSD loopback
  { scapy: `Loopback()/IP(${LO_S})/ICMP()`, build: () => Loopback().add(IP(LO), ICMP()) },
  { scapy: `Loopback(type=24)/Raw(b'x')`, build: () => Loopback({ type: 24 }).add(Raw({ load: 'x' })) },
  // UDP
  { scapy: `IP(${LO_S})/UDP(sport=1000,dport=2000)/Raw(b'hello')`, build: () => IP(LO).add(UDP({ sport: 1000, dport: 2000 }), Raw({ load: 'hello' })) },
  { scapy: `IP(${LO_S})/UDP()`, build: () => IP(LO).add(UDP()) },
  { scapy: `UDP()`, build: () => UDP() },
  { scapy: `IP(${LO_S})/UDP(chksum=0x1234)/Raw(b'x')`, build: () => IP(LO).add(UDP({ chksum: 0x1234 }), Raw({ load: 'x' })) },
  { scapy: `IP(${LO_S})/UDP(len=4)/Raw(b'abcd')`, build: () => IP(LO).add(UDP({ len: 4 }), Raw({ load: 'abcd' })) },
  { scapy: `IP(${LO_S})/UDP(len=100)/Raw(b'abcd')`, build: () => IP(LO).add(UDP({ len: 100 }), Raw({ load: 'abcd' })) },
  { scapy: `IP(${LO_S})/UDP(len=10)/Raw(b'abcd')`, build: () => IP(LO).add(UDP({ len: 10 }), Raw({ load: 'abcd' })) },
  { scapy: `IP(${LO_S},len=40)/UDP()/Raw(b'abcd')`, build: () => IP({ ...LO, len: 40 }).add(UDP(), Raw({ load: 'abcd' })) },
  {
    scapy: `IP(${LO_S})/UDP(sport=1000,dport=2000)/Raw(${ZERO_LOAD_S})`,
    build: () => IP(LO).add(UDP({ sport: 1000, dport: 2000 }), Raw({ load: ZERO_LOAD })),
  },
  // ICMP queries
  { scapy: `IP(${LO_S})/ICMP()`, build: () => IP(LO).add(ICMP()) },
  {
    scapy: `IP(${LO_S})/ICMP(type='echo-reply',id=0x1234,seq=7)/Raw(b'ping')`,
    build: () => IP(LO).add(ICMP({ type: 'echo-reply', id: 0x1234, seq: 7 }), Raw({ load: 'ping' })),
  },
  { scapy: `IP(${LO_S})/ICMP(chksum=0xdead)`, build: () => IP(LO).add(ICMP({ chksum: 0xdead })) },
  {
    scapy: `IP(${LO_S})/ICMP(type=13,id=1,seq=2,ts_ori=1000,ts_rx=2000,ts_tx=3000)`,
    build: () => IP(LO).add(ICMP({ type: 13, id: 1, seq: 2, ts_ori: 1000, ts_rx: 2000, ts_tx: 3000 })),
  },
  { scapy: `ICMP(type=14,ts_ori='01:02:03.456',ts_rx=0,ts_tx=0)`, build: () => ICMP({ type: 14, ts_ori: '01:02:03.456', ts_rx: 0, ts_tx: 0 }) },
  { scapy: `ICMP(type=17,addr_mask='255.255.255.0')`, build: () => ICMP({ type: 17, addr_mask: '255.255.255.0' }) },
  { scapy: `ICMP(type=37,id=1,seq=2,unused=3)`, build: () => ICMP({ type: 37, id: 1, seq: 2, unused: 3 }) },
  { scapy: `ICMP(type=4)`, build: () => ICMP({ type: 4 }) },
  { scapy: `ICMP(type=9,unused=0x01020304)`, build: () => ICMP({ type: 9, unused: 0x01020304 }) },
  // ICMP errors with their quotes
  {
    scapy: `IP(${LO_S})/ICMP(type=3,code=3)/IPerror(${QUOTE_S})/UDPerror(sport=1,dport=2)`,
    build: () => IP(LO).add(ICMP({ type: 3, code: 3 }), IPerror(QUOTE), UDPerror({ sport: 1, dport: 2 })),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type='dest-unreach',code='port-unreachable')/IPerror(${QUOTE_S})/UDPerror(sport=1,dport=2)/Raw(b'data')`,
    build: () => IP(LO).add(ICMP({ type: 'dest-unreach', code: 'port-unreachable' }), IPerror(QUOTE), UDPerror({ sport: 1, dport: 2 }), Raw({ load: 'data' })),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type=3,code=4,nexthopmtu=1400)/IPerror(${QUOTE_S})/TCPerror(sport=1234,dport=80,seq=1000)`,
    build: () => IP(LO).add(ICMP({ type: 3, code: 4, nexthopmtu: 1400 }), IPerror(QUOTE), TCPerror({ sport: 1234, dport: 80, seq: 1000 })),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type='time-exceeded')/IPerror(${QUOTE_S},ttl=1)/UDPerror(sport=33434,dport=33435)`,
    build: () => IP(LO).add(ICMP({ type: 'time-exceeded' }), IPerror({ ...QUOTE, ttl: 1 }), UDPerror({ sport: 33434, dport: 33435 })),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type=5,code=1,gw='127.0.0.9')/IPerror(${QUOTE_S})/UDPerror()`,
    build: () => IP(LO).add(ICMP({ type: 5, code: 1, gw: '127.0.0.9' }), IPerror(QUOTE), UDPerror()),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type=12,ptr=20,length=7)/IPerror(${QUOTE_S})/TCPerror()`,
    build: () => IP(LO).add(ICMP({ type: 12, ptr: 20, length: 7 }), IPerror(QUOTE), TCPerror()),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type=3,code=1)/IPerror(${QUOTE_S})/ICMPerror(type=8,id=5,seq=6)`,
    build: () => IP(LO).add(ICMP({ type: 3, code: 1 }), IPerror(QUOTE), ICMPerror({ type: 8, id: 5, seq: 6 })),
  },
  {
    scapy: `IP(${LO_S})/ICMP(type=3,code=3,chksum=1)/IPerror(${QUOTE_S},chksum=2,len=500)/UDPerror(len=3,chksum=4)`,
    build: () => IP(LO).add(ICMP({ type: 3, code: 3, chksum: 1 }), IPerror({ ...QUOTE, chksum: 2, len: 500 }), UDPerror({ len: 3, chksum: 4 })),
  },
];

/** Whether two field values are the same value (Buffers by content). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    const ab = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'latin1');
    const bb = Buffer.isBuffer(b) ? b : Buffer.from(String(b), 'latin1');
    return ab.equals(bb);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields the builder set that the dissected layer reads back differently. */
function fieldMismatches(built: Packet, back: Packet): string[] {
  const out: string[] = [];
  for (let i = 0; i < built.layers.length; i++) {
    const layer = built.layers[i]!;
    // What Raw bytes mean is the dissector's choice (CookedLinux()/Raw is IP by its proto).
    if (layer.name === 'Raw') break;
    const other = back.layers[i];
    if (!other || other.name !== layer.name) {
      out.push(`layer ${i}: built ${layer.name}, dissected ${other?.name}`);
      continue;
    }
    for (const [k, v] of Object.entries(layer.fields)) {
      const w = (other.fields as Record<string, unknown>)[k];
      // Short fixed-length strings come back zero-padded to their width.
      if (layer.name.startsWith('CookedLinux') && k === 'src') continue;
      if (!sameValue(v, w)) out.push(`${layer.name}.${k}: built ${JSON.stringify(v)}, dissected ${JSON.stringify(w)}`);
    }
  }
  return out;
}

describe.skipIf(noScapy !== undefined)(`link layers, UDP and ICMP against Scapy 2.5${noScapy ? ` (skipped: ${noScapy})` : ''}`, () => {
  let hexes: (string | undefined)[];

  beforeAll(async () => {
    const answers = await scapyBuild(cases.map((c) => c.scapy));
    hexes = answers.map((a) => a.hex);
    const errors = answers.flatMap((a, i) => (a.error ? [`${cases[i]!.scapy}: ${a.error}`] : []));
    if (errors.length > 0) throw new Error(`Scapy rejected:\n${errors.join('\n')}`);
  }, 120_000);

  it('builds the same bytes as Scapy', () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const got = c.build().bytes().toString('hex');
      if (got !== hexes[i]) failures.push(`${c.scapy}\n  scapy  ${hexes[i]}\n  synack ${got}`);
    });
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('dissects what it built back to the same bytes and fields', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const built = c.build();
      const bytes = built.bytes();
      // Start from the built packet's own first layer: a bare ARP or UDP has no link type.
      const back = new PacketClass(dissectLayers(bytes, 0, bytes.length, built.layers[0]!.layerClass, false));
      if (!back.bytes().equals(bytes)) failures.push(`${c.scapy}: rebuilt ${back.bytes().toString('hex')}`);
      if (!c.reshaped) for (const m of fieldMismatches(built, back)) failures.push(`${c.scapy}: ${m}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });
});

describe('dissection of defects, in tcpdump words', () => {
  const problems = (p: Packet, name: string) => p.getLayer(name)?.problems ?? [];

  it('verifies UDP and ICMP checksums, and takes UDP checksum 0 as none', () => {
    const good = dissect(IP(LO).add(UDP({ sport: 1000, dport: 2000 }), Raw({ load: 'hello' })).bytes());
    expect(good.getLayer(UDP)?.checksumValid).toBe(true);
    const bad = dissect(IP(LO).add(UDP({ chksum: 0x1234 }), Raw({ load: 'x' })).bytes());
    expect(bad.getLayer(UDP)?.checksumValid).toBe(false);
    const none = dissect(IP(LO).add(UDP({ chksum: 0 }), Raw({ load: 'x' })).bytes());
    expect(none.getLayer(UDP)?.checksumValid).toBeUndefined();
    const zero = IP(LO).add(UDP({ sport: 1000, dport: 2000 }), Raw({ load: ZERO_LOAD })).bytes();
    expect(zero.readUInt16BE(26)).toBe(0xffff);
    expect(dissect(zero).getLayer(UDP)?.checksumValid).toBe(true);
    expect(dissect(IP(LO).add(ICMP()).bytes()).getLayer(ICMP)?.checksumValid).toBe(true);
    expect(dissect(IP(LO).add(ICMP({ chksum: 0xdead })).bytes()).getLayer(ICMP)?.checksumValid).toBe(false);
  });

  it('honours a UDP len shorter than the datagram, and flags lengths that lie', () => {
    const short = dissect(IP(LO).add(UDP({ len: 10 }), Raw({ load: 'abcd' })).bytes());
    expect(short.layers.map((l) => l.name)).toEqual(['IP', 'UDP', 'Raw', 'Padding']);
    expect(String(short.getLayer(Raw)!.fields.load)).toBe('ab');
    // tcpdump: [bad udp cksum ...] since the checksum covers only len bytes there.
    expect(short.getLayer(UDP)?.checksumValid).toBe(false);
    const long = dissect(IP(LO).add(UDP({ len: 100 }), Raw({ load: 'abcd' })).bytes());
    expect(problems(long, 'UDP')).toEqual(['bad length 92 > 4']);
    expect(long.getLayer(UDP)?.checksumValid).toBe(true);
    const tiny = dissect(IP(LO).add(UDP({ len: 4 }), Raw({ load: 'abcd' })).bytes());
    expect(problems(tiny, 'UDP')).toEqual(['truncated-udplength 4']);
  });

  it('keeps the ports of a cut-off UDP header, and marks cut-off headers', () => {
    const cut = dissect(IP({ ...LO, proto: 17 }).add(Raw({ load: Buffer.from('00010002', 'hex') })).bytes());
    const udp = cut.getLayer(UDP)!;
    expect([udp.fields.sport, udp.fields.dport, udp.truncatedTo]).toEqual([1, 2, 4]);
    expect(udp.problems).toEqual(['[|udp]']);
    const icmp = dissect(IP({ ...LO, proto: 1 }).add(Raw({ load: Buffer.from('0800', 'hex') })).bytes());
    expect(problems(icmp, 'ICMP')).toEqual(['[|icmp]']);
    const arp = ARP({ psrc: '1.2.3.4', pdst: '1.2.3.5' }).bytes();
    expect(problems(dissect(Ether().add(ARP({ psrc: '1.2.3.4' })).bytes().subarray(0, 14 + 20), 'ether'), 'ARP')).toEqual(['[|arp]']);
    expect(dissect(arp.subarray(0, 3), 'ether').layers[0]!.problems).toEqual(['[|ether]']);
  });

  it('dissects an ICMP error quote as IPerror and a transport header, leniently', () => {
    // A router quotes the IP header and 8 bytes: the UDP header whole, the TCP header cut off.
    const udpErr = dissect(IP(LO).add(ICMP({ type: 3, code: 3 }), IPerror({ ...QUOTE, len: 1000 }), UDPerror({ sport: 1, dport: 2, len: 980 })).bytes());
    expect(udpErr.layers.map((l) => l.name)).toEqual(['IP', 'ICMP', 'IPerror', 'UDPerror']);
    expect(udpErr.layers.flatMap((l) => l.problems ?? [])).toEqual([]);
    const full = IP(LO).add(ICMP({ type: 11 }), IPerror(QUOTE), TCPerror({ sport: 1234, dport: 80, seq: 77 })).bytes();
    // Cut the quoted TCP header to 8 bytes and fix the outer lengths by hand, as a router sends it.
    const cut = Buffer.from(full.subarray(0, 20 + 8 + 20 + 8));
    const rebuilt = dissect(cut);
    expect(rebuilt.layers.map((l) => l.name)).toEqual(['IP', 'ICMP', 'IPerror', 'TCPerror']);
    const tcp = rebuilt.getLayer(TCPerror)!;
    expect([tcp.fields.sport, tcp.fields.dport, tcp.fields.seq, tcp.problems]).toEqual([1234, 80, 77, undefined]);
    expect(rebuilt.getLayer(ICMPLayer)!.isError).toBe(true);
    // Inside the quote an ICMP header is an ICMPerror.
    const quotedEcho = dissect(IP(LO).add(ICMP({ type: 3, code: 1 }), IPerror(QUOTE), ICMPerror({ type: 8, id: 5, seq: 6 })).bytes());
    expect(quotedEcho.layers.map((l) => l.name)).toEqual(['IP', 'ICMP', 'IPerror', 'ICMPerror']);
  });

  it('reads a big-endian loopback family (LINKTYPE_LOOP) and rebuilds it as it came', () => {
    const bytes = Buffer.concat([Buffer.from('00000002', 'hex'), IP(LO).add(ICMP()).bytes()]);
    const p = dissect(bytes, 'loop');
    expect(p.layers.map((l) => l.name)).toEqual(['Loopback', 'IP', 'ICMP']);
    expect(p.layers[0]!.fields).toEqual({ type: 2 });
    expect(p.bytes().equals(bytes)).toBe(true);
    expect(p.clone().bytes().equals(bytes)).toBe(true);
  });

  it('names mistakes in friendly inputs', () => {
    expect(() => ICMP({ type: 'echo-requst' })).toThrow(/did you mean 'echo-request'/);
    expect(() => ICMP({ type: 3, code: 'port-unreachabel' })).toThrow(/did you mean 'port-unreachable'/);
    expect(() => ARP({ op: 'is_at' })).toThrow(/did you mean 'is-at'/);
    expect(() => UDP({ dprt: 1 } as never)).toThrow(/did you mean 'dport'/);
  });
});

const MINE = new Set(['Raw', 'Ether', 'ARP', 'CookedLinux', 'CookedLinuxV2', 'Loopback', 'UDP', 'UDPerror', 'ICMP', 'ICMPerror']);

describe('cut-off bytes at every length', () => {
  const packets: [string, Buffer, LinkType][] = [
    ['Ether/IP/TCP', Ether(MACS).add(IP(LO), TCP({ options: [['MSS', 1460], ['NOP'], ['WScale', 7]] })).bytes(), 'ether'],
    ['Ether/ARP', Ether(MACS).add(ARP({ psrc: '1.2.3.4', pdst: '1.2.3.5' })).bytes(), 'ether'],
    ['SLL/IP/UDP', CookedLinux({ src: SLL_ADDR }).add(IP(LO), UDP(), Raw({ load: 'abc' })).bytes(), 'sll'],
    ['SLL2/ARP', CookedLinuxV2().add(ARP({ ptype: 0x86dd, psrc: '2001:db8::1', pdst: '2001:db8::2' })).bytes(), 'sll2'],
    ['Loopback/IP/ICMP ts', Loopback().add(IP(LO), ICMP({ type: 13, ts_ori: 5 })).bytes(), 'null'],
    ['IP/ICMP/IPerror/UDPerror', IP(LO).add(ICMP({ type: 3, code: 3 }), IPerror(QUOTE), UDPerror({ sport: 1, dport: 2 }), Raw({ load: 'q' })).bytes(), 'ip'],
    ['IP/ICMP/IPerror/TCPerror', IP(LO).add(ICMP({ type: 12, ptr: 1 }), IPerror(QUOTE), TCPerror()).bytes(), 'ip'],
    ['IP/ICMP/IPerror/ICMPerror', IP(LO).add(ICMP({ type: 11 }), IPerror(QUOTE), ICMPerror({ type: 13 })).bytes(), 'ip'],
  ];
  for (const [name, bytes, link] of packets) {
    it(`${name}: never throws, and rebuilds every prefix to itself`, () => {
      const failures: string[] = [];
      for (let n = 0; n <= bytes.length; n++) {
        const prefix = bytes.subarray(0, n);
        const p = dissect(prefix, link);
        const again = p.bytes();
        // Only cuts inside the layers of this file are held to rebuilding byte for byte.
        const cutElsewhere = p.layers.some((l) => l.truncatedTo !== undefined && !MINE.has(l.name)) || !MINE.has(p.layers.at(-1)?.name ?? 'Ether');
        if (!cutElsewhere && !again.equals(prefix)) failures.push(`${n}: ${prefix.toString('hex')} -> ${again.toString('hex')} (${p.layers.map((l) => l.name).join('/')})`);
        if (p.layers.some((l) => l.problems?.some((x) => x.includes('decode failed')))) failures.push(`${n}: a decoder threw`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    });
  }
});

describe('matching replies to requests (hashret / answers)', () => {
  const layerOf = <L extends Layer>(p: Packet, name: string) => p.getLayer(name) as L;

  it('echo replies match on id and seq, direction-free keys agree', () => {
    const req = layerOf<ICMPLayer>(ICMP({ type: 8, id: 7, seq: 3 }), 'ICMP');
    const rep = layerOf<ICMPLayer>(dissect(IP(LO).add(ICMP({ type: 0, id: 7, seq: 3 })).bytes()), 'ICMP');
    expect(rep.hashret()).toBe(req.hashret());
    expect(rep.answers(req)).toBe(true);
    expect(req.answers(rep)).toBe(false);
    expect(layerOf<ICMPLayer>(ICMP({ type: 0, id: 7, seq: 4 }), 'ICMP').answers(req)).toBe(false);
    expect(layerOf<ICMPLayer>(ICMP({ type: 14, id: 7, seq: 3 }), 'ICMP').answers(layerOf(ICMP({ type: 13, id: 7, seq: 3 }), 'ICMP'))).toBe(true);
    expect(rep.isError).toBe(false);
  });

  it('UDP replies match on both ports swapped; a quoted UDP header matches as sent', () => {
    const sent = layerOf<UDPLayer>(UDP({ sport: 40000, dport: 53 }), 'UDP');
    const reply = layerOf<UDPLayer>(UDP({ sport: 53, dport: 40000 }), 'UDP');
    expect(reply.hashret()).toBe(sent.hashret());
    expect(reply.answers(sent)).toBe(true);
    expect(layerOf<UDPLayer>(UDP({ sport: 54, dport: 40000 }), 'UDP').answers(sent)).toBe(false);
    expect(layerOf<UDPLayer>(UDP({ sport: 53, dport: 40001 }), 'UDP').answers(sent)).toBe(false);
    const quoted = layerOf<UDPerrorLayer>(UDPerror({ sport: 40000, dport: 53 }), 'UDPerror');
    expect(quoted.hashret()).toBe(sent.hashret());
    expect(quoted.answers(sent)).toBe(true);
    expect(layerOf<UDPerrorLayer>(UDPerror({ sport: 53, dport: 40000 }), 'UDPerror').answers(sent)).toBe(false);
  });

  it('ICMP errors say isError and defer to the quote; a quoted echo matches its request', () => {
    const err = layerOf<ICMPLayer>(ICMP({ type: 3, code: 3 }), 'ICMP');
    expect(err.isError).toBe(true);
    expect(err.answers(layerOf(ICMP(), 'ICMP'))).toBe(false);
    const quoted = layerOf<ICMPerrorLayer>(ICMPerror({ type: 8, id: 5, seq: 6 }), 'ICMPerror');
    expect(quoted.answers(layerOf(ICMP({ type: 8, id: 5, seq: 6 }), 'ICMP'))).toBe(true);
    expect(quoted.answers(layerOf(ICMP({ type: 8, id: 5, seq: 7 }), 'ICMP'))).toBe(false);
  });

  it('ARP is-at answers who-has for the address asked', () => {
    const ask = layerOf<ARPLayer>(ARP({ psrc: '198.51.100.1', pdst: '198.51.100.2' }), 'ARP');
    const tell = layerOf<ARPLayer>(ARP({ op: 'is-at', psrc: '198.51.100.2', pdst: '198.51.100.1' }), 'ARP');
    expect(tell.hashret()).toBe(ask.hashret());
    expect(tell.answers(ask)).toBe(true);
    expect(ask.answers(tell)).toBe(false);
    expect(layerOf<ARPLayer>(ARP({ op: 2, psrc: '198.51.100.3' }), 'ARP').answers(ask)).toBe(false);
  });

  it('Ether answers Ether of the same type, or when the sent type was left to the binding', () => {
    const sent = layerOf<EtherLayer>(Ether(), 'Ether');
    const got = layerOf<EtherLayer>(dissect(Ether().add(IP(LO)).bytes(), 'ether'), 'Ether');
    expect(got.answers(sent)).toBe(true);
    expect(got.answers(layerOf(Ether({ type: 0x86dd }), 'Ether'))).toBe(false);
  });
});

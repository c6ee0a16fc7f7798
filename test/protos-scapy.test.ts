/**
 * GRE, IGMP, NTP and BOOTP/DHCP against Scapy 2.5 (bytes) and tcpdump 4.99 (display):
 *   - frames crafted by Scapy (every GRE flag, IPv6 inside GRE, IGMP v1-v3 queries, reports
 *     and leaves, NTP client/server with stratum 1 and 3 and a MAC tail, DHCP discover/offer
 *     with the options real clients and servers send; router advertisements with every RFC 4861
 *     option and RDNSS, a PREF64 option (tcpdump 4.99 prints it as unknown), solicitation and
 *     redirect) print as `tcpdump -nn -r` prints them,
 *     plain and with -v, -vv, -vvv and -e;
 *   - seeded random expressions of every new layer build the same bytes in synack as in Scapy,
 *     dissect back and rebuild to those bytes, and print without throwing;
 *   - the dissector and the printer, fed every truncation and random byte flips of those
 *     frames, never throw.
 * Pure: needs /usr/bin/python3 with Scapy and tcpdump, no root, no network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrinter, dissect, packet } from '../src/index.js';
import { readPcapSync } from '../src/pcap/read.js';
import { ourLines, tcpdumpLines } from './helpers/tcpdump-lines.js';
import { scapyBuild, scapyUnavailable, SCAPY_PYTHON, type ScapyAnswer } from './helpers/scapy.js';
import { oracleMissing } from './helpers/oracle.js';
import { PROTO_LAYERS, protoSpecs, type ProtoSpec } from './helpers/protos-specs.js';
import { Rng } from './helpers/random-specs.js';

process.env.TZ = 'UTC';
const SPEC_COUNT = 600;
const SEED = 0x9e0715;
const noScapy = scapyUnavailable();
const noTcpdump = oracleMissing('tcpdump', ['--version']);

const CRAFT = String.raw`import sys, warnings
warnings.filterwarnings('ignore')
from scapy.all import *
from scapy.contrib.igmp import *
from scapy.contrib.igmpv3 import *
from scapy.layers.ntp import *
E=lambda: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
pk=[]
pk.append(E()/IP(src='198.51.100.1',dst='198.51.100.2')/GRE()/IP(src='10.0.0.1',dst='10.0.0.2')/ICMP())
pk.append(E()/IP(src='198.51.100.1',dst='198.51.100.2')/GRE(key_present=1,key=0x1234,seqnum_present=1,sequence_number=7,chksum_present=1)/IP(src='10.0.0.1',dst='10.0.0.2')/UDP(sport=1000,dport=2000)/b'hello')
pk.append(E()/IPv6(src='2001:db8::1',dst='2001:db8::2')/GRE()/IPv6(src='2001:db8:1::1',dst='2001:db8:1::2')/ICMPv6EchoRequest())
pk.append(E()/IP(src='198.51.100.1',dst='198.51.100.2')/GRE(proto=0x1234)/b'xxxx')
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.1')/IGMP(type=0x11,mrcode=100))
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.1')/IGMP(type=0x11,mrcode=0))
pk.append(E()/IP(src='198.51.100.1',dst='239.1.1.1')/IGMP(type=0x16,mrcode=0,gaddr='239.1.1.1'))
pk.append(E()/IP(src='198.51.100.1',dst='239.1.1.1')/IGMP(type=0x12,mrcode=0,gaddr='239.1.1.1'))
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.2')/IGMP(type=0x17,mrcode=0,gaddr='239.1.1.1'))
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.2')/IGMP(type=0x17,mrcode=0,gaddr='239.1.1.1',chksum=0x1234))
pk.append(E()/IP(src='198.51.100.1')/IGMPv3()/IGMPv3mr(records=[IGMPv3gr(rtype=4,maddr='239.1.2.3'),IGMPv3gr(rtype=1,maddr='239.1.2.4',srcaddrs=['198.51.100.9','198.51.100.10'])]))
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.1')/IGMPv3(mrcode=100)/IGMPv3mq())
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.1')/IGMPv3(mrcode=200)/IGMPv3mq(gaddr='239.1.1.1',srcaddrs=['198.51.100.3']))
pk.append(E()/IP(src='198.51.100.1',dst='224.0.0.1')/IGMPv3(mrcode=25)/IGMPv3mq(gaddr='239.1.1.1'))
pk.append(E()/IP(src='198.51.100.1',dst='198.51.100.2')/UDP(sport=123,dport=123)/NTPHeader(orig=0,recv=0,sent=3900000000.25))
pk.append(E()/IP(src='198.51.100.2',dst='198.51.100.1')/UDP(sport=123,dport=40000)/NTPHeader(mode=4,stratum=1,ref_id=b'GPS',leap=0,poll=6,precision=0xe9,delay=0.5,dispersion=0.015625,ref=3900000000,orig=3900000000.25,recv=3900000001.5,sent=3900000001.75))
pk.append(E()/IP(src='198.51.100.2',dst='198.51.100.1')/UDP(sport=123,dport=40000)/NTPHeader(mode=4,stratum=3,leap=3,orig=3900000002.5,recv=3900000001.5,sent=3900000001.75)/(b'\x00'*20))
pk.append(E()/IP(src='0.0.0.0',dst='255.255.255.255')/UDP(sport=68,dport=67)/BOOTP(chaddr=b'\x02\x00\x00\x00\x00\x01',xid=0x1234,flags='B')/DHCP(options=[('message-type','discover'),('param_req_list',[1,3,6,15,28,51,58,59]),('client_id',b'\x01\x02\x00\x00\x00\x00\x01'),('hostname','lab1'),('requested_addr','198.51.100.50'),('max_dhcp_size',1500),('vendor_class_id','udhcp 1.35'),'end']))
pk.append(E()/IP(src='198.51.100.1',dst='198.51.100.50')/UDP(sport=67,dport=68)/BOOTP(op=2,chaddr=b'\x02\x00\x00\x00\x00\x01',xid=0x1234,yiaddr='198.51.100.50',siaddr='198.51.100.1',sname=b'server',file=b'boot.img')/DHCP(options=[('message-type','offer'),('server_id','198.51.100.1'),('lease_time',3600),('renewal_time',1800),('rebinding_time',3150),('subnet_mask','255.255.255.0'),('router','198.51.100.1'),('name_server','198.51.100.1','198.51.100.2'),('domain','lab.test'),('broadcast_address','198.51.100.255'),(121,b'\x18\xc0\xa8\x01\xc6\x33\x64\x01\x00\xc6\x33\x64\x01'),('time_zone',3600),(77,b'\x03abc\x02de'),(250,b'\x01\x02\x03'),'end','pad','pad']))
pk.append(E()/IP(src='198.51.100.1',dst='198.51.100.50')/UDP(sport=67,dport=68)/BOOTP(op=2,htype=6,hops=2,secs=5,giaddr='198.51.100.254',ciaddr='198.51.100.7',options=b'\x01\x02\x03\x04'))
E6=lambda: Ether(src='02:00:00:00:00:01', dst='33:33:00:00:00:01')
pk.append(E6()/IPv6(src='fe80::1')/ICMPv6ND_RA(chlim=64,M=1,routerlifetime=1800,reachabletime=30000,retranstimer=1000)/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')/ICMPv6NDOptMTU(mtu=1500)/ICMPv6NDOptPrefixInfo(prefix='2001:db8:1::',validlifetime=86400,preferredlifetime=14400)/ICMPv6NDOptPrefixInfo(prefix='2001:db8:2::',prefixlen=48,L=0,R=1)/ICMPv6NDOptRDNSS(dns=['2001:db8::53','2001:db8::54'],lifetime=600))
pk.append(E6()/IPv6(src='fe80::2')/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:02'))
pk.append(E6()/IPv6(src='fe80::1')/ICMPv6ND_Redirect(tgt='fe80::9',dst='2001:db8::2')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:09')/ICMPv6NDOptRedirectedHdr(pkt=IPv6(src='2001:db8::5',dst='2001:db8::2')/UDP()))
pk.append(E6()/IPv6(src='fe80::1')/ICMPv6ND_RA(prf=3,O=1)/ICMPv6NDOptUnknown(type=38,len=2,data=b'\x00\x08'+bytes(12)))
wrpcap(sys.argv[1], pk)
`;


describe.skipIf(noScapy !== undefined || noTcpdump !== undefined)(`new protocols against Scapy and tcpdump${noScapy ?? noTcpdump ? ` (skipped: ${noScapy ?? noTcpdump})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-protos-scapy-'));
  const crafted = join(dir, 'crafted.pcap');
  let specs: ProtoSpec[];
  let answers: ScapyAnswer[];

  beforeAll(async () => {
    const script = join(dir, 'craft.py');
    writeFileSync(script, CRAFT);
    const r = spawnSync(SCAPY_PYTHON, [script, crafted], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`scapy could not write the frames: ${r.stderr}`);
    specs = protoSpecs(SPEC_COUNT, SEED);
    answers = await scapyBuild(specs.map((s) => s.expr));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const flags of [[], ['-v'], ['-vv'], ['-vvv'], ['-e']]) {
    it(`prints Scapy's frames as tcpdump -nn ${flags.join(' ')} does`, () => {
      const want = tcpdumpLines(crafted, flags);
      const got = ourLines(crafted, flags);
      expect(want.length).toBeGreaterThan(23);
      for (let i = 0; i < Math.max(want.length, got.length); i++) expect({ line: i + 1, text: got[i] }).toEqual({ line: i + 1, text: want[i] });
    });
  }

  it('every generated expression is valid Scapy, and covers every new layer', () => {
    const invalid = specs.flatMap((s, i) => (answers[i]!.error ? [`${answers[i]!.error}: ${s.expr}`] : []));
    expect(invalid.slice(0, 10)).toEqual([]);
    const seen = new Set(specs.flatMap((s) => s.kinds));
    expect(PROTO_LAYERS.filter((n) => !seen.has(n))).toEqual([]);
  });

  it(`builds Scapy's bytes for ${SPEC_COUNT} random expressions, and dissects them back to the same bytes`, () => {
    const failures: string[] = [];
    const printer = createPrinter({ verbose: 2, link: true });
    for (let i = 0; i < specs.length; i++) {
      const want = answers[i]!.hex;
      if (want === undefined) continue;
      const spec = specs[i]!;
      let got: string;
      try {
        got = packet(spec.expr).bytes().toString('hex');
      } catch (err) {
        got = `threw ${(err as Error).message}`;
      }
      if (got !== want) {
        failures.push(`${spec.expr}\n   scapy  ${want}\n   synack ${got}`);
        continue;
      }
      const link = spec.expr.startsWith('Ether(') ? 'ether' : 'ip';
      const back = dissect(Buffer.from(want, 'hex'), link);
      if (back.bytes().toString('hex') !== want) failures.push(`round trip ${spec.expr}: ${back.layers.map((l) => l.name).join('/')}`);
      // The text form of what was dissected builds the same bytes again.
      const again = packet(back.command()).bytes().toString('hex');
      if (again !== want) failures.push(`command() ${back.command()}`);
      printer.formatPacket(back);
    }
    expect(failures.slice(0, 8).join('\n'), `${failures.length} failures`).toBe('');
  });

  it('never throws on cut-off or corrupted frames of the new layers', () => {
    const rng = new Rng(SEED);
    const printers = [createPrinter({ verbose: 0 }), createPrinter({ verbose: 3, link: true })];
    let tried = 0;
    for (const rec of readPcapSync(crafted)) {
      const frame = rec.data;
      const variants: Buffer[] = [];
      for (let cut = 0; cut <= frame.length; cut += 3) variants.push(frame.subarray(0, cut));
      for (let k = 0; k < 40; k++) {
        const bad = Buffer.from(frame);
        for (let f = rng.int(1, 4); f > 0; f--) bad[rng.int(14, bad.length - 1)] = rng.int(0, 255);
        variants.push(bad);
      }
      for (const v of variants) {
        const p = dissect(v, 'ether');
        expect(() => p.bytes()).not.toThrow();
        for (const pr of printers) expect(() => pr.formatRecord({ data: v, origLen: frame.length, seconds: 0, nanos: 0, linkType: 1 })).not.toThrow();
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(500);
  });
});

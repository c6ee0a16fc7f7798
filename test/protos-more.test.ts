/**
 * The second round of protocols against Scapy 2.5 (bytes, dissection) and tcpdump 4.99
 * (display): GRE carrying Ethernet (0x6558) and PPTP's enhanced GRE (GRE_PPTP) with PPP and
 * HDLC framing inside, NTP control (mode 6) and private (mode 7) messages, DHCP's relay agent
 * information (option 82) and the ICMPv6 ND options DNSSL, route information, advertisement
 * interval and home agent information:
 *   - frames crafted by Scapy print as `tcpdump -nn -r` prints them, plain and with -v, -vv, -e;
 *   - seeded random expressions build the same bytes in synack as in Scapy; synack dissects
 *     them back to those bytes (and its command() builds them again), into the same layers
 *     that Scapy's dissection finds;
 *   - Scapy dissects the bytes synack builds from the classes' defaults into the same classes.
 * Pure: needs /usr/bin/python3 with Scapy and tcpdump, no root, no network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrinter, dissect, packet } from '../src/index.js';
import { ourLines, tcpdumpLines } from './helpers/tcpdump-lines.js';
import { scapyBuild, scapyUnavailable, SCAPY_PYTHON, type ScapyAnswer } from './helpers/scapy.js';
import { oracleMissing } from './helpers/oracle.js';
import { MORE_LAYERS, moreProtoSpecs } from './helpers/protos-more-specs.js';
import type { ProtoSpec } from './helpers/protos-specs.js';

process.env.TZ = 'UTC';
const SPEC_COUNT = 500;
const SEED = 0x6558;
const noScapy = scapyUnavailable();
const noTcpdump = oracleMissing('tcpdump', ['--version']);

const CRAFT = String.raw`import sys, warnings
warnings.filterwarnings('ignore')
from scapy.all import *
E=lambda: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
I=lambda: IP(src='198.51.100.1',dst='198.51.100.2')
E6=lambda: Ether(src='02:00:00:00:00:01', dst='33:33:00:00:00:01')
RA=lambda: E6()/IPv6(src='fe80::1')/ICMPv6ND_RA()
pk=[]
pk.append(E()/I()/GRE()/Ether(src='02:00:00:00:00:03',dst='02:00:00:00:00:04')/IP(src='10.0.0.1',dst='10.0.0.2')/ICMP())
pk.append(E()/I()/GRE(key_present=1,key=99)/Ether(src='02:00:00:00:00:03',dst='02:00:00:00:00:04')/ARP(psrc='10.0.0.1',pdst='10.0.0.2'))
pk.append(E()/I()/GRE()/Ether(src='02:00:00:00:00:03',dst='02:00:00:00:00:04',type=0x1234)/b'abcdef')
pk.append(E()/I()/GRE_PPTP(call_id=5,seqnum_present=1,sequence_number=1,acknum_present=1,ack_number=2)/PPP()/IP(src='10.0.0.1',dst='10.0.0.2')/ICMP())
pk.append(E()/I()/GRE_PPTP(call_id=6,acknum_present=1,ack_number=9))
pk.append(E()/I()/GRE_PPTP(call_id=7,seqnum_present=1,sequence_number=3)/PPP(proto=0x57)/IPv6(src='2001:db8::1',dst='2001:db8::2')/ICMPv6EchoRequest())
pk.append(E()/I()/GRE_PPTP(call_id=7,seqnum_present=1,sequence_number=4)/PPP(proto=0xc021)/b'\x01\x01\x00\x04')
pk.append(E()/I()/GRE_PPTP(call_id=7,seqnum_present=1,sequence_number=5)/PPP(proto=0x8021)/b'\x05\x02\x00\x04')
pk.append(E()/I()/GRE_PPTP(call_id=8,seqnum_present=1,sequence_number=6)/HDLC()/PPP()/IP(src='10.0.0.1',dst='10.0.0.2')/UDP(sport=1,dport=2))
pk.append(E()/I()/GRE_PPTP(call_id=8,seqnum_present=1,sequence_number=7)/PPP(proto=0x1234)/b'\x01\x02\x03')
pk.append(E()/I()/GRE(proto=0x880b)/PPP()/IP(src='10.0.0.1',dst='10.0.0.2')/ICMP())
pk.append(E()/I()/UDP(sport=40000,dport=123)/NTPControl(op_code=2,sequence=1,count=0))
pk.append(E()/I()/UDP(sport=40000,dport=123)/NTPControl(op_code=1,sequence=2,association_id=3,status=0x615,count=0))
pk.append(E()/I()/UDP(sport=123,dport=40000)/NTPControl(response=1,more=1,op_code=2,sequence=2,count=7,data=b'version'))
pk.append(E()/I()/UDP(sport=123,dport=40000)/NTPControl(response=1,op_code=2,sequence=2,count=30,data=b'short'))
pk.append(E()/I()/UDP(sport=40000,dport=123)/NTPPrivate(mode=7,request_code=42,implementation=3))
pk.append(E()/I()/UDP(sport=123,dport=40000)/NTPPrivate(mode=7,request_code=42,implementation=3,response=1,nb_items=0,data_item_size=72))
pk.append(E()/IP(src='0.0.0.0',dst='255.255.255.255')/UDP(sport=67,dport=67)/BOOTP(chaddr=b'\x02\x00\x00\x00\x00\x01',xid=0x1234,giaddr='198.51.100.254',hops=1)/DHCP(options=[('message-type','discover'),('relay_agent_information',b'\x01\x04eth0\x02\x06\x02\x00\x00\x00\x00\x01'),'end']))
pk.append(E()/IP(src='0.0.0.0',dst='255.255.255.255')/UDP(sport=67,dport=67)/BOOTP(chaddr=b'\x02\x00\x00\x00\x00\x01',xid=0x1234)/DHCP(options=[('message-type','request'),('relay_agent_information',b'\x01\x03abc\x05\x04\x01\x02\x03\x04\x06\x02zz\x09\x07xy'),'end']))
pk.append(RA()/ICMPv6NDOptDNSSL(searchlist=['lab.test.','example.test.'],lifetime=600))
pk.append(RA()/ICMPv6NDOptDNSSL(searchlist=[])/ICMPv6NDOptRDNSS(dns=['2001:db8::53']))
pk.append(RA()/ICMPv6NDOptRouteInfo(prefix='2001:db8:5::',plen=48,prf=1,rtlifetime=900))
pk.append(RA()/ICMPv6NDOptRouteInfo(prefix='2001:db8:5::',plen=0,len=1,rtlifetime=900))
pk.append(RA()/ICMPv6NDOptRouteInfo(prefix='2001:db8:5:6:7::',plen=80,prf=3,len=2,rtlifetime=0xffffffff))
pk.append(RA()/ICMPv6NDOptAdvInterval(advint=5000)/ICMPv6NDOptHAInfo(pref=1,lifetime=30))
wrpcap(sys.argv[1], pk)
`;

/** Scapy's dissection of each hex line: the class names of its layers, outermost first. */
const DISSECT = String.raw`import sys, json, warnings, logging
warnings.filterwarnings('ignore')
logging.getLogger('scapy').setLevel(logging.ERROR)
from scapy.all import *
for line in sys.stdin:
    link, hexbytes = json.loads(line)
    raw = bytes.fromhex(hexbytes)
    p = Ether(raw) if link == 'ether' else IPv6(raw) if raw[0] >> 4 == 6 else IP(raw)
    names = []
    while p and not isinstance(p, NoPayload):
        names.append(type(p).__name__)
        p = p.payload
    print(json.dumps(names))
`;

function scapyLayers(items: readonly [string, string][]): string[][] {
  const r = spawnSync(SCAPY_PYTHON, ['-c', DISSECT], { input: items.map((i) => JSON.stringify(i)).join('\n') + '\n', encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`scapy could not dissect: ${r.stderr.slice(-2000)}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
}

/**
 * Where synack's layers and Scapy's are expected to part: Scapy decodes PPP's control
 * protocols (PPP_LCP, PPP_IPCP ...) and some mode 7 data items, which stay Raw here.
 */
function comparable(names: readonly string[]): string[] {
  const out = names.map((n) => (/^PPP_|^NTPInfo|^NTPPeer|^NTPMonitor|^NTPConf/.test(n) ? 'Raw' : n));
  while (out.length > 1 && out[out.length - 1] === 'Raw' && out[out.length - 2] === 'Raw') out.pop();
  return out;
}

describe.skipIf(noScapy !== undefined || noTcpdump !== undefined)(`GRE/Ethernet, PPTP/PPP, NTP modes 6 and 7, DHCP option 82, ND options against Scapy and tcpdump${noScapy ?? noTcpdump ? ` (skipped: ${noScapy ?? noTcpdump})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-protos-more-'));
  const crafted = join(dir, 'crafted.pcap');
  let specs: ProtoSpec[];
  let answers: ScapyAnswer[];

  beforeAll(async () => {
    const script = join(dir, 'craft.py');
    writeFileSync(script, CRAFT);
    const r = spawnSync(SCAPY_PYTHON, [script, crafted], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`scapy could not write the frames: ${r.stderr}`);
    specs = moreProtoSpecs(SPEC_COUNT, SEED);
    answers = await scapyBuild(specs.map((s) => s.expr));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const flags of [[], ['-v'], ['-vv'], ['-e']]) {
    it(`prints Scapy's frames as tcpdump -nn ${flags.join(' ')} does`, () => {
      const want = tcpdumpLines(crafted, flags);
      const got = ourLines(crafted, flags);
      expect(want.length).toBeGreaterThan(24);
      for (let i = 0; i < Math.max(want.length, got.length); i++) expect({ line: i + 1, text: got[i] }).toEqual({ line: i + 1, text: want[i] });
    });
  }

  it('every generated expression is valid Scapy, and covers every new layer', () => {
    const invalid = specs.flatMap((s, i) => (answers[i]!.error ? [`${answers[i]!.error}: ${s.expr}`] : []));
    expect(invalid.slice(0, 10)).toEqual([]);
    const seen = new Set(specs.flatMap((s) => s.kinds));
    expect(MORE_LAYERS.filter((n) => !seen.has(n))).toEqual([]);
  });

  it(`builds Scapy's bytes for ${SPEC_COUNT} random expressions, and dissects them back to the same bytes and the same layers as Scapy`, () => {
    const failures: string[] = [];
    const printer = createPrinter({ verbose: 2, link: true });
    const dissected: [string, string][] = [];
    const ours: string[][] = [];
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
      const again = packet(back.command()).bytes().toString('hex');
      if (again !== want) failures.push(`command() ${back.command()}`);
      printer.formatPacket(back);
      dissected.push([link, want]);
      ours.push(back.layers.map((l) => l.name));
    }
    const theirs = scapyLayers(dissected);
    expect(theirs.length).toBe(ours.length);
    for (let i = 0; i < ours.length; i++) {
      const a = comparable(ours[i]!).join('/');
      const b = comparable(theirs[i]!).join('/');
      if (a !== b) failures.push(`layers of ${dissected[i]![1]}\n   scapy  ${b}\n   synack ${a}`);
    }
    expect(failures.slice(0, 8).join('\n'), `${failures.length} failures`).toBe('');
  });

  it("Scapy dissects synack's defaults of each new class into that class", () => {
    const exprs = [
      "IP()/GRE_PPTP()", "IP()/GRE_PPTP(seqnum_present=1)/PPP()/IP()", "IP()/GRE_PPTP(seqnum_present=1)/HDLC()/PPP()/IPv6()",
      "IP()/GRE()/Ether()/IP()", "IP()/UDP()/NTPControl()", "IP()/UDP()/NTPControl(response=1)", "IP()/UDP()/NTPPrivate(mode=7)",
      "IPv6()/ICMPv6ND_RA()/ICMPv6NDOptDNSSL(searchlist=['a.test.'])/ICMPv6NDOptRouteInfo()/ICMPv6NDOptAdvInterval()/ICMPv6NDOptHAInfo()",
    ];
    const built: [string, string][] = exprs.map((e) => ['ip', packet(e).bytes().toString('hex')]);
    const theirs = scapyLayers(built);
    const ours = built.map(([link, hex]) => dissect(Buffer.from(hex, 'hex'), link as 'ip').layers.map((l) => l.name));
    expect(theirs.map((n) => comparable(n).join('/'))).toEqual(ours.map((n) => comparable(n).join('/')));
  });
});

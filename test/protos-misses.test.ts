/**
 * Scapy 2.5 one-liners that synack got wrong or refused (issue 15, "Build, against Scapy 2.5"):
 * option classes built as packets of their own, options given as bytes or as one option (which
 * crashed), IPOption_SDBM and IPOption_Security, the TCP option Scapy skips, Scapy's bindings
 * (IP in IP, IPv6 in IP, Ether in Ether, Dot1Q in GRE, the group MAC of a multicast destination), the short
 * address form and the text form's Python lexics (comments, continuations, a packet as a
 * field's value). Each builds the bytes Scapy builds. Nothing is sent: these only build bytes.
 * Pure: needs /usr/bin/python3 with Scapy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dissect, expand, IP, IPv6, IPv6ExtHdrDestOpt, ICMP, ICMPv6EchoRequest, packet } from '../src/index.js';
import { scapyBuild, scapyUnavailable, type ScapyAnswer } from './helpers/scapy.js';

const noScapy = scapyUnavailable();

/** Every address and MAC is given: Scapy would otherwise ask this machine's routes. */
const CASES: readonly string[] = [
  "HBHOptUnknown(otype=0x1e, optdata=b'abc')",
  "PadN(optdata=b'\\x00\\x00')",
  'RouterAlert()',
  'RouterAlert(value=2)',
  "IPOption_LSRR(routers=['198.51.100.1', '198.51.100.2'])",
  "IPOption_RR(routers=['198.51.100.9'], pointer=8)",
  "IP(src='198.51.100.1', dst='172.16.1.1', options='\\x02')/ICMP()",
  "IP(src='198.51.100.1', dst='198.51.100.2', options=b'\\x01\\x01\\x94\\x04\\x00\\x00')/ICMP()",
  "IPv6()/IPv6ExtHdrDestOpt(options=HAO(hoa='2001:db8::1'))/ICMPv6EchoRequest()",
  "IPv6()/IPv6ExtHdrHopByHop(options=RouterAlert())/ICMPv6EchoRequest()",
  "IP(options=[IPOption_SDBM(addresses=['198.51.100.1', '198.51.100.2'])])/ICMP()",
  'IP(options=[IPOption_Security()])/ICMP()',
  "IP(options=[IPOption_Security(security=0xf135, compartment=1, transmission_control_code=b'abc')])/ICMP()",
  "IP()/TCP(options=[('unknown', b'')])",
  "IP()/TCP(options=[('MSS', 1460), ('unknown', b''), ('NOP', None)])",
  'IP()/IP()',
  'IP()/IP()/ICMP()',
  'IP()/IPv6()',
  "Ether(src='02:00:00:00:00:01')/Ether(src='02:00:00:00:00:02')",
  "Ether(src='02:00:00:00:00:01')/IP(src='198.51.100.1', dst='224.0.0.1')",
  "Ether(src='02:00:00:00:00:01')/IP(src='198.51.100.1', dst='239.255.129.2')/UDP()",
  "Ether(src='02:00:00:00:00:01')/IPv6(src='fe80::1', dst='ff02::1')",
  "Ether(src='02:00:00:00:00:01')/IPv6(src='fe80::1', dst='ff02::1:ff00:1234')/ICMPv6EchoRequest()",
  "IP(src='198.51.100.1', dst='172.16.5')",
  "IP(src='198.51.100.1')/Raw(load=IP(src='198.51.100.2')/UDP())",
  "IP(src='198.51.100.1')/ICMP(type=3, code=3)/IPerror(src='198.51.100.2')/UDPerror()",
  "IPv6(src='fe80::1')/ICMPv6ND_RA()/ICMPv6NDOptPrefixInfo(prefix='2001:db8::')/ICMPv6NDOptMTU()/ICMPv6NDOptRDNSS(dns=['2001:db8::53'])",
  "IPv6(src='fe80::1')/ICMPv6ND_RA(chlim=64, M=1, O=1, prf=3, routerlifetime=0, reachabletime=5, retranstimer=6)/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')",
  "IPv6(src='fe80::2')/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:02')",
  "IPv6(src='fe80::1')/ICMPv6ND_Redirect(tgt='2001:db8::1', dst='2001:db8::2')/ICMPv6NDOptRedirectedHdr(pkt=IPv6()/UDP())",
  "ICMPv6NDOptPrefixInfo(prefixlen=48, L=0, validlifetime=60, prefix='2001:db8:1::')",
  "ICMPv6NDOptRDNSS(lifetime=10, dns=['2001:db8::1', '2001:db8::2', '2001:db8::3'])",
  'ICMPv6NDOptMTU(mtu=9000)',
  "IP(src='198.51.100.1', dst='198.51.100.2')/GRE()/Dot1Q(vlan=10)/IP(src='198.51.100.3', dst='198.51.100.4')/ICMP()",
];

describe.skipIf(noScapy !== undefined)(`Scapy one-liners synack missed${noScapy ? ` (skipped: ${noScapy})` : ''}`, () => {
  let answers: ScapyAnswer[];
  beforeAll(async () => {
    answers = await scapyBuild(CASES);
  }, 60_000);

  for (const [i, expr] of CASES.entries()) {
    it(`builds Scapy's bytes: ${expr}`, () => {
      expect(answers[i]!.error).toBeUndefined();
      expect(packet(expr).bytes().toString('hex')).toBe(answers[i]!.hex);
    });
  }

  it('dissects a tagged frame in GRE back to Dot1Q, as Scapy binds GRE proto 0x8100', () => {
    const bytes = packet(CASES.at(-1)!).bytes();
    expect(dissect(bytes, 'ip').layers.map((l) => l.name).join('/')).toBe('IP/GRE/Dot1Q/IP/ICMP');
  });

  it("expands the short form IP(dst='172.16.5/24') to the 256 packets Scapy makes", () => {
    const ps = expand(packet("IP(src='198.51.100.1', dst='172.16.5/24')"));
    expect(ps.length).toBe(256);
    expect(ps.map((p) => p.layers[0]!.fields.dst).slice(0, 2)).toEqual(['172.16.0.0', '172.16.0.1']);
    expect(ps.at(-1)!.layers[0]!.fields.dst).toBe('172.16.0.255');
    expect(packet("IP(src='198.51.100.1', dst='10.1/30')").layers[0]!.hasSets).toBe(true);
  });

  it('dissects the new ND messages and options back to their classes and bytes', () => {
    for (const expr of CASES.filter((e) => e.startsWith("IPv6(src='fe80"))) {
      const bytes = packet(expr).bytes();
      const back = dissect(bytes, 'ip');
      expect(back.layers.map((l) => l.name).join('/')).toBe(expr.replace(/\([^()]*(\([^()]*\)[^()]*)*\)/g, '').replace('/UDP', ''));
      expect(back.bytes().equals(bytes)).toBe(true);
    }
  });

  it('reads comments and line continuations as Python does', () => {
    const text = "IP(src='198.51.100.1', \\\n   dst='198.51.100.2')  # the header\n/ICMP()   # and a ping\n";
    expect(packet(text).bytes().equals(packet("IP(src='198.51.100.1',dst='198.51.100.2')/ICMP()").bytes())).toBe(true);
    // '#' inside a string is a character, not a comment.
    expect(packet("Raw(load='a#b')").bytes().toString()).toBe('a#b');
  });

  it('takes a packet as a field value only where bytes go', () => {
    expect(() => packet("IP(ttl=IP()/UDP())")).toThrow(/IP ttl takes a number, not a packet/);
  });
});

describe('options given the way Scapy takes them, through the TypeScript API (these crashed)', () => {
  it('IP options as bytes', () => {
    const p = IP({ src: '198.51.100.1', dst: '198.51.100.2', options: '\x02' as never }).add(ICMP());
    expect(p.bytes().subarray(20, 24).toString('hex')).toBe('02000000');
  });
  it('one extension-header option without a list', () => {
    const p = IPv6().add(IPv6ExtHdrDestOpt({ options: { name: 'HAO', hoa: '2001:db8::1' } as never })).add(ICMPv6EchoRequest());
    expect(p.bytes().subarray(40, 48).toString('hex')).toBe('3a020102' + '0000c910');
  });
  it('a value that is no option list is one clear usage error', () => {
    expect(() => IP({ options: 5 as never })).toThrow(/IP options take a list/);
  });
});

/**
 * show() against Scapy 2.5's show2(): the same expression, written once in the text form both
 * understand, is shown by Scapy (one python process for all of them, `show2(dump=True)`) and by
 * synack's packet(expr).show(); the text must be identical, line for line: layer names, field
 * order, computed lengths and checksums, enum names (ICMP types and codes, ARP ops, IPv6 next
 * headers, port names), IP options as nested packets, and TCP options ('' when nothing follows
 * the header, [] when a payload does).
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { packet } from '../src/index.js';
import { SCAPY_PYTHON, scapyUnavailable } from './helpers/scapy.js';

const CASES: Record<string, string> = {
  'Ether/IP/TCP with options': "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='198.51.100.1', dst='198.51.100.2', id=7, flags='DF', ttl=63)/TCP(sport=40000, dport=80, seq=1000, ack=0, flags='S', window=64240, options=[('MSS', 1460), ('SAckOK', b''), ('Timestamp', (12345, 0)), ('NOP', None), ('WScale', 7)])",
  'IP/TCP with a payload': "IP(src='198.51.100.1', dst='198.51.100.2')/TCP(sport=1234, dport=5678, flags='PA', seq=5, ack=9)/Raw(load=b'hello\\r\\n')",
  'IP/TCP with SACK': "IP(src='198.51.100.1', dst='198.51.100.2')/TCP(sport=1234, dport=22, flags='A', options=[('NOP', None), ('NOP', None), ('SAck', (100, 200, 300, 400))])",
  'IP/TCP, nothing after the header': "IP(src='198.51.100.1', dst='198.51.100.2')/TCP(sport=1, dport=2)",
  'IP options': "IP(src='198.51.100.1', dst='198.51.100.2', options=[IPOption_RR(routers=['1.2.3.4'])])/TCP(sport=1, dport=2)",
  'Ether/IP/UDP': "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='198.51.100.1', dst='198.51.100.2')/UDP(sport=40000, dport=2000)/Raw(load=b'abc')",
  'ICMP echo': "IP(src='198.51.100.1', dst='198.51.100.2')/ICMP(type=8, id=1, seq=2)/Raw(load=b'ping')",
  'ICMP echo reply': "IP(src='198.51.100.2', dst='198.51.100.1')/ICMP(type=0, id=1, seq=2)",
  'ICMP port unreachable': "IP(src='198.51.100.1', dst='198.51.100.2')/ICMP(type=3, code=3)/IPerror(src='198.51.100.2', dst='198.51.100.1')/UDPerror(sport=1000, dport=2000)",
  'ICMP time exceeded': "IP(src='198.51.100.1', dst='198.51.100.2')/ICMP(type=11, code=0)/IPerror(src='198.51.100.2', dst='198.51.100.9')/TCPerror(sport=1000, dport=80)",
  'IPv6 echo request': "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IPv6(src='2001:db8::1', dst='2001:db8::2')/ICMPv6EchoRequest(id=3, seq=4, data=b'hi')",
  'IPv6 echo reply': "IPv6(src='2001:db8::1', dst='2001:db8::2')/ICMPv6EchoReply(id=3, seq=4)",
  'IPv6/TCP': "IPv6(src='2001:db8::1', dst='2001:db8::2')/TCP(sport=1234, dport=443, flags='SA')",
  'IPv6/UDP': "IPv6(src='2001:db8::1', dst='2001:db8::2')/UDP(sport=40000, dport=40001)/Raw(load=b'x')",
  'ARP who-has': "Ether(src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:00:01', psrc='198.51.100.1', pdst='198.51.100.2')",
  'ARP is-at': "Ether(src='02:00:00:00:00:02', dst='02:00:00:00:00:01')/ARP(op=2, hwsrc='02:00:00:00:00:02', psrc='198.51.100.2', hwdst='02:00:00:00:00:01', pdst='198.51.100.1')",
  'Ether alone': "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02', type=0x88b5)",
};

const PROGRAM = String.raw`
import sys, json, logging, warnings
warnings.filterwarnings("ignore")
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
conf.verb = 0
conf.color_theme = NoTheme()
scope = dict(globals())
out = {}
for name, expr in json.load(sys.stdin).items():
    try:
        out[name] = eval(expr, scope).show2(dump=True)
    except Exception as e:
        out[name] = "ERROR " + type(e).__name__ + ": " + str(e)
print(json.dumps(out))
`;

const noScapy = scapyUnavailable();

describe.skipIf(noScapy !== undefined)(`show() against Scapy 2.5 show2()${noScapy ? ` (skipped: ${noScapy})` : ''}`, () => {
  let scapy: Record<string, string>;

  beforeAll(() => {
    const run = spawnSync(SCAPY_PYTHON, ['-c', PROGRAM], { input: JSON.stringify(CASES), encoding: 'utf8', timeout: 60_000 });
    if (run.status !== 0) throw new Error(`scapy failed: ${run.stderr}`);
    scapy = JSON.parse(run.stdout) as Record<string, string>;
  }, 60_000);

  for (const [name, expr] of Object.entries(CASES)) {
    it(name, () => {
      const expected = scapy[name]!;
      expect(expected.startsWith('ERROR')).toBe(false);
      // show2(dump=True) ends every line with a newline; show() leaves the last one to the caller.
      expect(packet(expr).show() + '\n').toBe(expected);
    });
  }
});

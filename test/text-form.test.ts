/**
 * The text form: packet(expr) builds the bytes Scapy 2.5 builds for the same expression (and the
 * same packet sets, in the same order), p.command() prints what parses back to the same bytes,
 * mistakes point at their column with a suggestion, and fuzz() makes packets that build and
 * dissect.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { IP, Raw, TCP, dissect, expand, fuzz, packet, packetCount, packets, SynackError } from '../src/index.js';
import { count } from '../src/packet/sets.js';
import { loadSynack } from './helpers/synack.js';
import { randomSpecs, uncoveredLayers } from './helpers/random-specs.js';
import { SCAPY_PYTHON, scapyUnavailable } from './helpers/scapy.js';

/** Scapy expressions synack must build to the same bytes. Sets give one packet per member. */
const EXPRESSIONS = [
  "IP(dst='127.0.0.1')/TCP(dport=60000,flags='S',options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1412272238,0)),('NOP',None),('WScale',7)])",
  "IP(dst='127.0.0.1')/TCP(options=[('SAck',(1,2)),(253,b'\\x01\\x02'),('NOP',None),('EOL',None)])",
  "IP(flags='DF')/TCP(flags='SA', seq=0x12345678, ack=0xdeadbeef)",
  "IP(flags='MF+DF', frag=0x10, ttl=0x20, tos=0x10, id=0xbeef)/TCP(flags='FPU', urgptr=3)",
  "IP(flags='evil')/TCP(flags='RA', window=0)",
  "IP(options=[IPOption_NOP(), IPOption_RR(routers=['1.2.3.4','5.6.7.8'])])/TCP()",
  "IP(options=[IPOption_Timestamp(flg=0, timestamp=12345)])/TCP()",
  "IP(options=[IPOption_Router_Alert()])/TCP(dport=443)",
  "IP(options=[IPOption_SSRR(routers=['127.0.0.5']), IPOption_NOP()], dst='127.0.0.1')/TCP()",
  "IP(options=[IPOption(option=30, value=b'\\x01\\x02')])/TCP()",
  "IP(src='198.51.100.1', dst='198.51.100.2')/TCP(sport=1234, dport=80, flags='PA')/\"GET / HTTP/1.0\\r\\n\\r\\n\"",
  "IP()/TCP()/b'\\x00\\x01\\xff'",
  "IP(dst=\"127.0.0.2\", ttl=1, id=0)/TCP(window=0xffff, chksum=0x1234)/Raw(load=b'abc')",
  'IP(len=100, ihl=6, chksum=0)/TCP(dataofs=15)',
  'IP(proto=17)/TCP()',
  "IP(tos=0xb8, ttl=0o17)/TCP(sport=0b1010, reserved=7)",
  "IP()/TCP(options=[('MSS',b'\\x05\\xb4\\x00'), ('WScale', b'')])",
  'IP()/TCP()/("A"*10)',
  "IP()/TCP()/(b'\\x41'*3)",
  "IP(dst='127.0.0.1')/TCP(dport=60000)/'\\u00e9t\\xe9'",
  "TCP()/'x'",
  "IP()/TCP()/Raw(b'abc')/Raw(load='d')",
  "IP(b'E\\x00\\x00\\x14\\x00\\x01\\x00\\x00@\\x06|\\xe1\\x7f\\x00\\x00\\x01\\x7f\\x00\\x00\\x01')/TCP()",
  // Sets: every member, in Scapy's order.
  'IP()/TCP(dport=[22,80,(1000,1010)])',
  'IP()/TCP(sport=[1,2],dport=(5,7))',
  "IP(dst='127.0.0.0/30')/TCP(dport=[22,80])",
  "IP(ttl=(1,3), dst=['127.0.0.1','127.0.0.9'])/TCP()",
];

/** One python run for the whole batch: each line answers the hex of every packet the expression stands for. */
function scapyHex(expressions: readonly string[]): string[][] {
  const program = String.raw`
import sys, json, logging, warnings
warnings.filterwarnings("ignore")
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
for line in sys.stdin:
    print(json.dumps([bytes(p).hex() for p in eval(json.loads(line))]))
`;
  const run = spawnSync(SCAPY_PYTHON, ['-c', program], {
    input: expressions.map((e) => JSON.stringify(e)).join('\n') + '\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`scapy failed: ${run.stderr.slice(-2000)}`);
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l) as string[]);
}

const noScapy = scapyUnavailable();

describe.skipIf(noScapy !== undefined)(`packet(expr) against Scapy 2.5${noScapy ? ` (skipped: ${noScapy})` : ''}`, () => {
  let answers: string[][];
  beforeAll(() => {
    answers = scapyHex(EXPRESSIONS);
  }, 60_000);

  it.each(EXPRESSIONS.map((e, i) => [i, e] as const))('#%i %s', (i, expr) => {
    const got = expand(packet(expr)).map((p) => p.bytes().toString('hex'));
    expect(got).toEqual(answers[i]);
  });
});

describe('command() round trips', () => {
  it.each(EXPRESSIONS)('%s', (expr) => {
    const p = packet(expr);
    const again = packet(p.command());
    expect(expand(again).map((q) => q.bytes().toString('hex'))).toEqual(expand(p).map((q) => q.bytes().toString('hex')));
    for (const member of expand(p)) {
      const dissected = dissect(member.bytes(), 'ip');
      expect(packet(dissected.command()).bytes().toString('hex')).toBe(dissected.bytes().toString('hex'));
    }
  });

  it('prints only the fields that are set, Scapy style', () => {
    const p = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 60000, flags: 'S', options: [['MSS', 1460]] }));
    expect(p.command()).toBe("IP(dst='127.0.0.1')/TCP(dport=60000, flags='S', options=[('MSS', 1460)])");
    expect(IP({ flags: 'MF+DF' }).add(TCP({ flags: 'FPU' }), Raw({ load: Buffer.from([0, 0x27, 0x5c, 0x41]) })).command()).toBe(
      "IP(flags='MF+DF')/TCP(flags='FPU')/Raw(load=b'\\x00\\'\\\\A')",
    );
    expect(packet("IP(options=[IPOption_RR(routers=['1.2.3.4'])])").command()).toBe("IP(options=[IPOption_RR(routers=['1.2.3.4'])])");
  });

  it('prints dissected packets with every field', () => {
    const wire = packet("IP(dst='127.0.0.1')/TCP(dport=22, options=[('NOP', None)])/'hi'").bytes();
    expect(dissect(wire).command()).toBe(
      "IP(version=4, ihl=5, tos=0x0, len=46, id=1, flags=0, frag=0, ttl=64, proto=6, chksum=0x7cc7, src='127.0.0.1', dst='127.0.0.1', options=[])" +
        "/TCP(sport=20, dport=22, seq=0, ack=0, dataofs=6, reserved=0, flags='S', window=8192, chksum=0x1847, urgptr=0, options=[('NOP', None), ('EOL', None)])" +
        "/Raw(load=b'hi')",
    );
  });

  it('round-trips random Scapy expressions of every registered layer, built and dissected', async () => {
    const synack = await loadSynack();
    const failures: string[] = [];
    const specs = randomSpecs(400, 0x7e57, synack.has);
    // Every layer the generators know is registered and reached: a lost registerLayer() fails here.
    expect(uncoveredLayers(specs, synack.has)).toEqual([]);
    for (const spec of specs) {
      let p;
      try {
        p = packet(spec.expr);
      } catch {
        continue; // what packet() cannot parse is the oracle test's business
      }
      try {
        const bytes = p.bytes().toString('hex');
        const built = packet(p.command()).bytes().toString('hex');
        const d = dissect(p.bytes(), spec.link);
        const fromDissected = packet(d.command()).bytes().toString('hex');
        if (built !== bytes) failures.push(`built: ${spec.expr}\n  ${p.command()}`);
        if (fromDissected !== d.bytes().toString('hex')) failures.push(`dissected: ${spec.expr}\n  ${d.command()}`);
      } catch (err) {
        failures.push(`${spec.expr}: ${(err as Error).message}`);
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});

describe('mistakes point at the column and suggest the fix', () => {
  const cases: [string, RegExp][] = [
    ['IP()/TCP(dprot=80)', /^column 10: unknown field 'dprot' for TCP \(did you mean 'dport'\?\)/],
    ['IP()/TCPP()', /^column 6: unknown layer 'TCPP' \(did you mean 'TCP'\?\)/],
    ['Ipp(dst="127.0.0.1")', /^column 1: unknown layer 'Ipp' \(did you mean 'IP'\?\)/],
    ['IP(dstt="127.0.0.1")', /^column 4: unknown field 'dstt' for IP \(did you mean 'dst'\?\)/],
    ["IP()/TCP()/b'A'*3", /^column 16: put a repeated payload in parentheses/],
    ['IP(ttl=300)', /^column 8: IP ttl takes 0 to 255, not 300/],
    ['IP(ttl=-1)', /^column 8: IP ttl takes 0 to 255, not -1/],
    ['IP(dst=1.2.3.4)', /^column 8: addresses go in quotes: '1.2.3.4'/],
    ["IP(dst='1.2.3.400')", /^column 8: bad IPv4 address '1.2.3.400'/],
    ["TCP(flags='SX')", /^column 11: unknown TCP flag 'X'/],
    ["IP(flags='DX')", /^column 10: unknown IP flag 'DX'/],
    ['TCP(dport=80', /^column 13: expected ',' or '\)'/],
    ['IP()TCP()', /^column 5: unexpected 'TCP'; layers are joined with '\/'/],
    ['IP()/TCP()/', /^column 12: expected a layer/],
    ["IP(options=[IPOption_RRR()])", /^column 13: unknown option 'IPOption_RRR' \(did you mean 'IPOption_RR'\?\)/],
    ["IP(options=[IPOption_RR(routrs=['1.2.3.4'])])", /^column 25: unknown field 'routrs' for IPOption_RR \(did you mean 'routers'\?\)/],
    ["TCP(options=[('MSX',1460)])", /^column 15: unknown TCP option 'MSX' \(did you mean 'MSS'\?\)/],
    ["TCP(dport='http')", /^column 11: TCP dport takes a number, not 'http'/],
    ["IP(src='127.0.0.1', src='127.0.0.2')", /^column 21: field 'src' is given twice/],
    ["IP(dst='127.0.0.1)", /^column 8: string is not closed/],
    ['TCP(dport=(5,1))', /^column 11: TCP dport: range \(5, 1\) runs backwards/],
    // An option class alone is a packet of its own now (Scapy's way); a misspelt one still says so.
    ['IPOption_NOPE()', /^column 1: unknown layer 'IPOption_NOPE' \(did you mean 'IPOption_NOP'\?\)/],
    ['IP(ttl=RandIP())', /^column 8: IP ttl takes a number, not RandIP\(\)/],
    ['TCP(dport=0800)', /^column 11: bad number '0800': leading zeros/],
    ['', /^column 1: empty expression/],
    // '#' starts a comment (Python's); a character Python would refuse is still refused.
    ["IP(dst='127.0.0.1') $", /^column 21: unexpected character '\$'/],
  ];
  it.each(cases)('%s', (expr, message) => {
    let error: unknown;
    try {
      packet(expr);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SynackError);
    expect((error as SynackError).kind).toBe('usage');
    expect((error as Error).message).toMatch(message);
  });
});

describe('packet sets', () => {
  it('counts lists, ranges and CIDR blocks, and their cross product', () => {
    expect(packetCount(TCP({ dport: [22, 80, [1000, 1010]] }))).toBe(13);
    expect(expand(TCP({ dport: [22, 80, [1000, 1010]] })).map((p) => p.getLayer(TCP)!.get('dport'))).toEqual([
      22, 80, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010,
    ]);
    expect(count(packet('TCP(dport=[22,80,(1000,1010)])'))).toBe(13);
    expect(count(packet('TCP(dport=(1,5))'))).toBe(5);
    expect(count(IP({ dst: '127.0.0.0/30' }))).toBe(4);
    expect(count(IP({ dst: '127.0.0.0/30', ttl: [1, 2, 3] }).add(TCP({ sport: [1, 2], dport: [22, 80, [1000, 1010]] })))).toBe(4 * 3 * 2 * 13);
    expect(count(IP({ dst: ['127.0.0.1', '127.0.0.8/29'] }))).toBe(9);
    expect(count(IP().add(TCP()))).toBe(1);
  });

  it('walks a huge set lazily', () => {
    const big = IP({ dst: '127.0.0.0/8' }).add(TCP({ dport: [0, 65535], sport: [[1, 65535]] }));
    expect(count(big)).toBe(2 ** 24 * 65535 * 2);
    const first: string[] = [];
    for (const p of packets(big)) {
      first.push(p.command());
      if (first.length === 3) break;
    }
    expect(first).toEqual([
      "IP(dst='127.0.0.0')/TCP(sport=1, dport=0)",
      "IP(dst='127.0.0.0')/TCP(sport=2, dport=0)",
      "IP(dst='127.0.0.0')/TCP(sport=3, dport=0)",
    ]);
    expect(() => expand(big)).toThrow(/packets\(p\)/);
  });

  it('refuses to build a packet that still holds a set', () => {
    expect(() => TCP({ dport: [22, 80] }).bytes()).toThrow(/TCP dport holds a set of values.*expand/);
    expect(() => IP({ dst: '127.0.0.0/30' }).add(TCP()).bytes()).toThrow(SynackError);
    // Setting a scalar back makes it buildable again.
    const layer = TCP({ dport: [22, 80] }).getLayer(TCP)!;
    layer.set('dport', 22);
    expect(layer.hasSets).toBe(false);
  });

  it('checks set values where they are given', () => {
    expect(() => TCP({ dport: [22, 70000] })).toThrow(/not a number from 0 to 65535/);
    expect(() => TCP({ dport: [[10, 1]] })).toThrow(/runs backwards/);
    expect(() => TCP({ dport: [] })).toThrow(/empty list/);
    expect(() => IP({ dst: '127.0.0.0/33' })).toThrow(/prefix length/);
    expect(() => expand(TCP({ flags: ['S', 'Q'] }))).toThrow(/unknown TCP flag 'Q'/);
    expect(expand(TCP({ flags: ['S', 'SA'] })).map((p) => p.getLayer(TCP)!.flagBits)).toEqual([2, 0x12]);
  });

  it('expands IPv6 blocks', async () => {
    const synack = await loadSynack();
    expect(synack.has('IPv6'), 'IPv6 is registered').toBe(true);
    expect(expand(packet("IPv6(dst='2001:db8::/126')")).map((p) => (p.layers[0]!.fields as { dst: string }).dst)).toEqual([
      '2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3',
    ]);
  });
});

describe('fuzz', () => {
  it('builds and dissects for 1000 seeds, round-trips, and keeps computed fields computed', () => {
    const template = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 80 }), Raw());
    for (let seed = 0; seed < 1000; seed++) {
      const f = fuzz(template, { seed });
      const bytes = f.bytes();
      const d = dissect(bytes, 'ip');
      expect(d.layers.length).toBeGreaterThan(0);
      const ip = f.layers[0]!.fields as Record<string, unknown>;
      expect(ip.dst).toBe('127.0.0.1');
      expect(ip.chksum).toBeUndefined();
      expect(ip.len).toBeUndefined();
      expect((f.layers[1]!.fields as Record<string, unknown>).dport).toBe(80);
      expect(packet(f.command()).bytes().equals(bytes)).toBe(true);
      if (ip.version === 4) expect(d.layers[0]!.checksumValid).toBe(true);
    }
  });

  it('is repeatable with a seed and varies without one', () => {
    const template = IP().add(TCP());
    expect(fuzz(template, { seed: 7 }).bytes()).toEqual(fuzz(template, { seed: 7 }).bytes());
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(fuzz(template).bytes().toString('hex'));
    expect(seen.size).toBeGreaterThan(15);
  });

  it('fuzzes every registered layer without throwing', async () => {
    const synack = await loadSynack();
    const { layerNames, layerByName } = await import('../src/layers/registry.js');
    const failures: string[] = [];
    for (const name of layerNames()) {
      const cls = layerByName(name)!;
      for (let seed = 0; seed < 50; seed++) {
        try {
          const f = fuzz(new cls(), { seed });
          synack.dissect(f.bytes(), 'ip');
        } catch (err) {
          failures.push(`${name} seed ${seed}: ${(err as Error).message}`);
          break;
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

// Scapy's habits in the text form: fuzz(...) around layers, Rand...() as a number field's value.
describe('fuzz() and random values in the text form', () => {
  it("fuzz(IP(dst=...)/TCP(dport=80)) keeps what was given, fuzzes the rest, keeps computed fields computed", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = packet("fuzz(IP(dst='127.0.0.1')/TCP(dport=80))");
      expect(p.layers.map((l) => l.name)).toEqual(['IP', 'TCP']);
      const ip = p.layers[0]!.fields as Record<string, unknown>;
      expect(ip.dst).toBe('127.0.0.1');
      expect(ip.chksum).toBeUndefined();
      expect((p.layers[1]!.fields as Record<string, unknown>).dport).toBe(80);
      seen.add(p.bytes().toString('hex'));
    }
    expect(seen.size).toBeGreaterThan(15);
    // Around one layer of a stack, as Scapy's IP()/fuzz(TCP()).
    const one = packet("IP(dst='127.0.0.1', ttl=9)/fuzz(TCP(dport=80))");
    expect((one.layers[0]!.fields as Record<string, unknown>).ttl).toBe(9);
    expect((one.layers[0]!.fields as Record<string, unknown>).id).toBeUndefined();
    expect((one.layers[1]!.fields as Record<string, unknown>).seq).toBeTypeOf('number');
  });

  it('RandShort(), RandByte(), RandInt() and RandNum(min, max) draw a number that fits the field', () => {
    const ports = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const tcp = packet("IP(dst='127.0.0.1', ttl=RandByte())/TCP(sport=RandShort(), dport=RandNum(1024, 1030), seq=RandInt())").layers[1]!.fields as Record<string, number>;
      expect(tcp.dport).toBeGreaterThanOrEqual(1024);
      expect(tcp.dport).toBeLessThanOrEqual(1030);
      expect(tcp.seq).toBeLessThanOrEqual(0xffffffff);
      ports.add(tcp.sport);
    }
    expect(ports.size).toBeGreaterThan(40);
  });

  it('says what does not fit, or what fuzz() takes', () => {
    expect(() => packet("IP(ttl=RandShort())")).toThrow(/column 8: IP ttl is 8 bits \(0 to 255\): RandShort\(\) draws up to 65535; use RandByte\(\)/);
    expect(() => packet('TCP(sport=RandNum(10))')).toThrow(/RandNum takes two numbers/);
    expect(() => packet("IP(dst=RandShort())")).toThrow(/random values go in number fields/);
    expect(() => packet("fuzz(IP(), TCP())")).toThrow(/fuzz\(\) takes one packet/);
  });
});

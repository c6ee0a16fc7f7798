/**
 * DNS and VLAN tags against the oracles, offline. Needs tcpdump 4.99 and Scapy 2.5
 * (/usr/bin/python3); no root, no network. Scapy writes the pcaps: every random spec of the
 * shared generator that carries DNS or a VLAN tag, messages Scapy compresses itself
 * (DNS.compress()), mDNS questions and cache-flush answers, DNS over TCP with right and wrong
 * length prefixes, odd header bits, and every truncation of a few of them. Our lines must equal
 * `tcpdump -nn -r` line for line, plain and with -v, -vv, -vvv and -e; and our dissection of
 * each frame must read the fields Scapy reads (ids, counts, names, rdata) and rebuild to the
 * same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dissect, packet, writePcap, DNSLayer, Dot1QLayer, Dot1ADLayer, type Packet } from '../src/index.js';
import { readPcapSync } from '../src/pcap/read.js';
import { oracleMissing } from './helpers/oracle.js';
import { ourLines, tcpdumpLines } from './helpers/tcpdump-lines.js';
import { scapyUnavailable, SCAPY_PYTHON } from './helpers/scapy.js';
import { randomSpecs } from './helpers/random-specs.js';
import { layerByName } from '../src/layers/registry.js';

process.env.TZ = 'UTC';
const noTcpdump = oracleMissing('tcpdump', ['--version']);
const noScapy = scapyUnavailable();
const skip = noTcpdump ?? noScapy;
const dir = mkdtempSync(join(tmpdir(), 'synack-dns-display-'));
afterAll(() => { if (!process.env.KEEP_DNS_DIR) rmSync(dir, { recursive: true, force: true }); else console.log(dir); });

const FLAG_SETS: string[][] = [[], ['-v'], ['-vv'], ['-vvv'], ['-e']];

function expectSameAsTcpdump(file: string, flags: string[]): number {
  const expected = tcpdumpLines(file, flags);
  const got = ourLines(file, flags);
  const diffs: string[] = [];
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    if (expected[i] !== got[i]) diffs.push(`line ${i + 1}\n  tcpdump ${expected[i]}\n  synack  ${got[i]}`);
  }
  expect(diffs.slice(0, 8).join('\n'), `${diffs.length} lines differ with ${flags.join(' ') || 'no flags'}`).toBe('');
  return expected.length;
}

// Scapy writes every capture; each frame also answers with Scapy's reading of its DNS layer.
const WRITER = String.raw`
import sys, json, warnings, logging
warnings.filterwarnings("ignore"); logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
out = sys.argv[1]
specs = json.load(open(out + '/specs.json'))
E = lambda: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
L, M = '127.0.0.1', '127.0.0.2'
def U(sport=40000, dport=53): return E()/IP(src=L,dst=M)/UDP(sport=sport,dport=dport)
ans = DNS(id=12345,qr=1,aa=1,rd=1,ra=1,qd=DNSQR(qname='example.test'),an=DNSRR(rrname='example.test',ttl=30,rdata='198.51.100.7')/DNSRR(rrname='www.example.test',type='CNAME',rdata='example.test')/DNSRRMX(rrname='example.test',type=15,preference=10,exchange='mail.example.test'),ns=DNSRRSOA(rrname='example.test',mname='ns.example.test',rname='hostmaster.example.test',serial=7,refresh=3600,retry=600,expire=86400,minimum=60),ar=DNSRROPT(rclass=1232,rdata=[EDNS0TLV(optcode=10,optdata=b'\x01\x02\x03\x04\x05\x06\x07\x08')]))
crafted = [
 U()/DNS(id=12345,rd=1,qd=DNSQR(qname='example.test')),
 U(53,40000)/DNS(id=12345,qr=1,qd=DNSQR(qname='example.test'),an=DNSRR(rrname='example.test',rdata='198.51.100.7')),
 U(53,40000)/ans,
 U(53,40000)/ans.compress(),
 U(53,40000)/DNS(id=1,qr=1,rcode=3,ra=1,qd=DNSQR(qname='nope.example.test')),
 U(53,40000)/DNS(id=2,qr=1,rcode=2,tc=1,ad=1,qd=None),
 U(53,40000)/DNS(id=3,qr=1,rcode=1,qd=DNSQR(qname='example.test'),ar=DNSRROPT(extrcode=1)),
 U()/DNS(id=4,opcode=1,qd=None,an=DNSRR(rrname='x.test')),
 U()/DNS(id=5,opcode=2,aa=1,cd=1,rcode=4,qd=DNSQR(qname='a.test',qtype=255,qclass=3)/DNSQR(qname='b.test',qtype=28,qclass=4)),
 U()/DNS(id=6,z=1,ad=1,qd=DNSQR(qname='example.test',qtype=33),ns=DNSRR(rrname='example.test',type='NS',rdata='ns.example.test')),
 U(53,40000)/DNS(id=7,qr=1,qd=DNSQR(qname='t.test',qtype=16),an=DNSRR(rrname='t.test',type='TXT',ttl=3600,rdata=['v=spf1 -all','two','\x01\x7f\xe9']),ar=DNSRRSRV(rrname='_sip._udp.t.test',priority=1,weight=2,port=5060,target='sip.t.test')),
 U(53,40000)/DNS(id=8,qr=1,qd=DNSQR(qname='7.100.51.198.in-addr.arpa',qtype=12),an=DNSRR(rrname='7.100.51.198.in-addr.arpa',type='PTR',rdata='example.test',rclass=3,ttl=90061)),
 U(53,40000)/DNS(id=9,qr=1,qd=DNSQR(qname='six.test',qtype=28),an=DNSRR(rrname='six.test',type='AAAA',rdata='2001:db8::7')/DNSRR(rrname='six.test',type=99,rdata=b'\x00\x01')/DNSRR(rrname='six.test',type=300,rdata=b'zz')),
 U(5353,5353)/DNS(id=0,qd=DNSQR(qname='_services._dns-sd._udp.local',qtype=12,qclass=0x8001)/DNSQR(qname='host.local',qtype=1,qclass=1)),
 U(5353,5353)/DNS(id=0,qr=1,aa=1,qd=None,an=DNSRR(rrname='host.local',rclass=0x8001,ttl=120,rdata='198.51.100.9')),
 E()/IP(src=L,dst=M)/TCP(sport=40000,dport=53,flags='PA',seq=1,ack=1)/DNS(id=10,qd=DNSQR(qname='example.test')),
 E()/IP(src=M,dst=L)/TCP(sport=53,dport=40000,flags='PA',seq=1,ack=1)/DNS(id=10,qr=1,qd=DNSQR(qname='example.test'),an=DNSRR(rrname='example.test',rdata='198.51.100.7')),
 E()/IP(src=L,dst=M)/TCP(sport=40000,dport=53,flags='PA',seq=1,ack=1)/DNS(length=99,id=11,qd=DNSQR(qname='example.test')),
 E()/IP(src=L,dst=M)/TCP(sport=40000,dport=53,flags='PA',seq=1,ack=1)/b'\x00',
 U()/b'\x00\x01\x02',
 U()/(b'\x30\x39\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + b'\xc0\x0c\x00\x01\x00\x01'),
 U()/(b'\x30\x39\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + b'\x41\x01\x00\x00\x01\x00\x01'),
 U()/(b'\x30\x39\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + b'\x04a.b.\x00\x00\x01\x00\x01'),
 E()/Dot1Q(vlan=10)/IP(src=L,dst=M)/UDP(sport=40000,dport=53)/DNS(id=12,qd=DNSQR(qname='vlan.test')),
 E()/Dot1AD(vlan=100,prio=5,id=1)/Dot1Q(vlan=10,prio=3)/IP(src=L,dst=M)/ICMP(),
 E()/Dot1Q(vlan=4095)/Dot1Q(vlan=7)/IPv6(src='::1',dst='::1')/UDP(sport=1,dport=2),
 E()/Dot1Q(vlan=20,type=0x806)/ARP(psrc=L,pdst=M,hwsrc='02:00:00:00:00:01'),
 E()/Dot1Q(vlan=31,type=0x9999)/b'abc',
]
frames = [bytes(p) for p in crafted]
for s in specs:
    try:
        frames.append(bytes(eval(s['expr'])))
    except Exception as e:
        pass
wrpcap(out + '/dns.pcap', [Ether(f) for f in frames])
cuts = [bytes(crafted[i]) for i in (1, 2, 3, 10, 14, 15, 24)]
with open(out + '/cut.pcap', 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for frame in cuts:
        for n in range(14, len(frame)):
            f.write(struct.pack('<IIII', 0, 0, n, len(frame)) + frame[:n])
# Scapy's reading of each DNS frame: what our dissector must read too.
readings = []
for f in frames:
    p = Ether(f)
    d = p.getlayer(DNS)
    if d is None:
        readings.append(None); continue
    def recs(x, kind):
        out = []
        while x is not None and not isinstance(x, (NoPayload, Raw, Padding)) and isinstance(x, Packet) and x.name.startswith('DNS'):
            r = {'cls': type(x).__name__}
            for fld in ('qname', 'qtype', 'qclass', 'rrname', 'type', 'rclass', 'ttl', 'rdlen', 'mname', 'rname', 'exchange', 'target', 'serial', 'port'):
                if fld in x.fields:
                    v = x.fields[fld]
                    r[fld] = v.decode('latin1') if isinstance(v, bytes) else v
            if 'rdata' in x.fields and type(x).__name__ == 'DNSRR':
                v = x.fields['rdata']
                r['rdata'] = v.decode('latin1') if isinstance(v, bytes) else [t.decode('latin1') for t in v] if isinstance(v, list) else str(v)
            out.append(r)
            x = x.payload
        return out
    readings.append({'id': d.id, 'qr': d.qr, 'rcode': d.rcode, 'counts': [d.qdcount, d.ancount, d.nscount, d.arcount],
        'qd': recs(d.qd, 'qd'), 'an': recs(d.an, 'an'), 'ns': recs(d.ns, 'ns'), 'ar': recs(d.ar, 'ar')})
json.dump(readings, open(out + '/readings.json', 'w'))
`;

/** The specs of the shared generator that carry DNS or a VLAN tag, on Ethernet (the pcap's link). */
function generatedSpecs(): string[] {
  const has = (n: string): boolean => layerByName(n) !== undefined;
  return randomSpecs(3000, 0xd15, has)
    .filter((s) => s.link === 'ether' && s.liesFrom === Infinity && (s.kinds.includes('DNS') || s.kinds.includes('Dot1Q')))
    .map((s) => s.expr);
}

interface Reading {
  id: number;
  qr: number;
  rcode: number;
  counts: number[];
  qd: Record<string, unknown>[];
  an: Record<string, unknown>[];
  ns: Record<string, unknown>[];
  ar: Record<string, unknown>[];
}

describe.skipIf(skip !== undefined)(`DNS and VLAN display and dissection against tcpdump and Scapy${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let frames: Packet[] = [];
  let readings: (Reading | null)[] = [];
  let generated = 0;

  beforeAll(() => {
    const specs = generatedSpecs();
    generated = specs.length;
    writeFileSync(join(dir, 'specs.json'), JSON.stringify(specs.map((expr) => ({ expr }))));
    const r = spawnSync(SCAPY_PYTHON, ['-c', WRITER, dir], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`scapy failed: ${r.stderr}`);
    frames = [...readPcapSync(join(dir, 'dns.pcap'))].map((rec) => dissect(rec.data, 'ether'));
    readings = JSON.parse(spawnSync('cat', [join(dir, 'readings.json')], { encoding: 'utf8' }).stdout) as (Reading | null)[];
  }, 120_000);

  it('has generated DNS and VLAN specs besides the crafted ones', () => {
    expect(generated).toBeGreaterThan(100);
    expect(frames.length).toBeGreaterThan(generated);
  });

  for (const flags of FLAG_SETS) {
    it(`prints every frame as tcpdump -nn ${flags.join(' ')} does`, () => {
      expect(expectSameAsTcpdump(join(dir, 'dns.pcap'), flags)).toBeGreaterThan(100);
    });
  }

  it('prints every truncation of DNS frames as tcpdump does ([|domain])', () => {
    for (const flags of [[], ['-v'], ['-vv']]) expect(expectSameAsTcpdump(join(dir, 'cut.pcap'), flags)).toBeGreaterThan(500);
  });

  it('reads the DNS fields Scapy reads, names decompressed', () => {
    const diffs: string[] = [];
    let compared = 0;
    frames.forEach((p, i) => {
      const want = readings[i];
      const dns = p.getLayer(DNSLayer);
      // Scapy reads a message shorter than its 12-byte header as a DNS layer with the fields
      // that fit; synack keeps such bytes as Raw (no field to read is honest about them).
      if (want && !dns && p.getLayer('UDP') && p.layers.at(-1)!.name === 'Raw' && (p.layers.at(-1) as unknown as { load: Buffer }).load.length < 12) return;
      // With no bytes after the header Scapy stops reading fields, so qd keeps its default
      // question although qdcount is 0; the message has none, and synack reads none.
      if (want && want.counts[0] === 0 && want.qd.length === 1 && Object.keys(want.qd[0]!).length === 1) want.qd = [];
      if (!want) {
        if (dns) diffs.push(`#${i}: Scapy reads no DNS, synack reads ${p.layers.map((l) => l.name).join('/')}`);
        return;
      }
      if (!dns) {
        diffs.push(`#${i}: Scapy reads DNS, synack ${p.layers.map((l) => l.name).join('/')}`);
        return;
      }
      compared++;
      const got = {
        id: dns.id, qr: dns.qr, rcode: dns.rcode, counts: [dns.qdcount, dns.ancount, dns.nscount, dns.arcount],
        qd: records(dns.qd), an: records(dns.an), ns: records(dns.ns), ar: records(dns.ar),
      };
      if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push(`#${i}\n  scapy  ${JSON.stringify(want)}\n  synack ${JSON.stringify(got)}`);
    });
    expect(diffs.slice(0, 5).join('\n'), `${diffs.length} frames read differently`).toBe('');
    expect(compared).toBeGreaterThan(50);
  });

  it('rebuilds every dissected frame to its bytes, and a changed field rebuilds uncompressed as Scapy does', () => {
    const recs = [...readPcapSync(join(dir, 'dns.pcap'))];
    recs.forEach((rec, i) => expect(frames[i]!.bytes().equals(rec.data), `frame ${i}`).toBe(true));
    // Frame 3 is Scapy's compress() of frame 2: read back, the same fields; changed, the uncompressed bytes.
    const compressed = frames[3]!.getLayer(DNSLayer)!;
    expect(compressed.an.map((r) => r.fields.rrname)).toEqual(['example.test.', 'www.example.test.', 'example.test.']);
    const copy = dissect(recs[3]!.data, 'ether');
    copy.getLayer(DNSLayer)!.id = 12345; // unchanged value: still the compressed bytes
    expect(copy.bytes().equals(recs[3]!.data)).toBe(true);
    copy.getLayer(DNSLayer)!.an[0]!.fields.ttl = 30; // same value again
    expect(copy.bytes().length).toBe(recs[3]!.data.length);
  });

  it('reads VLAN tags as Dot1Q and Dot1AD layers, stacked', () => {
    const qinq = frames.find((p) => p.getLayer(Dot1ADLayer)?.vlan === 100 && p.getLayer('ICMP'))!;
    expect(qinq.layers.map((l) => l.name)).toEqual(['Ether', 'Dot1AD', 'Dot1Q', 'IP', 'ICMP']);
    expect(qinq.getLayer(Dot1ADLayer)!.vlan).toBe(100);
    expect(qinq.getLayer(Dot1ADLayer)!.prio).toBe(5);
    expect(qinq.getLayer(Dot1ADLayer)!.id).toBe(1);
    // Dot1AD is a Dot1Q (as in Scapy), so getLayer(Dot1QLayer) finds the outer tag first.
    expect(qinq.getLayer(Dot1QLayer)).toBe(qinq.layers[1]);
    expect((qinq.layers[2] as Dot1QLayer).vlan).toBe(10);
    expect(qinq.layers[2]).toBeInstanceOf(Dot1QLayer);
    expect(qinq.layers[2]).not.toBeInstanceOf(Dot1ADLayer);
    // An 802.3 length in the tag: what follows is cut to it, the rest is padding.
    const frame = Buffer.concat([packet("Ether()/Dot1Q(vlan=30,type=40)").bytes(), Buffer.alloc(60, 0xaa)]);
    expect(dissect(frame, 'ether').layers.map((l) => l.name)).toEqual(['Ether', 'Dot1Q', 'Raw', 'Padding']);
  });
});


/** Our records in the shape the Scapy side writes: class name, then the fields it lists. */
function records(list: readonly { name: string; fields: object }[]): Record<string, unknown>[] {
  const FIELDS = ['qname', 'qtype', 'qclass', 'rrname', 'type', 'rclass', 'ttl', 'rdlen', 'mname', 'rname', 'exchange', 'target', 'serial', 'port'];
  return list.map((rec) => {
    const f = rec.fields as Record<string, unknown>;
    const out: Record<string, unknown> = { cls: rec.name };
    for (const k of FIELDS) if (f[k] !== undefined) out[k] = f[k];
    if (rec.name === 'DNSRR' && f.rdata !== undefined) {
      const v = f.rdata;
      out.rdata = Buffer.isBuffer(v) ? v.toString('latin1') : Array.isArray(v) ? v.map((t) => (Buffer.isBuffer(t) ? t.toString('latin1') : String(t))) : String(v);
    }
    return out;
  });
}

// packet() is the text form: Scapy's one-liners with DNS records in fields.
describe('DNS in the text form', () => {
  it("builds Scapy's tutorial query", () => {
    const p = packet("IP(dst='127.0.0.1')/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname='example.test'))");
    expect(p.summary()).toBe('IP 127.0.0.1.53 > 127.0.0.1.53: 0+ A? example.test. (30)');
    expect(p.command()).toContain("qd=[DNSQR(qname='example.test')]");
    expect(packet(p.command()).bytes().equals(p.bytes())).toBe(true);
  });

  it('says what a section takes', () => {
    expect(() => packet("DNS(qd=IP())")).toThrow(/DNS qd takes DNSQR records/);
    expect(() => packet("DNS(an=5)")).toThrow(/DNS an takes records like DNSRR/);
  });
});

// udp_print's order: the port's protocol first (DNS, BOOTP, even in a first fragment), the length
// checks only for the rest, and no application layer with -q. Frames built by synack itself.
describe.skipIf(noTcpdump !== undefined)(`UDP's port protocols before its length checks, as tcpdump${noTcpdump ? ` (skipped: ${noTcpdump})` : ''}`, () => {
  const file = join(dir, 'udp-order.pcap');
  beforeAll(() => {
    const query = "DNS(rd=1, qd=DNSQR(qname='example.test'))";
    const frames = [
      `IP(src='127.0.0.1', dst='127.0.0.2')/UDP(sport=1234, dport=53, len=48)/${query}`,
      `IP(src='0.0.0.0', dst='255.255.255.255')/UDP(sport=68, dport=67, len=300)/BOOTP(chaddr=b'\\x02\\x00\\x00\\x00\\x00\\x01')/DHCP(options=[('message-type', 'discover'), 'end'])`,
      `IP(src='127.0.0.1', dst='127.0.0.2')/UDP(sport=1234, dport=53)/${query}`,
      `IP(src='127.0.0.1', dst='127.0.0.2', flags='MF')/UDP(sport=1234, dport=53, len=100)/${query}`,
      `IP(src='127.0.0.1', dst='127.0.0.2')/UDP(sport=53, dport=1234)/DNS(id=7, qr=1, qd=DNSQR(qname='example.test'), an=DNSRR(rrname='example.test', rdata='198.51.100.7')/DNSRR(rrname='example.test', rdata='198.51.100.8'))`,
    ];
    const w = writePcap(file, { linkType: 'raw' });
    for (const f of frames) w.write(packet(f), { time: 1_700_000_000_000_000 });
    w.close();
  });
  for (const flags of [[], ['-q'], ['-v'], ['-vv']]) {
    it(`prints them as tcpdump -nn ${flags.join(' ')} does`, () => {
      expect(expectSameAsTcpdump(file, flags)).toBeGreaterThanOrEqual(5);
    });
  }
});

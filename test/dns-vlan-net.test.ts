/**
 * DNS and VLAN tags on the real wire. Needs root, dnsmasq, dig (dnsutils), tcpdump, ip; run
 * under the shared lock (flock /tmp/synack-net.lock).
 *
 * DNS: dnsmasq serves a local zone (A, AAAA, CNAME, MX, TXT, SRV, PTR, SOA) on 127.0.15.53:53
 * (an address of its own on lo, so no other server's port is touched); dig asks it over UDP and
 * TCP, with and without EDNS, and synack's sr1() sends Scapy's tutorial query and must get the
 * answer matched. tcpdump captures it all once; our lines must equal `tcpdump -nn -r` plain,
 * -v, -vv and -e, and every frame must dissect to DNS and rebuild to its bytes.
 *
 * VLAN: sendp() puts tagged frames (802.1Q vlan 10, 802.1ad 100 with 802.1Q 20 inside, three
 * tags) on a veth into a namespace whose end carries VLAN interfaces when the kernel has 8021q
 * (then it answers). tcpdump captures them there; our -e lines must equal its, the frames must
 * dissect to Dot1Q/Dot1AD with the right ids, and the filters `vlan`, `vlan 10`, `vlan 100 and
 * vlan 20` must pick what tcpdump picks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFilter, createPrinter, dissect, packet, sendp, sr1, DNSLayer, Dot1ADLayer, Dot1QLayer } from '../src/index.js';
import { readPcapSync } from '../src/pcap/read.js';
import { isRoot } from './helpers/netns.js';
import { missing, oracleMissing } from './helpers/oracle.js';

process.env.TZ = 'UTC';
const SERVER = '127.0.15.53';
const reason = !isRoot()
  ? 'needs root (captures, namespaces)'
  : (oracleMissing('tcpdump', ['--version']) ?? oracleMissing('dig', ['-v'], 'dnsutils') ?? (spawnSync('dnsmasq', ['--version']).status === 0 ? undefined : missing('dnsmasq is not installed (apt-get install -y dnsmasq)')));
if (reason) console.log(`dns-vlan-net skipped: ${reason}`);

const dir = mkdtempSync(join(tmpdir(), 'synack-dns-net-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function tcpdumpLines(file: string, flags: string[], filter: string[] = []): string[] {
  const r = spawnSync('tcpdump', ['-nn', ...flags, '-r', file, ...filter], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`tcpdump failed: ${r.stderr}`);
  return r.stdout.split('\n').slice(0, -1);
}

function ourLines(file: string, flags: string[]): string[] {
  const verbose = flags.join('').split('v').length - 1;
  const printer = createPrinter({ verbose, link: flags.includes('-e') });
  return [...readPcapSync(file)].flatMap((rec) => printer.formatRecord(rec, false).split('\n'));
}

/** Starts tcpdump writing `file` and resolves once it listens (its stderr says so), bounded by 10 s. */
function startCapture(argv: string[], file: string, filter: string[]): Promise<ChildProcess> {
  const child = spawn(argv[0]!, [...argv.slice(1), '--immediate-mode', '-U', '-w', file, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tcpdump did not start listening within 10 s')), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      if (String(d).includes('listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`tcpdump exited with ${code}`)));
  });
}

/** Stops a capture and waits until it has flushed and exited (bounded). */
function stopCapture(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5000);
    child.removeAllListeners('exit');
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  }).then(() => {
    if (process.env.DEBUG_CAPTURE) console.log('capture stopped', child.exitCode, child.signalCode);
  });
}

function dig(args: string[]): string {
  return execFileSync('dig', [`@${SERVER}`, '+tries=1', '+time=2', ...args], { encoding: 'utf8', timeout: 10_000 });
}

describe.skipIf(reason !== undefined)('DNS against dnsmasq, asked by dig and by sr1()', () => {
  const file = join(dir, 'dns.pcap');
  let replyRdata: unknown;
  let replyMatched = false;

  beforeAll(async () => {
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(conf, [
      'no-resolv', 'no-hosts', 'no-daemon', `listen-address=${SERVER}`, 'bind-interfaces', 'port=53',
      `pid-file=${join(dir, 'dnsmasq.pid')}`, 'user=root',
      'host-record=example.test,198.51.100.7,2001:db8::7', 'cname=www.example.test,example.test',
      'mx-host=example.test,mail.example.test,10', 'txt-record=example.test,"v=spf1 -all","second string"',
      'srv-host=_http._tcp.example.test,example.test,80,5,20', 'ptr-record=7.100.51.198.in-addr.arpa,example.test',
      'auth-zone=example.test', 'auth-server=ns.example.test', 'auth-soa=2026120201,hostmaster.example.test', '',
    ].join('\n'));
    const server = spawn('dnsmasq', ['-C', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(server);
    // Up when it answers (at most 20 tries, 100 ms apart).
    for (let i = 0; i < 20; i++) {
      if (spawnSync('dig', [`@${SERVER}`, '+tries=1', '+time=1', '+short', 'example.test'], { encoding: 'utf8' }).stdout.includes('198.51.100.7')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const capture = await startCapture(['tcpdump', '-i', 'lo'], file, ['host', SERVER]);
    for (const q of [['example.test', 'A'], ['example.test', 'AAAA'], ['www.example.test', 'A'], ['example.test', 'MX'], ['example.test', 'TXT'],
      ['_http._tcp.example.test', 'SRV'], ['-x', '198.51.100.7'], ['example.test', 'SOA'], ['nope.example.test', 'A'], ['example.test', 'NS']]) dig(q);
    dig(['+tcp', 'example.test', 'A']);
    dig(['+noedns', '+norecurse', 'example.test', 'MX']);
    // Scapy's tutorial query, to our server (Scapy's defaults: UDP from port 53).
    const reply = await sr1(packet(`IP(dst='${SERVER}')/UDP(dport=53)/DNS(rd=1, qd=DNSQR(qname='example.test'))`), { timeout: 3000 });
    replyMatched = reply !== undefined;
    replyRdata = reply?.getLayer(DNSLayer)?.an[0]?.fields.rdata;
    await new Promise((r) => setTimeout(r, 200));
    await stopCapture(capture);
    server.kill('SIGTERM');
  }, 60_000);

  it('sr1() gets the answer to the tutorial query, matched by id and question', () => {
    expect(replyMatched).toBe(true);
    expect(replyRdata).toBe('198.51.100.7');
  });

  for (const flags of [[], ['-v'], ['-vv'], ['-e']]) {
    it(`prints the capture as tcpdump -nn ${flags.join(' ')} does`, () => {
      const want = tcpdumpLines(file, flags);
      expect(want.length).toBeGreaterThan(24);
      expect(ourLines(file, flags)).toEqual(want);
    });
  }

  it('dissects every DNS frame (names decompressed) and rebuilds it to its bytes', () => {
    const recs = [...readPcapSync(file)];
    let dns = 0;
    const names = new Set<string>();
    for (const rec of recs) {
      const p = dissect(rec.data, rec.linkType);
      expect(p.bytes().equals(rec.data)).toBe(true);
      const d = p.getLayer(DNSLayer);
      if (!d) continue;
      dns++;
      for (const r of [...d.an, ...d.ns]) names.add(`${String(r.fields.type)} ${String((r.fields as { rdata?: unknown }).rdata ?? (r.fields as { exchange?: unknown }).exchange ?? (r.fields as { target?: unknown }).target ?? (r.fields as { mname?: unknown }).mname)}`);
    }
    expect(dns).toBeGreaterThanOrEqual(24);
    expect([...names]).toEqual(expect.arrayContaining(['1 198.51.100.7', '28 2001:db8::7', '5 example.test.', '15 mail.example.test.', '33 example.test.', '12 example.test.', '6 ns.example.test.']));
  });
});

describe.skipIf(reason !== undefined)('802.1Q and 802.1ad (QinQ) frames across a veth into a namespace', () => {
  // The veth's root end carries no address (nothing is routed there); the namespace end is B.
  const b = `synack-vlan-b-${process.pid}`;
  const rootEnd = `vq${process.pid % 100000}`;
  const file = join(dir, 'vlan.pcap');
  let kernelVlan = true;
  const nsIp = (args: string[]): void => {
    execFileSync('ip', ['-n', b, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  };

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', b]);
    execFileSync('ip', ['link', 'add', rootEnd, 'type', 'veth', 'peer', 'name', 'vq-b', 'netns', b]);
    // No IPv6 on the link: its autoconfiguration chatter would only add frames nobody sent.
    execFileSync('sysctl', ['-qw', `net.ipv6.conf.${rootEnd}.disable_ipv6=1`]);
    execFileSync('ip', ['netns', 'exec', b, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    nsIp(['link', 'set', 'vq-b', 'up']);
    execFileSync('ip', ['link', 'set', rootEnd, 'up']);
    const bMac = /link\/ether ([0-9a-f:]{17})/.exec(execFileSync('ip', ['-n', b, 'link', 'show', 'vq-b'], { encoding: 'utf8' }))![1]!;
    // B's VLAN interfaces (vlan 10; service tag 100 with vlan 20 inside), when the kernel has 8021q: then B answers.
    try {
      nsIp(['link', 'add', 'link', 'vq-b', 'name', 'vq-b.10', 'type', 'vlan', 'id', '10']);
      nsIp(['link', 'add', 'link', 'vq-b', 'name', 'vq-b.100', 'type', 'vlan', 'proto', '802.1ad', 'id', '100']);
      nsIp(['link', 'add', 'link', 'vq-b.100', 'name', 'vq-b.qq', 'type', 'vlan', 'id', '20']);
      nsIp(['addr', 'add', '198.51.100.2/26', 'dev', 'vq-b.10']);
      nsIp(['addr', 'add', '198.51.100.66/26', 'dev', 'vq-b.qq']);
      for (const d of ['vq-b.10', 'vq-b.100', 'vq-b.qq']) nsIp(['link', 'set', d, 'up']);
    } catch {
      kernelVlan = false;
      console.log('this kernel has no 802.1Q support (ip link ... type vlan: Unknown device type): B sees the tagged frames but does not answer them');
    }
    const capture = await startCapture(['ip', 'netns', 'exec', b, 'tcpdump', '-i', 'vq-b'], file, []);
    const E = `Ether(src='02:00:00:00:00:01', dst='${bMac}')`;
    const frames = [
      `${E}/Dot1Q(vlan=10)/IP(src='198.51.100.1', dst='198.51.100.2')/ICMP(id=7, seq=1)`,
      `${E}/Dot1Q(vlan=10)/ARP(hwsrc='02:00:00:00:00:01', psrc='198.51.100.1', pdst='198.51.100.2')`,
      `${E}/Dot1AD(vlan=100)/Dot1Q(vlan=20)/IP(src='198.51.100.65', dst='198.51.100.66')/ICMP(id=7, seq=2)`,
      `${E}/Dot1AD(vlan=100)/Dot1Q(vlan=20)/IP(src='198.51.100.65', dst='198.51.100.66')/UDP(sport=40000, dport=53)/DNS(id=9, qd=DNSQR(qname='example.test'))`,
      `${E}/Dot1Q(vlan=10, prio=5, id=1)/IPv6(src='2001:db8::1', dst='2001:db8::2')/UDP(sport=1, dport=2)/b'tagged'`,
      `${E}/Dot1AD(vlan=100)/Dot1AD(vlan=101)/Dot1Q(vlan=30)/IP(src='198.51.100.1', dst='198.51.100.2')/TCP(sport=1234, dport=80, flags='S')`,
    ].map((t) => packet(t));
    await sendp(frames, { iface: rootEnd });
    await new Promise((r) => setTimeout(r, 300));
    await stopCapture(capture);
  }, 60_000);

  afterAll(() => {
    spawnSync('ip', ['link', 'del', rootEnd]);
    spawnSync('ip', ['netns', 'del', b]);
  });

  it('prints tagged frames as tcpdump -e does (vlan 10, p 0, ethertype IPv4, ...)', () => {
    const want = tcpdumpLines(file, ['-e']);
    expect(want.length).toBeGreaterThanOrEqual(6);
    for (const flags of [['-e'], [], ['-v', '-e']]) expect(ourLines(file, flags)).toEqual(tcpdumpLines(file, flags));
    expect(want.some((l) => l.includes('ethertype 802.1Q-QinQ (0x88a8), length') && l.includes('vlan 100, p 0, ethertype 802.1Q (0x8100), vlan 20, p 0, ethertype IPv4'))).toBe(true);
  });

  it('dissects the tags as Dot1Q and Dot1AD and rebuilds the frames', () => {
    const seen = new Set<string>();
    for (const rec of readPcapSync(file)) {
      const p = dissect(rec.data, rec.linkType);
      expect(p.bytes().equals(rec.data)).toBe(true);
      const tags = p.layers.filter((l) => l instanceof Dot1QLayer) as Dot1QLayer[];
      seen.add(tags.map((t) => `${t instanceof Dot1ADLayer ? 'ad' : 'q'}${t.vlan}`).join('/') + ' ' + p.layers.at(tags.length + 1)?.name);
    }
    expect([...seen]).toEqual(expect.arrayContaining(['q10 IP', 'q10 ARP', 'ad100/q20 IP', 'q10 IPv6', 'ad100/ad101/q30 IP']));
    if (kernelVlan) expect(tcpdumpLines(file, ['vlan', '10', 'and', 'icmp']).some((l) => l.includes('echo reply'))).toBe(true);
  });

  it('filters vlan, vlan 10 and vlan 100 and vlan 20 as tcpdump does', () => {
    const recs = [...readPcapSync(file)];
    for (const expr of ['vlan', 'vlan 10', 'vlan 100 and vlan 20', 'vlan 10 and icmp', 'vlan and vlan and udp port 53', 'not vlan', 'vlan 100 and vlan 101 and vlan 30 and tcp']) {
      const f = compileFilter(expr);
      const ours = recs.filter((r) => f(r.data, r.wireLength ?? r.data.length, r.linkType)).length;
      expect(ours, expr).toBe(tcpdumpLines(file, [], expr.split(' ')).length);
    }
  });
});

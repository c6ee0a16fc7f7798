/**
 * The tcpdump-faithful display against tcpdump 4.99 itself: captures made here by real programs
 * on loopback (curl against python's http.server on 127.0.0.1 and ::1, nc, ping and ping -6,
 * UDP to a closed port, hping3 with odd flags, an nmap SYN scan) and packets crafted by Scapy
 * (SYN+FIN, SACK, unknown options, IP options, fragments, ICMP errors, ARP, IPv6, cut-off and
 * bogus headers, every truncation length). Our lines must equal `tcpdump -nn -r` line for line,
 * plain and with -v, -vv, -e, -x, -xx and -S. Run with TZ=UTC, so timestamps compare too.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IP, TCP, Raw } from '../src/index.js';
import { oracleMissing } from './helpers/oracle.js';
import { ourLines, tcpdumpLines } from './helpers/tcpdump-lines.js';

process.env.TZ = 'UTC';
const PYTHON = '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'synack-display-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function have(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

const FLAG_SETS: string[][] = [[], ['-v'], ['-vv'], ['-e'], ['-x'], ['-xx'], ['-S'], ['-v', '-e', '-x'], ['--nano']];

/** Compares line for line and reports the first difference readably. */
function expectSameAsTcpdump(file: string, flags: string[]): number {
  const expected = tcpdumpLines(file, flags);
  const got = ourLines(file, flags);
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    if (expected[i] !== got[i]) {
      expect({ flags: flags.join(' '), line: i + 1, ours: got[i] }).toEqual({ flags: flags.join(' '), line: i + 1, ours: expected[i] });
    }
  }
  return expected.length;
}

// ---------------------------------------------------------------------------------------------
// Packets crafted by Scapy and written with wrpcap.

const CRAFTED = String.raw`
import sys, struct, random, warnings, logging
warnings.filterwarnings("ignore"); logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
out = sys.argv[1]
E = lambda: Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
L = '127.0.0.1'
base = [
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='S',options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1,0)),('NOP',None),('WScale',7)]),
 E()/IP(src=L,dst=L)/TCP(sport=5678,dport=1234,flags='SA',seq=5000,ack=1,options=[('MSS',1460)]),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='A',seq=1,ack=5001),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='PA',seq=1,ack=5001)/b'abc',
 E()/IP(src=L,dst=L)/TCP(sport=5678,dport=1234,flags='A',seq=5001,ack=4,options=[('SAck',(10,20,30,40))]),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='SF'),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='FPU',urgptr=5),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='SEC'),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags=0),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='RA',seq=7,ack=9)/b'no way\x01',
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,flags='A',seq=100,ack=200,options=[('SAck',(300,400,500,600)),(253,b'\x01\x02'),('EOL',None)]),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,chksum=0x1234),
 E()/IP(src=L,dst=L,proto=99)/b'abc',
 E()/IP(src=L,dst=L,flags='MF')/UDP(sport=1,dport=2)/(b'x'*20),
 E()/IP(src=L,dst=L,frag=3,proto=17)/(b'x'*20),
 E()/IP(src=L,dst=L,flags='DF',tos=0x13,ttl=1,chksum=1)/UDP(sport=1000,dport=2000)/b'hello',
 E()/IP(src=L,dst=L)/UDP(sport=1000,dport=2000,chksum=0)/b'hello',
 E()/IP(src=L,dst=L)/ICMP(type=8,id=5,seq=1)/b'abcdefgh',
 E()/IP(src=L,dst=L)/ICMP(type=0,id=5,seq=1,chksum=0)/b'abcdefgh',
 E()/IP(src=L,dst=L)/ICMP(type=3,code=3)/IP(src=L,dst='127.0.0.2')/UDP(sport=1000,dport=2000)/b'hello',
 E()/IP(src=L,dst=L)/ICMP(type=3,code=3)/IP(src=L,dst='127.0.0.2')/TCP(sport=1000,dport=2000),
 E()/IP(src=L,dst=L)/ICMP(type=3,code=4,nexthopmtu=1400)/IP(src=L,dst='127.0.0.2')/TCP(sport=1000,dport=2000),
 E()/IP(src=L,dst=L)/ICMP(type=11,code=0)/IP(src=L,dst='127.0.0.2')/UDP(sport=1000,dport=2000),
 E()/IP(src=L,dst=L)/ICMP(type=13,id=1,seq=2,ts_ori=1,ts_rx=2,ts_tx=3),
 E()/IP(src=L,dst=L)/ICMP(type=14,id=1,seq=2,ts_ori=1,ts_rx=2,ts_tx=3),
 E()/ARP(op=1,psrc=L,pdst='127.0.0.2',hwsrc='00:11:22:33:44:55'),
 E()/ARP(op=2,psrc=L,pdst='127.0.0.2',hwsrc='00:11:22:33:44:55',hwdst='66:77:88:99:aa:bb'),
 E()/IPv6(src='::1',dst='::1')/TCP(sport=1,dport=2,flags='S'),
 E()/IPv6(src='::1',dst='::1',tc=3,fl=0x12345)/UDP(sport=1,dport=2)/b'abc',
 E()/IPv6(src='::1',dst='::1')/ICMPv6EchoRequest(id=1,seq=2)/b'abc',
 E()/IPv6(src='::1',dst='::1')/ICMPv6EchoReply(id=1,seq=2)/b'abc',
 E()/IPv6(src='::1',dst='::1')/ICMPv6DestUnreach(code=4)/IPv6(src='::1',dst='::2')/UDP(sport=1,dport=2),
 E()/IPv6(src='::1',dst='::1')/ICMPv6ND_NS(tgt='::2')/ICMPv6NDOptSrcLLAddr(lladdr='00:11:22:33:44:55'),
 E()/IPv6(src='::1',dst='::1')/ICMPv6ND_NA(tgt='::2'),
 E()/IPv6(src='::1',dst='::1')/IPv6ExtHdrFragment(offset=0,m=1,id=77)/UDP(sport=1,dport=2)/b'abc',
 E()/IPv6(src='::1',dst='::1')/IPv6ExtHdrFragment(offset=100,id=77)/b'abcdefgh',
 E()/IPv6(src='::1',dst='::1')/IPv6ExtHdrHopByHop()/ICMPv6EchoRequest(id=1,seq=2),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,dataofs=15),
 E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678,dataofs=2),
 E()/IP(src=L,dst=L,len=25)/UDP(sport=1,dport=2)/b'',
 E()/IP(src=L,dst=L)/UDP(sport=1,dport=2,len=5),
 E()/IP(src=L,dst=L,options=[IPOption_RR(routers=['1.2.3.4','5.6.7.8']),IPOption_Timestamp(flg=1,internet_address='9.9.9.9',timestamp=77)])/TCP(sport=1,dport=2),
 E()/IP(src=L,dst=L,options=[IPOption_Router_Alert()])/TCP(sport=1,dport=2),
 Ether(bytes(E()/IP(src=L,dst=L)/TCP(sport=1234,dport=5678))[:40]),
]
wrpcap(out + '/crafted.pcap', base)
# Every truncation of a few packets, caplen < wire length, as a short snaplen leaves them.
with open(out + '/truncated.pcap', 'wb') as f:
  f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
  n = 0
  for p in [base[0], base[10], base[15], base[19], base[20], base[25], base[27], base[31], base[32], base[34], base[41]]:
    raw = bytes(p)
    for cut in range(1, len(raw) + 1):
      n += 1
      f.write(struct.pack('<IIII', 1700000000 + n, n, cut, len(raw)))
      f.write(raw[:cut])
# Random TCP headers and options, some with bad checksums, lengths and data offsets.
random.seed(7)
fuzz = []
for i in range(1500):
  opts = bytes(random.choice([0,1,2,3,4,5,6,8,19,28,29,34,253,254,random.randint(0,255)]) if random.random() < 0.5 else random.randint(0,12) for _ in range(random.randint(0,40)))
  opts += b'\x00' * ((4 - len(opts) % 4) % 4)
  t = TCP(sport=random.choice([1000,2000,3000]), dport=random.choice([1000,2000]), flags=random.randint(0,255), seq=random.randint(0,2**32-1), ack=random.randint(0,2**32-1), urgptr=random.randint(0,3), dataofs=(20+len(opts))//4 if random.random() < 0.9 else random.randint(0,15))
  raw = bytes(t)[:20] + opts + bytes(random.randint(0,3))
  fuzz.append(E()/IP(src=random.choice([L,'127.0.0.2']), dst=random.choice([L,'127.0.0.2']), proto=6)/Raw(raw))
wrpcap(out + '/fuzz.pcap', fuzz)
# The same crafted packets as raw IP with nanosecond timestamps (link type 101).
with open(out + '/raw-nano.pcap', 'wb') as f:
  f.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 101))
  for i, p in enumerate(base[:25]):
    raw = bytes(p[IP] if IP in p else p)
    f.write(struct.pack('<IIII', 1700000000 + i, 123456789 + i, len(raw), len(raw)))
    f.write(raw)
`;

const scapyMissing = oracleMissing(PYTHON, ['-c', 'import scapy.all'], 'python3-scapy') !== undefined;

describe.skipIf(scapyMissing)('packets crafted by Scapy', () => {
  beforeAll(() => {
    const r = spawnSync(PYTHON, ['-c', CRAFTED, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }, 60_000);

  for (const name of ['crafted', 'truncated', 'fuzz', 'raw-nano']) {
    for (const flags of FLAG_SETS) {
      it(`${name}.pcap with tcpdump -nn ${flags.join(' ')}`, () => {
        expect(expectSameAsTcpdump(join(dir, `${name}.pcap`), flags)).toBeGreaterThan(10);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Captures made here, from real programs on loopback.

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('display.test: live loopback captures skipped: tcpdump -i lo needs root');

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts tcpdump -i lo writing `file`; resolves once it is listening. */
async function startCapture(file: string, filter: string): Promise<ChildProcess> {
  const child = spawn('tcpdump', ['-i', 'lo', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tcpdump did not start')), 5000);
    child.stderr!.on('data', (d: Buffer) => {
      if (String(d).includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error('tcpdump exited')));
  });
  return child;
}

async function stopCapture(child: ChildProcess): Promise<void> {
  await sleep(300);
  const done = new Promise((r) => child.on('exit', r));
  child.kill('SIGINT');
  await done;
}

function run(cmd: string, args: string[], input?: string): void {
  spawnSync(cmd, args, { input, timeout: 10_000, stdio: ['pipe', 'ignore', 'ignore'] });
}

/** A program left running in the background (a server) for the length of one capture. */
async function withServer(cmd: string, args: string[], body: () => Promise<void> | void): Promise<void> {
  const server = spawn(cmd, args, { stdio: 'ignore' });
  try {
    await sleep(600);
    await body();
  } finally {
    server.kill('SIGTERM');
  }
}

describe.skipIf(!isRoot || !have('tcpdump'))('captures from real programs on loopback', () => {
  const file = join(dir, 'live.pcap');
  const skipped: string[] = [];

  beforeAll(async () => {
    const filter = 'tcp port 18000 or tcp port 18001 or tcp port 18123 or udp port 18999 or tcp port 18124 or tcp port 18125 or tcp port 18126 or icmp or icmp6';
    const capture = await startCapture(file, filter);
    try {
      if (have('curl')) {
        await withServer('/usr/bin/python3', ['-m', 'http.server', '--bind', '127.0.0.1', '18000'], () => run('curl', ['-s', '-o', '/dev/null', 'http://127.0.0.1:18000/']));
        await withServer('/usr/bin/python3', ['-m', 'http.server', '--bind', '::1', '18001'], () => run('curl', ['-s', '-o', '/dev/null', 'http://[::1]:18001/']));
      } else skipped.push('curl');
      if (have('nc')) {
        await withServer('nc', ['-l', '127.0.0.1', '18123'], () => run('nc', ['-N', '127.0.0.1', '18123'], 'hello over nc\n'));
        run('nc', ['-u', '-w', '1', '-p', '38999', '127.0.0.1', '18999'], 'x');
      } else skipped.push('nc');
      if (have('ping')) {
        run('ping', ['-c', '2', '-i', '0.2', '127.0.0.1']);
        run('ping', ['-6', '-c', '2', '-i', '0.2', '::1']);
      } else skipped.push('ping');
      if (have('hping3')) {
        run('hping3', ['-c', '2', '-i', 'u100000', '-F', '-P', '-U', '-p', '18124', '127.0.0.1']);
        run('hping3', ['-c', '2', '-i', 'u100000', '-S', '-F', '-p', '18124', '127.0.0.1']);
        run('hping3', ['-c', '1', '-X', '-Y', '-p', '18124', '127.0.0.1']);
      } else skipped.push('hping3');
      if (have('nmap')) {
        await withServer('nc', ['-l', '127.0.0.1', '18125'], () => run('nmap', ['-n', '-sS', '-Pn', '-p', '18124,18125,18126', '127.0.0.1']));
      } else skipped.push('nmap');
    } finally {
      await stopCapture(capture);
    }
    if (skipped.length) console.log(`display.test: programs missing, their traffic skipped: ${skipped.join(', ')}`);
  }, 90_000);

  for (const flags of FLAG_SETS) {
    it(`the loopback capture with tcpdump -nn ${flags.join(' ')}`, () => {
      expect(existsSync(file)).toBe(true);
      expect(expectSameAsTcpdump(file, flags)).toBeGreaterThan(20);
    });
  }

  it('prints relative sequence numbers for the curl conversation, as tcpdump does', () => {
    const lines = ourLines(file, []).filter((l) => l.includes('.18000: Flags [P.]'));
    expect(lines[0]).toMatch(/seq 1:\d+, ack 1, win/);
  });
});

// ---------------------------------------------------------------------------------------------
// summary(), show(), hexdump() on packets built here.

describe('Packet display methods', () => {
  const syn = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 60000, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1412272238, 0]], ['NOP'], ['WScale', 7]] }));

  it('summary() is the tcpdump line of a raw IP packet, without timestamp', () => {
    expect(syn.summary()).toBe('IP 127.0.0.1.20 > 127.0.0.1.60000: Flags [S], seq 0, win 8192, options [mss 1460,sackOK,TS val 1412272238 ecr 0,nop,wscale 7], length 0');
    expect(IP({ dst: '127.0.0.1' }).add(TCP({ flags: 'PA', seq: 5, ack: 9 }), Raw({ load: 'abc' })).summary()).toBe(
      'IP 127.0.0.1.20 > 127.0.0.1.80: Flags [P.], seq 5:8, ack 9, win 8192, length 3: HTTP',
    );
  });

  it('summary() agrees with tcpdump on the bytes written to a file', () => {
    const bytes = syn.bytes();
    const file = join(dir, 'one.pcap');
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(101, 20);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(bytes.length, 8);
    rec.writeUInt32LE(bytes.length, 12);
    writeFileSync(file, Buffer.concat([header, rec, bytes]));
    expect(tcpdumpLines(file, [])[0]).toBe('00:00:00.000000 ' + syn.summary());
  });

  it('show() prints every field with its computed value, as Scapy show2 does', () => {
    const text = syn.show();
    expect(text).toContain('###[ IP ]### \n  version   = 4\n  ihl       = 5');
    expect(text).toContain('  len       = 60');
    expect(text).toContain('  chksum    = 0x7cb9');
    expect(text).toContain('###[ TCP ]### \n     sport     = ftp_data\n     dport     = 60000');
    expect(text).toContain("     options   = [('MSS', 1460), ('SAckOK', b''), ('Timestamp', (1412272238, 0)), ('NOP', None), ('WScale', 7)]");
  });

  it('hexdump() is laid out as Scapy hexdump()', () => {
    expect(syn.hexdump().split('\n')[0]).toBe('0000  45 00 00 3C 00 01 00 00 40 06 7C B9 7F 00 00 01  E..<....@.|.....');
    expect(syn.hexdump().split('\n')[3]).toBe('0030  54 2D 90 6E 00 00 00 00 01 03 03 07              T-.n........');
  });
});

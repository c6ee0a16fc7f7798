/**
 * The tcpdump-faithful printer at library level beside `tcpdump -nn -r`, on the same large
 * captures (500k and 1M packets by default), in the same run:
 *
 *   tcpdump -nn -r FILE > out                        (best of C, median of the rounds)
 *   readPcapBatches(FILE) + createPrinter().formatRecord, lines joined per batch and written
 *   to a file in large chunks, in a fresh node process importing the built dist/
 *
 * Both are timed from outside, process start to exit, so node's start-up counts against us.
 * The two outputs are compared line for line; packets/s, the ratio (tcpdump time / ours) and
 * the peak RSS of each side (GNU time) are reported. Memory must not grow with the file size.
 *
 * The capture is generated with writePcap: TCP over IPv4 and IPv6 (handshakes with MSS, SACK-OK,
 * timestamps and window scale; data both ways with timestamps; duplicate ACKs carrying SACK
 * blocks; FIN teardowns; a RST now and then; some HTTP on port 80), UDP over both, ICMP and
 * ICMPv6 echoes, ICMP port unreachables quoting UDP, and ARP.
 *
 *   npx tsx bench/display.ts [--packets N[,N...]] [--rounds R] [--keep] [--no-build]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARP, Ether, ICMP, ICMPv6EchoReply, ICMPv6EchoRequest, IP, IPv6, TCP, UDP, writePcap } from '../src/index.js';
import type { Packet } from '../src/index.js';
import { argValue, hasFlag, rand, reseed } from './helpers/args.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SIZES = (argValue('--packets') ?? '500000,1000000').split(',').map(Number);
const ROUNDS = Number(argValue('--rounds') ?? 5);
const keep = hasFlag('--keep');
const ENV = { ...process.env, TZ: 'UTC' };

// ---------------------------------------------------------------------------------------------
// The capture.


const MAC_CLIENT = '02:00:00:00:00:01';
const MAC_SERVER = '02:00:00:00:00:02';
const HTTP_REQUEST = Buffer.from('GET /index.html HTTP/1.1\r\nHost: example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n', 'latin1');
const HTTP_RESPONSE_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ';

type Emit = (p: Packet) => void;

function conversation(v6: boolean, index: number, emit: Emit): void {
  const client = v6 ? `2001:db8::${(index % 200) + 10}` : `198.51.100.${(index % 200) + 10}`;
  const server = v6 ? `2001:db8:0:1::${(index % 7) + 1}` : `198.51.100.${(index % 7) + 1}`;
  const http = rand(8) === 0;
  const sport = 32768 + (index % 28000);
  const dport = http ? 80 : 9000 + rand(50);
  let cseq = rand(0xffffffff);
  let sseq = rand(0xffffffff);
  let cts = rand(0xffffffff);
  let sts = rand(0xffffffff);
  const net = (fromClient: boolean): Packet => {
    const ether = Ether({ src: fromClient ? MAC_CLIENT : MAC_SERVER, dst: fromClient ? MAC_SERVER : MAC_CLIENT });
    const src = fromClient ? client : server;
    const dst = fromClient ? server : client;
    return v6 ? ether.add(IPv6({ src, dst, hlim: 64 })) : ether.add(IP({ src, dst, id: rand(65536), flags: 'DF', ttl: 64 }));
  };
  const seg = (fromClient: boolean, flags: string, data?: Buffer, options?: unknown[], seqOffset = 0): Packet => {
    const tcp = TCP({
      sport: fromClient ? sport : dport,
      dport: fromClient ? dport : sport,
      seq: ((fromClient ? cseq : sseq) + seqOffset) >>> 0,
      ack: flags.includes('A') ? (fromClient ? sseq : cseq) : 0,
      flags,
      window: 502 + rand(60000),
      ...(options ? { options: options as never } : {}),
    });
    let p = net(fromClient).add(tcp);
    if (data) p = p.add(data);
    if (seqOffset === 0) {
      const advance = (data?.length ?? 0) + (flags.includes('S') ? 1 : 0) + (flags.includes('F') ? 1 : 0);
      if (fromClient) cseq = (cseq + advance) >>> 0;
      else sseq = (sseq + advance) >>> 0;
    }
    return p;
  };
  const ts = (fromClient: boolean): unknown[] => {
    cts = (cts + rand(3)) >>> 0;
    sts = (sts + rand(3)) >>> 0;
    return [['NOP'], ['NOP'], ['Timestamp', fromClient ? [cts, sts] : [sts, cts]]];
  };
  emit(seg(true, 'S', undefined, [['MSS', 1460], ['SAckOK', ''], ['Timestamp', [cts, 0]], ['NOP'], ['WScale', 7]]));
  if (rand(25) === 0) {
    emit(seg(false, 'RA'));
    return;
  }
  emit(seg(false, 'SA', undefined, [['MSS', 1460], ['SAckOK', ''], ['Timestamp', [sts, cts]], ['NOP'], ['WScale', 7]]));
  emit(seg(true, 'A', undefined, ts(true)));
  const exchanges = 1 + rand(6);
  for (let i = 0; i < exchanges; i++) {
    if (http) {
      emit(seg(true, 'PA', HTTP_REQUEST, ts(true)));
      emit(seg(false, 'A', undefined, ts(false)));
      const body = 'x'.repeat(rand(1200));
      emit(seg(false, 'PA', Buffer.from(HTTP_RESPONSE_HEAD + body.length + '\r\n\r\n' + body, 'latin1'), ts(false)));
      emit(seg(true, 'A', undefined, ts(true)));
      continue;
    }
    emit(seg(true, 'PA', Buffer.alloc(1 + rand(300), 0x61 + (i % 26)), ts(true)));
    emit(seg(false, 'A', undefined, ts(false)));
    if (rand(4) === 0) {
      // The server sends three segments and the first is lost: the client's duplicate ACKs carry SACK blocks.
      const a = 1 + rand(1400);
      const b = 1 + rand(1400);
      const c = 1 + rand(1400);
      const base = sseq;
      emit(seg(false, 'A', Buffer.alloc(b, 0x42), ts(false), a));
      emit(seg(true, 'A', undefined, [['NOP'], ['NOP'], ['Timestamp', [cts, sts]], ['NOP'], ['NOP'], ['SAck', [(base + a) >>> 0, (base + a + b) >>> 0]]]));
      emit(seg(false, 'PA', Buffer.alloc(c, 0x43), ts(false), a + b));
      emit(seg(true, 'A', undefined, [['NOP'], ['NOP'], ['Timestamp', [cts, sts]], ['NOP'], ['NOP'], ['SAck', [(base + a) >>> 0, (base + a + b + c) >>> 0]]]));
      emit(seg(false, 'A', Buffer.alloc(a, 0x41), ts(false)));
      sseq = (base + a + b + c) >>> 0;
      emit(seg(true, 'A', undefined, ts(true)));
    } else {
      emit(seg(false, 'PA', Buffer.alloc(1 + rand(1400), 0x41 + (i % 26)), ts(false)));
      emit(seg(true, 'A', undefined, ts(true)));
    }
  }
  emit(seg(true, 'FA', undefined, ts(true)));
  emit(seg(false, 'FA', undefined, ts(false)));
  emit(seg(true, 'A', undefined, ts(true)));
}

function udpBurst(v6: boolean, emit: Emit): void {
  const sport = 20000 + rand(5000);
  const dport = 25000 + rand(5000);
  for (let k = 0; k < 4; k++) {
    const fromA = k % 2 === 0;
    const ether = Ether({ src: fromA ? MAC_CLIENT : MAC_SERVER, dst: fromA ? MAC_SERVER : MAC_CLIENT });
    const ip = v6
      ? IPv6({ src: fromA ? '2001:db8::7' : '2001:db8::8', dst: fromA ? '2001:db8::8' : '2001:db8::7' })
      : IP({ src: fromA ? '198.51.100.7' : '198.51.100.8', dst: fromA ? '198.51.100.8' : '198.51.100.7', id: rand(65536) });
    emit(ether.add(ip).add(UDP({ sport: fromA ? sport : dport, dport: fromA ? dport : sport })).add(Buffer.alloc(rand(500), 0x7a)));
  }
}

function pings(v6: boolean, emit: Emit): void {
  const id = rand(65536);
  for (let k = 0; k < 3; k++) {
    if (v6) {
      emit(Ether({ src: MAC_CLIENT, dst: MAC_SERVER }).add(IPv6({ src: '2001:db8::7', dst: '2001:db8::1' })).add(ICMPv6EchoRequest({ id, seq: k })).add(Buffer.alloc(56, 0x30)));
      emit(Ether({ src: MAC_SERVER, dst: MAC_CLIENT }).add(IPv6({ src: '2001:db8::1', dst: '2001:db8::7' })).add(ICMPv6EchoReply({ id, seq: k })).add(Buffer.alloc(56, 0x30)));
    } else {
      emit(Ether({ src: MAC_CLIENT, dst: MAC_SERVER }).add(IP({ src: '198.51.100.7', dst: '198.51.100.1' })).add(ICMP({ type: 8, id, seq: k })).add(Buffer.alloc(56, 0x30)));
      emit(Ether({ src: MAC_SERVER, dst: MAC_CLIENT }).add(IP({ src: '198.51.100.1', dst: '198.51.100.7' })).add(ICMP({ type: 0, id, seq: k })).add(Buffer.alloc(56, 0x30)));
    }
  }
}

function unreachable(emit: Emit): void {
  const udp = IP({ src: '198.51.100.7', dst: '198.51.100.9', id: rand(65536) }).add(UDP({ sport: 20000 + rand(5000), dport: 26000 + rand(1000) })).add(Buffer.alloc(12, 0x55));
  emit(Ether({ src: MAC_CLIENT, dst: MAC_SERVER }).add(udp.clone()));
  emit(Ether({ src: MAC_SERVER, dst: MAC_CLIENT }).add(IP({ src: '198.51.100.9', dst: '198.51.100.7' })).add(ICMP({ type: 3, code: 3 })).add(Buffer.from(udp.bytes())));
}

function arp(emit: Emit): void {
  emit(Ether({ src: MAC_CLIENT, dst: 'ff:ff:ff:ff:ff:ff' }).add(ARP({ op: 1, hwsrc: MAC_CLIENT, psrc: '198.51.100.10', pdst: '198.51.100.1' })));
  emit(Ether({ src: MAC_SERVER, dst: MAC_CLIENT }).add(ARP({ op: 2, hwsrc: MAC_SERVER, psrc: '198.51.100.1', hwdst: MAC_CLIENT, pdst: '198.51.100.10' })));
}

function generate(path: string, target: number): number {
  reseed();
  const w = writePcap(path, { linkType: 'ether' });
  let time = 1_700_000_000_000_000; // µs
  let n = 0;
  const emit: Emit = (p) => {
    time += 1 + rand(2000);
    w.write(p, time);
    n++;
  };
  for (let i = 0; n < target; i++) {
    const r = rand(100);
    if (r < 62) conversation(false, i, emit);
    else if (r < 82) conversation(true, i, emit);
    else if (r < 88) udpBurst(false, emit);
    else if (r < 91) udpBurst(true, emit);
    else if (r < 95) pings(false, emit);
    else if (r < 97) pings(true, emit);
    else if (r < 99) unreachable(emit);
    else arp(emit);
  }
  w.close();
  return n;
}

// ---------------------------------------------------------------------------------------------
// The two sides, each a process of its own, timed from outside.

/**
 * What our side runs: plain node on the built dist (no tsx), only the two modules it needs.
 * `batch`: readPcapBatches, and formatBatch gives each batch's lines as bytes, written out as
 * they come (a few hundred KB at a time). `batch-sync`: the same with readPcapBatchesSync
 * (blocking reads: no promise and no thread-pool hop per chunk, what a CLI can use).
 * `record`: readPcapBatches, and formatRecord gives a string per line, copied into a 1 MiB
 * buffer that is written when full.
 */
const OUR_SIDE = `
import { openSync, writeSync, closeSync } from 'node:fs';
const [distDir, mode, file, out] = process.argv.slice(-4);
const { readPcapBatches, readPcapBatchesSync } = await import(distDir + '/pcap/read.js');
const { createPrinter } = await import(distDir + '/show/printer.js');
const printer = createPrinter();
const fd = openSync(out, 'w');
if (mode === 'batch') {
  for await (const batch of readPcapBatches(file)) {
    const bytes = printer.formatBatch(batch);
    writeSync(fd, bytes, 0, bytes.length);
  }
} else if (mode === 'batch-sync') {
  for (const batch of readPcapBatchesSync(file)) {
    const bytes = printer.formatBatch(batch);
    writeSync(fd, bytes, 0, bytes.length);
  }
} else {
  let buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  for await (const batch of readPcapBatches(file)) {
    for (let i = 0; i < batch.length; i++) {
      const line = printer.formatRecord(batch[i]);
      if (pos + line.length + 1 > buf.length) {
        writeSync(fd, buf, 0, pos);
        pos = 0;
        if (line.length + 1 > buf.length) buf = Buffer.allocUnsafe(line.length + 1);
      }
      pos += buf.write(line, pos, 'latin1');
      buf[pos++] = 10;
    }
  }
  writeSync(fd, buf, 0, pos);
}
closeSync(fd);
`;

interface Run {
  /** Wall-clock time, start to exit. */
  seconds: number;
  /** User + system CPU time: steadier than wall time on a machine busy with other work. */
  cpu: number;
  rssMb: number;
  status: number | null;
}

function timed(argv: string[], outFile: string): Run {
  const rssFile = outFile + '.rss';
  const started = process.hrtime.bigint();
  const run = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, ...argv], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [rssKb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, cpu: user! + sys!, rssMb: rssKb! / 1024, status: run.status };
}

function tcpdumpRun(capture: string, outFile: string): Run {
  return timed(['/bin/sh', '-c', `exec tcpdump -nn -r '${capture}' > '${outFile}' 2>/dev/null`], outFile);
}

function ourRun(mode: 'batch' | 'batch-sync' | 'record', capture: string, outFile: string): Run {
  return timed([process.execPath, '--input-type=module', '-e', OUR_SIDE, join(root, 'dist'), mode, capture, outFile], outFile);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function compare(ours: string, theirs: string): { lines: number; differ: number; first: string } {
  const a = readFileSync(ours, 'latin1').split('\n');
  const b = readFileSync(theirs, 'latin1').split('\n');
  let differ = 0;
  let first = '';
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      if (differ++ === 0) first = `line ${i + 1}:\n    synack:  ${a[i]}\n    tcpdump: ${b[i]}`;
    }
  }
  return { lines: b.length - 1, differ, first };
}

const hasTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
if (!hasTime) throw new Error('bench/display.ts needs GNU time at /usr/bin/time (apt-get install time)');
if (spawnSync('tcpdump', ['--version']).status !== 0) throw new Error('bench/display.ts needs tcpdump');
if (!hasFlag('--no-build')) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  // tsc still writes dist/ when some other file has a type error; only a missing output is fatal.
  if (build.status !== 0) console.log('(npm run build reported errors; using what it emitted)');
}
if (!existsSync(join(root, 'dist', 'show', 'printer.js'))) throw new Error('dist/show/printer.js is missing: run npm run build');

const dir = mkdtempSync(join(tmpdir(), 'synack-bench-display-'));
let ok = true;
try {
  const rows: string[] = [];
  for (const size of SIZES) {
    const capture = join(dir, `capture-${size}.pcap`);
    const t0 = process.hrtime.bigint();
    const packets = generate(capture, size);
    console.log(`\ncapture: ${packets} packets, ${(statSync(capture).size / 1e6).toFixed(1)} MB, generated in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
    const sides: Array<{ name: string; run: (out: string) => Run; out: string; runs: Run[] }> = [
      { name: 'tcpdump -nn -r', run: (out) => tcpdumpRun(capture, out), out: join(dir, 'tcpdump.txt'), runs: [] },
      { name: 'synack formatBatch', run: (out) => ourRun('batch', capture, out), out: join(dir, 'batch.txt'), runs: [] },
      { name: 'synack batch, sync', run: (out) => ourRun('batch-sync', capture, out), out: join(dir, 'batch-sync.txt'), runs: [] },
      { name: 'synack formatRecord', run: (out) => ourRun('record', capture, out), out: join(dir, 'record.txt'), runs: [] },
    ];
    // Interleaved rounds, so that a burst of other load on the machine hits every side alike.
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of sides) {
        const run = side.run(side.out);
        if (run.status !== 0) throw new Error(`${side.name} exited with ${run.status}`);
        side.runs.push(run);
      }
    }
    const [tcpdump] = sides;
    const wall = (s: typeof tcpdump) => median(s!.runs.map((r) => r.seconds));
    const cpu = (s: typeof tcpdump) => median(s!.runs.map((r) => r.cpu));
    const rss = (s: typeof tcpdump) => Math.max(...s!.runs.map((r) => r.rssMb));
    for (const side of sides) {
      const cmp = side === tcpdump ? undefined : compare(side.out, tcpdump!.out);
      if (cmp && cmp.differ !== 0) ok = false;
      console.log(
        `  ${side.name.padEnd(20)} wall ${wall(side).toFixed(3)} s (${(packets / wall(side) / 1e6).toFixed(3)} M pkt/s)  cpu ${cpu(side).toFixed(3)} s (${(packets / cpu(side) / 1e6).toFixed(3)} M pkt/s)  peak RSS ${rss(side).toFixed(0)} MB` +
          (side === tcpdump ? '' : `  ratio wall ${(wall(tcpdump) / wall(side)).toFixed(2)} cpu ${(cpu(tcpdump) / cpu(side)).toFixed(2)}  lines ${cmp!.differ === 0 ? 'identical' : `${cmp!.differ} of ${cmp!.lines} differ; first at ${cmp!.first}`}`),
      );
      if (side !== tcpdump) rows.push(`${String(packets).padStart(9)}  ${side.name.padEnd(20)} ${(packets / wall(side) / 1e6).toFixed(3).padStart(7)} ${(packets / wall(tcpdump) / 1e6).toFixed(3).padStart(7)} ${(wall(tcpdump) / wall(side)).toFixed(2).padStart(6)} ${(cpu(tcpdump) / cpu(side)).toFixed(2).padStart(6)} ${rss(side).toFixed(0).padStart(7)} ${rss(tcpdump).toFixed(0).padStart(7)}  ${cmp!.differ}`);
    }
    if (!keep) rmSync(capture);
  }
  console.log(`\nmedian of ${ROUNDS} rounds; ratio = tcpdump time / synack time (>= 1.0 is the target)`);
  console.log('  packets  side                 synack tcpdump  ratio  ratio  RSS MB  RSS MB  differing');
  console.log('                                 M pkt/s M pkt/s   wall    cpu  synack tcpdump  lines');
  for (const row of rows) console.log(row);
} finally {
  if (keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
if (!ok) process.exitCode = 1;

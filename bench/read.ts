/**
 * `synack read` beside `tcpdump -nn -r` on the same large capture (>= 500k packets), same run:
 * both write to files, the lines are compared, and the times, the ratio and synack's peak
 * memory are reported. The capture is generated here with writePcap: Ethernet frames of TCP
 * conversations over IPv4 and IPv6 (handshake, data both ways, teardown, a RST now and then),
 * UDP datagrams, and ICMP echoes, with ports that tcpdump prints without an application decoder.
 *
 *   npx tsx bench/read.ts [--packets N] [--rounds N] [--keep] [--against DIR]
 *
 * --against DIR runs another built checkout's bin/synack (e.g. a worktree of main) in the same
 * rounds, for an A/B of a change: its CPU time and its ratio to this one are printed beside.
 *
 * Rounds are interleaved (every case on both sides, then the next round); every round's ratios
 * are printed, and the medians summarize. Beside each ratio is its ceiling: tcpdump over a Node
 * program that does nothing but start and read the file (measured in the same rounds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ether, ICMP, IP, IPv6, TCP, UDP, writePcap } from '../src/index.js';
import type { Packet } from '../src/index.js';
import { argValue, hasFlag, rand } from './helpers/args.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const TARGET_PACKETS = Number(argValue('--packets') ?? 600_000);
const keep = hasFlag('--keep');
const against = argValue('--against');


const MAC_A = '02:00:00:00:00:01';
const MAC_B = '02:00:00:00:00:02';

function conversation(v6: boolean, index: number, emit: (p: Packet) => void): void {
  const client = v6 ? `2001:db8::${(index % 200) + 10}` : `198.51.100.${(index % 200) + 10}`;
  const server = v6 ? '2001:db8::1' : '198.51.100.1';
  const sport = 40000 + (index % 20000);
  const dport = 9000 + rand(50);
  let cseq = rand(0xffffffff);
  let sseq = rand(0xffffffff);
  const net = (fromClient: boolean): Packet =>
    v6
      ? Ether({ src: fromClient ? MAC_A : MAC_B, dst: fromClient ? MAC_B : MAC_A }).add(IPv6({ src: fromClient ? client : server, dst: fromClient ? server : client }))
      : Ether({ src: fromClient ? MAC_A : MAC_B, dst: fromClient ? MAC_B : MAC_A }).add(IP({ src: fromClient ? client : server, dst: fromClient ? server : client, id: rand(65536), flags: 'DF' }));
  const seg = (fromClient: boolean, flags: string, data?: Buffer, options?: unknown[]): Packet => {
    const tcp = TCP({
      sport: fromClient ? sport : dport,
      dport: fromClient ? dport : sport,
      seq: fromClient ? cseq : sseq,
      ack: flags.includes('A') ? (fromClient ? sseq : cseq) : 0,
      flags,
      window: 502 + rand(60000),
      ...(options ? { options: options as never } : {}),
    });
    let p = net(fromClient).add(tcp);
    if (data) p = p.add(data);
    const advance = (data?.length ?? 0) + (flags.includes('S') ? 1 : 0) + (flags.includes('F') ? 1 : 0);
    if (fromClient) cseq = (cseq + advance) >>> 0;
    else sseq = (sseq + advance) >>> 0;
    return p;
  };
  const ts = (): unknown[] => [['NOP'], ['NOP'], ['Timestamp', [rand(0xffffffff), rand(0xffffffff)]]];
  emit(seg(true, 'S', undefined, [['MSS', 1460], ['SAckOK'], ['Timestamp', [rand(0xffffffff), 0]], ['NOP'], ['WScale', 7]]));
  if (rand(20) === 0) {
    emit(seg(false, 'RA'));
    return;
  }
  emit(seg(false, 'SA', undefined, [['MSS', 1460], ['SAckOK'], ['Timestamp', [rand(0xffffffff), rand(0xffffffff)]], ['NOP'], ['WScale', 7]]));
  emit(seg(true, 'A', undefined, ts()));
  const exchanges = 1 + rand(6);
  for (let i = 0; i < exchanges; i++) {
    emit(seg(true, 'PA', Buffer.alloc(1 + rand(300), 0x61 + (i % 26)), ts()));
    emit(seg(false, 'A', undefined, ts()));
    emit(seg(false, 'PA', Buffer.alloc(1 + rand(1400), 0x41 + (i % 26)), ts()));
    emit(seg(true, 'A', undefined, ts()));
  }
  emit(seg(true, 'FA', undefined, ts()));
  emit(seg(false, 'FA', undefined, ts()));
  emit(seg(true, 'A', undefined, ts()));
}

function generate(path: string): number {
  const w = writePcap(path, { linkType: 'ether' });
  let time = 1_700_000_000_000_000; // µs
  let n = 0;
  const emit = (p: Packet): void => {
    time += 1 + rand(2000);
    w.write(p, time);
    n++;
  };
  for (let i = 0; n < TARGET_PACKETS; i++) {
    const r = rand(10);
    if (r < 6) conversation(false, i, emit);
    else if (r < 8) conversation(true, i, emit);
    else if (r < 9) {
      for (let k = 0; k < 5; k++) {
        emit(Ether({ src: MAC_A, dst: MAC_B }).add(IP({ src: '198.51.100.7', dst: '198.51.100.8', id: rand(65536) })).add(UDP({ sport: 50000 + rand(1000), dport: 41000 + rand(100) })).add(Buffer.alloc(rand(200), 0x7a)));
      }
    } else {
      const id = rand(65536);
      for (let k = 0; k < 3; k++) {
        emit(Ether({ src: MAC_A, dst: MAC_B }).add(IP({ src: '198.51.100.7', dst: '198.51.100.1' })).add(ICMP({ type: 8, id, seq: k })).add(Buffer.alloc(56, 0x30)));
        emit(Ether({ src: MAC_B, dst: MAC_A }).add(IP({ src: '198.51.100.1', dst: '198.51.100.7' })).add(ICMP({ type: 0, id, seq: k })).add(Buffer.alloc(56, 0x30)));
      }
    }
  }
  w.close();
  return n;
}

/**
 * synack runs as a user runs it: bin/synack as a command, with this machine's environment. Its
 * shell line starts Node without NODE_EXTRA_CA_CERTS for `read` (Node 20 parses that file at
 * every start; read makes no TLS connection): the bare-Node ceilings below are measured both
 * ways, and the one beside the ratios is the one synack read gets.
 */
const NO_CA_ENV: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
delete NO_CA_ENV.NODE_EXTRA_CA_CERTS;

// /usr/bin/time gives the peak RSS (and CPU in 10 ms steps); perf stat, where it runs, gives the
// CPU time (task-clock) to the microsecond: start-up differences here are a few milliseconds.
const hasTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
const hasPerf = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', 'true']).status === 0;

function timed(command: string, argv: string[], outFile: string, env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' }): { seconds: number; cpu: number; status: number | null; maxRssKb: number } {
  // Each word in single quotes, its own single quotes as '\'' (the read-only floor's script has some).
  const quoted = [command, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const withTime = hasTime ? `/usr/bin/time -f '%M %U %S' -o ${outFile}.rss ${quoted}` : quoted;
  const withPerf = hasPerf ? `perf stat -x, -e task-clock -o ${outFile}.perf ${withTime}` : withTime;
  const started = process.hrtime.bigint();
  const run = spawnSync('/bin/sh', ['-c', `${withPerf} > ${outFile} 2>/dev/null`], { env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let maxRssKb = 0;
  let cpu = seconds;
  if (hasTime) {
    try {
      // Peak RSS, then user and system CPU seconds: on a shared machine CPU time is the steadier measure.
      const [rss, user, sys] = readFileSync(`${outFile}.rss`, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      maxRssKb = rss!;
      cpu = user! + sys!;
    } catch {
      maxRssKb = 0;
    }
  }
  if (hasPerf) {
    // "12.34,msec,task-clock,..." (the CPU time of the command, /usr/bin/time's own included: well under a millisecond).
    const line = readFileSync(`${outFile}.perf`, 'utf8').split('\n').find((l) => l.includes('task-clock'));
    const ms = Number(line?.split(',')[0]);
    if (Number.isFinite(ms)) cpu = ms / 1000;
  }
  return { seconds, cpu, status: run.status, maxRssKb };
}

const ROUNDS = Number(argValue('--rounds') ?? 5);

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'synack-bench-read-'));
try {
  const capture = join(dir, 'big.pcap');
  const t0 = process.hrtime.bigint();
  const packets = generate(capture);
  console.log(`capture: ${packets} packets, ${(statSync(capture).size / 1e6).toFixed(1)} MB, generated in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  // tsc emits even when files other than the CLI's have type errors; what matters is the program.
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('npm run build produced no dist/cli/main.js');

  const synackOut = join(dir, 'synack.txt');
  const tcpdumpOut = join(dir, 'tcpdump.txt');
  const cases: Array<{ name: string; filter: string[] }> = [
    { name: 'all packets', filter: [] },
    { name: "filter 'tcp and port 9001'", filter: ['tcp and port 9001'] },
    { name: "filter 'tcp port 80'", filter: ['tcp port 80'] },
    { name: "filter 'host 198.51.100.10 and tcp[tcpflags] & tcp-syn != 0'", filter: ['host 198.51.100.10 and tcp[tcpflags] & tcp-syn != 0'] },
    { name: "filter 'ip6 or icmp'", filter: ['ip6 or icmp'] },
  ];
  let ok = true;
  // The ceiling for any Node program on this machine: start-up alone, and start-up plus reading
  // the file's bytes in 1 MiB blocks (what even a filter that rejects everything must do).
  const floorOut = join(dir, 'floor.txt');
  const READ_ONLY = "const fs=require('fs');const fd=fs.openSync(process.argv[1],'r');const b=Buffer.allocUnsafe(1<<20);while(fs.readSync(fd,b,0,b.length,null)>0);";
  const floors = { start: [] as number[], startCpu: [] as number[], startWithCa: [] as number[], read: [] as number[], readCpu: [] as number[] };
  const measureFloors = (): void => {
    const start = timed(process.execPath, ['-e', '0'], floorOut, NO_CA_ENV);
    const withCa = timed(process.execPath, ['-e', '0'], floorOut);
    const read = timed(process.execPath, ['-e', READ_ONLY, capture], floorOut, NO_CA_ENV);
    floors.start.push(start.seconds);
    floors.startCpu.push(start.cpu);
    floors.startWithCa.push(withCa.cpu);
    floors.read.push(read.seconds);
    floors.readCpu.push(read.cpu);
  };
  // Interleaved: each round runs every case on both sides, so a busy moment hits both alike.
  const times = cases.map(() => ({ synack: [] as number[], tcpdump: [] as number[], synackCpu: [] as number[], tcpdumpCpu: [] as number[], againstCpu: [] as number[], rss: 0, tcpdumpRss: 0, lines: 0, tcpdumpLines: 0, differ: 0, firstDiff: '' }));
  for (let round = 1; round <= ROUNDS; round++) {
    const row: string[] = [];
    cases.forEach((c, i) => {
      const s = timed(join(root, 'bin', 'synack'), ['read', capture, ...c.filter], synackOut);
      const t = timed('tcpdump', ['-nn', '-r', capture, ...c.filter], tcpdumpOut);
      const r = times[i]!;
      if (against) r.againstCpu.push(timed(join(against, 'bin', 'synack'), ['read', capture, ...c.filter], floorOut).cpu);
      r.synack.push(s.seconds);
      r.tcpdump.push(t.seconds);
      r.synackCpu.push(s.cpu);
      r.tcpdumpCpu.push(t.cpu);
      r.rss = Math.max(r.rss, s.maxRssKb);
      r.tcpdumpRss = Math.max(r.tcpdumpRss, t.maxRssKb);
      if (s.status !== 0) ok = false;
      if (round === 1) {
        const a = readFileSync(synackOut, 'utf8').split('\n');
        const b = readFileSync(tcpdumpOut, 'utf8').split('\n');
        r.lines = a.length - 1;
        r.tcpdumpLines = b.length - 1;
        for (let k = 0; k < Math.max(a.length, b.length); k++) {
          if (a[k] !== b[k]) {
            if (r.differ++ === 0) r.firstDiff = `first at line ${k + 1}:\n    synack:  ${a[k]}\n    tcpdump: ${b[k]}`;
          }
        }
        if (r.differ !== 0) ok = false;
      }
      row.push(`${(t.seconds / s.seconds).toFixed(2)}x (cpu ${(t.cpu / Math.max(s.cpu, 0.001)).toFixed(2)}x)`);
    });
    measureFloors();
    console.log(`round ${round}: ratios (tcpdump time / synack time) ${row.join('  ')}; node start-up ${floors.start.at(-1)!.toFixed(3)} s, start-up + reading the file ${floors.read.at(-1)!.toFixed(3)} s`);
  }
  console.log(`\nceiling (any Node program here): start-up ${median(floors.start).toFixed(3)} s wall, ${median(floors.startCpu).toFixed(3)} s CPU ` +
    `(${median(floors.startWithCa).toFixed(3)} s CPU with NODE_EXTRA_CA_CERTS set, as this machine's environment has it${process.env.NODE_EXTRA_CA_CERTS ? '' : ': not set here'}); ` +
    `start-up + reading the ${(statSync(capture).size / 1e6).toFixed(0)} MB file ${median(floors.read).toFixed(3)} s wall, ${median(floors.readCpu).toFixed(3)} s CPU (medians of ${ROUNDS})`);
  cases.forEach((c, i) => {
    const r = times[i]!;
    const s = median(r.synack);
    const t = median(r.tcpdump);
    console.log(`\n${c.name}:`);
    console.log(`  tcpdump -nn -r   ${t.toFixed(3)} s (median of ${ROUNDS})  ${r.tcpdumpLines} lines  peak RSS ${(r.tcpdumpRss / 1024).toFixed(0)} MB`);
    console.log(`  synack read      ${s.toFixed(3)} s (median of ${ROUNDS})  ${r.lines} lines  peak RSS ${(r.rss / 1024).toFixed(0)} MB`);
    const sc = median(r.synackCpu);
    const tc = median(r.tcpdumpCpu);
    console.log(`  ratio            ${(t / s).toFixed(2)}x ${s < t ? 'faster than' : 'slower than'} tcpdump (wall); CPU ${sc.toFixed(2)} s vs ${tc.toFixed(2)} s, ${(tc / Math.max(sc, 0.001)).toFixed(2)}x`);
    // What Node could reach at best: tcpdump's time over the floor of start-up plus reading the file.
    if (against) console.log(`  against          ${against}: CPU ${median(r.againstCpu).toFixed(3)} s, ${(median(r.againstCpu) / Math.max(sc, 0.001)).toFixed(2)}x this checkout's time; tcpdump over it ${(tc / Math.max(median(r.againstCpu), 0.001)).toFixed(2)}x`);
    console.log(`  ceiling          ${(t / median(floors.read)).toFixed(2)}x (wall), ${(tc / Math.max(median(floors.readCpu), 0.001)).toFixed(2)}x (CPU): tcpdump over a Node program that only starts and reads the file`);
    console.log(`  lines            ${r.differ === 0 ? 'identical' : `${r.differ} differ; ${r.firstDiff}`}`);
  });
  if (!ok) process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

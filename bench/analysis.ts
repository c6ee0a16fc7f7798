/**
 * The TCP analyzer beside tshark on one large capture (>= 1M TCP packets, many streams, with
 * loss), same run, rounds interleaved, medians:
 *   - `tshark -r F -q -z conv,tcp` against `synack conv F` (every packet decoded, numbered by
 *     tcp.stream as Wireshark numbers it, counted): target at least 10x tshark's throughput
 *   - `synack read F` against `synack read F --explain`: target at most 30% more time
 *   - peak RSS of `synack read --explain` on a quarter of the capture and on all of it: flat in
 *     packets (conv also keeps its table of every conversation, as tshark's does)
 *   - beside them, measured in the same rounds, the bounds the targets meet: `records` is node
 *     walking every record with synack's reader and nothing else (no process that analyses the
 *     file can cost less: tshark's time over it is the most any analysis could reach), and
 *     `analysis` is that walk plus the Analyzer filling every result as --explain gets it (one
 *     reused result object), no notes (what it costs beyond `records` is the least --explain
 *     can add to plain read)
 * The capture is built with synack's own builder and writer from a seeded sequence: 2000
 * streams open at a time (20000 in all), each a handshake, data with ACKs, teardown; 1% of the
 * data segments are lost (not captured) and retransmitted later, which brings dup ACKs, fast
 * retransmissions and "previous segment not captured" into it.
 *
 *   npx tsx bench/analysis.ts [--packets N] [--rounds R] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ether, IP, TCP, writePcap } from '../src/index.js';
import type { Packet } from '../src/index.js';
import { argValue, hasFlag, rand, reseed } from './helpers/args.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, 'bin', 'synack');
const TARGET = Number(argValue('--packets') ?? 1_000_000);
const ROUNDS = Number(argValue('--rounds') ?? 3);
const keep = hasFlag('--keep');

const MSS = 1448;
const PAYLOAD = Buffer.alloc(MSS, 0x61);

interface Flow {
  client: string;
  sport: number;
  cseq: number;
  sseq: number;
  /** Segments of data left to send, and how many sent. */
  left: number;
  stage: number;
  /** Retransmission pending: the seq of a segment the capture missed. */
  lost: number;
  dupacks: number;
}

/** Frames of one step of a flow; returns false when the flow is done. */
function step(f: Flow, emit: (p: Packet) => void): boolean {
  const server = '198.51.100.1';
  const net = (fromClient: boolean): Packet =>
    Ether({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).add(IP({ src: fromClient ? f.client : server, dst: fromClient ? server : f.client, flags: 'DF', id: 1 }));
  const seg = (fromClient: boolean, flags: string, seq: number, ack: number, data?: Buffer, options?: unknown[]): Packet => {
    let p = net(fromClient).add(TCP({ sport: fromClient ? f.sport : 443, dport: fromClient ? 443 : f.sport, seq, ack, flags, window: 1024, ...(options ? { options: options as never } : {}) }));
    if (data) p = p.add(data);
    return p;
  };
  switch (f.stage) {
    case 0:
      emit(seg(true, 'S', f.cseq, 0, undefined, [['MSS', 1460], ['SAckOK'], ['NOP'], ['WScale', 7]]));
      emit(seg(false, 'SA', f.sseq, f.cseq + 1, undefined, [['MSS', 1460], ['SAckOK'], ['NOP'], ['WScale', 7]]));
      f.cseq = (f.cseq + 1) >>> 0;
      f.sseq = (f.sseq + 1) >>> 0;
      emit(seg(true, 'A', f.cseq, f.sseq));
      f.stage = 1;
      return true;
    case 1: {
      if (f.lost >= 0 && f.dupacks >= 3) {
        // The fast retransmission of the missed segment, and the ACK that covers everything.
        emit(seg(true, 'A', f.lost, f.sseq, PAYLOAD));
        emit(seg(false, 'A', f.sseq, f.cseq));
        f.lost = -1;
        return true;
      }
      if (f.left === 0) {
        if (f.lost >= 0) {
          f.dupacks = 3;
          return true;
        }
        f.stage = 2;
        return true;
      }
      const seq = f.cseq;
      f.cseq = (f.cseq + MSS) >>> 0;
      f.left--;
      if (f.lost < 0 && rand(100) === 0) {
        // Lost before the capture: only the receiver's duplicate ACKs show it.
        f.lost = seq;
        f.dupacks = 0;
        return true;
      }
      emit(seg(true, 'PA', seq, f.sseq, PAYLOAD));
      if (f.lost >= 0) {
        f.dupacks++;
        emit(seg(false, 'A', f.sseq, f.lost));
      } else {
        emit(seg(false, 'A', f.sseq, f.cseq));
      }
      return true;
    }
    default:
      emit(seg(true, 'FA', f.cseq, f.sseq));
      emit(seg(false, 'FA', f.sseq, (f.cseq + 1) >>> 0));
      emit(seg(true, 'A', (f.cseq + 1) >>> 0, (f.sseq + 1) >>> 0));
      return false;
  }
}

function makeCapture(path: string, target: number): number {
  reseed();
  const w = writePcap(path, { linkType: 'ether' });
  let time = 1_700_000_000_000_000;
  let packets = 0;
  const emit = (p: Packet): void => {
    time += 1 + rand(20);
    w.write(p, time);
    packets++;
  };
  let index = 0;
  const open: Flow[] = [];
  const newFlow = (): Flow => {
    index++;
    return {
      client: `198.51.100.${(index % 200) + 2}`,
      sport: 20000 + (index % 40000),
      cseq: rand(0xffffffff),
      sseq: rand(0xffffffff),
      left: 10 + rand(40),
      stage: 0,
      lost: -1,
      dupacks: 0,
    };
  };
  for (let i = 0; i < 2000; i++) open.push(newFlow());
  while (packets < target) {
    const i = rand(open.length);
    if (!step(open[i]!, emit)) open[i] = newFlow();
  }
  // Finish what is open, so every stream ends.
  for (const f of open) while (step(f, emit));
  w.close();
  return packets;
}

/**
 * One run: wall time, CPU time (user + system, from /usr/bin/time) and peak RSS. The ratios use
 * CPU time: on a shared machine the wall clock also counts other people's work.
 */
function timed(argv: string[], out: string): { seconds: number; cpu: number; rssKb: number; status: number | null } {
  const started = process.hrtime.bigint();
  const quoted = argv.map((a) => `'${a}'`).join(' ');
  const r = spawnSync('/bin/sh', ['-c', `/usr/bin/time -f '%M %U %S' -o ${out}.rss ${quoted} > ${out} 2>/dev/null`], { env: { ...process.env, TZ: 'UTC' } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const fields = existsSync(`${out}.rss`) ? readFileSync(`${out}.rss`, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) : [NaN, NaN, NaN];
  return { seconds, cpu: fields[1]! + fields[2]!, rssKb: fields[0]!, status: r.status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'synack-bench-analysis-'));
  try {
    const capture = join(dir, 'analysis.pcap');
    const quarter = join(dir, 'quarter.pcap');
    const t0 = process.hrtime.bigint();
    const packets = makeCapture(capture, TARGET);
    makeCapture(quarter, Math.floor(TARGET / 4));
    console.log(`capture: ${packets} TCP packets, 20000+ streams (2000 open at a time), 1% loss; ${(statSync(capture).size / 1e6).toFixed(1)} MB, generated in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    const out = join(dir, 'out.txt');
    const runs: Record<string, number[]> = { tshark: [], conv: [], read: [], explain: [], records: [], analysis: [] };
    const wall: Record<string, number[]> = { tshark: [], conv: [], read: [], explain: [], records: [], analysis: [] };
    const dist = (file: string): string => JSON.stringify(pathToFileURL(join(root, 'dist', file)).href);
    const rss: Record<string, number> = {};
    const commands: Record<string, string[]> = {
      tshark: ['tshark', '-r', capture, '-q', '-z', 'conv,tcp'],
      conv: [process.execPath, bin, 'conv', capture],
      read: [process.execPath, bin, 'read', capture],
      explain: [process.execPath, bin, 'read', capture, '--explain'],
      records: [
        process.execPath, '--input-type=module', '-e',
        `import { scanFramesSync } from ${dist('pcap/read.js')}; let n = 0; scanFramesSync(process.argv[1], () => n++); console.log(n);`,
        capture,
      ],
      analysis: [
        process.execPath, '--input-type=module', '-e',
        `import { readPcapBatchesSync } from ${dist('pcap/read.js')}; import { Analyzer } from ${dist('analysis/analyzer.js')};` +
          ` const a = new Analyzer({ reuseResult: true }); let n = 0; for (const b of readPcapBatchesSync(process.argv[1], { transient: true })) for (const r of b) if (a.add(r)?.flags.length) n++; console.log(n);`,
        capture,
      ],
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const [name, argv] of Object.entries(commands)) {
        const r = timed(argv, out);
        if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}`);
        runs[name]!.push(r.cpu);
        wall[name]!.push(r.seconds);
        rss[name] = Math.max(rss[name] ?? 0, r.rssKb);
        line.push(`${name} ${r.cpu.toFixed(2)} s cpu (${r.seconds.toFixed(2)} s wall)`);
      }
      console.log(`round ${round}: ${line.join(', ')}`);
    }
    // The analyzer's own memory: read --explain keeps no table of every conversation (conv must).
    const quarterRun = timed([process.execPath, bin, 'read', quarter, '--explain'], out);
    const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const pps = (s: number): string => `${((packets / s) / 1e6).toFixed(2)} M packets/s of CPU`;
    console.log('(medians of CPU time, user + system)');
    console.log(`tshark -q -z conv,tcp: ${m.tshark!.toFixed(2)} s (${pps(m.tshark!)}), peak RSS ${(rss.tshark! / 1024).toFixed(0)} MB`);
    console.log(`synack conv: ${m.conv!.toFixed(2)} s (${pps(m.conv!)}), peak RSS ${(rss.conv! / 1024).toFixed(0)} MB`);
    console.log(`  conv vs tshark: ${(m.tshark! / m.conv!).toFixed(1)}x tshark's throughput (target >= 10x)`);
    console.log(`  ceiling: reading every record alone (node and synack's reader, nothing else) ${m.records!.toFixed(2)} s: ${(m.tshark! / m.records!).toFixed(1)}x tshark is the most any analysis could reach`);
    console.log(`synack read: ${m.read!.toFixed(2)} s; synack read --explain: ${m.explain!.toFixed(2)} s`);
    console.log(`  --explain costs ${(((m.explain! - m.read!) / m.read!) * 100).toFixed(0)}% over plain read (target <= 30%)`);
    console.log(`  floor: the analysis alone (every result --explain gets, no notes) ${m.analysis!.toFixed(2)} s, ${(m.analysis! - m.records!).toFixed(2)} s beyond reading: ${(((m.analysis! - m.records!) / m.read!) * 100).toFixed(0)}% of plain read before any note is written`);
    console.log(`memory: synack read --explain peak RSS ${(quarterRun.rssKb / 1024).toFixed(0)} MB on a quarter of the packets, ${(rss.explain! / 1024).toFixed(0)} MB on ${packets} (flat: the analyzer grows with open streams only)`);
    if (keep) console.log(`kept ${capture}`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

main();

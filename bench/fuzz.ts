/**
 * `npm run fuzz`: the long fuzz pass of issue 14 item 4. Every in-process target (text, pcap,
 * script, filter, dissect: test/helpers/fuzz-targets.ts) runs 1M seeded inputs in a child
 * process under a watchdog; the CLI target spawns the real program on mutated argv (each input
 * is a process, so it runs fewer: --cli-inputs). Reports per target: inputs, inputs refused with a
 * SynackError (the expected answer), defects (any other throw; the dissector may not throw at
 * all), inputs slower than 1 s, hangs (no progress for --hang-seconds: killed, then resumed
 * after the input), crashes (the child died: resumed after the input), and peak RSS.
 *
 *   npm run fuzz [-- --inputs N] [--seed S] [--targets text,pcap,...] [--seconds S] [--start K] [--cli-inputs N] [--jobs J]
 *
 * --seconds bounds each target's run time (the report says how many inputs it reached);
 * --start K resumes such a run at input K of the same streams.
 * Exits 1 when any target had a defect, a hang or a crash.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliInputs, runCliInput, prepareCliFixtures, type CliStats } from '../test/helpers/fuzz-cli.js';
import { ensureBuilt } from '../test/helpers/cli.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const inputs = Number(arg('--inputs', '1000000'));
const seed = Number(arg('--seed', '20261201'));
const seconds = Number(arg('--seconds', 'Infinity'));
const hangSeconds = Number(arg('--hang-seconds', '10'));
const cliCount = Number(arg('--cli-inputs', '2000'));
const jobs = Number(arg('--jobs', '2'));
const targets = arg('--targets', 'text,pcap,script,filter,dissect,cli').split(',');
/** Resume a bounded run: inputs [start, inputs) of the same seeded streams. */
const first = Number(arg('--start', '0'));

interface Report {
  target: string;
  inputs: number;
  refused: number;
  defects: number;
  slow: number;
  hangs: number;
  crashes: number;
  peakRssMb: number;
  seconds: number;
  samples: string[];
}

interface WorkerResult {
  inputs: number;
  refused: number;
  defects: number;
  slowOverLimit: number;
  slowestMs: number;
  samples: Array<{ index: number; error: string; input: string }>;
  next: number;
  maxRssKb: number;
}

const work = mkdtempSync(join(tmpdir(), 'synack-fuzz-'));

function vmHwmKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** One child run from `start`; resolves with its result, or with where it hung or crashed. */
function runWorker(target: string, start: number, count: number, budgetS: number): Promise<{ result?: WorkerResult; stoppedAt?: number; how?: 'hang' | 'crash'; rssKb: number; slowSeen: number }> {
  const progress = join(work, `${target}.progress`);
  const child = spawn(process.execPath, ['--import', 'tsx', '--max-old-space-size=2048', join(HERE, 'fuzz-worker.ts'), '--target', target, '--seed', String(seed), '--start', String(start), '--count', String(count), '--progress', progress, '--seconds', String(budgetS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let rssKb = 0;
  let last = -2;
  let since = Date.now();
  let slowSeen = 0;
  let flaggedSlow = -1;
  let hungAt: number | undefined;
  const watchdog = setInterval(() => {
    rssKb = Math.max(rssKb, vmHwmKb(child.pid!));
    let now = -2;
    try {
      now = readFileSync(progress).readDoubleLE(0);
    } catch {
      // Not written yet.
    }
    if (now !== last) {
      last = now;
      since = Date.now();
      return;
    }
    const stuck = Date.now() - since;
    if (now >= 0 && stuck > 1000 && flaggedSlow !== now) {
      flaggedSlow = now;
      slowSeen++;
    }
    if (now >= 0 && stuck > hangSeconds * 1000) {
      hungAt = now;
      child.kill('SIGKILL');
    }
  }, 200);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearInterval(watchdog);
      if (hungAt !== undefined) return resolve({ stoppedAt: hungAt, how: 'hang', rssKb, slowSeen });
      if (code !== 0 || !out.trim()) {
        let at = start;
        try {
          at = readFileSync(progress).readDoubleLE(0);
        } catch {
          // Died before its first input.
        }
        return resolve({ stoppedAt: at < 0 ? start + count : at, how: 'crash', rssKb, slowSeen });
      }
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult;
      resolve({ result, rssKb: Math.max(rssKb, result.maxRssKb), slowSeen });
    });
  });
}

async function runTarget(target: string): Promise<Report> {
  const started = Date.now();
  const report: Report = { target, inputs: 0, refused: 0, defects: 0, slow: 0, hangs: 0, crashes: 0, peakRssMb: 0, seconds: 0, samples: [] };
  let start = first;
  while (start < inputs) {
    const left = seconds - (Date.now() - started) / 1000;
    if (left <= 0) break;
    const r = await runWorker(target, start, inputs - start, left);
    report.peakRssMb = Math.max(report.peakRssMb, Math.round(r.rssKb / 1024));
    if (r.result) {
      report.inputs += r.result.inputs;
      report.refused += r.result.refused;
      report.defects += r.result.defects;
      report.slow += Math.max(r.result.slowOverLimit, r.slowSeen);
      for (const s of r.result.samples) report.samples.push(`#${s.index}: ${s.error}\n    input: ${s.input.slice(0, 300)}`);
      break;
    }
    // A hang or a crash at input `stoppedAt`: counted, then resumed after it. Inputs before it ran.
    const at = r.stoppedAt!;
    report.inputs += at - start + 1;
    if (r.how === 'hang') report.hangs++;
    else report.crashes++;
    report.samples.push(`#${at}: ${r.how} (reproduce: node --import tsx bench/fuzz-worker.ts --target ${target} --seed ${seed} --start ${at} --count 1 --progress /tmp/p)`);
    start = at + 1;
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}

async function runCli(): Promise<Report> {
  const started = Date.now();
  ensureBuilt();
  const fixtures = prepareCliFixtures();
  const stats: CliStats = { inputs: 0, refused: 0, defects: 0, hangs: 0, samples: [], peakRssKb: 0 };
  let i = 0;
  try {
    for (const argv of cliInputs(seed, fixtures)) {
      if (i++ >= cliCount || (Date.now() - started) / 1000 > seconds) break;
      await runCliInput(argv, stats, fixtures, { hangMs: hangSeconds * 1000 });
    }
  } finally {
    rmSync(fixtures.dir, { recursive: true, force: true });
  }
  return {
    target: 'cli', inputs: stats.inputs, refused: stats.refused, defects: stats.defects, slow: 0, hangs: stats.hangs, crashes: 0,
    peakRssMb: Math.round(stats.peakRssKb / 1024), seconds: Math.round((Date.now() - started) / 1000), samples: stats.samples,
  };
}

console.log(`fuzz: seed ${seed}, ${first ? `inputs ${first.toLocaleString('en-US')} to ` : ''}${inputs.toLocaleString('en-US')} inputs per target (cli: ${cliCount.toLocaleString('en-US')} processes)${Number.isFinite(seconds) ? `, at most ${seconds} s per target` : ''}, ${jobs} at a time`);
const queue = [...targets];
const reports: Report[] = [];
await Promise.all(
  Array.from({ length: jobs }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const report = t === 'cli' ? await runCli() : await runTarget(t);
      reports.push(report);
      console.log(`  ${t}: ${report.inputs.toLocaleString('en-US')} inputs in ${report.seconds} s, ${report.defects} defects, ${report.hangs} hangs, ${report.crashes} crashes, peak RSS ${report.peakRssMb} MB`);
    }
  }),
);
rmSync(work, { recursive: true, force: true });

const order = new Map(targets.map((t, i) => [t, i]));
reports.sort((a, b) => order.get(a.target)! - order.get(b.target)!);
console.log('\ntarget     inputs      refused   defects  >1s  hangs  crashes  peak RSS  seconds  inputs/s');
for (const r of reports) {
  console.log(
    `${r.target.padEnd(9)} ${r.inputs.toLocaleString('en-US').padStart(10)} ${r.refused.toLocaleString('en-US').padStart(12)} ${String(r.defects).padStart(9)} ${String(r.slow).padStart(4)} ${String(r.hangs).padStart(6)} ${String(r.crashes).padStart(8)} ${`${r.peakRssMb} MB`.padStart(9)} ${String(r.seconds).padStart(8)} ${Math.round(r.inputs / Math.max(1, r.seconds)).toLocaleString('en-US').padStart(9)}`,
  );
}
for (const r of reports) for (const s of r.samples) console.log(`\n[${r.target}] ${s}`);
const bad = reports.some((r) => r.defects + r.hangs + r.crashes > 0);
process.exit(bad ? 1 : 0);

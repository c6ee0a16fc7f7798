/**
 * One fuzz target in its own process, started by bench/fuzz.ts: runs inputs [start, start+count)
 * of the target's seeded stream and reports its tallies as JSON on stdout. Before each input it
 * writes the input's index to the progress file (8 bytes at offset 0): the parent's watchdog
 * reads it to tell a slow input from a hung one, and which one it was.
 *   node --import tsx bench/fuzz-worker.ts --target text --seed 1 --start 0 --count 1000000 --progress FILE [--seconds S]
 */
import { openSync, writeSync } from 'node:fs';
import { TARGETS, loadFilterCompiler, newTargetStats, runOne } from '../test/helpers/fuzz-targets.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const name = arg('--target')!;
const target = TARGETS[name];
if (!target) {
  process.stderr.write(`unknown target ${name}: ${Object.keys(TARGETS).join(', ')}\n`);
  process.exit(2);
}
const seed = Number(arg('--seed') ?? 1);
const start = Number(arg('--start') ?? 0);
const count = Number(arg('--count') ?? 1_000_000);
const seconds = Number(arg('--seconds') ?? Infinity);
const progress = openSync(arg('--progress')!, 'w');
const mark = Buffer.alloc(8);

if (name === 'filter') await loadFilterCompiler();
const stats = newTargetStats(name);
const deadline = Date.now() + seconds * 1000;
let index = 0;
for (const input of target.inputs(seed)) {
  if (index >= start + count) break;
  if (index >= start) {
    mark.writeDoubleLE(index, 0);
    writeSync(progress, mark, 0, 8, 0);
    runOne(target, input, index, stats);
    if ((index & 1023) === 0 && Date.now() > deadline) break;
  }
  index++;
}
mark.writeDoubleLE(-1, 0);
writeSync(progress, mark, 0, 8, 0);
process.stdout.write(`${JSON.stringify({ ...stats, next: index, maxRssKb: process.resourceUsage().maxRSS })}\n`);

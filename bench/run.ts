/**
 * `npm run bench`: runs every bench/*.ts, one after another, each in its own node process pinned
 * to one core (taskset, when the machine has it) so that one benchmark's heap and JIT state
 * cannot colour the next. The 10M-input fuzz is long and runs only when asked:
 * `npm run bench -- --long` (or BENCH_LONG=1). Other arguments go to every benchmark.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const LONG_ONLY = new Set(['dissect-fuzz-long.ts']);

const args = process.argv.slice(2);
const long = args.includes('--long') || process.env.BENCH_LONG === '1';
const passOn = args.filter((a) => a !== '--long');

const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
  .filter((f) => long || !LONG_ONLY.has(f))
  .sort((a, b) => (a === 'packet.ts' ? -1 : b === 'packet.ts' ? 1 : a.localeCompare(b)));

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
let failed = 0;
for (const file of files) {
  console.log(`\n=== bench/${file} ===`);
  const command = [process.execPath, '--import', 'tsx', join(here, file), ...passOn];
  const run = hasTaskset ? spawnSync('taskset', ['-c', '0', ...command], { stdio: 'inherit' }) : spawnSync(command[0]!, command.slice(1), { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.log(`bench/${file} exited with ${run.status ?? run.signal}`);
  }
}
if (!long) console.log('\n(dissect-fuzz-long.ts skipped: run `npm run bench -- --long` for the 10M-input fuzz)');
process.exit(failed ? 1 : 0);

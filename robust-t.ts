import { TARGETS, loadFilterCompiler, newTargetStats, runOne } from './test/helpers/fuzz-targets.js';
await loadFilterCompiler();
const N = Number(process.argv[2] ?? 3000);
for (const [name, t] of Object.entries(TARGETS)) {
  const stats = newTargetStats(name);
  const started = Date.now();
  let i = 0;
  for (const input of t.inputs(1234)) { runOne(t, input, i, stats); if (++i >= N) break; }
  console.log(name, stats.inputs, 'refused', stats.refused, 'defects', stats.defects, 'slowest', stats.slowestMs.toFixed(1), 'ms', Date.now() - started, 'ms total');
  for (const s of stats.samples) console.log('  ', s.error.split('\n').slice(0,3).join(' | '), '\n     INPUT', s.input.slice(0, 300));
}

/**
 * The long dissector fuzz: 10M random and mutated inputs (the suite runs 100k of the same
 * generator), each dissected as every link type and built back. Not part of a plain
 * `npm run bench`; run it with `npm run bench -- --long`, or alone:
 *   node --import tsx bench/dissect-fuzz-long.ts [--inputs N] [--seed S]
 * Exits 1 when dissect() or bytes() threw, or a decoder threw into dissect's safety net.
 */
import { dissect } from '../src/index.js';
import '../src/packet/link-types.js';
import { loadSynack } from '../test/helpers/synack.js';
import { buildCorpus } from '../test/helpers/fuzz-corpus.js';
import { fuzzInputs } from '../test/helpers/fuzz-inputs.js';
import { formatStats, fuzzOne, newStats } from '../test/helpers/fuzz-run.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

const inputs = arg('--inputs', 10_000_000);
const seed = arg('--seed', 0x10c6f022);

await loadSynack(); // every layer module registered, as in the suite
const { corpus, note } = await buildCorpus(2000, seed);
console.log(`${note}; ${inputs.toLocaleString('en-US')} inputs x 5 link types, seed ${seed}`);

const stats = newStats();
const started = Date.now();
const step = Math.max(1, Math.floor(inputs / 10));
let done = 0;
for (const input of fuzzInputs(inputs, seed, corpus)) {
  fuzzOne(input, dissect, stats);
  if (++done % step === 0) {
    const s = (Date.now() - started) / 1000;
    console.log(`  ${done.toLocaleString('en-US')} inputs, ${s.toFixed(0)} s, ${Math.round(stats.dissections / s).toLocaleString('en-US')} dissect+build/s; throws so far: dissect ${stats.dissectThrows}, bytes() ${stats.buildThrows}, decoders ${stats.swallowedDecoderErrors}`);
  }
}
console.log(formatStats(stats));
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(stats.dissectThrows + stats.buildThrows + stats.swallowedDecoderErrors > 0 ? 1 : 0);

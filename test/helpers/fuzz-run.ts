/**
 * Runs fuzz inputs through dissect() for every link type, then builds each dissected packet
 * back, and tallies what went wrong: throws from dissect (never allowed), throws from bytes()
 * on a dissected packet, decoder exceptions that dissect's safety net swallowed (bugs all the
 * same), rebuilds that differ from the input, and the slowest single input.
 */
import type { Packet } from '../../src/packet/packet.js';
import { FUZZ_LINKS, type FuzzInput } from './fuzz-inputs.js';

type Dissect = (bytes: Buffer, link: (typeof FUZZ_LINKS)[number]) => Packet;

export interface Sample {
  link: string;
  how: string;
  hex: string;
  detail: string;
}

export interface FuzzStats {
  inputs: number;
  dissections: number;
  dissectThrows: number;
  buildThrows: number;
  swallowedDecoderErrors: number;
  rebuildMismatches: number;
  /** Of those, the ones where no header was cut short (so no partial field explains them). */
  rebuildMismatchesWholeHeaders: number;
  /** Of those, the ones where no layer reported any problem: a clean dissection must rebuild exactly. */
  rebuildMismatchesClean: number;
  /** Dissections whose layers do not account for the input's length (headers, payload, padding). */
  lengthMismatches: number;
  /** Inputs that dissected to a different stack or different bytes the second time. */
  nondeterministic: number;
  /** Rebuilt bytes that do not dissect and build back to themselves (build after dissect is not a fixpoint). */
  notFixpoint: number;
  /** Every layer name some dissection produced: what the fuzz reached. */
  layersSeen: Set<string>;
  slowestMs: number;
  slowest?: Sample;
  /** A few examples per kind of defect, keyed by kind and detail. */
  samples: Map<string, Sample[]>;
  /** How many of each defect, keyed the same way. */
  counts: Map<string, number>;
}

export function newStats(): FuzzStats {
  return {
    inputs: 0,
    dissections: 0,
    dissectThrows: 0,
    buildThrows: 0,
    swallowedDecoderErrors: 0,
    rebuildMismatches: 0,
    rebuildMismatchesWholeHeaders: 0,
    rebuildMismatchesClean: 0,
    lengthMismatches: 0,
    nondeterministic: 0,
    notFixpoint: 0,
    layersSeen: new Set(),
    slowestMs: 0,
    samples: new Map(),
    counts: new Map(),
  };
}

function note(stats: FuzzStats, key: string, sample: Sample, keep = 3): void {
  stats.counts.set(key, (stats.counts.get(key) ?? 0) + 1);
  let list = stats.samples.get(key);
  if (!list) stats.samples.set(key, (list = []));
  if (list.length < keep) list.push(sample);
}

function stackOf(p: Packet): string {
  return p.layers.map((l) => l.name).join('/');
}

/** Dissects and rebuilds one input under every link type, adding to `stats`. */
export function fuzzOne(input: FuzzInput, dissect: Dissect, stats: FuzzStats): void {
  stats.inputs++;
  for (const link of FUZZ_LINKS) {
    stats.dissections++;
    const started = performance.now();
    const sample = (detail: string): Sample => ({ link, how: input.how, hex: input.bytes.toString('hex').slice(0, 400), detail });
    let p: Packet;
    try {
      p = dissect(input.bytes, link);
    } catch (err) {
      stats.dissectThrows++;
      note(stats, `dissect threw: ${(err as Error).message}`, sample((err as Error).stack ?? ''));
      continue;
    }
    for (const layer of p.layers) {
      for (const problem of layer.problems ?? []) {
        if (problem.includes('decode failed')) {
          stats.swallowedDecoderErrors++;
          note(stats, `decoder threw (swallowed): ${problem}`, sample(stackOf(p)));
        }
      }
    }
    let rebuilt: Buffer | undefined;
    try {
      rebuilt = p.bytes();
    } catch (err) {
      stats.buildThrows++;
      note(stats, `bytes() threw on ${stackOf(p)}: ${(err as Error).message}`, sample((err as Error).stack?.split('\n').slice(0, 4).join(' | ') ?? ''));
    }
    for (const layer of p.layers) stats.layersSeen.add(layer.name);
    const clean = p.layers.every((l) => l.problems === undefined || l.problems.length === 0);
    if (rebuilt && rebuilt.length !== input.bytes.length && clean) {
      stats.lengthMismatches++;
      note(stats, `length ${rebuilt.length} != ${input.bytes.length} with no problem noted: ${stackOf(p)}`, sample(''), 2);
    }
    // The same bytes dissect the same way every time.
    const again = dissect(input.bytes, link);
    if (stackOf(again) !== stackOf(p) || (rebuilt && !again.bytes().equals(rebuilt))) {
      stats.nondeterministic++;
      note(stats, `dissected differently twice: ${stackOf(p)} then ${stackOf(again)}`, sample(''), 2);
    }
    // What a dissection builds is a fixpoint: dissecting and building it again changes nothing.
    // (When it equals the input, the determinism check above already showed that.)
    if (rebuilt && !rebuilt.equals(input.bytes)) {
      let second: Buffer | undefined;
      try {
        second = dissect(rebuilt, link).bytes();
      } catch {
        second = undefined;
      }
      if (!second || !second.equals(rebuilt)) {
        stats.notFixpoint++;
        note(stats, `not a fixpoint: ${stackOf(p)}`, sample(`rebuilt ${rebuilt.toString('hex').slice(0, 200)} then ${second?.toString('hex').slice(0, 200)}`), 2);
      }
    }
    if (rebuilt && !rebuilt.equals(input.bytes)) {
      stats.rebuildMismatches++;
      const partial = p.layers.some((l) => l.truncatedTo !== undefined);
      if (!partial) stats.rebuildMismatchesWholeHeaders++;
      if (clean) stats.rebuildMismatchesClean++;
      const where = partial ? 'with a header cut short' : 'whole headers';
      note(stats, `rebuild differs (${where}): ${stackOf(p)}`, sample(`rebuilt ${rebuilt.toString('hex').slice(0, 400)}`), 2);
    }
    let ms = performance.now() - started;
    // A garbage collection or a first compile can stall any one input; a loop that does not
    // end stalls it every time. So a slow input is timed again, and its best time counts.
    for (let retry = 0; retry < 3 && ms > 20; retry++) {
      const again = performance.now();
      dissect(input.bytes, link).bytes();
      ms = Math.min(ms, performance.now() - again);
    }
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowest = sample(stackOf(p));
    }
  }
}

/** A readable report: totals, then the commonest defects with an example each. */
export function formatStats(stats: FuzzStats, top = 15): string {
  const lines = [
    `${stats.inputs} inputs, ${stats.dissections} dissections: dissect threw ${stats.dissectThrows}, bytes() threw ${stats.buildThrows}, ` +
      `decoder errors swallowed ${stats.swallowedDecoderErrors}, rebuilds differing ${stats.rebuildMismatches} ` +
      `(${stats.rebuildMismatchesWholeHeaders} with no header cut short, ${stats.rebuildMismatchesClean} with no problem noted), ` +
      `length mismatches ${stats.lengthMismatches}, nondeterministic ${stats.nondeterministic}, not a fixpoint ${stats.notFixpoint}, slowest ${stats.slowestMs.toFixed(2)} ms`,
  ];
  const sorted = [...stats.counts].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, n] of sorted) {
    const s = stats.samples.get(key)![0]!;
    lines.push(`  ${n} x ${key}\n      e.g. link=${s.link} how=${s.how} ${s.detail.slice(0, 300)}\n      input ${s.hex.slice(0, 200)}`);
  }
  return lines.join('\n');
}

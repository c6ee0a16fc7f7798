/**
 * Dissector robustness: a seeded fuzz of 100,000 random and mutated inputs, each dissected as
 * every link type (ip, ether, sll, sll2, null) and built back. dissect() must never throw and
 * never hang (each input is timed; the test's timeout bounds the whole), bytes() on whatever
 * came out must not throw either, and no decoder may throw into dissect's safety net. Beyond
 * not crashing: every dissection builds back to exactly its input, dissects the same way twice,
 * and the fuzz reaches every layer it is meant to exercise.
 * bench/dissect-fuzz-long.ts runs the same with 10M inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus } from './helpers/fuzz-corpus.js';
import { fuzzInputs, type Corpus } from './helpers/fuzz-inputs.js';
import { formatStats, fuzzOne, newStats, type FuzzStats } from './helpers/fuzz-run.js';
import { loadSynack, type Synack } from './helpers/synack.js';

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 100_000);
const SEED = 0xd155ec7;
/** No single input may take this long: a loop that does not terminate shows here first. */
const SLOW_MS = 250;

describe('dissect() under fuzz', () => {
  let synack: Synack;
  let corpus: Corpus;
  let stats: FuzzStats;

  beforeAll(async () => {
    synack = await loadSynack();
    const built = await buildCorpus();
    corpus = built.corpus;
    console.log(built.note);
    stats = newStats();
    for (const input of fuzzInputs(INPUTS, SEED, corpus)) fuzzOne(input, synack.dissect, stats);
    console.log(formatStats(stats));
  }, 120_000);

  it(`ran ${INPUTS} inputs through every link type`, () => {
    expect(stats.inputs).toBe(INPUTS);
    expect(stats.dissections).toBe(INPUTS * 5);
  });

  it('dissect never throws', () => {
    expect(stats.dissectThrows, formatStats(stats)).toBe(0);
  });

  it('no decoder throws (dissect would hide it as Raw)', () => {
    expect(stats.swallowedDecoderErrors, formatStats(stats)).toBe(0);
  });

  it('building a dissected packet never throws', () => {
    expect(stats.buildThrows, formatStats(stats)).toBe(0);
  });

  it('every dissection builds back to its input, byte for byte, the same way every time', () => {
    expect(stats.rebuildMismatches, formatStats(stats)).toBe(0);
    expect(stats.lengthMismatches, formatStats(stats)).toBe(0);
    expect(stats.nondeterministic, formatStats(stats)).toBe(0);
    expect(stats.notFixpoint, formatStats(stats)).toBe(0);
  });

  it('reaches the layers it is meant to test (the corpus and mutations are not all rejected early)', () => {
    const tunnelsAndServices = ['GRE', 'GRE_PPTP', 'PPP', 'HDLC', 'NTPControl', 'NTPPrivate', 'BOOTP', 'DHCP', 'ICMPv6NDOptDNSSL', 'ICMPv6NDOptRouteInfo', 'ICMPv6NDOptAdvInterval', 'ICMPv6NDOptHAInfo'];
    for (const name of ['Ether', 'CookedLinux', 'CookedLinuxV2', 'Loopback', 'IP', 'IPv6', 'TCP', 'UDP', 'ICMP', 'IPerror', 'TCPerror', 'ARP', 'Raw', 'Padding', ...tunnelsAndServices]) {
      expect(stats.layersSeen.has(name), `no input dissected to ${name}; seen: ${[...stats.layersSeen].join(', ')}`).toBe(true);
    }
  });

  it('no input takes long (nothing hangs)', () => {
    expect(stats.slowestMs, `slowest input: ${JSON.stringify(stats.slowest)}`).toBeLessThan(SLOW_MS);
  });
});

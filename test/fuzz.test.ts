/**
 * The short, seeded pass of every fuzz target (issue 14 item 4); `npm run fuzz` runs the same
 * targets with 1M inputs each (bench/fuzz.ts). Every input must come back as a result or a
 * SynackError (the dissector and the printers: a result, always), and none may hang.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SynackError } from '../src/index.js';
import { ensureBuilt, synack } from './helpers/cli.js';
import { cliInputs, prepareCliFixtures, runCliInput, type CliFixtures, type CliStats } from './helpers/fuzz-cli.js';
import { TARGETS, loadFilterCompiler, newTargetStats, runOne, type FuzzTarget, type TargetStats } from './helpers/fuzz-targets.js';

const SEED = 0x5ca1ab1e;
const COUNTS: Record<string, number> = { text: 2000, pcap: 1500, script: 1500, filter: 1500, dissect: 500 };
/** A hang, not a speed test: `npm run fuzz` reports inputs over 1 s; here a loaded CI machine gets room. */
const HANG_MS = 5000;

function pass(target: FuzzTarget, count: number): TargetStats {
  const stats = newTargetStats(target.name);
  let i = 0;
  for (const input of target.inputs(SEED)) {
    runOne(target, input, i, stats, HANG_MS);
    if (++i >= count) break;
  }
  return stats;
}

function report(stats: TargetStats): string {
  return stats.samples.map((s) => `#${s.index}: ${s.error}\n  input: ${s.input.slice(0, 300)}`).join('\n');
}

describe('fuzz targets, short seeded pass', () => {
  beforeAll(async () => {
    await loadFilterCompiler();
  });

  it.each(Object.keys(COUNTS))('%s: no defect, nothing slow', (name) => {
    const stats = pass(TARGETS[name]!, COUNTS[name]!);
    console.log(`fuzz ${name}: ${stats.inputs} inputs, ${stats.refused} refused with a SynackError, ${stats.defects} defects, slowest ${stats.slowestMs.toFixed(1)} ms`);
    expect(stats.inputs).toBe(COUNTS[name]);
    expect(stats.defects, report(stats)).toBe(0);
    expect(stats.slowOverLimit, `slowest: ${stats.slowestInput}`).toBe(0);
    // The stream must reach both sides: inputs that parse and inputs that are refused.
    if (name !== 'dissect') {
      expect(stats.refused).toBeGreaterThan(0);
      expect(stats.refused).toBeLessThan(stats.inputs);
    }
  }, 120_000);

  it('the same seed gives the same inputs (a defect found once can be found again)', () => {
    for (const target of Object.values(TARGETS)) {
      const a = target.inputs(7);
      const b = target.inputs(7);
      for (let i = 0; i < 20; i++) expect(target.show(a.next().value)).toBe(target.show(b.next().value));
    }
  });

  it('counts what escapes as a defect, a SynackError as a refusal', () => {
    const stats = newTargetStats('probe');
    const probe: FuzzTarget<number> = {
      name: 'probe',
      *inputs() {
        for (let i = 0; ; i++) yield i;
      },
      run: (i) => {
        if (i === 1) throw new SynackError('refused');
        if (i === 2) throw new TypeError('x.map is not a function');
      },
      show: String,
    };
    for (const i of [0, 1, 2]) runOne(probe as FuzzTarget, i, i, stats);
    expect(stats).toMatchObject({ inputs: 3, refused: 1, defects: 1 });
    expect(stats.samples[0]!.error).toMatch(/^x\.map is not a function/);
  });
});

describe('CLI argument fuzz (the real program, short pass)', () => {
  let fixtures: CliFixtures;
  beforeAll(() => {
    ensureBuilt();
    fixtures = prepareCliFixtures();
  }, 120_000);
  afterAll(() => rmSync(fixtures.dir, { recursive: true, force: true }));

  it('12 mutated command lines: no stack, no multi-line usage error, no hang', async () => {
    const stats: CliStats = { inputs: 0, refused: 0, defects: 0, hangs: 0, samples: [], peakRssKb: 0 };
    const argvs: string[][] = [];
    for (const argv of cliInputs(SEED, fixtures)) {
      argvs.push(argv);
      if (argvs.length >= 12) break;
    }
    // Four at a time: each input is a process.
    for (let i = 0; i < argvs.length; i += 4) await Promise.all(argvs.slice(i, i + 4).map((a) => runCliInput(a, stats, fixtures, { hangMs: 15_000 })));
    console.log(`fuzz cli: ${stats.inputs} runs, ${stats.refused} usage errors, ${stats.defects} defects, peak RSS ${Math.round(stats.peakRssKb / 1024)} MB`);
    expect(stats.inputs).toBe(12);
    expect(stats.defects, stats.samples.join('\n')).toBe(0);
    expect(stats.refused).toBeGreaterThan(0);
  }, 120_000);
});

describe('what the long CLI fuzz found: every file error is one line', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  // A mistake in the path is a usage error (2); a cause in the machine (EIO) is 1, as for cp or cat.
  it.each([
    ['a 300-character name (ENAMETOOLONG)', 'x'.repeat(300), 2, /^synack: cannot read x{60,}\.\.\.\(300 characters\): the name is too long \(at most 255 bytes a component, 4095 a path\)$/],
    ['a symlink loop (ELOOP)', 'LOOP', 2, /^synack: cannot read .*\/loop: too many levels of symbolic links \(a loop\?\)$/],
    ['/proc/self/mem (EIO)', '/proc/self/mem', 1, /^synack: cannot read \/proc\/self\/mem: .*(i\/o|input\/output) error/i],
  ])('%s', async (_what, name, code, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'synack-ferr-'));
    try {
      let file = name;
      if (name === 'LOOP') {
        file = join(dir, 'loop');
        symlinkSync(file, file);
      }
      const r = await synack(['read', file]);
      expect(r.code).toBe(code);
      expect(r.stderr.trim()).toMatch(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

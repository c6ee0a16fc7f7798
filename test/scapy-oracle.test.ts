/**
 * Byte-exact against Scapy 2.5: random packet specs, written as Scapy expressions, are built by
 * Scapy (one python process for the batch) and by synack's packet(expr).bytes(), and the hex
 * must be identical: computed lengths, paddings and checksums, and the wrong values given on
 * purpose (chksum=0x1234, len=..., ihl=..., dataofs=..., plen=...) written verbatim.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scapyBuild, scapyUnavailable, type ScapyAnswer } from './helpers/scapy.js';
import { GENERATED_LAYERS, missingLayers, randomSpecs, type PacketSpec } from './helpers/random-specs.js';
import { loadSynack, type Synack } from './helpers/synack.js';

const SPEC_COUNT = 1500;
const SEED = 0x5ca9;
const SHOWN = 20;

const noScapy = scapyUnavailable();

describe.skipIf(noScapy !== undefined)(`byte-exact against Scapy 2.5${noScapy ? ` (skipped: ${noScapy})` : ''}`, () => {
  let synack: Synack;
  let specs: PacketSpec[];
  let answers: ScapyAnswer[];

  beforeAll(async () => {
    synack = await loadSynack();
    specs = randomSpecs(SPEC_COUNT, SEED, synack.has);
    answers = await scapyBuild(specs.map((s) => s.expr));
  }, 120_000);

  it('every generated expression is valid Scapy', () => {
    const invalid = specs.flatMap((s, i) => (answers[i]!.error ? [`${answers[i]!.error}\n    ${s.expr}`] : []));
    expect(invalid.slice(0, SHOWN), `${invalid.length} expressions Scapy rejects`).toEqual([]);
  });

  it(`builds the same bytes as Scapy for ${SPEC_COUNT} random specs`, () => {
    const { packet } = synack;
    expect(packet, 'no module exports packet(expr) yet (src/packet/text/)').toBeTypeOf('function');
    const failures: string[] = [];
    const failedKinds = new Map<string, number>();
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const want = answers[i]!.hex;
      if (want === undefined) continue;
      let got: string;
      try {
        got = packet!(spec.expr).bytes().toString('hex');
      } catch (err) {
        got = `threw ${(err as Error).message}`;
      }
      if (got !== want) {
        failures.push(`#${i} ${spec.expr}\n    scapy  ${want}\n    synack ${got}\n    first difference at byte ${firstDifference(want, got)}`);
        for (const k of spec.kinds) failedKinds.set(k, (failedKinds.get(k) ?? 0) + 1);
      }
    }
    if (failures.length > 0) {
      console.log(`${failures.length}/${specs.length} specs differ; layer kinds in failing specs: ${[...failedKinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}:${n}`).join(' ')}`);
      console.log(failures.slice(0, SHOWN).join('\n'));
    }
    expect(failures.length, failures.slice(0, SHOWN).join('\n')).toBe(0);
  });

  it('covers every layer kind the issue lists', () => {
    const covered = new Set(specs.flatMap((s) => s.kinds));
    const missing = missingLayers(synack.has);
    const unexercised = GENERATED_LAYERS.filter((n) => synack.has(n) && !covered.has(n));
    console.log(`layer kinds covered: ${[...covered].sort().join(', ')}`);
    if (missing.length) console.log(`not registered in synack, so not generated: ${missing.join(', ')}`);
    expect(missing, 'layers synack has not registered yet').toEqual([]);
    expect(unexercised, 'registered but never generated').toEqual([]);
  });
});

/** Byte index of the first difference between two hex strings. */
function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return Math.floor(i / 2);
}

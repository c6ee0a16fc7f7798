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

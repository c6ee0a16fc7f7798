/**
 * Build plans (src/packet/build-plan.ts) against the generic build path: the same random specs
 * the Scapy oracle uses, and dissected packets rebuilt, must give identical bytes both ways; a
 * plan is made once per layer sequence and reused; and a field that changes a header's size
 * (options, a payload) changes the bytes exactly as the generic path does, under the same plan.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomSpecs } from './helpers/random-specs.js';
import { loadSynack, type Synack } from './helpers/synack.js';
import { buildGeneric, type Packet } from '../src/packet/packet.js';
import { planFor } from '../src/packet/build-plan.js';
import { IP, TCP, UDP, Raw, Padding, ICMP, IPerror, TCPerror } from '../src/packet/factories.js';
import { dissect } from '../src/packet/dissect.js';
import type { TCPLayer } from '../src/layers/tcp.js';

const SEED = 0xb1a2;

function bothWays(p: Packet): { plan: string; generic: string } {
  const plan = p.bytes().toString('hex');
  return { plan, generic: buildGeneric(p.layers).toString('hex') };
}

describe('build plans give the generic path\'s bytes', () => {
  let synack: Synack;
  beforeAll(async () => {
    synack = await loadSynack();
  });

  it('for 1,500 random specs, built and dissected then rebuilt', () => {
    const specs = randomSpecs(1500, SEED, synack.has);
    const differ: string[] = [];
    let planned = 0;
    for (const spec of specs) {
      let p: Packet;
      try {
        p = synack.packet!(spec.expr);
      } catch {
        continue;
      }
      if (planFor(p.layers)?.build(p.layers) !== undefined) planned++;
      const { plan, generic } = bothWays(p);
      if (plan !== generic) differ.push(`${spec.expr}\n  plan    ${plan}\n  generic ${generic}`);
      // Dissected layers (lazy ones too, and cut-off quotes) rebuild the same both ways.
      const again = dissect(Buffer.from(generic, 'hex'), spec.link === 'ip' ? 'ip' : spec.link);
      const d = bothWays(again);
      if (d.plan !== d.generic) differ.push(`dissected ${spec.expr}\n  plan    ${d.plan}\n  generic ${d.generic}`);
    }
    expect(differ.slice(0, 10)).toEqual([]);
    // The plans must actually have built most of them, or this test compares the generic path with itself.
    expect(planned).toBeGreaterThan(specs.length / 2);
  });

  it('for stacks plans leave to the generic path: trailers, cut headers, ICMP errors', () => {
    const padded = IP().add(TCP()).add(Padding({ load: Buffer.from('abcd') }));
    expect(planFor(padded.layers)).toBeNull();
    expect(bothWays(padded).plan).toBe(bothWays(padded).generic);
    const error = IP({ dst: '127.0.0.2' }).add(ICMP({ type: 3, code: 3 })).add(IPerror({ src: '127.0.0.2' })).add(TCPerror({ dport: 9 }));
    const cut = dissect(error.bytes().subarray(0, 20 + 8 + 20 + 8), 'ip');
    const w = bothWays(cut);
    expect(w.plan).toBe(w.generic);
    expect(planFor(cut.layers)?.build(cut.layers)).toBeUndefined();
  });
});

describe('a build plan is made once per layer sequence', () => {
  it('is reused by packets of the same classes, and differs for another sequence', () => {
    const a = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 1 }));
    const b = IP({ dst: '127.0.0.9', ttl: 3 }).add(TCP({ dport: 2, options: [['MSS', 1460]] }));
    const c = IP().add(UDP());
    expect(planFor(a.layers)).not.toBeNull();
    expect(planFor(b.layers)).toBe(planFor(a.layers));
    expect(planFor(c.layers)).not.toBe(planFor(a.layers));
    // Asking through another sequence in between finds the same plan again.
    expect(planFor(a.layers)).toBe(planFor(b.layers));
  });

  it('follows a field that changes a header\'s size, as the generic path does', () => {
    const p = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 60000 })).add(Raw({ load: 'x' }));
    const plan = planFor(p.layers);
    const tcp = p.layers[1] as TCPLayer;
    const seen = new Set<number>();
    for (const options of [[], [['MSS', 1460]], [['MSS', 1460], ['SAckOK'], ['Timestamp', [1, 2]], ['NOP'], ['WScale', 7]], [['NOP']], []] as const) {
      tcp.options = options as never;
      const { plan: viaPlan, generic } = bothWays(p);
      expect(viaPlan).toBe(generic);
      seen.add(viaPlan.length);
      expect(planFor(p.layers)).toBe(plan);
    }
    expect(seen.size).toBe(3); // 20, 24 and 40 header bytes
    // A given length enters the pseudo-header and an explicit checksum is kept, under the plan too.
    p.layers[0]!.set('len', 30);
    tcp.chksum = 0x1234;
    const given = bothWays(p);
    expect(given.plan).toBe(given.generic);
    expect(given.plan.slice(4, 8)).toBe('001e');
  });
});

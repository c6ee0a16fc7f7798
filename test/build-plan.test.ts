/**
 * Build plans (src/packet/build-plan.ts) against the generic build path: the same random specs
 * the Scapy oracle uses, and dissected packets rebuilt, must give identical bytes both ways; a
 * plan is made once per layer sequence and reused; and a field that changes a header's size
 * (options, a payload) changes the bytes exactly as the generic path does, under the same plan.
 * IPv4/TCP, built in one pass, is checked on its own: random fields and options give the
 * generic path's bytes without a layer walk, and IP options, a given IP len, sets and cut-off
 * headers fall back.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomSpecs, Rng } from './helpers/random-specs.js';
import { loadSynack, type Synack } from './helpers/synack.js';
import { buildGeneric, type Packet } from '../src/packet/packet.js';
import { planFor } from '../src/packet/build-plan.js';
import { IP, TCP, UDP, Raw, Padding, ICMP, IPerror, TCPerror } from '../src/packet/factories.js';
import { dissect } from '../src/packet/dissect.js';
import { TCPLayer, type TCPOption } from '../src/layers/tcp.js';

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

/** Random TCP options: the SYN ones, SAck blocks, raw kinds, wrong-length values, verbatim bytes. */
function randomTCPOptions(r: Rng): TCPOption[] {
  const options: TCPOption[] = [];
  let room = 40;
  for (let n = r.int(0, 6); n > 0; n--) {
    const choices: TCPOption[] = [
      ['MSS', r.int(0, 0xffff)], ['SAckOK'], ['Timestamp', [r.u32(), r.u32()]], ['NOP'], ['WScale', r.int(0, 14)], ['EOL'],
      ['SAck', [r.u32(), r.u32()]], [r.int(2, 255), r.bytes(r.int(0, 4))], ['MSS', r.bytes(3)], ['bytes', r.bytes(r.int(1, 3))],
    ];
    const option = r.pick(choices);
    const size = Buffer.byteLength(TCP({ options: [option] }).bytes()) - 20;
    if (size > room) break;
    room -= size;
    options.push(option);
  }
  return options;
}

/** A random IPv4/TCP packet through the public API: each field given or left to the build, sometimes with IP options. */
function randomIPv4TCP(r: Rng, ipOptions: boolean): Packet {
  const ip: Record<string, unknown> = { src: `127.0.${r.int(0, 255)}.${r.int(1, 254)}`, dst: r.chance(0.5) ? '127.0.0.1' : `198.51.100.${r.int(1, 254)}` };
  if (r.chance(0.3)) delete ip.src;
  if (r.chance(0.5)) ip.tos = r.int(0, 255);
  if (r.chance(0.5)) ip.id = r.int(0, 0xffff);
  if (r.chance(0.3)) ip.flags = r.pick([0, 1, 2, 'DF', 'MF+DF']);
  if (r.chance(0.2)) ip.frag = r.int(0, 0x1fff);
  if (r.chance(0.5)) ip.ttl = r.int(0, 255);
  if (r.chance(0.1)) ip.proto = r.int(0, 255);
  if (r.chance(0.1)) ip.len = r.int(0, 100);
  if (r.chance(0.1)) ip.ihl = r.int(0, 15);
  if (r.chance(0.05)) ip.version = r.int(0, 15);
  if (r.chance(0.1)) ip.chksum = r.int(0, 0xffff);
  if (ipOptions) ip.options = r.pick([[{ name: 'IPOption_NOP' }], [{ name: 'IPOption_RR', routers: ['1.2.3.4'] }], [{ name: 'IPOption_NOP' }, { name: 'IPOption_EOL' }]]);
  const tcp: Record<string, unknown> = {};
  if (r.chance(0.7)) tcp.sport = r.int(0, 0xffff);
  if (r.chance(0.7)) tcp.dport = r.int(0, 0xffff);
  if (r.chance(0.5)) tcp.seq = r.u32();
  if (r.chance(0.5)) tcp.ack = r.u32();
  if (r.chance(0.1)) tcp.dataofs = r.int(0, 15);
  if (r.chance(0.1)) tcp.reserved = r.int(0, 7);
  if (r.chance(0.6)) tcp.flags = r.chance(0.5) ? r.pick(['S', 'SA', 'R', 'PA', 'FA', 'SEC', 'N']) : r.int(0, 0x1ff);
  if (r.chance(0.5)) tcp.window = r.int(0, 0xffff);
  if (r.chance(0.1)) tcp.chksum = r.int(0, 0xffff);
  if (r.chance(0.1)) tcp.urgptr = r.int(0, 0xffff);
  if (r.chance(0.7)) tcp.options = randomTCPOptions(r);
  return IP(ip).add(TCP(tcp));
}

describe('IPv4/TCP is built in one pass', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives the generic path\'s bytes for 3,000 random packets, without walking the layers unless IP options or len are given', () => {
    const r = new Rng(SEED + 1);
    // The walks size each layer (headerLength); the one-pass path does not call it.
    const sized = vi.spyOn(TCPLayer.prototype, 'headerLength');
    const differ: string[] = [];
    const walked = { onePass: 0, fellBack: 0 };
    for (let i = 0; i < 3000; i++) {
      const ipOptions = r.chance(0.1);
      const p = randomIPv4TCP(r, ipOptions);
      sized.mockClear();
      const viaPlan = p.bytes().toString('hex');
      if (sized.mock.calls.length === 0) walked.onePass++;
      else walked.fellBack++;
      // IP options, and a given len (its own pseudo-header rule), take the walks.
      expect(sized.mock.calls.length === 0).toBe(!ipOptions && p.layers[0]!.fields.len === undefined);
      const generic = buildGeneric(p.layers).toString('hex');
      if (viaPlan !== generic) differ.push(`${p.command()}\n  plan    ${viaPlan}\n  generic ${generic}`);
      // Dissected again (lazy layers), the packet rebuilds to its bytes through the same path.
      const again = dissect(Buffer.from(generic, 'hex'), 'ip');
      if (again.layers.length === 2 && again.bytes().toString('hex') !== generic) differ.push(`dissected ${p.command()}`);
    }
    expect(differ.slice(0, 10)).toEqual([]);
    expect(walked.onePass).toBeGreaterThan(2000);
    expect(walked.fellBack).toBeGreaterThan(100);
  });

  it('builds the SYN with the five options as Scapy does', () => {
    const syn = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 60000, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1412272238, 0]], ['NOP'], ['WScale', 7]] }));
    // bytes(IP(dst='127.0.0.1')/TCP(dport=60000, flags='S', options=[...])) in Scapy 2.5.
    expect(syn.bytes().toString('hex')).toBe('4500003c0001000040067cb97f0000017f0000010014ea600000000000000000a00220005aed0000020405b40402080a542d906e0000000001030307');
  });

  it('leaves sets and cut-off headers to the generic path', () => {
    const withSet = IP({ dst: '127.0.0.1' }).add(TCP({ dport: [22, 80] }));
    expect(planFor(withSet.layers)!.build(withSet.layers)).toBeUndefined();
    expect(() => withSet.bytes()).toThrow(/holds a set of values/);
    const whole = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 9, options: [['MSS', 1460]] })).bytes();
    for (const cut of [30, 42]) {
      const p = dissect(whole.subarray(0, cut), 'ip');
      expect(p.layers.map((l) => l.name)).toEqual(['IP', 'TCP']);
      expect(planFor(p.layers)!.build(p.layers)).toBeUndefined();
      const w = bothWays(p);
      expect(w.plan).toBe(w.generic);
      expect(w.plan).toBe(whole.subarray(0, cut).toString('hex'));
    }
  });
});

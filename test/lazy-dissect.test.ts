/**
 * Lazy dissection is transparent: dissect() decodes Ether, IPv4, TCP and UDP headers on first use
 * (layers/lazy.ts), and every reader must see exactly what an eager dissection gives. For the
 * round-trip corpus (the random specs built by synack's text form), the fuzz corpus (Scapy-built
 * packets of every layer kind, mutated: 3,000 seeded inputs through every link type) and the
 * kernel's own frames, a lazy and an eager dissection agree on: each layer's class, every field
 * read through its accessor while still lazy (the table-derived byte readers), every field,
 * problem, checksum verdict and cut once decoded, the bytes built back, and (every fourth
 * input) summary() and show().
 * Needs: Scapy 2.5 for the Scapy-built part of the fuzz corpus (CI=true fails without it, as
 * the fuzz suite does); no root, no network.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js';
import type { Layer } from '../src/layers/layer.js';
import type { Packet } from '../src/packet/packet.js';
import { isLazy } from '../src/layers/lazy.js';
import { TCPLayer } from '../src/layers/tcp.js';
import { UDPLayer } from '../src/layers/udp.js';
import { DNSLayer } from '../src/layers/dns.js';
import { DNS, DNSQR, IP, TCP, UDP, dissect } from '../src/index.js';
import { buildCorpus } from './helpers/fuzz-corpus.js';
import { FUZZ_LINKS, fuzzInputs, type Corpus } from './helpers/fuzz-inputs.js';
import { randomSpecs } from './helpers/random-specs.js';
import { scapyUnavailable } from './helpers/scapy.js';
import { loadSynack } from './helpers/synack.js';

const FUZZ_INPUTS = 3_000;
const FUZZ_SEED = 0x1a2e;
const SPEC_COUNT = 600;
const SPEC_SEED = 0x5ca9; // the round-trip suite's seed: the same specs

interface Tally {
  inputs: number;
  lazyLayers: number;
  lazyReads: number;
  mismatches: string[];
}

function note(t: Tally, what: string, input: Buffer, link: string): void {
  if (t.mismatches.length < 10) t.mismatches.push(`${what} (link ${link}, ${input.toString('hex')})`);
  else t.mismatches.length++;
}

function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** Compares one input's lazy and eager dissections through every reader. */
function compare(input: Buffer, link: (typeof FUZZ_LINKS)[number], t: Tally): void {
  t.inputs++;
  const eager = dissect(input, link, { eager: true });
  // 1. Accessors while lazy: fixed fields come from the bytes, others decode the layer.
  const lazy = dissect(input, link);
  if (lazy.layers.length !== eager.layers.length || lazy.layers.some((l, i) => l.layerClass !== eager.layers[i]!.layerClass)) {
    note(t, `layers ${lazy.layers.map((l) => l.name).join('/')} vs ${eager.layers.map((l) => l.name).join('/')}`, input, link);
    return;
  }
  lazy.layers.forEach((layer, i) => {
    const other = eager.layers[i]!;
    if (isLazy(layer)) t.lazyLayers++;
    for (const spec of layer.layerClass.fieldSpecs) {
      const wasLazy = isLazy(layer);
      const mine = (layer as unknown as Record<string, unknown>)[spec.name];
      if (wasLazy && isLazy(layer)) t.lazyReads++;
      const theirs = (other as unknown as Record<string, unknown>)[spec.name];
      if (!same(mine, theirs)) note(t, `${layer.name}.${spec.name}: lazy ${String(mine)}, eager ${String(theirs)}`, input, link);
    }
  });
  // 1b. Before the packet has its list: getLayer walks the stack down from its innermost layer,
  // and must find the layer eager getLayer finds (the outermost of its class), fields and all.
  const unlisted = dissect(input, link);
  const found = eager.layers.map((l) => unlisted.getLayer(l.layerClass));
  found.forEach((layer, i) => {
    const other = eager.getLayer(eager.layers[i]!.layerClass)!;
    for (const spec of other.layerClass.fieldSpecs) {
      const mine = layer === undefined ? undefined : (layer as unknown as Record<string, unknown>)[spec.name];
      const theirs = (other as unknown as Record<string, unknown>)[spec.name];
      if (!same(mine, theirs)) note(t, `getLayer(${other.name}) before the list: ${spec.name} ${String(mine)}, eager ${String(theirs)}`, input, link);
    }
  });
  found.forEach((layer, i) => {
    const at = layer === undefined ? -1 : unlisted.layers.indexOf(layer);
    if (at !== eager.layers.indexOf(eager.getLayer(eager.layers[i]!.layerClass)!)) note(t, `getLayer(${eager.layers[i]!.name}) before the list found layer ${at}`, input, link);
  });
  // 2. State once decoded, on a fresh lazy dissection (decoded by reading the outermost layer's state).
  const again = dissect(input, link);
  again.layers.forEach((layer, i) => {
    const other = eager.layers[i]!;
    for (const key of ['fields', 'problems', 'checksumValid', 'truncatedTo'] as const) {
      if (!same(layer[key], other[key])) note(t, `${layer.name} ${key} differs`, input, link);
    }
  });
  // 3. What users see, from untouched lazy packets.
  if (!dissect(input, link).bytes().equals(eager.bytes())) note(t, 'bytes() differ', input, link);
  // The printers are slow beside the rest: every fourth input is enough to see them agree.
  if (t.inputs % 4 !== 0) return;
  if (dissect(input, link).summary() !== eager.summary()) note(t, 'summary() differs', input, link);
  if (dissect(input, link).show() !== eager.show()) note(t, 'show() differs', input, link);
}

function report(t: Tally): string {
  return `${t.inputs} inputs, ${t.lazyLayers} lazy layers, ${t.lazyReads} fields read from the bytes; ${t.mismatches.length} mismatches:\n${t.mismatches.join('\n')}`;
}

describe('lazy dissection reads the same as eager', () => {
  let corpus: Corpus;
  beforeAll(async () => {
    if (process.env.CI === 'true' && scapyUnavailable() !== undefined) throw new Error(`Scapy is needed for the fuzz corpus: ${scapyUnavailable()}`);
    corpus = (await buildCorpus()).corpus;
  }, 120_000);

  it('is lazy where it should be: a SYN dissects without decoding, a port read decodes nothing', () => {
    const syn = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 60000, options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1, 0]], ['NOP'], ['WScale', 7]] })).bytes();
    const p: Packet = dissect(syn, 'ip');
    expect(p.layers.map((l: Layer) => l.name)).toEqual(['IP', 'TCP']);
    expect(p.layers.every(isLazy)).toBe(true);
    const tcp = p.getLayer(TCPLayer)!;
    expect([tcp.sport, tcp.dport, tcp.flags, tcp.dataofs]).toEqual([20, 60000, 2, 10]);
    expect(isLazy(tcp)).toBe(true);
    // Anything else decodes it, and the layer below first (TCP's checksum needs IPv4's pseudo-header).
    expect(tcp.checksumValid).toBe(true);
    expect(p.layers.some(isLazy)).toBe(false);
    expect(tcp.options).toEqual([['MSS', 1460], ['SAckOK', Buffer.alloc(0)], ['Timestamp', [1, 0]], ['NOP'], ['WScale', 7]]);
  });

  it('is lazy under DNS too: IPv4 and UDP stay lazy, the checksum verdict is worked out when asked', () => {
    const query = IP({ dst: '127.0.0.1' }).add(UDP({ dport: 53 }), DNS({ rd: 1, qd: DNSQR({ qname: 'example.test' }) })).bytes();
    const p: Packet = dissect(query, 'ip');
    expect(p.layers.map((l: Layer) => l.name)).toEqual(['IP', 'UDP', 'DNS']);
    expect(p.layers.slice(0, 2).every(isLazy)).toBe(true);
    const dns = p.getLayer(DNSLayer)!;
    expect(dns.qd[0]!.fields.qname).toBe('example.test.');
    const udp = p.getLayer(UDPLayer)!;
    expect([udp.sport, udp.dport, udp.len]).toEqual([53, 53, 38]);
    expect(isLazy(udp)).toBe(true);
    expect(udp.checksumValid).toBe(true);
    expect(p.layers.some(isLazy)).toBe(false);
    // A wrong checksum is seen as wrong when asked, as eagerly; the message rebuilds to its bytes.
    const bad = Buffer.from(query);
    bad.writeUInt16BE(bad.readUInt16BE(26) ^ 1, 26);
    expect(dissect(bad, 'ip').getLayer(UDPLayer)!.checksumValid).toBe(false);
    expect(dissect(bad, 'ip').bytes()).toEqual(bad);
  });

  it('keeps a view of the bytes unless asked to copy them', () => {
    const bytes = IP({ dst: '127.0.0.1' }).add(TCP({ dport: 80 })).bytes();
    const copied = dissect(bytes, 'ip', { copy: true });
    const viewed = dissect(bytes, 'ip');
    bytes.writeUInt16BE(81, 22);
    expect(copied.getLayer(TCPLayer)!.dport).toBe(80);
    expect(viewed.getLayer(TCPLayer)!.dport).toBe(81);
  });

  it('agrees on the round-trip corpus (random specs of every registered layer, built by synack)', async () => {
    const synack = await loadSynack();
    const t: Tally = { inputs: 0, lazyLayers: 0, lazyReads: 0, mismatches: [] };
    for (const spec of randomSpecs(SPEC_COUNT, SPEC_SEED, synack.has)) {
      let bytes: Buffer;
      try {
        bytes = synack.packet!(spec.expr).bytes();
      } catch {
        continue; // specs the text form refuses are the round-trip suite's business
      }
      compare(bytes, spec.link, t);
    }
    console.log(`round-trip corpus: ${report(t)}`);
    expect(t.mismatches, report(t)).toEqual([]);
    expect(t.inputs).toBeGreaterThan(400);
    expect(t.lazyLayers).toBeGreaterThan(200);
    expect(t.lazyReads).toBeGreaterThan(1000);
  }, 120_000);

  it(`agrees on ${FUZZ_INPUTS} seeded fuzz inputs through every link type`, () => {
    const t: Tally = { inputs: 0, lazyLayers: 0, lazyReads: 0, mismatches: [] };
    for (const input of fuzzInputs(FUZZ_INPUTS, FUZZ_SEED, corpus)) for (const link of FUZZ_LINKS) compare(input.bytes, link, t);
    console.log(`fuzz corpus: ${report(t)}`);
    expect(t.mismatches, report(t)).toEqual([]);
    expect(t.lazyLayers).toBeGreaterThan(1000);
  }, 240_000);

  it("agrees on the kernel's own frames (Ethernet and cooked captures on lo)", () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/kernel-captures.json', import.meta.url), 'utf8')) as { frames: { link: (typeof FUZZ_LINKS)[number]; hex: string }[] };
    const t: Tally = { inputs: 0, lazyLayers: 0, lazyReads: 0, mismatches: [] };
    for (const frame of fixture.frames) compare(Buffer.from(frame.hex, 'hex'), frame.link, t);
    expect(t.mismatches, report(t)).toEqual([]);
    expect(t.lazyLayers).toBeGreaterThan(fixture.frames.length);
  });
});

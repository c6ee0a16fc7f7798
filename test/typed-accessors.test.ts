/**
 * Every layer has one accessor per field of its table (layer.sport, layer.mtu, layer.ifindex),
 * typed from its Fields interface, reading what is set or else the table's default.
 * Pure: no root, no network.
 */
import { describe, expect, it } from 'vitest';
import * as synack from '../src/index.js';
import { layerByName, layerNames } from '../src/layers/registry.js';

describe('typed field accessors', () => {
  it('every registered layer reads every field of its table through an accessor', () => {
    const missing: string[] = [];
    for (const name of layerNames()) {
      const cls = layerByName(name)!;
      const layer = new cls() as unknown as Record<string, unknown>;
      for (const spec of cls.fieldSpecs) if (!(spec.name in layer)) missing.push(`${name}.${spec.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('reads given values and defaults with their types (typed: a field missing from the Fields interface would not compile in an editor)', () => {
    const lo = synack.Loopback({ type: 24 }).getLayer(synack.Loopback)!;
    const sll2 = synack.CookedLinuxV2({ ifindex: 3 }).getLayer(synack.CookedLinuxV2)!;
    const ptb = synack.ICMPv6PacketTooBig({ mtu: 1280 }).getLayer(synack.ICMPv6PacketTooBig)!;
    const frag = synack.IPv6ExtHdrFragment({ offset: 5 }).getLayer(synack.IPv6ExtHdrFragment)!;
    const echo = synack.ICMPv6EchoRequest({ id: 7 }).getLayer(synack.ICMPv6EchoRequest)!;
    const values: number[] = [lo.type, sll2.ifindex, sll2.pkttype, ptb.mtu, frag.offset, echo.id, echo.seq];
    expect(values).toEqual([24, 3, 0, 1280, 5, 7, 0]);
  });
});

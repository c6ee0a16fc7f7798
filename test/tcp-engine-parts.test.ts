/**
 * The conversation's pure parts, without root: segment sizing, option negotiation, the
 * delayed-ACK policy, reassembly, and the idle check that lets a forgotten close() end.
 */
import { describe, expect, it } from 'vitest';
import { maxSegmentPayload } from '../src/tcp/segment-size.js';
import { initialNegotiation, negotiate, synAckOptions, synOptions, tsValOf } from '../src/tcp/negotiate.js';
import { ackTiming, DelayedAck } from '../src/tcp/delayed-ack.js';
import { Reassembly } from '../src/tcp/reassembly.js';
import { Conversation } from '../src/tcp/conversation.js';
import type { TcbAction } from '../src/tcp/tcb.js';

describe('segment size', () => {
  it('fits one IP packet: lo with timestamps is 65,483 (not the peer MSS 65,495), Ethernet 1,448', () => {
    expect(maxSegmentPayload({ peerMss: 65495, mtu: 65536, family: 4, tcpOptions: 12 })).toBe(65483);
    expect(20 + 32 + 65483).toBe(65535);
    expect(maxSegmentPayload({ peerMss: 65495, mtu: 65536, family: 4, tcpOptions: 0 })).toBe(65495);
    expect(maxSegmentPayload({ peerMss: 1460, mtu: 1500, family: 4, tcpOptions: 12 })).toBe(1448);
    expect(maxSegmentPayload({ peerMss: 1460, mtu: 1500, family: 4, tcpOptions: 0 })).toBe(1460);
    // IPv6: the payload length excludes the fixed header; lo's MTU leaves 65,476 with timestamps.
    expect(maxSegmentPayload({ peerMss: 65476, mtu: 65536, family: 6, tcpOptions: 12 })).toBe(65464);
    expect(maxSegmentPayload({ peerMss: 1440, mtu: 1500, family: 6, tcpOptions: 12 })).toBe(1428);
    // A tiny MSS is the payload limit as given.
    expect(maxSegmentPayload({ peerMss: 4, mtu: 65536, family: 4, tcpOptions: 12 })).toBe(4);
  });
});

describe('option negotiation', () => {
  it("offers Linux's SYN options, answers only what the peer offered, scales only when both offer", () => {
    const prefs = {};
    const n0 = initialNegotiation(prefs);
    expect(synOptions(prefs, 77, n0.ourWscale)).toEqual([['MSS', 1460], ['SAckOK'], ['Timestamp', [77, 0]], ['NOP'], ['WScale', 7]]);
    const full = negotiate(prefs, [['MSS', 65495], ['SAckOK'], ['Timestamp', [555, 0]], ['NOP'], ['WScale', 9]], n0);
    expect(full).toEqual({ peerMss: 65495, peerWscale: 9, ourWscale: 7, sackPermitted: true, timestamps: true, tsRecent: 555 });
    expect(synAckOptions(prefs, [['MSS', 1000]], negotiate(prefs, [['MSS', 1000]], n0), 1)).toEqual([['MSS', 1460]]);
    const noScale = negotiate(prefs, [['MSS', 1000], ['SAckOK']], n0);
    expect(noScale).toMatchObject({ peerMss: 1000, peerWscale: 0, ourWscale: 0, sackPermitted: true, timestamps: false });
    expect(negotiate({ wscale: false }, [['WScale', 3]], initialNegotiation({ wscale: false }))).toMatchObject({ peerWscale: 0, ourWscale: 0 });
    expect(tsValOf([['NOP'], ['NOP'], ['Timestamp', [9, 8]]])).toBe(9);
    expect(tsValOf([['MSS', 4]])).toBeUndefined();
  });
});

describe('delayed-ACK policy', () => {
  const data: TcbAction[] = [{ type: 'data', offset: 0, length: 100 }, { type: 'ack', reason: 'data', delayable: true }];
  const fin: TcbAction[] = [{ type: 'peer-fin' }, { type: 'ack', reason: 'fin', delayable: false }];
  const ctx = { holding: false, segmentsHeld: 0, fullSized: false, delay: 40, afterOurFin: false };
  it('holds in-order data, acks every second full-sized segment, anything else at once', () => {
    expect(ackTiming(data, ctx)).toEqual({ timing: 'later', counts: true });
    expect(ackTiming(data, { ...ctx, segmentsHeld: 1, fullSized: true })).toEqual({ timing: 'now', counts: true });
    expect(ackTiming(data, { ...ctx, segmentsHeld: 1, fullSized: false }).timing).toBe('later');
    expect(ackTiming([{ type: 'ack', reason: 'out-of-order', delayable: false }], ctx).timing).toBe('now');
    expect(ackTiming([{ type: 'ack', reason: 'challenge', delayable: false }], ctx).timing).toBe('now');
    expect(ackTiming(data, { ...ctx, delay: 0 }).timing).toBe('now');
    expect(ackTiming([], ctx).timing).toBe('none');
    // The handshake's ACK is the handshake's to send.
    expect(ackTiming([{ type: 'ack', reason: 'syn', delayable: false }], ctx).timing).toBe('none');
  });
  it('a FIN alone is acked at once; behind held data it waits with it; after our FIN, at once', () => {
    expect(ackTiming(fin, ctx).timing).toBe('now');
    expect(ackTiming(fin, { ...ctx, holding: true }).timing).toBe('later');
    expect(ackTiming([...data, ...fin], ctx).timing).toBe('later');
    expect(ackTiming([...data, ...fin], { ...ctx, afterOurFin: true }).timing).toBe('now');
  });
  it('the timer fires once, cancel stops it, and it does not keep the process alive', async () => {
    let fired = 0;
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const d = new DelayedAck(5, () => fired++);
    const before = timers();
    d.hold();
    d.hold();
    expect(d.holding).toBe(true);
    // Unref'd: not among what keeps the event loop alive.
    expect(timers()).toBe(before);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(1);
    d.hold();
    d.cancel();
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(1);
    expect(d.holding).toBe(false);
  });
});

describe('reassembly', () => {
  it('keeps in-order bytes, holds bytes past a gap, drains them when it fills (overlaps trimmed)', () => {
    const r = new Reassembly();
    r.accept(Buffer.from('abc'));
    r.hold(106, Buffer.from('ghi'));
    r.hold(103, Buffer.from('def'));
    r.hold(103, Buffer.from('XXX')); // a second copy of the same seq is not kept
    expect(r.heldBytes).toBe(6);
    expect(r.drain(103)).toBe(6);
    expect(String(r.take())).toBe('abcdefghi');
    expect(r.hasData).toBe(false);
    r.hold(200, Buffer.from('0123456789'));
    expect(r.drain(195)).toBe(0);
    expect(r.drain(205)).toBe(5);
    expect(String(r.take())).toBe('56789');
    // Entirely old held bytes are dropped without delivering anything.
    r.hold(300, Buffer.from('old'));
    expect(r.drain(400)).toBe(0);
    expect(r.heldBytes).toBe(0);
  });
});

describe('a conversation off the wire', () => {
  it('drives its state from the TCB, and sizes data segments to its link', () => {
    const c = new Conversation({ src: '127.0.0.1', sport: 40000, dst: '127.0.0.1', dport: 80 }, { isn: 100 });
    expect(c.state).toBe('CLOSED');
    c.state = 'LISTEN';
    expect(c.state).toBe('LISTEN');
    expect(c.sndNxt).toBe(100);
    c.attach({ send: async () => undefined, close: async () => undefined, mtu: 65536 });
    expect(c.maxSegmentPayload()).toBe(536);
    return c.release();
  });
});

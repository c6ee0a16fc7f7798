/**
 * The pure TCB against RFC 9293's transitions (and RFC 5961's RST, SYN and ACK rules), without
 * root: every state, every teardown, the observer used by the analyzer.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTcb, observe, observer, step, advance, type Tcb, type TcbAction, type TcbEvent, type ObservedSegment } from '../src/tcp/tcb.js';
import { parseTCPFlags } from '../src/layers/tcp.js';
import type { TcpState } from '../src/tcp/states.js';

const ISS = 1000;
const IRS = 5000;
const visited = new Set<TcpState>();

function seg(flags: string, seq: number, ack = 0, len = 0, window = 65535) {
  return { flags: parseTCPFlags(flags), seq: seq >>> 0, ack: ack >>> 0, len, window };
}

/** Runs events in order; returns the final TCB and every action. */
function run(tcb: Tcb, ...events: TcbEvent[]): { tcb: Tcb; actions: TcbAction[] } {
  const all: TcbAction[] = [];
  for (const e of events) {
    const r = step(tcb, e);
    tcb = r.tcb;
    visited.add(tcb.state);
    all.push(...r.actions);
  }
  return { tcb, actions: all };
}
const send = (flags: string, seq: number, ack = 0, len = 0): TcbEvent => ({ kind: 'send', segment: seg(flags, seq, ack, len) });
const recv = (flags: string, seq: number, ack = 0, len = 0, window = 65535): TcbEvent => ({ kind: 'recv', segment: seg(flags, seq, ack, len, window) });
const types = (a: TcbAction[]): string[] => a.map((x) => (x.type === 'ack' ? `ack:${x.reason}` : x.type));

/** ESTABLISHED after an active open: snd.nxt = ISS+1, rcv.nxt = IRS+1. */
function established(iss = ISS, irs = IRS): Tcb {
  const r = run(createTcb({ iss }), { kind: 'open', passive: false }, send('S', iss), recv('SA', irs, iss + 1));
  expect(r.tcb.state).toBe('ESTABLISHED');
  return r.tcb;
}

describe('opening', () => {
  it('active open: OPEN asks for a SYN, the SYN makes SYN-SENT, the SYN-ACK ESTABLISHED with our ACK', () => {
    let r = run(createTcb({ iss: ISS }), { kind: 'open', passive: false });
    expect(types(r.actions)).toEqual(['syn']);
    expect(r.tcb.state).toBe('CLOSED');
    r = run(r.tcb, send('S', ISS));
    expect(r.tcb).toMatchObject({ state: 'SYN-SENT', sndUna: ISS, sndNxt: ISS + 1 });
    r = run(r.tcb, recv('SA', IRS, ISS + 1));
    expect(r.tcb).toMatchObject({ state: 'ESTABLISHED', irs: IRS, rcvNxt: IRS + 1, sndUna: ISS + 1 });
    expect(types(r.actions)).toEqual(['ack:syn']);
  });

  it('SYN-SENT: a SYN-ACK acking something else gets a RST with seq = its ack, and changes nothing', () => {
    const t = run(createTcb({ iss: ISS }), send('S', ISS)).tcb;
    const r = run(t, recv('SA', IRS, ISS + 7));
    expect(r.actions).toEqual([{ type: 'rst', seq: ISS + 7 }]);
    expect(r.tcb.state).toBe('SYN-SENT');
    expect(run(t, recv('SA', IRS, ISS)).actions).toEqual([{ type: 'rst', seq: ISS }]);
  });

  it('SYN-SENT: RST+ACK acking our SYN refuses the connection; a RST without an acceptable ACK is ignored', () => {
    const t = run(createTcb({ iss: ISS }), send('S', ISS)).tcb;
    const refused = run(t, recv('RA', 0, ISS + 1));
    expect(refused.tcb.state).toBe('CLOSED');
    expect(refused.actions).toEqual([{ type: 'reset', refused: true }]);
    expect(run(t, recv('R', 0)).tcb.state).toBe('SYN-SENT');
    const bad = run(t, recv('RA', 0, ISS + 9));
    expect(bad.tcb.state).toBe('SYN-SENT');
    expect(bad.actions).toEqual([]);
  });

  it('simultaneous open: SYN-SENT takes a SYN to SYN-RECEIVED (SYN-ACK), then the peer\'s SYN-ACK makes ESTABLISHED', () => {
    let r = run(createTcb({ iss: ISS }), send('S', ISS), recv('S', IRS));
    expect(r.tcb.state).toBe('SYN-RECEIVED');
    expect(types(r.actions)).toEqual(['syn-ack']);
    r = run(r.tcb, send('SA', ISS, IRS + 1), recv('SA', IRS, ISS + 1));
    expect(r.tcb).toMatchObject({ state: 'ESTABLISHED', sndNxt: ISS + 1, rcvNxt: IRS + 1 });
  });

  it('passive open: LISTEN, the SYN (SYN-RECEIVED, SYN-ACK asked), our SYN-ACK, the ACK (ESTABLISHED)', () => {
    let r = run(createTcb({ iss: ISS }), { kind: 'open', passive: true });
    expect(r.tcb.state).toBe('LISTEN');
    r = run(r.tcb, recv('S', IRS));
    expect(r.tcb).toMatchObject({ state: 'SYN-RECEIVED', irs: IRS, rcvNxt: IRS + 1 });
    expect(types(r.actions)).toEqual(['syn-ack']);
    r = run(r.tcb, send('SA', ISS, IRS + 1));
    expect(r.tcb.sndNxt).toBe(ISS + 1);
    // A retransmitted SYN is the peer saying our SYN-ACK was lost: nothing changes.
    expect(run(r.tcb, recv('S', IRS)).actions).toEqual([]);
    // An ACK that does not ack our SYN-ACK: RST with seq = its ack.
    expect(run(r.tcb, recv('A', IRS + 1, ISS + 5)).actions).toEqual([{ type: 'rst', seq: ISS + 5 }]);
    const done = run(r.tcb, recv('A', IRS + 1, ISS + 1));
    expect(done.tcb.state).toBe('ESTABLISHED');
  });

  it('LISTEN: a RST is ignored, an ACK answered by a RST, a SYN-RECEIVED reset returns to LISTEN', () => {
    const l = run(createTcb({ iss: ISS }), { kind: 'open', passive: true }).tcb;
    expect(run(l, recv('R', 7)).actions).toEqual([]);
    expect(run(l, recv('A', 7, 99)).actions).toEqual([{ type: 'rst', seq: 99 }]);
    const sr = run(l, recv('S', IRS), send('SA', ISS, IRS + 1)).tcb;
    const back = run(sr, recv('R', IRS + 1));
    expect(back.tcb.state).toBe('LISTEN');
    expect(back.actions).toEqual([]);
  });

  it('CLOSED: everything but a RST gets the RFC\'s RST (seq = their ack, or seq 0 with ack = seq + len)', () => {
    const c = createTcb();
    expect(run(c, recv('S', 100)).actions).toEqual([{ type: 'rst', seq: 0, ack: 101 }]);
    expect(run(c, recv('PA', 100, 300, 10)).actions).toEqual([{ type: 'rst', seq: 300 }]);
    expect(run(c, recv('F', 100, 0, 4)).actions).toEqual([{ type: 'rst', seq: 0, ack: 105 }]);
    expect(run(c, recv('R', 100)).actions).toEqual([]);
  });
});

describe('data', () => {
  it('in-order data is taken (a delayable ACK); a retransmission and a segment past a gap are acked at once', () => {
    const t = established();
    const r = run(t, recv('PA', IRS + 1, ISS + 1, 100));
    expect(r.actions).toEqual([{ type: 'data', offset: 0, length: 100 }, { type: 'ack', reason: 'data', delayable: true }]);
    expect(r.tcb.rcvNxt).toBe(IRS + 101);
    expect(types(run(r.tcb, recv('PA', IRS + 1, ISS + 1, 100)).actions)).toEqual(['ack:unacceptable']);
    const ahead = run(r.tcb, recv('PA', IRS + 201, ISS + 1, 50));
    expect(ahead.actions).toEqual([{ type: 'queue', offset: 0, seq: IRS + 201 }, { type: 'ack', reason: 'out-of-order', delayable: false }]);
    expect(ahead.tcb.rcvNxt).toBe(IRS + 101);
    // The gap fills: the 100 bytes arrive, then the held 50 are drained by the caller.
    const filled = run(ahead.tcb, recv('PA', IRS + 101, ISS + 1, 100));
    expect(filled.tcb.rcvNxt).toBe(IRS + 201);
    expect(advance(filled.tcb, 50).rcvNxt).toBe(IRS + 251);
  });

  it('a segment overlapping what we have delivers only its new part', () => {
    const t = run(established(), recv('PA', IRS + 1, ISS + 1, 100)).tcb;
    const r = run(t, recv('PA', IRS + 51, ISS + 1, 100));
    expect(r.actions[0]).toEqual({ type: 'data', offset: 50, length: 50 });
    expect(r.tcb.rcvNxt).toBe(IRS + 151);
  });

  it('data outside the receive window is answered by an ACK and dropped', () => {
    const t = run(createTcb({ iss: ISS, rcvWnd: 1000 }), send('S', ISS), recv('SA', IRS, ISS + 1)).tcb;
    const r = run(t, recv('PA', IRS + 5000, ISS + 1, 10));
    expect(types(r.actions)).toEqual(['ack:unacceptable']);
    expect(r.tcb.rcvNxt).toBe(IRS + 1);
  });

  it('our data: snd.nxt moves only for a segment at snd.nxt; the peer\'s ACK moves snd.una and its window', () => {
    let t = established();
    t = run(t, send('PA', ISS + 1, IRS + 1, 500)).tcb;
    expect(t.sndNxt).toBe(ISS + 501);
    t = run(t, send('PA', ISS + 1, IRS + 1, 500)).tcb; // a retransmission
    expect(t.sndNxt).toBe(ISS + 501);
    t = run(t, recv('A', IRS + 1, ISS + 301, 0, 4000)).tcb;
    expect(t).toMatchObject({ sndUna: ISS + 301, sndWnd: 4000 });
    // An older segment (seq below WL1) does not move the window back.
    t = run(t, recv('A', IRS + 1, ISS + 501, 0, 9000)).tcb;
    expect(t).toMatchObject({ sndUna: ISS + 501, sndWnd: 9000 });
  });

  it('an ACK for data never sent is answered by an ACK and the segment dropped (RFC 5961 §5)', () => {
    const t = established();
    const r = run(t, recv('PA', IRS + 1, ISS + 9999, 10));
    expect(types(r.actions)).toEqual(['ack:ack-ahead']);
    expect(r.tcb.rcvNxt).toBe(IRS + 1);
    expect(r.tcb.sndUna).toBe(ISS + 1);
  });

  it('an ACK older than snd.una - MAX.SND.WND gets a challenge ACK', () => {
    let t = established();
    t = run(t, send('PA', ISS + 1, IRS + 1, 100_000), recv('A', IRS + 1, ISS + 100_001, 0, 1000)).tcb;
    expect(types(run(t, recv('A', IRS + 1, ISS + 1, 0)).actions)).toEqual(['ack:challenge']);
  });

  it('sequence numbers wrap: a handshake and data across 2^32', () => {
    const iss = 0xffffffff;
    const irs = 0xfffffff0;
    let t = established(iss, irs);
    expect(t.sndNxt).toBe(0);
    t = run(t, recv('PA', irs + 1, 0, 100)).tcb;
    expect(t.rcvNxt).toBe((irs + 101) >>> 0);
    t = run(t, send('PA', 0, t.rcvNxt, 10), recv('A', t.rcvNxt, 10)).tcb;
    expect(t.sndUna).toBe(10);
  });

  it('step() leaves the TCB it is given alone', () => {
    const t = Object.freeze(established());
    const copy = { ...t };
    step(t, recv('PA', IRS + 1, ISS + 1, 100));
    step(t, { kind: 'close' });
    expect(t).toEqual(copy);
  });
});

describe('teardowns', () => {
  it('active close: FIN-WAIT-1, FIN-WAIT-2 on the ACK, TIME-WAIT on their FIN (timer armed), CLOSED at 2 MSL', () => {
    let r = run(established(), { kind: 'close' });
    expect(types(r.actions)).toEqual(['fin']);
    r = run(r.tcb, send('FA', ISS + 1, IRS + 1));
    expect(r.tcb).toMatchObject({ state: 'FIN-WAIT-1', finSeq: ISS + 1, sndNxt: ISS + 2 });
    r = run(r.tcb, recv('A', IRS + 1, ISS + 2));
    expect(r.tcb.state).toBe('FIN-WAIT-2');
    // FIN-WAIT-2 still takes data.
    r = run(r.tcb, recv('PA', IRS + 1, ISS + 2, 10));
    expect(r.actions[0]).toEqual({ type: 'data', offset: 0, length: 10 });
    r = run(r.tcb, recv('FA', IRS + 11, ISS + 2));
    expect(r.tcb).toMatchObject({ state: 'TIME-WAIT', rcvNxt: IRS + 12, peerFinSeq: IRS + 11 });
    expect(types(r.actions)).toEqual(['peer-fin', 'ack:fin', 'timer']);
    // A retransmitted FIN in TIME-WAIT: ACK and restart the timer.
    const again = run(r.tcb, recv('FA', IRS + 11, ISS + 2));
    expect(types(again.actions)).toEqual(['ack:unacceptable', 'timer']);
    expect(again.tcb.state).toBe('TIME-WAIT');
    expect(run(r.tcb, { kind: 'timeout' }).tcb.state).toBe('CLOSED');
  });

  it('passive close: their FIN (CLOSE-WAIT), our CLOSE (LAST-ACK), their ACK (CLOSED)', () => {
    let r = run(established(), recv('FA', IRS + 1, ISS + 1));
    expect(r.tcb.state).toBe('CLOSE-WAIT');
    expect(types(r.actions)).toEqual(['peer-fin', 'ack:fin']);
    // We may still send in CLOSE-WAIT.
    r = run(r.tcb, send('PA', ISS + 1, IRS + 2, 5), { kind: 'close' });
    expect(types(r.actions)).toEqual(['fin']);
    r = run(r.tcb, send('FA', ISS + 6, IRS + 2));
    expect(r.tcb.state).toBe('LAST-ACK');
    expect(run(r.tcb, recv('A', IRS + 2, ISS + 6)).tcb.state).toBe('LAST-ACK'); // acks the data, not the FIN
    expect(run(r.tcb, recv('A', IRS + 2, ISS + 7)).tcb.state).toBe('CLOSED');
  });

  it('simultaneous close: FINs cross, CLOSING, then the ACK of ours makes TIME-WAIT', () => {
    let r = run(established(), send('FA', ISS + 1, IRS + 1), recv('FA', IRS + 1, ISS + 1));
    expect(r.tcb.state).toBe('CLOSING');
    expect(types(r.actions)).toEqual(['peer-fin', 'ack:fin']);
    r = run(r.tcb, recv('A', IRS + 2, ISS + 2));
    expect(r.tcb.state).toBe('TIME-WAIT');
    expect(types(r.actions)).toEqual(['timer']);
  });

  it('the three-packet close, both sides: a FIN that rides on the ACK of ours goes FIN-WAIT-1 -> TIME-WAIT at once', () => {
    // We close first; the peer's FIN carries the ACK of ours.
    const active = run(established(), send('FA', ISS + 1, IRS + 1), recv('FA', IRS + 1, ISS + 2));
    expect(active.tcb.state).toBe('TIME-WAIT');
    // The peer closes first; our FIN carries the ACK of theirs; its ACK ends it.
    const passive = run(established(), recv('FA', IRS + 1, ISS + 1), send('FA', ISS + 1, IRS + 2));
    expect(passive.tcb.state).toBe('LAST-ACK');
    expect(run(passive.tcb, recv('A', IRS + 2, ISS + 2)).tcb.state).toBe('CLOSED');
  });

  it('a FIN past a gap is not taken (ACK of what we have); data and FIN together are', () => {
    const t = established();
    const gap = run(t, recv('FA', IRS + 51, ISS + 1));
    expect(gap.tcb.state).toBe('ESTABLISHED');
    expect(types(gap.actions)).toEqual(['ack:out-of-order']);
    const both = run(t, recv('FPA', IRS + 1, ISS + 1, 50));
    expect(both.tcb).toMatchObject({ state: 'CLOSE-WAIT', rcvNxt: IRS + 52 });
  });

  it('user calls the state forbids are errors; CLOSE before synchronizing just closes', () => {
    const fw1 = run(established(), send('FA', ISS + 1, IRS + 1)).tcb;
    expect(run(fw1, { kind: 'close' }).actions).toEqual([{ type: 'error', message: 'connection closing' }]);
    expect(run(createTcb(), { kind: 'close' }).actions).toEqual([{ type: 'error', message: 'connection does not exist' }]);
    expect(run(established(), { kind: 'open', passive: true }).actions).toEqual([{ type: 'error', message: 'connection already exists' }]);
    expect(run(createTcb({ iss: ISS }), send('S', ISS), { kind: 'close' }).tcb.state).toBe('CLOSED');
    expect(run(createTcb(), { kind: 'open', passive: true }, { kind: 'close' }).tcb.state).toBe('CLOSED');
  });

  it('ABORT: a RST at snd.nxt from a synchronized state; a RST we send at snd.nxt closes, one elsewhere is a probe', () => {
    const t = run(established(), send('PA', ISS + 1, IRS + 1, 10)).tcb;
    const r = run(t, { kind: 'abort' });
    expect(r.actions).toEqual([{ type: 'rst', seq: ISS + 11 }]);
    expect(r.tcb.state).toBe('CLOSED');
    expect(run(t, send('R', ISS + 11)).tcb.state).toBe('CLOSED');
    expect(run(t, send('R', ISS + 500)).tcb.state).toBe('ESTABLISHED');
  });
});

describe('RFC 5961', () => {
  const states: Array<[string, () => Tcb]> = [
    ['ESTABLISHED', () => established()],
    ['FIN-WAIT-1', () => run(established(), send('FA', ISS + 1, IRS + 1)).tcb],
    ['FIN-WAIT-2', () => run(established(), send('FA', ISS + 1, IRS + 1), recv('A', IRS + 1, ISS + 2)).tcb],
    ['CLOSE-WAIT', () => run(established(), recv('FA', IRS + 1, ISS + 1)).tcb],
  ];
  for (const [name, make] of states) {
    it(`${name}: RST at exactly rcv.nxt resets; elsewhere in the window a challenge ACK; outside, nothing`, () => {
      const t = make();
      const exact = run(t, recv('R', t.rcvNxt));
      expect(exact.tcb.state).toBe('CLOSED');
      expect(exact.actions).toEqual([{ type: 'reset', refused: false }]);
      const inWindow = run(t, recv('R', t.rcvNxt + 100));
      expect(inWindow.tcb.state).toBe(name);
      expect(types(inWindow.actions)).toEqual(['ack:challenge']);
      const outside = run(t, recv('R', t.rcvNxt + 1_000_000));
      expect(outside.tcb.state).toBe(name);
      expect(outside.actions).toEqual([]);
      const behind = run(t, recv('R', t.rcvNxt - 1));
      expect(behind.actions).toEqual([]);
    });

    it(`${name}: a SYN, in the window or not, gets a challenge ACK and changes nothing`, () => {
      const t = make();
      for (const seq of [t.rcvNxt, t.rcvNxt + 10, t.rcvNxt - 1000, t.rcvNxt + 10_000_000]) {
        const r = run(t, recv('S', seq));
        expect(types(r.actions)).toEqual(['ack:challenge']);
        expect(r.tcb).toEqual(t);
      }
    });
  }

  it('a RST in CLOSING, LAST-ACK and TIME-WAIT closes without a reset to report', () => {
    const closing = run(established(), send('FA', ISS + 1, IRS + 1), recv('FA', IRS + 1, ISS + 1)).tcb;
    expect(run(closing, recv('R', closing.rcvNxt))).toMatchObject({ tcb: { state: 'CLOSED' }, actions: [] });
    const lastAck = run(established(), recv('FA', IRS + 1, ISS + 1), send('FA', ISS + 1, IRS + 2)).tcb;
    expect(run(lastAck, recv('R', lastAck.rcvNxt))).toMatchObject({ tcb: { state: 'CLOSED' }, actions: [] });
  });

  it('SYN-RECEIVED of a simultaneous open: an exact RST refuses (no LISTEN to go back to)', () => {
    const t = run(createTcb({ iss: ISS }), send('S', ISS), recv('S', IRS), send('SA', ISS, IRS + 1)).tcb;
    const r = run(t, recv('R', IRS + 1));
    expect(r.tcb.state).toBe('CLOSED');
    expect(r.actions).toEqual([{ type: 'reset', refused: true }]);
  });
});

describe('observers (both endpoints from a capture)', () => {
  /** Feeds a list of [from, segment] to a client and a server observer; returns [client, server] states after each. */
  function replay(segments: Array<['c' | 's', ObservedSegment]>): Array<[TcpState, TcpState]> {
    const client = observer('client');
    const server = observer('server');
    return segments.map(([from, s]) => {
      const c = observe(client, s, from === 'c' ? 'sent' : 'received');
      const sv = observe(server, s, from === 's' ? 'sent' : 'received');
      visited.add(c).add(sv);
      return [c, sv];
    });
  }
  const o = (flags: string, seq: number, ack = 0, len = 0, window = 512, wscale?: number): ObservedSegment => ({ flags: parseTCPFlags(flags), seq, ack, len, window, ...(wscale !== undefined ? { wscale } : {}) });

  it('open, data, four-way close', () => {
    expect(replay([
      ['c', o('S', 100, 0, 0, 65535, 7)],
      ['s', o('SA', 900, 101, 0, 65535, 7)],
      ['c', o('A', 101, 901)],
      ['c', o('PA', 101, 901, 3)],
      ['s', o('A', 901, 104)],
      ['s', o('PA', 901, 104, 6)],
      ['c', o('A', 104, 907)],
      ['c', o('FA', 104, 907)],
      ['s', o('A', 907, 105)],
      ['s', o('FA', 907, 105)],
      ['c', o('A', 105, 908)],
    ])).toEqual([
      ['SYN-SENT', 'SYN-RECEIVED'],
      ['ESTABLISHED', 'SYN-RECEIVED'],
      ['ESTABLISHED', 'ESTABLISHED'],
      ['ESTABLISHED', 'ESTABLISHED'],
      ['ESTABLISHED', 'ESTABLISHED'],
      ['ESTABLISHED', 'ESTABLISHED'],
      ['ESTABLISHED', 'ESTABLISHED'],
      ['FIN-WAIT-1', 'CLOSE-WAIT'],
      ['FIN-WAIT-2', 'CLOSE-WAIT'],
      ['TIME-WAIT', 'LAST-ACK'],
      ['TIME-WAIT', 'CLOSED'],
    ]);
  });

  it('the three-packet close (server first, its FIN on the ACK of the request), and simultaneous close', () => {
    const open: Array<['c' | 's', ObservedSegment]> = [['c', o('S', 100)], ['s', o('SA', 900, 101)], ['c', o('A', 101, 901)]];
    expect(replay([...open, ['c', o('PA', 101, 901, 3)], ['s', o('FPA', 901, 104, 6)], ['c', o('FA', 104, 908)], ['s', o('A', 908, 105)]]).slice(3)).toEqual([
      ['ESTABLISHED', 'ESTABLISHED'],
      ['CLOSE-WAIT', 'FIN-WAIT-1'],
      ['LAST-ACK', 'TIME-WAIT'],
      ['CLOSED', 'TIME-WAIT'],
    ]);
    expect(replay([...open, ['c', o('FA', 101, 901)], ['s', o('FA', 901, 101)], ['c', o('A', 102, 902)], ['s', o('A', 902, 102)]]).slice(3)).toEqual([
      ['FIN-WAIT-1', 'CLOSE-WAIT'],
      ['CLOSING', 'CLOSING'],
      ['CLOSING', 'TIME-WAIT'],
      ['TIME-WAIT', 'TIME-WAIT'],
    ]);
  });

  it('RST from a closed port; an injected RST with a wrong seq does not end the connection', () => {
    expect(replay([['c', o('S', 100)], ['s', o('RA', 0, 101)]])).toEqual([['SYN-SENT', 'SYN-RECEIVED'], ['CLOSED', 'CLOSED']]);
    const states = replay([['c', o('S', 100)], ['s', o('SA', 900, 101)], ['c', o('A', 101, 901)], ['c', o('R', 150)], ['s', o('A', 901, 101)], ['c', o('R', 101)]]);
    expect(states.slice(3)).toEqual([['ESTABLISHED', 'ESTABLISHED'], ['ESTABLISHED', 'ESTABLISHED'], ['CLOSED', 'CLOSED']]);
  });

  it('a capture that missed a data segment still reaches CLOSE-WAIT on the FIN after it; a stream picked up mid-way is ESTABLISHED', () => {
    const states = replay([['c', o('S', 100)], ['s', o('SA', 900, 101)], ['c', o('A', 101, 901)], ['s', o('PA', 1001, 101, 10)], ['s', o('FA', 1011, 101)]]);
    expect(states[4]).toEqual(['CLOSE-WAIT', 'FIN-WAIT-1']);
    expect(replay([['c', o('PA', 5000, 7000, 10)], ['s', o('A', 7000, 5010)]])).toEqual([['ESTABLISHED', 'ESTABLISHED'], ['ESTABLISHED', 'ESTABLISHED']]);
  });

  it('window scaling: the observer scales windows once both SYNs offered a shift', () => {
    const client = observer('client');
    observe(client, o('S', 100, 0, 0, 65535, 7), 'sent');
    observe(client, o('SA', 900, 101, 0, 65535, 5), 'received');
    observe(client, o('A', 901, 101, 0, 100), 'received');
    expect(client.tcb.sndWnd).toBe(100 * 32);
  });
});

afterAll(() => {
  // Every RFC 9293 state was reached by the tests above.
  expect([...visited].sort()).toEqual(['CLOSE-WAIT', 'CLOSED', 'CLOSING', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'LAST-ACK', 'LISTEN', 'SYN-RECEIVED', 'SYN-SENT', 'TIME-WAIT']);
});

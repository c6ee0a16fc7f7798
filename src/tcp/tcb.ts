/**
 * The TCP control block as a pure state machine (RFC 9293 §3.10, with RFC 5961's RST, SYN and
 * ACK rules): a TCB and one event in, the next TCB and the actions it calls for out. No I/O,
 * no timers, no clock: the caller sends the segments, arms the timers and keeps the data.
 *
 * Two users share it:
 *
 * 1. The conversation engine (conversation.ts) drives one TCB with `step()`: every segment it
 *    sends (`{ kind: 'send' }`), every segment from the peer (`{ kind: 'recv' }`), the user's
 *    calls (`open`, `close`, `abort`) and the TIME-WAIT timer (`timeout`). It performs the
 *    actions: `ack` (send an ACK now; `delayable` says a delayed-ACK policy may hold it),
 *    `rst` (send this RST), `syn-ack`, `fin`, `syn`, `reset` (the peer reset us: report it),
 *    `data` (these bytes of the segment are new and in order: keep them), `queue` (ahead of
 *    rcv.nxt: keep them for reassembly, then feed `advance()` when the gap fills), `timer`.
 *
 * 2. The analyzer infers BOTH endpoints' states from a capture: one observer per endpoint,
 *    each fed every segment of the stream, as sent by it or received by it:
 *
 *    ```ts
 *    import { observer, observe } from '../tcp/tcb.js';
 *    const client = observer('client');        // starts CLOSED (it will send the SYN)
 *    const server = observer('server');        // starts LISTEN
 *    // for a segment from client to server:
 *    observe(client, seg, 'sent');             // -> the client's state after sending it
 *    observe(server, seg, 'received');         // -> the server's state after receiving it
 *    ```
 *    where `seg` is `{ flags, seq, ack, len, window, wscale? }` (flags as TCPFlag bits, len the
 *    payload length, window the raw 16-bit field, wscale the SYN's window-scale option). An
 *    observer is lenient where a capture is incomplete: a gap before data is taken as lost by
 *    the capture, not by the endpoint; an ACK an endpoint sends proves what it has received;
 *    a FIN the capture saw pass is taken by its receiver only once that receiver sends
 *    something that shows it (a segment sent meanwhile went before it: FINs that cross make
 *    both sides CLOSING); a RST ends its sender only when its seq is the sender's own; a
 *    stream picked up mid-way starts ESTABLISHED.
 *
 * Sequence numbers are unsigned 32-bit and compared modulo 2^32 (seq.ts).
 */
import { TCPFlag } from '../layers/tcp.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './states.js';

/** The parts of a segment the state machine reads. */
export interface TcbSegment {
  /** TCP flag bits (TCPFlag). */
  flags: number;
  seq: number;
  ack: number;
  /** Payload length in bytes (SYN and FIN not counted). */
  len: number;
  /** The peer's window in bytes, already scaled (observers scale it themselves). */
  window?: number;
}

export type TcbEvent =
  | { kind: 'send'; segment: TcbSegment }
  | { kind: 'recv'; segment: TcbSegment }
  /** OPEN: passive (LISTEN) or active (SYN-SENT, sending our SYN). */
  | { kind: 'open'; passive: boolean }
  /** CLOSE: our FIN (or nothing to do before the connection is synchronized). */
  | { kind: 'close' }
  /** ABORT: our RST when synchronized. */
  | { kind: 'abort' }
  /** The TIME-WAIT (2 MSL) timer expired. */
  | { kind: 'timeout' };

export type TcbAction =
  /** Send an ACK (seq snd.nxt, ack rcv.nxt). delayable: in-order data, a delayed-ACK policy may hold it. */
  | { type: 'ack'; reason: 'data' | 'fin' | 'unacceptable' | 'challenge' | 'syn' | 'ack-ahead' | 'out-of-order' | 'duplicate'; delayable: boolean }
  /** Send a RST with exactly these numbers (flags R, or RA with ack). */
  | { type: 'rst'; seq: number; ack?: number }
  | { type: 'syn' }
  | { type: 'syn-ack' }
  | { type: 'fin' }
  /** The connection was reset (by the peer's RST) or refused (RST to our SYN). */
  | { type: 'reset'; refused: boolean }
  /** Bytes [offset, offset+length) of the received payload are new and in order. */
  | { type: 'data'; offset: number; length: number }
  /** Bytes [offset, ...) of the received payload lie ahead of rcv.nxt, inside the window. */
  | { type: 'queue'; offset: number; seq: number }
  /** The peer's FIN was taken (rcv.nxt moved past it). */
  | { type: 'peer-fin' }
  | { type: 'timer'; timer: 'time-wait'; arm: boolean }
  /** A user call that the state does not allow (RFC 9293's "error: connection closing" etc.). */
  | { type: 'error'; message: string };

export interface Tcb {
  readonly state: TcpState;
  /** Came from LISTEN: a RST in SYN-RECEIVED returns to LISTEN (RFC 9293 §3.10.7.4). */
  readonly passive: boolean;
  readonly iss: number;
  readonly sndUna: number;
  readonly sndNxt: number;
  /** The peer's window in bytes, and the segment that last set it (RFC 9293 SND.WL1/WL2). */
  readonly sndWnd: number;
  readonly sndWl1: number;
  readonly sndWl2: number;
  /** The largest window the peer offered (RFC 5961 §5's MAX.SND.WND). */
  readonly maxSndWnd: number;
  readonly irs: number;
  readonly rcvNxt: number;
  /** Our receive window in bytes. */
  readonly rcvWnd: number;
  /** Sequence number of our FIN, once sent (undefined before). */
  readonly finSeq: number | undefined;
  /** Sequence number of the peer's FIN, once taken. */
  readonly peerFinSeq: number | undefined;
  /** Observer mode: lenient where a capture misses segments (see the file comment). */
  readonly observing: boolean;
}

export interface TcbInit {
  state?: TcpState;
  iss?: number;
  rcvWnd?: number;
  observing?: boolean;
}

export function createTcb(init: TcbInit = {}): Tcb {
  const iss = (init.iss ?? 0) >>> 0;
  return {
    state: init.state ?? 'CLOSED',
    passive: init.state === 'LISTEN',
    iss,
    sndUna: iss,
    sndNxt: iss,
    sndWnd: 0,
    sndWl1: 0,
    sndWl2: 0,
    maxSndWnd: 0,
    irs: 0,
    rcvNxt: 0,
    rcvWnd: init.rcvWnd ?? 65535,
    finSeq: undefined,
    peerFinSeq: undefined,
    observing: init.observing ?? false,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface StepResult {
  tcb: Tcb;
  actions: TcbAction[];
}

/** One event through the state machine. The TCB given is not modified. */
export function step(tcb: Tcb, event: TcbEvent): StepResult {
  const t: Mutable<Tcb> = { ...tcb };
  const actions: TcbAction[] = [];
  stepInPlace(t, event, actions);
  return { tcb: t, actions };
}

/** step() on a TCB its caller owns: changes it where it is (observers: no copy per segment). */
function stepInPlace(t: Mutable<Tcb>, event: TcbEvent, actions: TcbAction[]): void {
  switch (event.kind) {
    case 'send':
      onSend(t, event.segment);
      break;
    case 'recv':
      onRecv(t, event.segment, actions);
      break;
    case 'open':
      onOpen(t, event.passive, actions);
      break;
    case 'close':
      onClose(t, actions);
      break;
    case 'abort':
      onAbort(t, actions);
      break;
    case 'timeout':
      if (t.state === 'TIME-WAIT') t.state = 'CLOSED';
      break;
  }
}

/** Data held for reassembly became in order: rcv.nxt moves past `length` more bytes. */
export function advance(tcb: Tcb, length: number): Tcb {
  return { ...tcb, rcvNxt: seqAdd(tcb.rcvNxt, length) };
}

/** Whether the state is one where both sides' sequence numbers are known (RFC 9293 §3.3.2). */
export function isSynchronized(state: TcpState): boolean {
  return state !== 'CLOSED' && state !== 'LISTEN' && state !== 'SYN-SENT';
}

/** Sequence space a segment occupies: payload, plus one each for SYN and FIN. */
export function segmentLength(s: TcbSegment): number {
  return s.len + (s.flags & TCPFlag.S ? 1 : 0) + (s.flags & TCPFlag.F ? 1 : 0);
}

// -----------------------------------------------------------------------------------------
// User calls (RFC 9293 §3.10.1-§3.10.5)

function onOpen(t: Mutable<Tcb>, passive: boolean, actions: TcbAction[]): void {
  if (t.state !== 'CLOSED' && !(t.state === 'LISTEN' && !passive)) {
    actions.push({ type: 'error', message: 'connection already exists' });
    return;
  }
  if (passive) {
    t.state = 'LISTEN';
    t.passive = true;
    return;
  }
  // An active OPEN (or a SEND in LISTEN turning it active): our SYN; onSend() moves to SYN-SENT.
  actions.push({ type: 'syn' });
}

function onClose(t: Mutable<Tcb>, actions: TcbAction[]): void {
  switch (t.state) {
    case 'LISTEN':
    case 'SYN-SENT':
      t.state = 'CLOSED';
      return;
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
      // Our FIN; onSend() of it moves to FIN-WAIT-1 or LAST-ACK.
      actions.push({ type: 'fin' });
      return;
    case 'CLOSED':
      actions.push({ type: 'error', message: 'connection does not exist' });
      return;
    default:
      actions.push({ type: 'error', message: 'connection closing' });
  }
}

function onAbort(t: Mutable<Tcb>, actions: TcbAction[]): void {
  if (isSynchronized(t.state) && t.state !== 'TIME-WAIT' && t.state !== 'CLOSING' && t.state !== 'LAST-ACK') {
    actions.push({ type: 'rst', seq: t.sndNxt });
  } else if (t.state === 'SYN-SENT') {
    // Not required by the RFC, but a half-open SYN is best withdrawn: seq is our SYN's + 1.
    actions.push({ type: 'rst', seq: t.sndNxt });
  }
  t.state = 'CLOSED';
}

// -----------------------------------------------------------------------------------------
// Segments we send

/**
 * A segment leaving. Sequence space is consumed only by a segment that starts at snd.nxt (a
 * retransmission or a probe with a guessed seq leaves the bookkeeping alone); a RST closes only
 * at snd.nxt (one with another seq is a probe). Observers take what they see: snd.nxt never
 * goes back, and any RST the endpoint sends ends it.
 */
function onSend(t: Mutable<Tcb>, s: TcbSegment): void {
  const f = s.flags;
  const seq = s.seq >>> 0;
  if (f & TCPFlag.S) {
    // Our SYN (or, seen by an observer, the SYN-ACK) fixes the ISS.
    const first = t.state === 'CLOSED' || t.state === 'LISTEN' || (t.observing && t.state === 'SYN-RECEIVED' && t.sndUna === t.sndNxt);
    if (first) {
      t.iss = seq;
      t.sndUna = seq;
      t.sndNxt = seq;
    }
    if (t.state === 'CLOSED' || t.state === 'LISTEN') {
      if (f & TCPFlag.A && t.observing) {
        // A SYN-ACK with no SYN seen: the capture missed the peer's SYN.
        t.state = 'SYN-RECEIVED';
        t.irs = seqAdd(s.ack, -1);
        t.rcvNxt = s.ack >>> 0;
        t.passive = true;
      } else t.state = 'SYN-SENT';
    }
  }
  const len = segmentLength(s);
  // A segment that starts at or before snd.nxt and reaches past it sends new sequence space
  // (a retransmission cut differently from the first transmission can).
  const fresh = seq === t.sndNxt || (seqLe(seq, t.sndNxt) && seqGt(seqAdd(seq, len), t.sndNxt));
  if (fresh) t.sndNxt = seqAdd(seq, len);
  if (t.observing && f & TCPFlag.A && isSynchronized(t.state)) noteOwnAck(t, s.ack >>> 0);
  if (f & TCPFlag.R) {
    const exact = seq === t.sndNxt;
    // Observers: a real endpoint's RST carries a seq it owns (snd.una to snd.nxt), or answers
    // before it has sent anything; a RST with any other seq is someone else's probe.
    const owned = t.observing && ((seqGe(seq, t.sndUna) && seqLe(seq, t.sndNxt)) || !isSynchronized(t.state) || (t.state === 'SYN-RECEIVED' && t.sndUna === t.sndNxt));
    if (exact || owned) t.state = 'CLOSED';
    return;
  }
  if (f & TCPFlag.F && (fresh || t.observing) && t.finSeq === undefined) {
    t.finSeq = seqAdd(seq, s.len);
    if (t.state === 'ESTABLISHED' || t.state === 'SYN-RECEIVED') t.state = 'FIN-WAIT-1';
    else if (t.state === 'CLOSE-WAIT') t.state = 'LAST-ACK';
  }
}

/**
 * Observers: an ACK the endpoint sends shows what it has received, even when the capture
 * missed it. When it covers the peer's FIN, the endpoint took that FIN.
 */
function noteOwnAck(t: Mutable<Tcb>, ack: number): void {
  if (!seqGt(ack, t.rcvNxt)) return;
  t.rcvNxt = ack;
}

/** Observers: a stream seen first in the middle (no SYN captured) is taken as ESTABLISHED. */
function midStream(s: TcbSegment, direction: 'sent' | 'received'): Tcb {
  const ourSeq = direction === 'sent' ? s.seq >>> 0 : s.ack >>> 0;
  const theirSeq = direction === 'sent' ? s.ack >>> 0 : s.seq >>> 0;
  const base = createTcb({ state: 'ESTABLISHED', iss: seqAdd(ourSeq, -1), observing: true });
  return { ...base, sndUna: ourSeq, sndNxt: ourSeq, irs: seqAdd(theirSeq, -1), rcvNxt: theirSeq, sndWl1: seqAdd(theirSeq, -1), sndWl2: ourSeq };
}

// -----------------------------------------------------------------------------------------
// Segments we receive (RFC 9293 §3.10.7)

function onRecv(t: Mutable<Tcb>, s: TcbSegment, actions: TcbAction[]): void {
  const seq = s.seq >>> 0;
  const ack = s.ack >>> 0;
  const f = s.flags;
  switch (t.state) {
    case 'CLOSED':
      // §3.10.7.1: everything but a RST is answered with a RST.
      if (!(f & TCPFlag.R)) actions.push(resetFor(s));
      return;
    case 'LISTEN':
      recvListen(t, s, actions);
      return;
    case 'SYN-SENT':
      recvSynSent(t, s, actions);
      return;
    default:
      break;
  }
  // §3.10.7.4, the synchronized states and SYN-RECEIVED.
  // A retransmitted SYN while our SYN-ACK is out: the SYN-ACK was lost (its sender resends it).
  if (t.state === 'SYN-RECEIVED' && f & TCPFlag.S && !(f & TCPFlag.A) && seq === t.irs) return;
  // Simultaneous open: the peer's SYN-ACK repeats its SYN (already taken) and acks ours; what
  // counts is its ACK (RFC 9293 figure 7).
  if (t.state === 'SYN-RECEIVED' && f & TCPFlag.S && f & TCPFlag.A && seq === t.irs) {
    onRecv(t, { ...s, flags: f & ~TCPFlag.S, seq: seqAdd(seq, 1) }, actions);
    return;
  }

  // First, the sequence number.
  const observedOk = t.observing && !(f & TCPFlag.R);
  if (!observedOk && !acceptable(t, seq, s.len + (f & TCPFlag.F ? 1 : 0) + (f & TCPFlag.S ? 1 : 0))) {
    if (f & TCPFlag.R) return;
    // RFC 5961 §4: a SYN gets the challenge ACK whatever its seq.
    actions.push({ type: 'ack', reason: f & TCPFlag.S ? 'challenge' : 'unacceptable', delayable: false });
    // A retransmitted FIN in TIME-WAIT restarts the 2 MSL timer (RFC 9293 §3.10.7.4, eighth).
    if (t.state === 'TIME-WAIT' && f & TCPFlag.F) actions.push({ type: 'timer', timer: 'time-wait', arm: true });
    return;
  }

  // Second, the RST bit (RFC 5961 §3.2): exactly rcv.nxt resets; elsewhere in the window,
  // a challenge ACK lets a real peer send it again with the right seq.
  if (f & TCPFlag.R) {
    if (seq !== t.rcvNxt) {
      actions.push({ type: 'ack', reason: 'challenge', delayable: false });
      return;
    }
    if (t.state === 'SYN-RECEIVED' && t.passive) {
      t.state = 'LISTEN';
      return;
    }
    if (t.state !== 'CLOSING' && t.state !== 'LAST-ACK' && t.state !== 'TIME-WAIT') actions.push({ type: 'reset', refused: t.state === 'SYN-RECEIVED' });
    t.state = 'CLOSED';
    return;
  }

  // Fourth, the SYN bit (RFC 5961 §4): in any synchronized state, a challenge ACK.
  if (f & TCPFlag.S) {
    actions.push({ type: 'ack', reason: 'challenge', delayable: false });
    return;
  }

  // Fifth, the ACK field.
  if (!(f & TCPFlag.A)) return;
  if (t.state === 'SYN-RECEIVED') {
    if (seqGt(ack, t.sndUna) && seqLe(ack, t.sndNxt)) {
      t.state = 'ESTABLISHED';
      t.sndWnd = s.window ?? t.sndWnd;
      t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
      t.sndWl1 = seq;
      t.sndWl2 = ack;
    } else if (!t.observing) {
      actions.push({ type: 'rst', seq: ack });
      return;
    }
  }
  if (seqGt(ack, t.sndNxt)) {
    if (t.observing) t.sndNxt = ack;
    else {
      // Acks something not yet sent: ACK, drop (RFC 9293; RFC 5961 §5).
      actions.push({ type: 'ack', reason: 'ack-ahead', delayable: false });
      return;
    }
  }
  // RFC 5961 §5: an ACK older than snd.una - MAX.SND.WND is out of any window: challenge, drop.
  if (!t.observing && t.maxSndWnd > 0 && seqLt(ack, seqAdd(t.sndUna, -t.maxSndWnd))) {
    actions.push({ type: 'ack', reason: 'challenge', delayable: false });
    return;
  }
  const una = t.sndUna;
  if (seqGt(ack, t.sndUna)) t.sndUna = ack;
  // The window, from the newest segment only (SND.WL1/WL2).
  if (s.window !== undefined && seqGe(ack, una) && (seqLt(t.sndWl1, seq) || (t.sndWl1 === seq && seqLe(t.sndWl2, ack)))) {
    t.sndWnd = s.window;
    t.maxSndWnd = Math.max(t.maxSndWnd, s.window);
    t.sndWl1 = seq;
    t.sndWl2 = ack;
  }
  const ourFinAcked = t.finSeq !== undefined && seqGt(t.sndUna, t.finSeq);
  switch (t.state) {
    case 'FIN-WAIT-1':
      if (ourFinAcked) t.state = 'FIN-WAIT-2';
      break;
    case 'CLOSING':
      if (ourFinAcked) {
        t.state = 'TIME-WAIT';
        actions.push({ type: 'timer', timer: 'time-wait', arm: true });
      }
      return;
    case 'LAST-ACK':
      if (ourFinAcked) t.state = 'CLOSED';
      return;
    case 'TIME-WAIT':
      // Only a retransmitted FIN can arrive: ACK it and restart the 2 MSL timer.
      if (f & TCPFlag.F) {
        actions.push({ type: 'ack', reason: 'fin', delayable: false });
        actions.push({ type: 'timer', timer: 'time-wait', arm: true });
      }
      return;
    default:
      break;
  }

  // Seventh, the segment text (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2).
  let textInOrder = true;
  if (s.len > 0) {
    if (t.state === 'ESTABLISHED' || t.state === 'FIN-WAIT-1' || t.state === 'FIN-WAIT-2') {
      textInOrder = takeText(t, seq, s.len, actions);
    } else {
      // CLOSE-WAIT: text after the peer's FIN cannot be; ignore it, ack what we have.
      actions.push({ type: 'ack', reason: 'duplicate', delayable: false });
    }
  }

  // Eighth, the FIN bit: taken only when it is the next thing in sequence.
  if (f & TCPFlag.F) {
    const fin = seqAdd(seq, s.len);
    // Observers take it wherever it lies: a gap before it is the capture's, not the endpoint's.
    if (t.peerFinSeq === undefined && (fin === t.rcvNxt || t.observing) && textInOrder) {
      takeFin(t, fin, actions);
    } else {
      // A FIN past a gap (or a repeated one): ACK what we have; the peer sends it again.
      actions.push({ type: 'ack', reason: t.peerFinSeq === undefined ? 'out-of-order' : 'duplicate', delayable: false });
    }
  }
}

function takeFin(t: Mutable<Tcb>, fin: number, actions: TcbAction[]): void {
  t.peerFinSeq = fin;
  t.rcvNxt = seqAdd(fin, 1);
  actions.push({ type: 'peer-fin' });
  actions.push({ type: 'ack', reason: 'fin', delayable: false });
  const ourFinAcked = t.finSeq !== undefined && seqGt(t.sndUna, t.finSeq);
  switch (t.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      t.state = 'CLOSE-WAIT';
      break;
    case 'FIN-WAIT-1':
      t.state = ourFinAcked ? 'TIME-WAIT' : 'CLOSING';
      if (ourFinAcked) actions.push({ type: 'timer', timer: 'time-wait', arm: true });
      break;
    case 'FIN-WAIT-2':
      t.state = 'TIME-WAIT';
      actions.push({ type: 'timer', timer: 'time-wait', arm: true });
      break;
    default:
      break;
  }
}

/** Returns whether the text was in order (new bytes starting at rcv.nxt, or all old). */
function takeText(t: Mutable<Tcb>, seq: number, len: number, actions: TcbAction[]): boolean {
  const offset = seqDiff(t.rcvNxt, seq);
  if (offset >= len) {
    // All of it was received before: a retransmission. ACK at once (RFC 9293 §3.8.6.3).
    actions.push({ type: 'ack', reason: 'duplicate', delayable: false });
    return true;
  }
  if (offset < 0) {
    if (t.observing) {
      // The capture missed what lies between: the endpoint most likely has it.
      t.rcvNxt = seqAdd(seq, len);
      return true;
    }
    actions.push({ type: 'queue', offset: 0, seq });
    actions.push({ type: 'ack', reason: 'out-of-order', delayable: false });
    return false;
  }
  actions.push({ type: 'data', offset, length: len - offset });
  t.rcvNxt = seqAdd(seq, len);
  actions.push({ type: 'ack', reason: offset > 0 ? 'duplicate' : 'data', delayable: offset === 0 });
  return true;
}

/** RFC 9293 §3.10.7.4's four cases of segment acceptability. */
function acceptable(t: Tcb, seq: number, len: number): boolean {
  const wnd = t.rcvWnd;
  const inWindow = (n: number): boolean => seqGe(n, t.rcvNxt) && seqLt(n, seqAdd(t.rcvNxt, wnd));
  if (len === 0) return wnd === 0 ? seq === t.rcvNxt : inWindow(seq);
  if (wnd === 0) return false;
  return inWindow(seq) || inWindow(seqAdd(seq, len - 1));
}

function recvListen(t: Mutable<Tcb>, s: TcbSegment, actions: TcbAction[]): void {
  const f = s.flags;
  if (f & TCPFlag.R) return;
  if (f & TCPFlag.A) {
    actions.push({ type: 'rst', seq: s.ack >>> 0 });
    return;
  }
  if (!(f & TCPFlag.S)) return;
  t.irs = s.seq >>> 0;
  t.rcvNxt = seqAdd(s.seq, 1);
  if (s.window !== undefined) t.sndWnd = s.window;
  t.sndWl1 = s.seq >>> 0;
  t.state = 'SYN-RECEIVED';
  t.passive = true;
  actions.push({ type: 'syn-ack' });
}

function recvSynSent(t: Mutable<Tcb>, s: TcbSegment, actions: TcbAction[]): void {
  const f = s.flags;
  const ack = s.ack >>> 0;
  let ackOk = false;
  if (f & TCPFlag.A) {
    if (seqLe(ack, t.iss) || seqGt(ack, t.sndNxt)) {
      if (!(f & TCPFlag.R)) actions.push({ type: 'rst', seq: ack });
      return;
    }
    ackOk = true;
  }
  if (f & TCPFlag.R) {
    // RFC 5961 §3.2 / RFC 9293: acceptable only when it acks our SYN.
    if (ackOk) {
      t.state = 'CLOSED';
      actions.push({ type: 'reset', refused: true });
    }
    return;
  }
  if (!(f & TCPFlag.S)) return;
  t.irs = s.seq >>> 0;
  t.rcvNxt = seqAdd(s.seq, 1);
  if (s.window !== undefined) {
    t.sndWnd = s.window;
    t.maxSndWnd = Math.max(t.maxSndWnd, s.window);
  }
  t.sndWl1 = s.seq >>> 0;
  t.sndWl2 = ack;
  if (ackOk) t.sndUna = ack;
  if (seqGt(t.sndUna, t.iss)) {
    t.state = 'ESTABLISHED';
    actions.push({ type: 'ack', reason: 'syn', delayable: false });
  } else {
    // Simultaneous open: their SYN crossed ours.
    t.state = 'SYN-RECEIVED';
    actions.push({ type: 'syn-ack' });
  }
}

/** The RST answering a segment to a connection that does not exist (RFC 9293 §3.10.7.1). */
function resetFor(s: TcbSegment): TcbAction {
  if (s.flags & TCPFlag.A) return { type: 'rst', seq: s.ack >>> 0 };
  return { type: 'rst', seq: 0, ack: seqAdd(s.seq, segmentLength(s)) };
}

// -----------------------------------------------------------------------------------------
// Observers: one endpoint's state inferred from the segments it sends and receives

/** A segment as a capture shows it. */
export interface ObservedSegment {
  flags: number;
  seq: number;
  ack: number;
  /** Payload length. */
  len: number;
  /** The raw window field. */
  window: number;
  /** The window-scale option, on a SYN or SYN-ACK that carries one. */
  wscale?: number;
}

export interface Endpoint {
  readonly role: 'client' | 'server';
  tcb: Tcb;
  /** Segments seen so far. */
  seen: number;
  /** Window scale this endpoint offered on its SYN, and the one it received (both, or neither, apply). */
  sentWscale: number | undefined;
  receivedWscale: number | undefined;
  /**
   * The peer's FIN as the capture saw it pass, with the TCB from before it: until the endpoint
   * acks it, the FIN may still be on its way (FINs cross in a simultaneous close), so a segment
   * the endpoint sends meanwhile is applied before it.
   */
  finInFlight: { before: Tcb; segment: TcbSegment } | undefined;
}

/** An observer for one endpoint: a client starts CLOSED, a server LISTEN. */
export function observer(role: 'client' | 'server'): Endpoint {
  return {
    role,
    tcb: createTcb({ state: role === 'server' ? 'LISTEN' : 'CLOSED', observing: true }),
    seen: 0,
    sentWscale: undefined,
    receivedWscale: undefined,
    finInFlight: undefined,
  };
}

/** Feeds one segment that the endpoint sent or received; returns its state afterwards. */
export function observe(ep: Endpoint, seg: ObservedSegment, direction: 'sent' | 'received'): TcpState {
  const syn = (seg.flags & TCPFlag.S) !== 0;
  if (syn) {
    if (direction === 'sent') ep.sentWscale = seg.wscale;
    else ep.receivedWscale = seg.wscale;
  }
  // The window a segment carries is scaled by its sender's shift, once both offered one.
  const senderShift = direction === 'sent' ? ep.sentWscale : ep.receivedWscale;
  const scaled = !syn && ep.sentWscale !== undefined && ep.receivedWscale !== undefined ? seg.window * (1 << Math.min(senderShift ?? 0, 14)) : seg.window;
  const segment: TcbSegment = { flags: seg.flags, seq: seg.seq >>> 0, ack: seg.ack >>> 0, len: seg.len, window: scaled };
  if (ep.seen++ === 0 && !(seg.flags & (TCPFlag.S | TCPFlag.R))) ep.tcb = midStream(segment, direction);
  // ep.tcb is the observer's own (never handed out to keep): changed in place, the actions
  // (which an observer does not perform) gathered in one array used over and over.
  const own = ep.tcb as Mutable<Tcb>;
  OBSERVER_ACTIONS.length = 0;
  if (direction === 'received') {
    // The TCB from before a FIN, kept while the FIN may still be in flight (a copy: the one
    // in ep.tcb changes on).
    const before = seg.flags & TCPFlag.F && own.peerFinSeq === undefined ? { ...own } : undefined;
    onRecv(own, segment, OBSERVER_ACTIONS);
    if (before && own.peerFinSeq !== undefined) ep.finInFlight = { before, segment };
    return own.state;
  }
  const pending = ep.finInFlight;
  const finAcked = pending !== undefined && seg.flags & TCPFlag.A && ep.tcb.peerFinSeq !== undefined && seqGt(segment.ack, ep.tcb.peerFinSeq);
  if (pending && !finAcked && !(seg.flags & TCPFlag.R)) {
    // Sent before the FIN arrived: replay it first, then the FIN.
    let t = step(pending.before, { kind: 'send', segment }).tcb;
    t = { ...t, rcvWnd: scaled };
    ep.tcb = step(t, { kind: 'recv', segment: pending.segment }).tcb;
    ep.finInFlight = { before: t, segment: pending.segment };
    return ep.tcb.state;
  }
  if (finAcked) ep.finInFlight = undefined;
  onSend(own, segment);
  // What the endpoint advertises is its receive window.
  own.rcvWnd = scaled;
  return own.state;
}

/** Where observers' TCBs put the actions they call for: nobody performs them. */
const OBSERVER_ACTIONS: TcbAction[] = [];

/**
 * Waiting for segments: what `expect()` and `waitHeld()` wait on, the segments that arrived
 * before anyone asked (the inbox, so that "send, then expect" has no race), and the wake-up
 * for readers of data. Every wait has a timeout, and its timer is what keeps the process alive
 * while the user's code awaits it (conversation timers that nobody awaits are unref'd).
 */
import { SynackError } from '../wire/errors.js';
import type { Packet } from '../packet/packet.js';
import { TCPLayer, parseTCPFlags } from '../layers/tcp.js';
import { RawLayer } from '../layers/raw.js';

/** What a received segment must look like for expect() to take it. */
export interface SegmentMatch {
  /** Exactly these flags (letters as Scapy's, e.g. 'SA', 'FA', 'R', 'A'). */
  flags?: string;
  /** At least these flags set. */
  hasFlags?: string;
  seq?: number;
  ack?: number;
  /** Payload length. */
  length?: number;
  test?: (segment: TCPLayer, packet: Packet) => boolean;
}

export type Matcher = (tcp: TCPLayer, p: Packet) => boolean;

const EMPTY = Buffer.alloc(0);

/** A segment's payload (empty when it carries none). */
export function payloadBytes(p: Packet): Buffer {
  const raw = p.getLayer(RawLayer);
  return raw && raw.name === 'Raw' ? raw.load : EMPTY;
}

export function compileMatch(m: SegmentMatch | Matcher): Matcher {
  if (typeof m === 'function') return m;
  const flags = m.flags !== undefined ? parseTCPFlags(m.flags) : undefined;
  const has = m.hasFlags !== undefined ? parseTCPFlags(m.hasFlags) : undefined;
  return (tcp, p) =>
    (flags === undefined || tcp.flagBits === flags) &&
    (has === undefined || (tcp.flagBits & has) === has) &&
    (m.seq === undefined || tcp.get('seq') === m.seq) &&
    (m.ack === undefined || tcp.get('ack') === m.ack) &&
    (m.length === undefined || payloadBytes(p).length === m.length) &&
    (m.test === undefined || m.test(tcp, p));
}

export function describeMatch(m: SegmentMatch | Matcher): string {
  if (typeof m === 'function') return 'matching';
  const parts = Object.entries(m).filter(([k]) => k !== 'test').map(([k, v]) => `${k} ${String(v)}`);
  return parts.length ? `with ${parts.join(', ')}` : 'at all';
}

interface Waiter {
  match: Matcher;
  resolve: (p: Packet) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Segments waited for, with a bounded inbox of those that came before anyone asked. */
export class SegmentWaiters {
  private inbox: Packet[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly inboxLimit = 4096) {}

  /** Takes (and drops everything before) the first inbox segment that matches. */
  takePending(test: Matcher): Packet | undefined {
    for (let i = 0; i < this.inbox.length; i++) {
      const p = this.inbox[i]!;
      if (test(p.layer(TCPLayer), p)) {
        this.inbox.splice(0, i + 1);
        return p;
      }
    }
    return undefined;
  }

  clearPending(): void {
    this.inbox = [];
  }

  /** Finds a matching segment among `candidates` without consuming it. */
  static find(candidates: readonly Packet[], test: Matcher): Packet | undefined {
    return candidates.find((p) => test(p.layer(TCPLayer), p));
  }

  wait(test: Matcher, timeout: number, message: () => string): Promise<Packet> {
    return new Promise<Packet>((resolve, reject) => {
      const waiter: Waiter = {
        match: test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new SynackError(message(), 'timeout'));
        }, timeout),
      };
      this.waiters.add(waiter);
    });
  }

  /** Hands a segment to the first waiter it matches; returns whether one took it. */
  offer(p: Packet): boolean {
    return this.resolveMatching(p, true) > 0;
  }

  /** Hands a segment to every waiter it matches (held segments are looked at, not consumed). */
  offerAll(p: Packet): void {
    this.resolveMatching(p, false);
  }

  private resolveMatching(p: Packet, firstOnly: boolean): number {
    const tcp = p.layer(TCPLayer);
    let taken = 0;
    for (const w of this.waiters) {
      if (!w.match(tcp, p)) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(p);
      taken++;
      if (firstOnly) break;
    }
    return taken;
  }

  /** Keeps a segment nobody waited for. */
  keep(p: Packet): void {
    this.inbox.push(p);
    if (this.inbox.length > this.inboxLimit) this.inbox.shift();
  }

  rejectAll(err: Error): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }
}

/** Readers waiting for data (or the FIN, or a reset) to arrive. */
export class DataSignal {
  private readonly wakers = new Set<() => void>();

  /** Resolves at the next wake(), or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      this.wakers.add(wake);
    });
  }

  wake(): void {
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }
}

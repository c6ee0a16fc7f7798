/**
 * Delayed ACKs the way a kernel delays them (RFC 1122 §4.2.3.2, RFC 9293 §3.8.6.3): the policy
 * (pure: when must an ACK the TCB asks for go) and the one timer that carries a held ACK out.
 *
 * An ACK for in-order data waits up to the delay for a segment of ours to carry it, and goes at
 * once for every second full-sized segment, for anything out of order or duplicated, and for a
 * FIN that arrives alone. A FIN that arrives while the ACK of the data just before it is still
 * waiting keeps waiting with it, so a script that closes when it reads the end of the data
 * makes its FIN carry the ACK: the "three-way" close a capture shows when the server's FIN
 * comes right behind its data. Once our own FIN is out, no segment of ours is coming to carry
 * an ACK, so it goes at once.
 */
import type { TcbAction } from './tcb.js';

export type AckTiming = 'none' | 'now' | 'later';

export interface AckContext {
  /** An ACK is already being held. */
  holding: boolean;
  /** In-order segments the held ACK covers so far. */
  segmentsHeld: number;
  /** This segment's payload is at least a full segment. */
  fullSized: boolean;
  /** The delay in ms; 0 or less acks everything at once. */
  delay: number;
  /** The peer's FIN is in and we are past CLOSE-WAIT (our FIN is out). */
  afterOurFin: boolean;
}

/** When the ACKs the TCB asked for (its `ack` actions) must go; `counts` adds one held segment. */
export function ackTiming(actions: readonly TcbAction[], ctx: AckContext): { timing: AckTiming; counts: boolean } {
  let now = false;
  let later = false;
  let counts = false;
  let fin = false;
  for (const a of actions) {
    if (a.type !== 'ack' || a.reason === 'syn') continue;
    if (a.reason === 'fin') fin = true;
    else if (a.delayable) {
      counts = true;
      if (ctx.segmentsHeld + 1 >= 2 && ctx.fullSized) now = true;
      else later = true;
    } else now = true;
  }
  if (fin) {
    if (ctx.holding || later) later = true;
    else now = true;
  }
  if (later && (ctx.afterOurFin || ctx.delay <= 0)) now = true;
  return { timing: now ? 'now' : later ? 'later' : 'none', counts };
}

/** The held ACK's timer. It never keeps the process alive on its own. */
export class DelayedAck {
  private timer: NodeJS.Timeout | undefined;
  segments = 0;

  constructor(
    private readonly delay: number,
    private readonly fire: () => void,
  ) {}

  get holding(): boolean {
    return this.timer !== undefined;
  }

  hold(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.segments = 0;
      this.fire();
    }, this.delay);
    this.timer.unref();
  }

  /** An ACK went out (or will not): nothing is held any more. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.segments = 0;
  }
}

/**
 * The receive side's bytes: what arrived in order and is not read yet, and what arrived ahead
 * of a gap (held until the gap fills). The TCB decides what is in order (its `data` and
 * `queue` actions); this keeps the bytes. Bounded by the TCB's receive window: nothing outside
 * it is ever held.
 */
import { seqDiff } from './seq.js';

export class Reassembly {
  private readonly ready: Buffer[] = [];
  private readonly ahead = new Map<number, Buffer>();

  /** In-order bytes (a view of the packet's payload is fine: packets are copies). */
  accept(data: Buffer): void {
    if (data.length > 0) this.ready.push(data);
  }

  /** Bytes starting at `seq`, ahead of rcv.nxt. The first copy of a seq is kept. */
  hold(seq: number, data: Buffer): void {
    if (data.length > 0 && !this.ahead.has(seq)) this.ahead.set(seq, data);
  }

  /** Moves held bytes that now continue rcv.nxt into the ready data; returns how many. */
  drain(rcvNxt: number): number {
    let moved = 0;
    for (let progress = true; progress; ) {
      progress = false;
      for (const [seq, held] of this.ahead) {
        const offset = seqDiff(rcvNxt + moved, seq);
        if (offset < 0) continue;
        this.ahead.delete(seq);
        if (offset < held.length) {
          this.ready.push(held.subarray(offset));
          moved += held.length - offset;
        }
        progress = true;
      }
    }
    return moved;
  }

  get hasData(): boolean {
    return this.ready.length > 0;
  }

  /** Everything ready, as one buffer; empty when there is none. */
  take(): Buffer {
    const out = this.ready.length === 1 ? this.ready[0]! : Buffer.concat(this.ready);
    this.ready.length = 0;
    return out;
  }

  /** Bytes held ahead of a gap. */
  get heldBytes(): number {
    let n = 0;
    for (const b of this.ahead.values()) n += b.length;
    return n;
  }
}

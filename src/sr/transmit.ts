/**
 * The send loop shared by send, sendp and sr: bounded batches, one per event-loop turn, so
 * captures drain between batches and no addon queue ever grows (raw-socket's queue is shifted
 * in O(n); cap's ring has a few hundred slots). Also honours `inter`, AbortSignal, and a
 * kernel whose queue is full (retried after a pause, for at most a few seconds).
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { SynackError } from '../wire/errors.js';
import { nowMicros } from '../io/clock.js';

/** One packet's way out: true when it left, false when the kernel asks to try again later. */
export type TrySend<T> = (item: T) => boolean;

export interface TransmitOptions<T> {
  /** Milliseconds between packets (0: as fast as the window allows). */
  inter?: number;
  /** Packets per event-loop turn. */
  window?: number;
  signal?: AbortSignal;
  /** Stop when performance.now() reaches this (ms): what was sent by then is counted. */
  until?: number;
  /** Called right before each packet leaves, with the send time (µs since the epoch). */
  beforeSend?: (item: T, timeMicros: number) => void;
}

export const DEFAULT_WINDOW = 64;
const STALL_LIMIT_MS = 5000;

/**
 * Sends every item once, in order; resolves to how many left when the last one has. Items
 * are taken from the iterable as they go out, so a lazy one (a packet set of millions)
 * streams: the first packet leaves at once and memory stays at one window.
 */
export async function transmit<T>(items: Iterable<T>, trySend: TrySend<T>, options: TransmitOptions<T> = {}): Promise<number> {
  const inter = options.inter ?? 0;
  const window = inter > 0 ? 1 : Math.max(1, options.window ?? DEFAULT_WINDOW);
  const { signal, beforeSend } = options;
  const it = items[Symbol.iterator]();
  let next = it.next();
  let sent = 0;
  let stalledSince = 0;
  try {
    while (!next.done) {
      signal?.throwIfAborted();
      let stalled = false;
      let late = false;
      for (let k = 0; k < window && !next.done; k++) {
        if (options.until !== undefined && performance.now() >= options.until) {
          late = true;
          break;
        }
        const item = next.value;
        beforeSend?.(item, nowMicros());
        if (!trySend(item)) {
          stalled = true;
          break;
        }
        stalledSince = 0;
        sent++;
        next = it.next();
      }
      if (late) break;
      if (stalled) {
        // The kernel's queue is full: give it a millisecond, and give up after a few seconds.
        const now = Date.now();
        if (stalledSince === 0) stalledSince = now;
        else if (now - stalledSince > STALL_LIMIT_MS) throw new SynackError('the kernel has not accepted a packet for 5 s (send queue full)', 'system');
        await sleep(1);
      } else if (!next.done) {
        if (inter > 0) await sleep(inter);
        else await nextTurn();
      }
    }
  } finally {
    // A generator stopped early (abort, error) runs its finally blocks.
    if (!next.done) it.return?.();
  }
  return sent;
}

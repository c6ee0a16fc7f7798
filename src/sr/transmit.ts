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
  /** Called right before each packet leaves, with the send time (µs since the epoch). */
  beforeSend?: (item: T, timeMicros: number) => void;
}

export const DEFAULT_WINDOW = 64;
const STALL_LIMIT_MS = 5000;

/** Sends every item once, in order; resolves when the last one has left. */
export async function transmit<T>(items: readonly T[], trySend: TrySend<T>, options: TransmitOptions<T> = {}): Promise<void> {
  const inter = options.inter ?? 0;
  const window = inter > 0 ? 1 : Math.max(1, options.window ?? DEFAULT_WINDOW);
  const { signal, beforeSend } = options;
  let i = 0;
  let stalledSince = 0;
  while (i < items.length) {
    signal?.throwIfAborted();
    const end = Math.min(items.length, i + window);
    while (i < end) {
      const item = items[i]!;
      const time = nowMicros();
      beforeSend?.(item, time);
      if (!trySend(item)) break;
      stalledSince = 0;
      i++;
    }
    if (i < end) {
      // The kernel's queue is full: give it a millisecond, and give up after a few seconds.
      const now = Date.now();
      if (stalledSince === 0) stalledSince = now;
      else if (now - stalledSince > STALL_LIMIT_MS) throw new SynackError('the kernel has not accepted a packet for 5 s (send queue full)', 'system');
      await sleep(1);
    } else if (i < items.length) {
      if (inter > 0) await sleep(inter);
      else await nextTurn();
    }
  }
}

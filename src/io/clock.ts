/**
 * Packet timestamps. cap gives none, so a packet is stamped when its event runs: a monotonic
 * clock (performance.now, immune to wall-clock steps) shifted by the wall-clock time at which
 * it started, giving microseconds since the epoch that still subtract exactly for RTTs.
 */
import { performance } from 'node:perf_hooks';

const originMicros = performance.timeOrigin * 1000;

/** Microseconds since the Unix epoch, monotonic within this process (fractional part kept). */
export function nowMicros(): number {
  return originMicros + performance.now() * 1000;
}

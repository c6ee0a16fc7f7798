/**
 * The longest wait a Node timer can hold: 2^31-1 ms (about 24.9 days). A longer one fires
 * after 1 ms with a TimeoutOverflowWarning, so every timeout is checked against this first.
 */
import { usageError } from './errors.js';

export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `value` when it is a wait a timer can hold (0 to 2^31-1 ms); a usage error naming `what` otherwise. */
export function checkTimeout(value: number, what = 'timeout'): number {
  if (!(typeof value === 'number' && value >= 0 && value <= MAX_TIMER_MS)) {
    throw usageError(`${what} must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${String(value)}`);
  }
  return value;
}

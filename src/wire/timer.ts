/**
 * The longest wait a Node timer can hold: 2^31-1 ms (about 24.9 days). A longer one fires
 * after 1 ms with a TimeoutOverflowWarning, so every timeout is checked against this first.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

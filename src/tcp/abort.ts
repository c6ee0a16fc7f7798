/**
 * AbortSignal for the calls that wait on the wire (connect, listen): the work races the
 * signal, and the caller releases what the work holds (guard, capture, socket) when the signal
 * wins. The abandoned work's own rejection is swallowed: it ends when its resources go.
 */
import { SynackError } from '../wire/errors.js';

/** The error an aborted call rejects with: the signal's reason when it is an Error. */
export function abortError(signal: AbortSignal, what: string): Error {
  return signal.reason instanceof Error ? signal.reason : new SynackError(`${what} was aborted`, 'timeout');
}

/** Throws at once when the signal is already aborted. */
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

/** `work`, or a rejection as soon as `signal` aborts. */
export async function raceAbort<T>(signal: AbortSignal | undefined, work: Promise<T>, what: string): Promise<T> {
  if (!signal) return work;
  checkAborted(signal, what);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

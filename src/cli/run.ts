/**
 * How every command ends: a user mistake is one line on stderr and exit 2, a probe that got no
 * answer is exit 1, anything else unexpected keeps its stack (that is our bug, not theirs).
 */
import { SynackError } from '../wire/errors.js';
import { OutputClosed } from './common.js';

export const EXIT_OK = 0;
export const EXIT_NO_ANSWER = 1;
export const EXIT_USAGE = 2;

export function reportError(err: unknown): number {
  // The reader of our output went away (`| head`): not an error, as for any Unix tool.
  if (err instanceof OutputClosed) return EXIT_OK;
  if (err instanceof SynackError) {
    // One line, always: a newline the user typed into a value (a host, a name) is shown as \n.
    process.stderr.write(`synack: ${err.message.replace(/\r?\n/g, '\\n')}\n`);
    return err.kind === 'timeout' ? EXIT_NO_ANSWER : EXIT_USAGE;
  }
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_OK;
  if (typeof code === 'string' && code.startsWith('commander.')) return EXIT_USAGE;
  process.stderr.write(`synack: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 70;
}

/** Wraps a command action so that its errors become exit codes. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT_OK;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

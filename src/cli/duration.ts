/**
 * One unit for time on the command line, nmap's convention: a bare number is seconds, and
 * `ms`, `s`, `m` and `h` suffixes say otherwise (`--timeout 500ms`, `--wait 1.5`, `-i 0.2`).
 * Every duration option of every command goes through here; the values handed to the API are
 * milliseconds, as the API takes them.
 */
import { InvalidArgumentError } from 'commander';
import { MAX_TIMER_MS } from '../wire/timer.js';

/** The longest duration an option takes: what a Node timer can hold. */
export const MAX_DURATION_MS = MAX_TIMER_MS;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Why `text` is not a duration, or its length in milliseconds. */
function durationOrProblem(text: string, maxMs: number): number | string {
  if (text.trim() === '') return `blank: give a duration such as 2 (seconds), 500ms or 1.5s`;
  const m = /^(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)?$/i.exec(text.trim());
  if (!m) {
    if (/^\s*-/.test(text)) return 'negative: a duration is 0 or more';
    return `not a duration: write seconds (2, 0.5) or add a unit (500ms, 1.5s, 2m)`;
  }
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's').toLowerCase()]!;
  if (!Number.isFinite(ms) || ms > maxMs) {
    const days = maxMs >= 86_400_000 ? ` (about ${(maxMs / 86_400_000).toFixed(1)} days)` : '';
    return `too long: at most ${formatDuration(maxMs)}${days}`;
  }
  return ms;
}

/** A commander argParser for a duration option: the value arrives as milliseconds. */
export function durationOption(maxMs = MAX_DURATION_MS): (value: string) => number {
  return (value: string): number => {
    const r = durationOrProblem(value, maxMs);
    if (typeof r === 'string') throw new InvalidArgumentError(`It is ${r}.`);
    return r;
  };
}

/** A duration as messages print it: whole milliseconds ('within 2000 ms', not 1999.99...). */
export function formatDuration(ms: number): string {
  return `${Math.round(ms)} ms`;
}

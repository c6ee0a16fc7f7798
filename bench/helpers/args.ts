/** What every bench shares: its command-line flags, and a seeded sequence so each run reads the same capture. */

const args = process.argv.slice(2);

/** The value after `--name`, or undefined. */
export function argValue(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function hasFlag(name: string): boolean {
  return args.includes(name);
}

let seed = 12345;

/** Starts the sequence again, so a second capture made in one run equals the first. */
export function reseed(value = 12345): void {
  seed = value;
}

/** A deterministic pseudo-random integer in [0, n). */
export function rand(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

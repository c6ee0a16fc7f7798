/**
 * Errors a user can act on. `kind: 'usage'` marks a mistake in what the user asked for (a bad
 * address, an unknown field): the CLI prints its one-line message and exits 2, without a stack.
 */
export type SynackErrorKind = 'usage' | 'privilege' | 'system' | 'timeout';

export class SynackError extends Error {
  readonly kind: SynackErrorKind;
  constructor(message: string, kind: SynackErrorKind = 'usage') {
    super(message);
    this.name = 'SynackError';
    this.kind = kind;
  }
}

export function usageError(message: string): SynackError {
  return new SynackError(message, 'usage');
}

/** The closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 2)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hint = nearest(word, candidates);
  return hint ? ` (did you mean '${hint}'?)` : '';
}

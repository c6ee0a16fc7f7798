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

/** Longest word (and candidate) the "did you mean" search compares. */
const MAX_HINT_WORD = 64;

/** The closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  // No name worth suggesting is far longer than the longest candidate: a huge word (a 3 MB
  // paste) is compared with nothing, which keeps the search O(candidates) instead of O(n*m).
  if (word.length > MAX_HINT_WORD) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    if (candidate.length > MAX_HINT_WORD) continue;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 2)) ? best : undefined;
}

/** Edit distance where swapping two neighbours counts as one edit (typos like 'dts' for 'dst'). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array<number>(b.length + 1).fill(0));
    rows[i]![0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hint = nearest(word, candidates);
  return hint ? ` (did you mean '${hint}'?)` : '';
}

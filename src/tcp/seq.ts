/** Sequence-number arithmetic lives with the wire helpers (src/wire/seq.ts); kept here for tcp/'s imports. */
export { seqAdd, seqDiff, seqLt, seqLe, seqGt, seqGe } from '../wire/seq.js';

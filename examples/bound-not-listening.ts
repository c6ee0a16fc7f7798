/** Run: sudo node --import tsx examples/bound-not-listening.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: boundNotListening). */
import { boundNotListening } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(boundNotListening);

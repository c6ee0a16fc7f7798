/** Run: sudo node --import tsx examples/listen.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: handMadeServer). */
import { handMadeServer } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(handMadeServer);

/** Run: sudo node --import tsx examples/simultaneous-close.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: simultaneousClose). */
import { simultaneousClose } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(simultaneousClose);

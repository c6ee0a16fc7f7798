/** Run: sudo node --import tsx examples/client-closes-first.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: clientClosesFirst). */
import { clientClosesFirst } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(clientClosesFirst);

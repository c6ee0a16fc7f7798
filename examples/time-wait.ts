/** Run: sudo node --import tsx examples/time-wait.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: timeWaitOnFirstCloser). */
import { timeWaitOnFirstCloser } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(timeWaitOnFirstCloser);

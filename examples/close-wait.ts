/** Run: sudo node --import tsx examples/close-wait.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: closeWaitLeft). */
import { closeWaitLeft } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(closeWaitLeft);

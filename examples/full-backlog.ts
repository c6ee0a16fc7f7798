/** Run: sudo node --import tsx examples/full-backlog.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: fullBacklog). */
import { fullBacklog } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(fullBacklog);

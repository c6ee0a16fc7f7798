/** Run: sudo node --import tsx examples/closed-port.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: synToClosedPort). */
import { synToClosedPort } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(synToClosedPort);

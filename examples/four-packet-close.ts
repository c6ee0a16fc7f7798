/** Run: sudo node --import tsx examples/four-packet-close.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: fourPacketClose). */
import { fourPacketClose } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(fourPacketClose);

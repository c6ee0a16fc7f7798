/** Run: sudo node --import tsx examples/three-packet-close.ts [--svg ladder.svg] [--explain] (see examples/lib/scenarios.ts: threePacketClose). */
import { threePacketClose } from './lib/scenarios.js';
import { runExample } from './lib/report.js';

await runExample(threePacketClose);

/**
 * Runs inside a namespace (ip netns exec) for test/send-injected-way.test.ts:
 *   send-child.ts flood <ip-hex> <count> [iface]   send() the packet count times; prints {"sent": N}
 *   send-child.ts way <cases-json>                 injectedWay() for each case; prints the answers
 * A case is {hex, passes, iface?}; its answer is {iface, frames: [hex]} or the reason (a string).
 */
import { send } from '../../src/index.js';
import { prepareOne } from '../../src/sr/prepare.js';
import { injectedWay } from '../../src/sr/injected-way.js';

const [mode, arg, countArg, iface] = process.argv.slice(2);
if (mode === 'flood') {
  const count = Number(countArg);
  if (!(count >= 1 && count <= 1_000_000)) throw new Error('count must be 1-1000000');
  const sent = await send(Buffer.from(arg!, 'hex'), { count, iface: iface || undefined, duration: 20_000 });
  console.log(JSON.stringify({ sent }));
} else if (mode === 'way') {
  const cases = JSON.parse(arg!) as Array<{ hex: string; passes: number; iface?: string }>;
  const answers = cases.map((c) => {
    const way = injectedWay([prepareOne(Buffer.from(c.hex, 'hex'), c.iface)], c.passes, c.iface);
    return typeof way === 'string' ? way : { iface: way.iface, frames: way.frames.map((f) => f.toString('hex')) };
  });
  console.log(JSON.stringify(answers));
} else {
  throw new Error('usage: send-child.ts flood|way ...');
}

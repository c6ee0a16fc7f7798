/**
 * Runs inside namespace A (ip netns exec): probes host B over the veth and prints one JSON
 * object with what came back. The wire tests start it and check the JSON.
 */
import { IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest } from '../../src/index.js';
import { sr, sr1 } from '../../src/index.js';
import { closeSharedCaptures } from '../../src/io/capture-hub.js';
import type { Packet } from '../../src/packet/packet.js';

const [v4, v6, openPort, closedPort, droppedPort] = [process.argv[2]!, process.argv[3]!, +process.argv[4]!, +process.argv[5]!, +process.argv[6]!];

function describe(p: Packet | undefined): string[] | undefined {
  return p?.layers.map((l) => {
    const f = l.fields as Record<string, unknown>;
    if (l.name === 'TCP') return `TCP:${f.flags}`;
    if (l.name === 'ICMP' || l.name.startsWith('ICMPv6')) return `${l.name}:${f.type}/${f.code}`;
    return l.name;
  });
}

const out: Record<string, unknown> = {};
out.synOpen4 = describe(await sr1(IP({ dst: v4 }).add(TCP({ sport: 50001, dport: openPort, flags: 'S' })), { timeout: 1000 }));
out.synClosed4 = describe(await sr1(IP({ dst: v4 }).add(TCP({ sport: 50002, dport: closedPort, flags: 'S' })), { timeout: 1000 }));
out.synOpen6 = describe(await sr1(IPv6({ dst: v6 }).add(TCP({ sport: 50003, dport: openPort, flags: 'S' })), { timeout: 1000 }));
out.udpClosed4 = describe(await sr1(IP({ dst: v4 }).add(UDP({ sport: 50004, dport: closedPort })), { timeout: 1000 }));
out.udpClosed6 = describe(await sr1(IPv6({ dst: v6 }).add(UDP({ sport: 50005, dport: closedPort })), { timeout: 1000 }));
out.echo4 = describe(await sr1(IP({ dst: v4 }).add(ICMP({ id: 77, seq: 3 })), { timeout: 1000 }));
out.echo6 = describe(await sr1(IPv6({ dst: v6 }).add(ICMPv6EchoRequest({ id: 78, seq: 4 })), { timeout: 1000 }));
const t0 = performance.now();
const dropped = await sr1(IP({ dst: v4 }).add(TCP({ sport: 50006, dport: droppedPort, flags: 'S' })), { timeout: 300 });
out.dropped = { reply: describe(dropped), ms: performance.now() - t0 };
const scan = await sr(IP({ dst: v4 }).add(TCP({ sport: 50007, dport: [[openPort - 50, openPort + 49]] as never, flags: 'S' })), { timeout: 1000 });
out.scan = {
  answered: scan.answered.length,
  unanswered: scan.unanswered.map((p) => p.getLayer('TCP')?.fields.dport),
  open: scan.answered.filter(([, r]) => r.getLayer('TCP')?.fields.flags === 0x12).map(([s]) => s.getLayer('TCP')?.fields.dport),
};
closeSharedCaptures();
console.log(JSON.stringify(out));

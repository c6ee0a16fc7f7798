/**
 * Traceroute by hand: echo requests with TTL (hop limit) 1, 2, 3..., all sent at once. Each
 * router that decrements the TTL to zero drops the packet and says so with ICMP "time
 * exceeded" from its own address; the destination answers with an echo reply.
 *   traceroute DST [MAX_HOPS]        (DST may be IPv4 or IPv6)
 */
import { IP, IPv6, ICMP, ICMPv6EchoRequest } from '../../packet/factories.js';
import { sr } from '../../sr/index.js';
import { addrArg, finish, intArg, labAddr, say } from './_common.js';

const dst = addrArg(0, 'destination address', labAddr('server'));
const maxHops = intArg(1, 'max hops', '4', 16);
const v6 = dst.includes(':');
const id = Math.floor(Math.random() * 0xffff);

const probes = Array.from({ length: maxHops }, (_, i) =>
  v6 ? IPv6({ dst, hlim: i + 1 }).add(ICMPv6EchoRequest({ id, seq: i + 1 })) : IP({ dst, ttl: i + 1 }).add(ICMP({ id, seq: i + 1 })),
);
const { answered } = await sr(probes, { timeout: 1000 });
const hops: Array<{ ttl: number; from: string | null; reply: string | null; rttMs: number | null }> = [];
for (let ttl = 1; ttl <= maxHops; ttl++) {
  const a = answered.find(([sent]) => (sent.layers[0]!.get((v6 ? 'hlim' : 'ttl') as never) as number) === ttl);
  const reply = a?.[1];
  const from = reply ? (reply.layers[0]!.get('src' as never) as string) : null;
  const what = reply ? reply.layers[1]!.name + (reply.layers[1]!.name === 'ICMP' ? `:${reply.layers[1]!.get('type' as never)}` : '') : null;
  const kind = what === 'ICMP:11' || what === 'ICMPv6TimeExceeded' ? 'time-exceeded' : what === 'ICMP:0' || what === 'ICMPv6EchoReply' ? 'echo-reply' : what;
  hops.push({ ttl, from, reply: kind, rttMs: a ? Math.round(a.rtt / 10) / 100 : null });
  say(`${String(ttl).padStart(2)}  ${from ?? '*'}  ${kind ?? ''}${a ? `  ${(a.rtt / 1000).toFixed(2)} ms` : ''}`);
  if (kind === 'echo-reply') break;
}
finish({ dst, hops });

/**
 * The injected way out of send(): a long flood of the same few IPv4 packets leaves as whole
 * frames written on a packet socket (cap's pcap_sendpacket) instead of one raw-socket sendto
 * per packet.
 *
 * Why: a raw socket's sendto routes, runs netfilter's output hooks and looks the neighbour up
 * for every packet, and raw-socket adds its own cost per call (the address string converted,
 * a persistent handle and a JavaScript callback: 0.43 µs of user CPU per SYN against a C
 * loop's 0.06, bench/wire.ts). A frame written on a packet socket skips all of that; over veth
 * it left at 1.2x the rate of a C loop of raw sendto (bench/helpers/send-rate.ts).
 *
 * When: only where the frame that reaches the wire is the one the raw socket would have put
 * there, so the choice is invisible to the target:
 * - IPv4 (IPv6 keeps the raw socket: its header is the caller's anyway, but neighbour
 *   discovery's table is another question, not worth a second way here);
 * - a destination that is not this host's, leaving by an Ethernet interface (a frame
 *   injected on lo toward 127.0.0.0/8 is dropped as a martian);
 * - the interface the kernel routes by, when the caller named one (SO_BINDTODEVICE would
 *   otherwise pick another way);
 * - within that interface's MTU (the raw socket refuses longer ones);
 * - the next hop's MAC in the kernel's neighbour table (the first pass, by raw socket, has had
 *   the kernel resolve it), at most MAX_NEXT_HOPS of them;
 * - headers the kernel would not rewrite: with IP_HDRINCL it fills a zero id and a zero
 *   source and always writes the total length and the header checksum (raw(7)), so those must
 *   already be what it would write;
 * - no netfilter chain on the output path (an injected frame skips the OUTPUT and POSTROUTING
 *   hooks, so NAT, marks or drops there would be lost), synack's own guard tables aside (they
 *   only drop the kernel's RSTs).
 * Anything else keeps the raw socket, with the reason kept for the tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Capture } from '../io/capture.js';
import { GUARD_TABLE_PREFIX } from '../io/constants.js';
import { frame, linkHeaderFor } from '../io/framing.js';
import { isBackoff } from '../io/raw-sender.js';
import { interfaceInfo, interfaceMtu, routeTo } from '../io/route.js';
import { finishChecksum, sumWords } from '../wire/checksum.js';
import { SynackError } from '../wire/errors.js';
import type { Outgoing } from './prepare.js';
import { Replay } from './replay.js';
import { transmit, type TransmitOptions } from './transmit.js';

/**
 * Fewest packets, after the first pass, worth opening a packet socket for: opening it (a
 * capture handle, its ring and a filter) and asking for routes, neighbours and netfilter
 * chains costs a few milliseconds, which a short send would not win back.
 */
const MIN_PACKETS = 1024;
/** Most distinct next hops looked up (one `ip neigh` each): floods to many hosts keep the raw socket. */
const MAX_NEXT_HOPS = 8;

export interface InjectedWay {
  iface: string;
  /** One whole frame per packet of the pass, in order. */
  frames: Buffer[];
}

/**
 * The frames for `passes` more passes of `items` (the first pass, prepared and sent), when all
 * of them may leave by injection; else why not, as a sentence.
 */
export function injectedWay(items: readonly Outgoing[], passes: number, iface: string | undefined): InjectedWay | string {
  const packets = items.length * passes;
  if (packets < MIN_PACKETS) return `${packets} packets after the first pass, fewer than ${MIN_PACKETS}`;
  const out = routeTo(items[0]!.dst).iface;
  const routes = [];
  for (const item of items) {
    if (item.family !== 4) return `${item.dst} is IPv6`;
    const routed = routeTo(item.dst);
    routes.push(routed);
    if (routed.local) return `${item.dst} is an address of this host`;
    if (iface !== undefined && iface !== routed.iface) return `iface ${iface} is not the interface ${item.dst} is routed by (${routed.iface})`;
    if (routed.iface !== out) return `the packets leave by more than one interface (${out}, ${routed.iface})`;
    const rewritten = kernelRewrites(item.bytes);
    if (rewritten) return `to ${item.dst}: ${rewritten}`;
  }
  const info = interfaceInfo(out);
  if (info.linkType !== 'ether') return `${out} is not an Ethernet interface (${info.linkType})`;
  const mtu = interfaceMtu(out);
  const long = items.find((item) => item.bytes.length > mtu);
  if (long) return `a packet of ${long.bytes.length} bytes is longer than ${out}'s MTU of ${mtu}`;
  const chain = outputChain();
  if (chain) return `netfilter has ${chain} on the output path`;
  const headers = new Map<string, Buffer>();
  const frames: Buffer[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const route = routes[i]!;
    const nextHop = route.gateway ?? route.dst;
    let header = headers.get(nextHop);
    if (!header) {
      if (headers.size === MAX_NEXT_HOPS) return `more than ${MAX_NEXT_HOPS} next hops`;
      try {
        header = linkHeaderFor(route, 'ether', 4);
      } catch (err) {
        if (!(err instanceof SynackError)) throw err;
        return `the MAC of ${nextHop} on ${out} is not known`;
      }
      headers.set(nextHop, header);
    }
    frames.push(frame(header, item.bytes));
  }
  return { iface: out, frames };
}

/** What the kernel would change in an IPv4 header given to a raw socket with IP_HDRINCL, or undefined. */
function kernelRewrites(ip: Buffer): string | undefined {
  const headerLength = (ip[0]! & 15) * 4;
  if (headerLength < 20 || headerLength > ip.length) return `a header length of ${headerLength} bytes`;
  if (ip.readUInt16BE(2) !== ip.length) return `total length ${ip.readUInt16BE(2)} in a packet of ${ip.length} bytes`;
  if (ip.readUInt16BE(4) === 0) return 'id 0 (the kernel picks one)';
  if (ip.readUInt32BE(12) === 0) return 'source 0.0.0.0 (the kernel fills it)';
  if (finishChecksum(sumWords(ip, 0, headerLength)) !== 0) return 'a wrong header checksum (the kernel writes its own)';
  return undefined;
}

/**
 * A netfilter chain an injected frame would skip, named, or undefined: an nftables chain hooked
 * at output or postrouting outside synack's guard tables, or a legacy iptables table (which
 * hooks every chain it has, rules or not).
 */
function outputChain(): string | undefined {
  try {
    const legacy = readFileSync('/proc/net/ip_tables_names', 'utf8').split('\n').filter(Boolean);
    if (legacy.length) return `the iptables table ${legacy[0]}`;
  } catch {
    // No legacy iptables here.
  }
  let text: string;
  try {
    text = execFileSync('nft', ['-j', 'list', 'chains'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (err) {
    // Without nft there is no way to set a chain either (iptables-nft is nft underneath).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'chains that nft could not list';
  }
  const entries = (JSON.parse(text) as { nftables?: Array<{ chain?: { family: string; table: string; name: string; hook?: string } }> }).nftables ?? [];
  for (const { chain } of entries) {
    if (!chain || (chain.hook !== 'output' && chain.hook !== 'postrouting')) continue;
    if ((chain.family === 'ip' || chain.family === 'inet') && !chain.table.startsWith(GUARD_TABLE_PREFIX)) return `the chain ${chain.family} ${chain.table} ${chain.name}`;
  }
  return undefined;
}

/** Sends `passes` passes of the way's frames on one packet socket; resolves to how many left. */
export async function sendInjected(way: InjectedWay, passes: number, options: TransmitOptions<Buffer>): Promise<number> {
  // A capture that matches nothing: cap injects through its handle, and we want no copies back.
  const injector = new Capture(way.iface, () => {}, { filter: 'less 1', bufferSize: 1 << 20 });
  try {
    return await transmit(
      new Replay(way.frames, passes),
      (f) => {
        try {
          injector.inject(f);
          return true;
        } catch (err) {
          // A packet socket reports a full queue (a raw socket drops such a packet silently).
          if (isBackoff(err)) return false;
          throw err;
        }
      },
      options,
    );
  } finally {
    injector.close();
  }
}

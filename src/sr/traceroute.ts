/**
 * traceroute: probes with growing TTL (hop limit), each hop's answer, and the header each
 * router quoted back in its ICMP error, compared with what we sent, so a student sees what the
 * path changed (the TTL counted down, a TOS/DSCP remarked, the checksum that follows, an IP id
 * or address rewritten by NAT).
 *
 * Probes as the three classic tools send them: TCP SYN (tcptraceroute, `traceroute -T`; the
 * default), UDP to 33434 and up (`traceroute -U`), ICMP echo (`traceroute -I`). Every hop's
 * probes leave at once, as `traceroute -N` does, through sr(): bounded by maxHops x queries,
 * and by one deadline for the whole run.
 */
import { dissect } from '../packet/dissect.js';
import { ICMP, ICMPv6EchoRequest, IP, IPv6, TCP, UDP } from '../packet/factories.js';
import type { Packet } from '../packet/packet.js';
import type { Layer } from '../layers/layer.js';
import { routeTo } from '../io/route.js';
import { usageError } from '../wire/errors.js';
import { sr } from './sr.js';

export type TracerouteMethod = 'tcp' | 'udp' | 'icmp';

export interface TracerouteOptions {
  dst: string;
  method?: TracerouteMethod;
  /** Destination port: TCP default 80; UDP's first (default 33434, one more per probe). */
  port?: number;
  /** Highest TTL tried (default 30, at most 64). */
  maxHops?: number;
  /** Probes per hop (default 3, at most 10). */
  queries?: number;
  /** How long to wait for any probe's answer, ms (default 1000, at most 10 s): also the whole run's bound. */
  timeout?: number;
  signal?: AbortSignal;
}

/** One field of the quoted header that differs from what we sent. */
export interface QuotedChange {
  layer: string;
  field: string;
  sent: number | string;
  quoted: number | string;
}

export interface HopProbe {
  /** Who answered, undefined for no answer (printed `*`). */
  from: string | undefined;
  /** Round trip, ms. */
  rtt: number | undefined;
  /** 'time-exceeded', 'port-unreachable', 'echo-reply', 'SYN-ACK', 'RST', ... */
  answer: string | undefined;
  /** The reply as tcpdump prints it. */
  summary: string | undefined;
  /** The quoted header's fields that differ from the probe's (ICMP errors only). */
  changed: QuotedChange[] | undefined;
  /** The quoted IP header's fields, as the router saw them. */
  quoted: Record<string, number | string> | undefined;
}

export interface Hop {
  ttl: number;
  probes: HopProbe[];
}

export interface TracerouteResult {
  dst: string;
  method: TracerouteMethod;
  /** Hops up to the one where the destination (or an unreachable) answered. */
  hops: Hop[];
  reached: boolean;
  interrupted: boolean;
}

const MAX_HOPS = 64;
const MAX_QUERIES = 10;
const MAX_TIMEOUT = 10_000;
const UDP_BASE = 33434;

/** The fields of the network header compared between the probe and its quote. */
const IP_FIELDS: Record<string, readonly string[]> = {
  IPerror: ['tos', 'len', 'id', 'flags', 'frag', 'ttl', 'proto', 'chksum', 'src', 'dst'],
  IPerror6: ['tc', 'fl', 'plen', 'nh', 'hlim', 'src', 'dst'],
};
const TRANSPORT_FIELDS: Record<string, readonly string[]> = {
  TCPerror: ['sport', 'dport', 'seq', 'ack', 'flags', 'window', 'chksum'],
  UDPerror: ['sport', 'dport', 'len', 'chksum'],
  ICMPerror: ['type', 'code', 'chksum', 'id', 'seq'],
  ICMPv6EchoRequest: ['type', 'code', 'cksum', 'id', 'seq'],
};

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw usageError(`traceroute ${name} ${value} is out of range: give ${min} to ${max}`);
  return value;
}

function fieldValue(layer: Layer, field: string): number | string | undefined {
  try {
    const v = layer.get(field as never) as unknown;
    if (typeof v === 'number' || typeof v === 'string') return v;
    if (typeof v === 'bigint') return Number(v);
    return v === undefined ? undefined : String(v);
  } catch {
    return undefined;
  }
}

function layerNamed(layers: readonly Layer[], names: readonly string[]): Layer | undefined {
  return layers.find((l) => names.includes(l.name));
}

/** What the quote says of our probe: every compared field that differs, and the quoted IP header's fields. */
function compareQuote(sent: readonly Layer[], reply: readonly Layer[]): { changed: QuotedChange[]; quoted: Record<string, number | string> } | undefined {
  const qIp = layerNamed(reply, Object.keys(IP_FIELDS));
  if (!qIp) return undefined;
  const sIp = sent.find((l) => l.isNetworkLayer);
  const changed: QuotedChange[] = [];
  const quoted: Record<string, number | string> = {};
  const compare = (quote: Layer, probe: Layer | undefined, fields: readonly string[], label: string): void => {
    for (const f of fields) {
      const q = fieldValue(quote, f);
      if (q === undefined) continue;
      if (label === 'IP') quoted[f] = q;
      const s = probe ? fieldValue(probe, f) : undefined;
      if (s !== undefined && String(s) !== String(q)) changed.push({ layer: label, field: f, sent: s, quoted: q });
    }
  };
  compare(qIp, sIp, IP_FIELDS[qIp.name]!, 'IP');
  // The quoted transport header (as much as the router sent back) against ours.
  const quoteT = reply[reply.indexOf(qIp) + 1];
  const sT = sIp ? sent[sent.indexOf(sIp) + 1] : undefined;
  const fields = quoteT ? TRANSPORT_FIELDS[quoteT.name] : undefined;
  if (quoteT && fields) compare(quoteT, sT, fields, quoteT.name.replace(/error$/, ''));
  return { changed, quoted };
}

/** The kind of an answer in a word or two: the ICMP type/code, or the TCP flags. */
function answerKind(reply: Packet): string {
  for (const l of reply.layers) {
    const type = fieldValue(l, 'type');
    const code = fieldValue(l, 'code');
    switch (l.name) {
      case 'ICMP':
        if (type === 11) return 'time-exceeded';
        if (type === 0) return 'echo-reply';
        if (type === 3) return code === 3 ? 'port-unreachable' : `unreachable (code ${String(code)})`;
        return `icmp type ${String(type)} code ${String(code)}`;
      case 'ICMPv6TimeExceeded':
        return 'time-exceeded';
      case 'ICMPv6EchoReply':
        return 'echo-reply';
      case 'ICMPv6DestUnreach':
        return code === 4 ? 'port-unreachable' : `unreachable (code ${String(code)})`;
      case 'TCP': {
        const flags = Number(l.get('flags' as never));
        if ((flags & 0x12) === 0x12) return 'SYN-ACK';
        if (flags & 0x04) return 'RST';
        return `tcp flags 0x${flags.toString(16)}`;
      }
    }
  }
  return reply.layers.map((l) => l.name).join('/');
}

/** Whether an answer comes from the end of the path: the destination itself, or a final unreachable. */
function isFinal(kind: string, from: string, dst: string): boolean {
  return from === dst || (kind !== 'time-exceeded' && kind.includes('unreachable'));
}

export async function traceroute(opts: TracerouteOptions): Promise<TracerouteResult> {
  const method = opts.method ?? 'tcp';
  const maxHops = bounded('max hops', opts.maxHops ?? 30, 1, MAX_HOPS);
  const queries = bounded('queries per hop', opts.queries ?? 3, 1, MAX_QUERIES);
  const timeout = bounded('timeout (ms)', opts.timeout ?? 1000, 1, MAX_TIMEOUT);
  const v6 = opts.dst.includes(':');
  const route = routeTo(opts.dst);
  const src = route.src;
  const base = 32768 + Math.floor(Math.random() * 20000);
  const ident = (Math.random() * 65536) >>> 0;
  const probes: Array<{ ttl: number; n: number; packet: Packet; layers: Layer[] }> = [];
  for (let ttl = 1; ttl <= maxHops; ttl++) {
    for (let n = 0; n < queries; n++) {
      const i = probes.length;
      const net = v6 ? IPv6({ src, dst: opts.dst, hlim: ttl }) : IP({ src, dst: opts.dst, ttl, id: (ident + i) & 0xffff });
      const upper =
        method === 'tcp'
          ? TCP({ sport: base + i, dport: opts.port ?? 80, flags: 'S', seq: (ident << 16) >>> 0, window: 1024 })
          : method === 'udp'
            ? UDP({ sport: base, dport: ((opts.port ?? UDP_BASE) + i) & 0xffff })
            : v6
              ? ICMPv6EchoRequest({ id: ident, seq: i + 1 })
              : ICMP({ type: 'echo-request', id: ident, seq: i + 1 });
      const packet = net.add(upper);
      probes.push({ ttl, n, packet, layers: dissect(packet.bytes(), 'ip').layers });
    }
  }
  // sr() hands back its own copy of each probe: find ours again by the field that numbers it.
  const indexOf = (sent: Packet): number => {
    const upper = sent.layers[1];
    if (!upper) return -1;
    if (method === 'tcp') return Number(upper.get('sport' as never)) - base;
    if (method === 'udp') return (Number(upper.get('dport' as never)) - (opts.port ?? UDP_BASE)) & 0xffff;
    return Number(upper.get('seq' as never)) - 1;
  };
  let answered: Awaited<ReturnType<typeof sr>>['answered'];
  try {
    ({ answered } = await sr(
      probes.map((p) => p.packet),
      { timeout, ...(opts.signal ? { signal: opts.signal } : {}) },
    ));
  } catch (err) {
    // sr() gives nothing back when aborted (its capture and socket are released): an
    // interrupted traceroute has heard no hop it can report (the whole run lasts one timeout).
    if (opts.signal?.aborted) return { dst: opts.dst, method, hops: [], reached: false, interrupted: true };
    throw err;
  }
  const table: HopProbe[][] = Array.from({ length: maxHops }, () => Array.from({ length: queries }, () => ({ from: undefined, rtt: undefined, answer: undefined, summary: undefined, changed: undefined, quoted: undefined })));
  for (const a of answered) {
    const probe = probes[indexOf(a[0])];
    if (!probe) continue;
    const reply = a[1];
    const netLayer = reply.layers.find((l) => l.isNetworkLayer);
    const from = netLayer ? String(netLayer.get('src' as never)) : undefined;
    const kind = answerKind(reply);
    const quote = compareQuote(probe.layers, reply.layers);
    table[probe.ttl - 1]![probe.n] = { from, rtt: a.rtt / 1000, answer: kind, summary: reply.summary(), changed: quote?.changed, quoted: quote?.quoted };
  }
  // The path ends at the first hop where the destination (or a final unreachable) answered.
  let last = maxHops;
  let reached = false;
  for (let h = 0; h < maxHops; h++) {
    if (table[h]!.some((p) => p.from !== undefined && p.answer !== undefined && isFinal(p.answer, p.from, opts.dst))) {
      last = h + 1;
      reached = true;
      break;
    }
  }
  if (!reached) {
    // Trailing silent hops past the last that answered are not printed: nothing is known there.
    let lastHeard = 0;
    for (let h = 0; h < maxHops; h++) if (table[h]!.some((p) => p.from !== undefined)) lastHeard = h + 1;
    last = Math.min(maxHops, lastHeard + 1);
  }
  const hops = table.slice(0, last).map((probesOfHop, i) => ({ ttl: i + 1, probes: probesOfHop }));
  return { dst: opts.dst, method, hops, reached, interrupted: opts.signal?.aborted ?? false };
}

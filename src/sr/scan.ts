/**
 * The port scan engine: nmap's -sS/-sF/-sN/-sX/-sA against one or many addresses, from one
 * source port, as fast as the hosts answer.
 *
 * Speed comes from four choices. The probes are one prebuilt template per host whose port and
 * TCP checksum are patched in place (scan-probe.ts). They leave by link-layer injection on the
 * capture's own handle (cap's pcap_inject) when the kernel will take such a frame, else by a raw
 * socket. One capture, filtered in the kernel to replies to our source port, classifies each
 * answer from a few bytes. And the wait after a round adapts to the round trip measured on this scan's own
 * answers: on loopback the RSTs are in the ring before sendto returns, so a full scan does not
 * sit out a fixed grace period as nmap does.
 *
 * Bounded: at most MAX_PROBES probes per round, retries+1 rounds, each wait capped by the
 * timeout. An AbortSignal stops it between batches; what was settled by then is returned.
 */
import { readFileSync } from 'node:fs';
import { Capture } from '../io/capture.js';
import { linkHeaderFor, linkTypeNumber, networkOffset } from '../io/framing.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { RawSender } from '../io/raw-sender.js';
import { routeTo, type Route } from '../io/route.js';
import { SynackError, usageError } from '../wire/errors.js';
import { buildProbe, patchPort, type ProbeTemplate } from './scan-probe.js';

export type ScanType = 'syn' | 'fin' | 'null' | 'xmas' | 'ack';

export const SCAN_FLAGS: Record<ScanType, number> = { syn: 0x02, fin: 0x01, null: 0, xmas: 0x29, ack: 0x10 };

/** Port states, one byte per probe. */
const UNKNOWN = 0;
const OPEN = 1;
const CLOSED = 2;
const FILTERED = 3;
const UNFILTERED = 4;
const OPEN_FILTERED = 5;
export const PORT_STATES = ['open', 'closed', 'filtered', 'unfiltered', 'open|filtered'] as const;
export type PortState = (typeof PORT_STATES)[number];
const STATE_NAMES = ['unknown', ...PORT_STATES] as const;

/** Most probes in one scan (hosts x ports): bounds the per-probe tables (5 bytes each). */
export const MAX_PROBES = 1 << 22;

/**
 * Probes sent per event-loop turn; the capture drains between batches. The ring must hold a
 * batch's replies: on lo, cap's frames take 128 KiB each (snap length 65535 and lo's MTU of
 * 65536), so RING_BYTES of 8 MiB is 64 frames, one per reply (see `inbound` below); other
 * links' frames are a few KiB. A bigger ring costs CPU at every start: the kernel zeroes it at
 * open (16 MiB was 30-70 ms of a full scan's CPU here, sampled with perf; 64 MiB took 130-480 ms).
 */
const BATCH = 64;
const RING_BYTES = 8 * 1024 * 1024;

export interface HostScan {
  host: string;
  /** Every settled port under its state; ports not settled (an interrupted scan) are in none. */
  ports: Record<PortState, number[]>;
  /** Ports whose probes went out but were not settled when the scan was interrupted. */
  unsettled: number;
  /** The first answer's round trip from this host, s (undefined when it never answered). */
  latency: number | undefined;
}

export interface ScanResult {
  type: ScanType;
  seconds: number;
  probesSent: number;
  /** True when the signal stopped the scan before it finished. */
  interrupted: boolean;
  hosts: HostScan[];
}

export interface ScanOptions {
  /** Addresses (already checked to be in scope by the caller). */
  targets: string[];
  ports: number[];
  type: ScanType;
  retries: number;
  /** Probes per second at most (default: as fast as the host answers). */
  rate?: number;
  /** Longest wait for answers after a round's last probe, ms. */
  timeout: number;
  iface?: string;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number, answered: number) => void;
}

/** One host's probe as it leaves: the whole frame (a link header when injecting), its IP packet, where its TCP header starts. */
interface Probe {
  frame: Buffer;
  ip: Buffer;
  tcp: number;
  baseSum: number;
  dst: string;
}

/** The primer's source port (see scanGroup): below the ephemeral range, so never the scan's own. */
const PRIMER_PORT = 9;

/**
 * A source port in Linux's ephemeral range (32768-60999), picked at random. Not tcp/connect's
 * ephemeralPort(): importing connect loads conversations, guards and the TCP wire, start-up
 * time a full-port scan pays, and one scan needs one port.
 */
function scanSourcePort(): number {
  return 32768 + Math.floor(Math.random() * (60999 - 32768 + 1));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Scans every target's ports; targets of one family and interface share one capture. */
export async function scan(opts: ScanOptions): Promise<ScanResult> {
  requireRawPrivilege('synack scan');
  if (opts.targets.length * opts.ports.length > MAX_PROBES) {
    throw usageError(`${opts.targets.length} addresses x ${opts.ports.length} ports is ${opts.targets.length * opts.ports.length} probes: one scan sends at most ${MAX_PROBES}; scan fewer addresses or ports at once`);
  }
  const started = performance.now();
  const groups = new Map<string, { route: Route; hosts: string[] }>();
  for (const host of opts.targets) {
    const route = routeTo(host);
    const iface = opts.iface ?? route.iface;
    const key = `${host.includes(':') ? 6 : 4} ${iface} ${route.src}`;
    const group = groups.get(key) ?? { route: { ...route, iface }, hosts: [] };
    group.hosts.push(host);
    groups.set(key, group);
  }
  const hosts = new Map<string, HostScan>();
  let probesSent = 0;
  let interrupted = false;
  for (const group of groups.values()) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    const r = await scanGroup(group.route, group.hosts, opts);
    probesSent += r.probesSent;
    interrupted ||= r.interrupted;
    for (const h of r.hosts) hosts.set(h.host, h);
  }
  const ordered = opts.targets.map((t) => hosts.get(t)).filter((h): h is HostScan => h !== undefined);
  return { type: opts.type, seconds: (performance.now() - started) / 1000, probesSent, interrupted, hosts: ordered };
}

async function scanGroup(route: Route, targets: string[], opts: ScanOptions): Promise<{ hosts: HostScan[]; probesSent: number; interrupted: boolean }> {
  const v6 = targets[0]!.includes(':');
  const { iface, src } = route;
  const type = opts.type;
  const sport = scanSourcePort();
  const seq = (Math.random() * 0x100000000) >>> 0;
  const nPorts = opts.ports.length;
  const nHosts = targets.length;
  const total = nHosts * nPorts;
  /** Probe index = host * nPorts + port's place in the list. */
  const portIndex = new Int32Array(65536).fill(-1);
  opts.ports.forEach((p, i) => (portIndex[p] = i));
  const states = new Uint8Array(total);
  const sentAt = new Float32Array(total);
  const latency = new Float64Array(nHosts).fill(-1);
  const hostOf4 = new Map<number, number>();
  const hostOf6 = new Map<string, number>();
  targets.forEach((t, h) => {
    const probe = buildProbe({ src, dst: t, sport, seq, flags: 0, id: 0 });
    if (v6) hostOf6.set(probe.bytes.toString('hex', 24, 40), h);
    else hostOf4.set(probe.bytes.readUInt32BE(16), h);
  });
  let answered = 0;
  let lastAnswer = 0;
  /** The capture's stamp of the packet being handled, as performance.now() ms (one clock read per packet, the capture's). */
  let packetAt = 0;
  /** Smoothed round trip and its variation, ms (RFC 6298's estimator): how long silence must last before a round ends. */
  let srtt = -1;
  let rttvar = 0;
  const t0 = performance.now();

  const settle = (h: number, port: number, state: number): void => {
    const pi = portIndex[port]!;
    if (pi < 0) return;
    const i = h * nPorts + pi;
    if (states[i] !== UNKNOWN) return;
    states[i] = state;
    answered++;
    const now = packetAt;
    lastAnswer = now;
    const rtt = now - t0 - sentAt[i]!;
    if (srtt < 0) {
      srtt = rtt;
      rttvar = rtt / 2;
    } else {
      rttvar += (Math.abs(srtt - rtt) - rttvar) / 4;
      srtt += (rtt - srtt) / 8;
    }
    // The smallest seen is the host's latency: later ones include our own batches' time.
    if (latency[h]! < 0 || rtt < latency[h]!) latency[h] = rtt;
  };
  // The packet path, once per answer (65,535 in a full scan): bytes read directly, the IPv4 and
  // IPv6 paths and the ICMP errors in functions of their own, so that what runs hot is small for
  // the optimizing compiler (its background compiles were ~10% of a full scan's CPU, sampled
  // with perf) and the cold branches are never compiled at all.
  const u16 = (b: Buffer, at: number): number => (b[at]! << 8) | b[at + 1]!;
  const host4 = (b: Buffer, at: number): number => hostOf4.get(((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0) ?? -1;
  const host6 = (b: Buffer, at: number): number => hostOf6.get(b.toString('hex', at, at + 16)) ?? -1;
  const onTcp = (h: number, b: Buffer, l4: number, length: number): void => {
    if (h < 0 || length < l4 + 14 || u16(b, l4 + 2) !== sport) return;
    const flags = b[l4 + 13]!;
    if (flags & 0x04) settle(h, u16(b, l4), type === 'ack' ? UNFILTERED : CLOSED);
    else if ((flags & 0x12) === 0x12 && type === 'syn' && b.readUInt32BE(l4 + 8) === ((seq + 1) >>> 0)) settle(h, u16(b, l4), OPEN);
  };
  /** ICMP unreachable: the quoted header says which probe. Codes 0-3, 9, 10, 13 mean filtered. */
  const onIcmp4 = (b: Buffer, l4: number, length: number): void => {
    if (b[l4] !== 3 || length < l4 + 8 + 24) return;
    const code = b[l4 + 1]!;
    if (code > 13 || ![0, 1, 2, 3, 9, 10, 13].includes(code)) return;
    const q = l4 + 8;
    const ql4 = q + (b[q]! & 15) * 4;
    if (length < ql4 + 4 || b[q + 9] !== 6 || u16(b, ql4) !== sport) return;
    const h = host4(b, q + 16);
    if (h >= 0) settle(h, u16(b, ql4 + 2), FILTERED);
  };
  /** ICMPv6 destination unreachable, likewise. */
  const onIcmp6 = (b: Buffer, l4: number, length: number): void => {
    if (b[l4] !== 1 || length < l4 + 8 + 40 + 4) return;
    const q = l4 + 8;
    if (b[q + 6] !== 6 || u16(b, q + 40) !== sport) return;
    const h = host6(b, q + 24);
    if (h >= 0) settle(h, u16(b, q + 42), FILTERED);
  };
  /** The capture's link type as a number, read once (networkOffset looks a name up per call). */
  let link = -1;
  /** performance.timeOrigin is a getter into Node's bindings: read once. */
  const origin = performance.timeOrigin;
  const onPacket4 = (b: Buffer, length: number, time: number): void => {
    packetAt = time / 1000 - origin;
    const off = networkOffset(b, length, link);
    if (off < 0 || length < off + 20) return;
    const l4 = off + (b[off]! & 15) * 4;
    const proto = b[off + 9];
    if (proto === 6) onTcp(host4(b, off + 12), b, l4, length);
    else if (proto === 1) onIcmp4(b, l4, length);
  };
  const onPacket6 = (b: Buffer, length: number, time: number): void => {
    packetAt = time / 1000 - origin;
    const off = networkOffset(b, length, link);
    if (off < 0 || length < off + 40) return;
    const nh = b[off + 6];
    if (nh === 6) onTcp(host6(b, off + 8), b, off + 40, length);
    else if (nh === 58) onIcmp6(b, off + 40, length);
  };
  // Replies to our source port, and ICMP errors to us: nothing else is copied to user space.
  // On lo every reply passes the device twice, leaving and arriving, and the kernel copies both
  // into the ring (libpcap drops lo's outgoing copies only after): `inbound` stops the first copy
  // in the kernel's filter, half the ring's frames and wakeups (a full scan: 0.71 -> 0.67 s CPU).
  // libpcap filters the first frame after the filter is set in user space, where `inbound`
  // cannot be read, so that frame is always dropped: the primer below takes it.
  const onLo = iface === 'lo';
  const replies = v6
    ? `(ip6 and tcp and dst port ${sport}) or (icmp6 and dst host ${src})`
    : `(tcp and dst port ${sport}) or (icmp and dst host ${src})`;
  const filter = onLo ? `inbound and (${replies})` : replies;
  const capture = new Capture(iface, v6 ? onPacket6 : onPacket4, { filter, bufferSize: RING_BYTES });
  link = linkTypeNumber(capture.link);

  let l3Sender: RawSender | undefined;
  let probesSent = 0;
  let interrupted = false;
  try {
    // One frame per host: the link header (when injecting) and the probe template.
    let header: Buffer = Buffer.alloc(0);
    try {
      if (nHosts !== 1 || !injectionAnswered(targets[0]!, iface)) throw new SynackError('no injection', 'system');
      header = linkHeaderFor({ ...route, dst: targets[0]! }, capture.link, v6 ? 6 : 4);
    } catch (err) {
      if (!(err instanceof SynackError)) throw err;
      // The kernel would not answer an injected frame, the next hop's MAC is not known, or
      // the hosts are many: let the kernel route and resolve (a raw socket).
      header = Buffer.alloc(0);
      l3Sender = new RawSender(v6 ? 6 : 4, opts.iface);
    }
    const frameOf = (probe: ProbeTemplate, dst: string): Probe => {
      const frame = Buffer.concat([header, probe.bytes]);
      return { frame, ip: frame.subarray(header.length), tcp: header.length + probe.tcp, baseSum: probe.baseSum, dst };
    };
    const frames = targets.map((dst) => frameOf(buildProbe({ src, dst, sport, seq, flags: SCAN_FLAGS[type], id: (Math.random() * 65536) >>> 0 }), dst));
    /** When the current batch began, ms since t0: every probe of a batch is stamped with it (one clock read per batch). */
    let batchAt = 0;
    const sendFrame = (f: Probe): boolean => {
      if (l3Sender) return l3Sender.trySend(f.ip, f.dst);
      capture.inject(f.frame);
      return true;
    };
    const sendOne = (i: number): boolean => {
      const f = frames[Math.floor(i / nPorts)]!;
      patchPort(f.frame, f.tcp, f.baseSum, opts.ports[i % nPorts]!);
      if (!sendFrame(f)) return false;
      sentAt[i] = batchAt;
      return true;
    };

    if (onLo) {
      // The primer: one packet that passes the filter and that nothing needs, to be the frame
      // libpcap drops (see the filter). A bare ACK from us to our own source port: the handler
      // settles only RSTs and SYN-ACKs, and the kernel's RST to it goes to port PRIMER_PORT,
      // which the filter does not take (the source port is never it).
      const primer = frameOf(buildProbe({ src, dst: src, sport: PRIMER_PORT, seq, flags: 0x10, id: 0 }), src);
      patchPort(primer.frame, primer.tcp, primer.baseSum, sport);
      sendFrame(primer);
    }

    // One turn before the first probe: cap's poll starts reading only after it, and a first
    // batch sent at once sat unread beside the second and overflowed the ring (measured: with
    // a 512-frame ring and batches of 256, the 512th reply was lost in every scan).
    await turn();
    /**
     * Sends pending[k, end) that are still unsettled, every one stamped with the batch's start;
     * returns where it stopped: before `end` when the socket's queue was full.
     */
    const sendBatch = (pending: Uint32Array, k: number, end: number): number => {
      batchAt = performance.now() - t0;
      for (; k < end; k++) {
        const i = pending[k]!;
        if (states[i] !== UNKNOWN) continue;
        if (!sendOne(i)) break;
        probesSent++;
      }
      return k;
    };
    /**
     * One round's probes, a batch per event-loop turn; false when the signal stopped it. The
     * hot loops live in small functions, not in scanGroup: a loop there made the optimizing
     * compiler take all of scanGroup (setup and all), twice, on a background thread. And the
     * turns are plain callbacks (setImmediate), not an async function awaiting one promise per
     * batch: that function was the biggest of the scan's background compiles (13.8 ms of
     * Turbofan, --trace-opt) and made a promise and a microtask for each of a full scan's 1,024 batches.
     */
    const sendRound = (pending: Uint32Array): Promise<boolean> =>
      new Promise((resolve, reject) => {
        const roundStart = performance.now();
        let k = 0;
        // After a pause, the next batch waits for one more turn: the capture drains in it.
        const afterPause = (): void => void setImmediate(step);
        const step = (): void => {
          try {
            if (k >= pending.length) return resolve(true);
            if (opts.signal?.aborted) return resolve(false);
            let budget = BATCH;
            if (opts.rate !== undefined) {
              const allowed = Math.floor(((performance.now() - roundStart) / 1000) * opts.rate) + 1 - k;
              if (allowed <= 0) return void setTimeout(step, 1);
              budget = Math.min(budget, allowed);
            }
            const end = Math.min(pending.length, k + budget);
            k = sendBatch(pending, k, end);
            opts.onProgress?.(Math.min(total, probesSent), total, answered);
            // The socket's queue is full: let it drain, then send the probe it refused again.
            if (k < end) setTimeout(afterPause, 1);
            else setImmediate(step);
          } catch (err) {
            reject(err as Error);
          }
        };
        step();
      });

    let pending = portMajorOrder(nPorts, nHosts);
    rounds: for (let round = 0; round <= opts.retries && pending.length > 0; round++) {
      if (!(await sendRound(pending))) {
        interrupted = true;
        break rounds;
      }
      // The stragglers: wait until every probe answered, the line stays quiet for the
      // retransmission timeout the answers so far give (srtt + 4 rttvar, at least 5 ms), or the timeout.
      const sentAll = performance.now();
      while (answered < total) {
        if (opts.signal?.aborted) {
          interrupted = true;
          break rounds;
        }
        const quiet = Math.min(opts.timeout, srtt < 0 ? opts.timeout : Math.max(5, srtt + 4 * rttvar));
        const now = performance.now();
        if (now - sentAll >= opts.timeout) break;
        if (now - Math.max(lastAnswer, sentAll) >= quiet) break;
        await sleep(Math.min(5, quiet / 2));
      }
      pending = answered === total ? pending.subarray(0, 0) : pending.filter((i) => states[i] === UNKNOWN);
      opts.onProgress?.(Math.min(total, probesSent), total, answered);
    }
  } finally {
    l3Sender?.close();
    capture.close();
  }
  // What never answered gets nmap's verdict, unless the scan was cut short.
  const silent = type === 'syn' || type === 'ack' ? FILTERED : OPEN_FILTERED;
  const hosts: HostScan[] = targets.map((host, h) => {
    const ports = Object.fromEntries(PORT_STATES.map((s) => [s, [] as number[]])) as Record<PortState, number[]>;
    let unsettled = 0;
    for (let pi = 0; pi < nPorts; pi++) {
      let state = states[h * nPorts + pi]!;
      if (state === UNKNOWN) {
        if (interrupted) {
          unsettled++;
          continue;
        }
        state = silent;
      }
      ports[STATE_NAMES[state] as PortState].push(opts.ports[pi]!);
    }
    return { host, ports, unsettled, latency: latency[h]! >= 0 ? latency[h]! / 1000 : undefined };
  });
  return { hosts, probesSent, interrupted };
}

/** Probe indexes (host * nPorts + port's place) in port-major order: consecutive probes go to different hosts, as nmap spreads its load. */
function portMajorOrder(nPorts: number, nHosts: number): Uint32Array {
  const order = new Uint32Array(nPorts * nHosts);
  for (let pi = 0, k = 0; pi < nPorts; pi++) for (let h = 0; h < nHosts; h++) order[k++] = h * nPorts + pi;
  return order;
}

/**
 * Whether the kernel answers a frame injected on `iface` for `host`. A frame injected on lo
 * enters as if it came from a wire, and Linux drops one addressed to 127.0.0.0/8 there
 * ("martian destination") unless net.ipv4.conf.lo.route_localnet is 1; the raw socket,
 * whose packets carry their route with them, is the way in then.
 */
function injectionAnswered(host: string, iface: string): boolean {
  if (!host.includes(':') && host.startsWith('127.')) {
    try {
      return readFileSync(`/proc/sys/net/ipv4/conf/${iface}/route_localnet`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  }
  return true;
}

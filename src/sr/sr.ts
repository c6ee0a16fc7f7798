/**
 * sr and sr1: send packets, catch what answers them.
 *
 * The capture (a shared one per interface, see io/capture-hub.ts) is running before the
 * first packet leaves. Each captured IP packet is copied, dissected, keyed (match.ts) and
 * compared only with the probes in its bucket; our own packets, seen again on the capture,
 * are recognised by their bytes and skipped. Replies are network-layer packets (as Scapy's
 * sr gives them), stamped with their capture time; each answer carries its RTT.
 */
import { Packet } from '../packet/packet.js';
import { dissect } from '../packet/dissect.js';
import type { Layer } from '../layers/layer.js';
import { leaseCapture, type HubLease } from '../io/capture-hub.js';
import { networkOffset } from '../io/framing.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { checkTimeout } from '../wire/timer.js';
import { isAnswer, matchKey } from './match.js';
import { prepareL3, type Outgoing, type PacketInput } from './prepare.js';
import { L3Senders } from './senders.js';
import { transmit, DEFAULT_WINDOW } from './transmit.js';

export interface SrOptions {
  /**
   * The deadline, in ms from the call (default 2000): sr returns by then, answered or not.
   * Retries share it (each round waits its part of what is left). Every packet of the first
   * round still leaves when sending alone takes longer; no answer is waited for past it.
   */
  timeout?: number;
  /** Send the unanswered again, this many more times (default 0). */
  retry?: number;
  /** Keep collecting answers after the first one for a probe (Scapy's multi). */
  multi?: boolean;
  /** Milliseconds between packets. */
  inter?: number;
  /** Leave by, and capture on, this interface instead of the routed one. */
  iface?: string;
  signal?: AbortSignal;
  /** Packets per event-loop turn (default 128): bounded so that the capture ring keeps up. */
  window?: number;
}

/** A probe and its reply, with the reply's round-trip time in microseconds. */
export type Answer = [sent: Packet, reply: Packet] & { rtt: number };

export interface SrResult {
  answered: Answer[];
  unanswered: Packet[];
}

interface Probe {
  out: Outgoing;
  /** The probe as it left, dissected from its bytes: computed fields are all there. */
  layers: Layer[];
  sent: Packet;
  sentAt: number;
  answered: boolean;
}

/** Sends the packets and returns every answer matched to its probe, and the probes nobody answered. */
export async function sr(pkts: PacketInput, options: SrOptions = {}): Promise<SrResult> {
  return run(pkts, options, false);
}

/** Sends the packets and returns the first answer, or undefined when none came in time. */
export async function sr1(pkts: PacketInput, options: Omit<SrOptions, 'multi'> = {}): Promise<Packet | undefined> {
  const { answered } = await run(pkts, options, true);
  return answered[0]?.[1];
}

async function run(pkts: PacketInput, options: SrOptions, firstOnly: boolean): Promise<SrResult> {
  const started = performance.now();
  const timeout = options.timeout ?? 2000;
  const retry = options.retry ?? 0;
  const multi = options.multi ?? false;
  checkTimeout(timeout);
  const deadline = started + timeout;
  options.signal?.throwIfAborted();
  requireRawPrivilege('sr');
  const outgoing = prepareL3(pkts, options.iface);
  if (outgoing.length === 0) return { answered: [], unanswered: [] };

  const probes: Probe[] = outgoing.map((out) => {
    const layers = dissect(out.bytes, 'ip').layers;
    return { out, layers, sent: out.packet ? new Packet(out.packet.layers) : new Packet(layers), sentAt: 0, answered: false };
  });
  const buckets = new Map<string, Probe[]>();
  for (const probe of probes) {
    const key = matchKey(probe.layers);
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = []));
    bucket.push(probe);
  }

  const answered: Answer[] = [];
  let remaining = probes.length;
  let wake: (() => void) | undefined;

  const tap = (buf: Buffer, length: number, time: number, link: Parameters<typeof networkOffset>[2]): void => {
    const off = networkOffset(buf, length, link);
    if (off < 0) return;
    // Copy: the capture buffer is overwritten by the next packet.
    const bytes = Buffer.from(buf.subarray(off, length));
    const layers = dissect(bytes, 'ip').layers;
    const bucket = buckets.get(matchKey(layers));
    if (!bucket) return;
    for (const probe of bucket) {
      if (probe.answered && !multi) continue;
      if (probe.sentAt === 0 || time < probe.sentAt) continue;
      if (bytes.equals(probe.out.bytes)) continue; // our own probe, seen on the way out
      if (!isAnswer(probe.layers, layers)) continue;
      const reply = new Packet(layers);
      reply.time = time;
      const sent = probe.sent;
      answered.push(Object.assign([sent, reply] as [Packet, Packet], { rtt: time - probe.sentAt }));
      if (!probe.answered) {
        probe.answered = true;
        remaining--;
      }
      if ((firstOnly || remaining === 0) && !multi) wake?.();
      return;
    }
  };

  const ifaces = new Set(outgoing.map((o) => o.route.iface));
  // Size the ring for one window in flight, twice over: on lo each probe shows up to three
  // times (probe, reply, the kernel's RST to a SYN-ACK), and lo's 64 KiB MTU makes each ring
  // slot 128 KiB.
  const window = options.window ?? DEFAULT_WINDOW;
  const slots = Math.min(window, probes.length) * 3 * 2;
  const bufferSize = Math.min(256, Math.max(32, Math.ceil((slots * 128) / 1024))) * 1024 * 1024;
  const leases: HubLease[] = [];
  const senders = new L3Senders(options.iface);
  try {
    for (const iface of ifaces) leases.push(leaseCapture(iface, tap, bufferSize));
    senders.open(outgoing);
    let round = probes;
    for (let attempt = 0; attempt <= retry && round.length > 0; attempt++) {
      await transmit(round, (p) => senders.trySend(p.out), {
        inter: options.inter,
        window,
        signal: options.signal,
        beforeSend: (p, t) => {
          p.sentAt = t;
          p.sent.time = t;
        },
      });
      // This round's share of the time left: the last round waits out the deadline.
      const left = Math.max(0, deadline - performance.now());
      const share = left / (retry - attempt + 1);
      if (!(multi || (firstOnly ? answered.length > 0 : remaining === 0))) {
        await waitFor(share, options.signal, (w) => (wake = w));
        wake = undefined;
      } else if (multi) await waitFor(share, options.signal, () => {});
      if (firstOnly && answered.length > 0) break;
      if (deadline - performance.now() <= 0) break;
      round = round.filter((p) => !p.answered);
    }
  } finally {
    senders.close();
    for (const lease of leases) lease.release();
  }
  answered.sort((a, b) => a[1].time! - b[1].time!);
  return { answered, unanswered: probes.filter((p) => !p.answered).map((p) => p.sent) };
}

/** Resolves after `ms`, or earlier when woken; rejects when the signal aborts. */
function waitFor(ms: number, signal: AbortSignal | undefined, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      if (timer) clearTimeout(timer);
      reject(signal!.reason);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(done, ms);
    setWake(done);
  });
}

/**
 * send (L3, through raw sockets) and sendp (L2, whole frames injected through cap).
 */
import { Packet } from '../packet/packet.js';
import { usageError } from '../wire/errors.js';
import { checkTimeout } from '../wire/timer.js';
import { Capture } from '../io/capture.js';
import { linkHeaderFor, frame } from '../io/framing.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { routeTo } from '../io/route.js';
import { networkIndex } from './match.js';
import { eachPacket, prepareOne, type Outgoing, type PacketInput } from './prepare.js';
import { L3Senders } from './senders.js';
import { transmit } from './transmit.js';
import { injectedWay, sendInjected } from './injected-way.js';
import { Replay } from './replay.js';

export interface SendOptions {
  /** Send the whole list this many times (default 1). */
  count?: number;
  /** Milliseconds between packets. */
  inter?: number;
  /** send: leave by this interface (SO_BINDTODEVICE). sendp: the interface to inject on. */
  iface?: string;
  signal?: AbortSignal;
  /** Packets per event-loop turn (default 128). */
  window?: number;
  /** Stop after this many ms, sent or not (resolves with how many left by then). */
  duration?: number;
}

function checkCount(count: number | undefined): number {
  const n = count ?? 1;
  if (!Number.isInteger(n) || n < 1) throw usageError(`count must be a whole number >= 1, got ${String(count)}`);
  return n;
}

/** The input in a form that can be walked more than once: a one-shot iterable (a generator) is kept in memory. */
function reiterable(input: PacketInput): PacketInput {
  return input instanceof Packet || Buffer.isBuffer(input) || Array.isArray(input) ? input : [...eachPacket(input)];
}

/** The input `count` times over, lazily: a packet set is expanded as its members leave, never held whole. */
function* repeated(input: PacketInput, count: number): Generator<Packet | Buffer> {
  for (let i = 0; i < count; i++) yield* eachPacket(input);
}

/** Sends IP packets (or IP bytes) through raw sockets; resolves to how many left. */
export async function send(pkts: PacketInput, options: SendOptions = {}): Promise<number> {
  options.signal?.throwIfAborted();
  const until = untilOf(options);
  requireRawPrivilege('send');
  const count = checkCount(options.count);
  const input = reiterable(pkts);
  const senders = new L3Senders(options.iface);
  const opts = { inter: options.inter, window: options.window ?? 1024, signal: options.signal, until };
  try {
    // A flood (no pause between packets) may leave by injection after its first pass.
    const items = new PreparedRepeats(input, count, options.iface, !(options.inter! > 0));
    let sent = await transmit(items, senders.trySend, opts);
    const rest = items.paused();
    if (!rest || (until !== undefined && performance.now() >= until)) return sent;
    const way = injectedWay(rest.kept, rest.passes, options.iface);
    sent += typeof way === 'string' ? await transmit(items.resume(), senders.trySend, opts) : await sendInjected(way, rest.passes, opts);
    return sent;
  } finally {
    senders.close();
  }
}

/**
 * Sends whole frames on an interface. A packet that starts at IP is framed for the link
 * (zero MACs on lo; the interface's and the next hop's MACs on Ethernet). Buffers are sent
 * as given. Resolves to how many frames left.
 */
export async function sendp(pkts: PacketInput, options: SendOptions = {}): Promise<number> {
  options.signal?.throwIfAborted();
  const until = untilOf(options);
  requireRawPrivilege('sendp');
  const count = checkCount(options.count);
  const input = reiterable(pkts);
  const first = eachPacket(input).next();
  if (first.done) return 0;
  const iface = options.iface ?? defaultIface(first.value);
  // A capture that matches nothing: cap injects through its handle, and we want no copies back.
  const injector = new Capture(iface, () => {}, { filter: 'less 1', bufferSize: 1 << 20 });
  try {
    const frames = mapIterable(repeated(input, count), (p) => toFrame(p, iface, injector.link));
    return await transmit(
      frames,
      (f) => {
        injector.inject(f);
        return true;
      },
      { inter: options.inter, window: options.window ?? 1024, signal: options.signal, until },
    );
  } finally {
    injector.close();
  }
}

/**
 * Most prepared packets kept for the passes after the first. A flood of one prebuilt SYN
 * repeated a million times is the case this serves: preparing it again each time (reading its
 * destination, routing it, an object per packet through three generators) was a tenth of the
 * send loop's CPU beside the sendto itself (node --cpu-prof, bench/wire.ts). A pass longer
 * than this is prepared again each time, lazily, so memory stays bounded.
 */
const REPLAY_LIMIT = 4096;

/**
 * The input `count` times over, prepared for the L3 sender: the first pass prepares as it
 * goes; when it held at most REPLAY_LIMIT packets the later passes replay those same prepared
 * packets (the same bytes and route: builds are deterministic), else each pass is prepared
 * again, lazily.
 *
 * With `pause`, a replay stops at the end of the first pass: paused() then hands out what it
 * kept and the passes due, for another way out (injected-way.ts), or resume() goes on here.
 */
class PreparedRepeats implements IterableIterator<Outgoing> {
  /** The pass being prepared (the first, or every pass when it was too long to keep). */
  private preparing: Iterator<Outgoing> | undefined;
  private kept: Outgoing[] | undefined = [];
  private replay: Replay<Outgoing> | undefined;
  /** Passes still due after the first. */
  private passes: number;

  constructor(
    private readonly input: PacketInput,
    count: number,
    private readonly iface: string | undefined,
    private pause: boolean,
  ) {
    this.preparing = mapIterable(eachPacket(input), (p) => prepareOne(p, iface));
    this.passes = count - 1;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Outgoing> {
    if (this.preparing) {
      const r = this.preparing.next();
      if (!r.done) {
        const kept = this.kept;
        if (kept) {
          if (kept.length < REPLAY_LIMIT) kept.push(r.value);
          else this.kept = undefined;
        }
        return r;
      }
      this.preparing = undefined;
      if (!this.kept) {
        if (this.passes === 0) return DONE;
        this.preparing = mapIterable(repeated(this.input, this.passes), (p) => prepareOne(p, this.iface));
        this.passes = 0;
        return this.next();
      }
      if (this.pause && this.passes > 0 && this.kept.length > 0) return DONE;
      this.resume();
    }
    return this.replay ? this.replay.next() : DONE;
  }

  /** At the end of a paused first pass: its packets and the passes still due. */
  paused(): { kept: readonly Outgoing[]; passes: number } | undefined {
    return this.pause && !this.preparing && !this.replay && this.kept && this.passes > 0 ? { kept: this.kept, passes: this.passes } : undefined;
  }

  /** The later passes by replay, here. */
  resume(): this {
    this.pause = false;
    this.replay = new Replay(this.kept ?? [], this.passes);
    this.passes = 0;
    return this;
  }

  /** Stopped early (abort, error): the packet generators' finally blocks run. */
  return(): IteratorResult<Outgoing> {
    this.preparing?.return?.();
    this.preparing = undefined;
    this.replay = undefined;
    this.passes = 0;
    return DONE;
  }
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function untilOf(options: SendOptions): number | undefined {
  if (options.duration === undefined) return undefined;
  return performance.now() + checkTimeout(options.duration, 'duration');
}

function* mapIterable<A, B>(items: Iterable<A>, f: (a: A) => B): Generator<B> {
  for (const a of items) yield f(a);
}

function defaultIface(p: Packet | Buffer): string {
  if (p instanceof Packet && networkIndex(p.layers) === 0) return prepareOne(p).route.iface;
  throw usageError('sendp needs iface when the frames do not start with IP (e.g. sendp(frames, {iface: "lo"}))');
}

function toFrame(p: Packet | Buffer, iface: string, link: Capture['link']): Buffer {
  if (Buffer.isBuffer(p)) return p;
  if (networkIndex(p.layers) !== 0) return p.bytes();
  const out = prepareOne(p, iface);
  const route = { ...routeTo(out.dst), iface };
  return frame(linkHeaderFor(route, link, out.family), out.bytes);
}

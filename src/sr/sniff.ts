/**
 * sniff: packets from an interface as an async iterable. The capture is running when sniff()
 * returns, so a send() that follows is seen. It ends after `count` packets, after `timeout`
 * ms, on stop(), or when `signal` aborts (ending the iteration normally, with what came).
 */
import { Packet } from '../packet/packet.js';
import { dissect } from '../packet/dissect.js';
import { usageError } from '../wire/errors.js';
import { checkTimeout } from '../wire/timer.js';
import { Capture } from '../io/capture.js';
import { PcapSink } from '../io/pcap-sink.js';

export interface SniffOptions {
  /** Interface to capture on (default 'any', whose frames are Linux cooked). */
  iface?: string;
  /** BPF filter, pcap-filter(7) syntax, e.g. 'tcp and port 80'. */
  filter?: string;
  /** Stop after this many packets. */
  count?: number;
  /** Stop after this many ms. */
  timeout?: number;
  signal?: AbortSignal;
  /** Also write every packet to this pcap file. */
  pcap?: string;
  /** Kernel ring size in bytes (default 32 MiB). */
  bufferSize?: number;
}

export class Sniffer implements AsyncIterable<Packet> {
  private readonly capture: Capture;
  private readonly queue: Packet[] = [];
  private waiting: ((r: IteratorResult<Packet>) => void) | undefined;
  private stopped = false;
  private seen = 0;
  private readonly sink: PcapSink | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onAbort: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;

  constructor(options: SniffOptions = {}) {
    const count = options.count;
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) throw usageError(`count must be a whole number > 0, got ${String(count)}`);
    if (options.timeout !== undefined) checkTimeout(options.timeout);
    const iface = options.iface ?? 'any';
    this.capture = new Capture(iface, (buf, length, time) => this.onPacket(buf, length, time), {
      filter: options.filter ?? '',
      bufferSize: options.bufferSize,
    });
    const link = this.capture.link;
    try {
      this.sink = options.pcap ? new PcapSink(options.pcap, String(link)) : undefined;
    } catch (err) {
      this.capture.close();
      throw err;
    }
    this.count = count;
    if (options.timeout !== undefined) this.timer = setTimeout(() => this.stop(), options.timeout);
    this.signal = options.signal;
    if (this.signal) {
      this.onAbort = () => this.stop();
      if (this.signal.aborted) this.stop();
      else this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  private readonly count: number | undefined;

  /** Link type of the captured frames (what dissect() was given). */
  get link(): Capture['link'] {
    return this.capture.link;
  }

  private onPacket(buf: Buffer, length: number, time: number): void {
    if (this.stopped) return;
    // Copy: cap reuses its buffer for the next packet.
    const bytes = Buffer.from(buf.subarray(0, length));
    this.sink?.write(bytes, length, time);
    const packet = dissect(bytes, this.capture.link);
    packet.time = time;
    this.seen++;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: packet, done: false });
    } else this.queue.push(packet);
    if (this.count !== undefined && this.seen >= this.count) this.stop();
  }

  /** Ends the capture; packets already caught are still delivered. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.capture.close();
    this.sink?.close();
    if (this.waiting && this.queue.length === 0) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<Packet>> {
    const head = this.queue.shift();
    if (head) return Promise.resolve({ value: head, done: false });
    if (this.stopped) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<Packet> {
    return {
      next: () => this.next(),
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Every packet until the sniff ends. */
  async collect(): Promise<Packet[]> {
    const all: Packet[] = [];
    for await (const p of this) all.push(p);
    return all;
  }
}

/** Starts capturing now; iterate the result, or await its collect(). */
export function sniff(options: SniffOptions = {}): Sniffer {
  return new Sniffer(options);
}

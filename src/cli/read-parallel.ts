/**
 * `synack read` on two cores: the main thread reads the file and formats the frames of half
 * the TCP flows, a worker thread formats the other half, and the lines are merged back in
 * file order. tcpdump's only state across packets is per TCP flow (relative sequence
 * numbers), so a flow kept whole on one side prints exactly as it would on one thread.
 *
 * The split is by a symmetric hash of addresses and ports (the quoted header's for an ICMP
 * error, which tcpdump -v prints through the same flow table). Batches are pipelined two
 * deep, so memory stays at a few chunks whatever the file size.
 */
import { Worker } from 'node:worker_threads';
import type { PcapRecord } from '../pcap/record.js';
import type { Printer, PrinterOptions } from '../show/printer.js';
import type { WorkerJob, WorkerReply } from './read-worker.js';
import type { LineWriter } from './common.js';

/** Where the IP header starts, for the link types captures use; -1 when not IP. */
function ipStart(b: Buffer, linkType: number): number {
  switch (linkType) {
    case 1: {
      if (b.length < 14) return -1;
      const t = b.readUInt16BE(12);
      return t === 0x0800 || t === 0x86dd ? 14 : -1;
    }
    case 101:
    case 228:
    case 229:
      return 0;
    case 113: {
      if (b.length < 16) return -1;
      const t = b.readUInt16BE(14);
      return t === 0x0800 || t === 0x86dd ? 16 : -1;
    }
    case 276: {
      if (b.length < 20) return -1;
      const t = b.readUInt16BE(0);
      return t === 0x0800 || t === 0x86dd ? 20 : -1;
    }
    case 0:
    case 108:
      return 4;
    default:
      return -1;
  }
}

function mix(x: number): number {
  return Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 31;
}

function sum32(b: Buffer, off: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i += 4) s = (s + b.readUInt32BE(off + i)) >>> 0;
  return s;
}

/** 0 or 1: which side formats this frame. Frames of one TCP flow always get the same side. */
export function flowPartition(b: Buffer, linkType: number): number {
  let off = ipStart(b, linkType);
  if (off < 0) return 0;
  for (let depth = 0; depth < 2; depth++) {
    if (b.length < off + 20) return 0;
    const version = b[off]! >> 4;
    if (version === 4) {
      const hl = (b[off]! & 15) * 4;
      const proto = b[off + 9]!;
      const l4 = off + hl;
      if (b.length < l4 + 4) return 0;
      if (proto === 6) return mix((b.readUInt32BE(off + 12) ^ b.readUInt32BE(off + 16) ^ b.readUInt16BE(l4) ^ b.readUInt16BE(l4 + 2)) >>> 0);
      const type = b[l4]!;
      if (proto === 1 && (type === 3 || type === 4 || type === 5 || type === 11 || type === 12)) {
        off = l4 + 8;
        continue;
      }
      return 0;
    }
    if (version === 6) {
      if (b.length < off + 40) return 0;
      let nh = b[off + 6]!;
      let p = off + 40;
      // Extension headers in front of TCP.
      for (let i = 0; i < 8 && (nh === 0 || nh === 43 || nh === 60 || nh === 44); i++) {
        if (b.length < p + 8) return 0;
        const next = b[p]!;
        p += nh === 44 ? 8 : (b[p + 1]! + 1) * 8;
        nh = next;
      }
      if (nh !== 6 || b.length < p + 4) return 0;
      return mix((sum32(b, off + 8, 16) ^ sum32(b, off + 24, 16) ^ b.readUInt16BE(p) ^ b.readUInt16BE(p + 2)) >>> 0);
    }
    return 0;
  }
  return 0;
}

interface Pending {
  id: number;
  /** Per frame, in file order: 0 = formatted here (in `lines`), 1 = by the worker. */
  side: Uint8Array;
  lines: string[];
  reply: Promise<WorkerReply>;
}

/** Formats frames on two threads and writes the lines in file order. */
export class ParallelFormatter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (r: WorkerReply) => void>();
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    private readonly printer: Printer,
    printerOptions: PrinterOptions,
    private readonly nano: boolean,
    private readonly out: LineWriter,
  ) {
    this.worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: { printer: printerOptions, nano } });
    this.worker.on('message', (r: WorkerReply) => {
      const resolve = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      resolve?.(r);
    });
    this.worker.on('error', (err) => {
      this.failure = err;
      for (const resolve of this.waiting.values()) resolve({ id: -1, text: new Uint8Array(0), ends: new Int32Array(0) });
      this.waiting.clear();
    });
  }

  /** Takes one batch of records (already filtered); writes earlier batches as they complete. */
  async add(records: readonly PcapRecord[]): Promise<void> {
    const n = records.length;
    const side = new Uint8Array(n);
    let bytes = 0;
    let theirs = 0;
    for (let i = 0; i < n; i++) {
      const rec = records[i]!;
      if (flowPartition(rec.data, rec.linkType) === 1) {
        side[i] = 1;
        bytes += rec.data.length;
        theirs++;
      }
    }
    const data = new Uint8Array(bytes);
    const meta = new Float64Array(theirs * 6);
    let pos = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (side[i] !== 1) continue;
      const rec = records[i]!;
      data.set(rec.data, pos);
      meta[k] = pos;
      meta[k + 1] = rec.data.length;
      meta[k + 2] = rec.origLen;
      meta[k + 3] = rec.seconds;
      meta[k + 4] = rec.nanos;
      meta[k + 5] = rec.linkType;
      pos += rec.data.length;
      k += 6;
    }
    const id = this.nextId++;
    const reply = new Promise<WorkerReply>((resolve) => this.waiting.set(id, resolve));
    const job: WorkerJob = { id, data, meta };
    this.worker.postMessage(job, [data.buffer, meta.buffer]);
    // Our half, while the worker does its half.
    const lines: string[] = [];
    for (let i = 0; i < n; i++) if (side[i] === 0) lines.push(this.printer.formatRecord(records[i]!, this.nano));
    this.queue.push({ id, side, lines, reply });
    if (this.queue.length > 2) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const p = this.queue.shift()!;
    const r = await p.reply;
    if (this.failure) throw this.failure;
    let mine = 0;
    let theirs = 0;
    let start = 0;
    for (let i = 0; i < p.side.length; i++) {
      if (p.side[i] === 0) this.out.line(p.lines[mine++]!);
      else {
        const end = r.ends[theirs++]!;
        this.out.bytes(r.text, start, end);
        start = end;
      }
    }
  }

  /** Writes everything still in flight and stops the worker. */
  async finish(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.writeOldest();
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stops the worker without writing what is in flight. */
  async abandon(): Promise<void> {
    await this.worker.terminate();
  }
}

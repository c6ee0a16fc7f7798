/**
 * The second core of `synack read`: formats the frames it is sent with its own printer and
 * returns the lines already encoded. It sees every frame of the TCP flows it is given (the
 * main thread partitions by flow), so its relative sequence numbers are tcpdump's.
 * It loads only the printer: the native addons must never load inside a worker thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPrinter, type PrinterOptions } from '../show/printer.js';

export interface WorkerJob {
  id: number;
  /** The frames' bytes, back to back. */
  data: Uint8Array;
  /** Per frame: offset in data, caplen, original length, seconds, nanoseconds, link type. */
  meta: Float64Array;
}

export interface WorkerReply {
  id: number;
  /** The lines, UTF-8, each ending in '\n'. */
  text: Uint8Array;
  /** Where each line ends in text. */
  ends: Int32Array;
}

interface WorkerConfig {
  printer: PrinterOptions;
  nano: boolean;
}

const config = workerData as WorkerConfig;
const printer = createPrinter(config.printer);
const record = { data: Buffer.alloc(0) as Buffer, origLen: 0, seconds: 0, nanos: 0, linkType: 0 };
let out = Buffer.allocUnsafe(4 << 20);

parentPort!.on('message', (job: WorkerJob) => {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  const meta = job.meta;
  const n = meta.length / 6;
  const ends = new Int32Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const k = i * 6;
    const off = meta[k]!;
    record.data = data.subarray(off, off + meta[k + 1]!);
    record.origLen = meta[k + 2]!;
    record.seconds = meta[k + 3]!;
    record.nanos = meta[k + 4]!;
    record.linkType = meta[k + 5]!;
    const line = printer.formatRecord(record, config.nano);
    const worst = line.length * 3 + 1;
    if (pos + worst > out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, pos + worst));
      out.copy(bigger, 0, 0, pos);
      out = bigger;
    }
    pos += out.write(line, pos, 'utf8');
    out[pos++] = 10;
    ends[i] = pos;
  }
  // A fresh copy to hand over (transferred, not cloned); `out` stays for the next job.
  const text = new Uint8Array(pos);
  text.set(out.subarray(0, pos));
  const reply: WorkerReply = { id: job.id, text, ends };
  parentPort!.postMessage(reply, [text.buffer, ends.buffer]);
});

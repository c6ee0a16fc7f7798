/**
 * Reading capture files: pcap (both byte orders, micro- and nanosecond) and pcapng (any number
 * of sections and interfaces), told apart by their first bytes. Everything streams: memory stays
 * at one read chunk (256 KiB) plus what the caller keeps, whatever the size of the file.
 *
 *   for await (const rec of readPcap('f.pcap')) rec.data, rec.caplen, rec.origLen,
 *       rec.seconds, rec.nanos (exact time, print with formatEpoch), rec.timestamp (bigint ns),
 *       rec.time (µs, like Packet.time), rec.linkType, rec.interfaceIndex, rec.offset
 *   for await (const batch of readPcapBatches('f.pcap')) for (const rec of batch) ...
 *       The fast path: one promise per chunk (thousands of records) instead of one per record.
 *   for (const rec of readPcapSync('f.pcap')) ...      blocking reads, no promises at all
 *   for await (const p of readPackets('f.pcap')) p.summary(), p.time, p.timeNs
 *       Dissected packets; readPacketsSync is its blocking twin.
 *
 *   for await (const p of readPackets('f.pcap', { filter: 'tcp port 80' })) ...
 *       Only the frames a pcap-filter(7) expression accepts (filter/index.ts compiles it).
 *
 * Options: { onInterface(iface, format) } is called when the file describes an interface
 * (once for pcap, at each IDB for pcapng) before the first of its packets, e.g. for tcpdump's
 * "reading from file f.pcap, link-type EN10MB (Ethernet), snapshot length 262144" line
 * (linkTypeDescription() in link-type-names.ts gives the 'EN10MB (Ethernet)' part).
 *
 * rec.data is a zero-copy slice of a buffer that is never reused: keeping it is safe.
 *
 * Errors: a missing, unreadable or non-capture file throws a usage error on the first
 * iteration ('not a pcap or pcapng file: f.txt (starts with 68 65 6c 6c ...)'). A truncated or
 * corrupt file throws a CaptureFileError naming the file and the byte offset, and only after
 * every good record before the damage was yielded. Breaking out of a loop closes the file.
 * The path '-' reads standard input.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dissect } from '../packet/dissect.js';
import type { Packet } from '../packet/packet.js';
import { ChunkedReader, DEFAULT_CHUNK_SIZE } from './chunked-reader.js';
import { openError } from './errors.js';
import { compileFilter, type CompiledFilter } from './filter/index.js';
import type { FrameVisitor, InterfaceListener, PcapRecord } from './record.js';

export interface ReadOptions {
  /** Told about each interface before its first packet. */
  onInterface?: InterfaceListener;
  /** Bytes per read (default 256 KiB). */
  chunkSize?: number;
  /**
   * A capture filter (pcap-filter(7), as tcpdump takes it: 'tcp port 80 and host 127.0.0.1'),
   * or one compiled with compileFilter(). Frames it rejects are skipped before any record is made.
   */
  filter?: string | CompiledFilter | undefined;
  /**
   * The records of a batch are used up before the next batch is asked for (printed, counted),
   * never kept: the reader then reads into one buffer over and over, and a record's `data` is
   * valid only until the next batch. Off by default (records may be kept).
   */
  transient?: boolean;
}

const FILTERED_CHUNK_SIZE = 1024 * 1024;
/** Something to Atomics.wait() on: a blocking sleep for the synchronous reader. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

function readerFor(path: string, options: ReadOptions): ChunkedReader {
  const filter = typeof options.filter === 'string' ? (options.filter.trim() === '' ? undefined : compileFilter(options.filter)) : options.filter;
  // A filter keeps few records from each chunk: bigger reads then cost no memory and fewer calls.
  const chunkSize = options.chunkSize ?? (filter ? FILTERED_CHUNK_SIZE : DEFAULT_CHUNK_SIZE);
  return new ChunkedReader(path, chunkSize, options.onInterface, filter, options.transient ?? false);
}

function fileToOpen(path: string): string {
  return path === '-' ? '/dev/stdin' : path;
}

/** Records in batches, one batch per chunk read: the fast way to walk a big file. */
export async function* readPcapBatches(path: string, options: ReadOptions = {}): AsyncGenerator<PcapRecord[], void, undefined> {
  let handle;
  try {
    handle = await open(fileToOpen(path), 'r');
  } catch (err) {
    throw openError(path, err);
  }
  try {
    const reader = readerFor(path, options);
    while (!reader.done) {
      const length = reader.readLength();
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(reader.buf, reader.readAt, length, null));
      } catch (err) {
        throw openError(path, err);
      }
      const records = reader.advance(bytesRead);
      if (records.length > 0) yield records;
    }
    if (reader.error) throw reader.error;
  } finally {
    await handle.close();
  }
}

/** Records one at a time. */
export async function* readPcap(path: string, options: ReadOptions = {}): AsyncGenerator<PcapRecord, void, undefined> {
  for await (const batch of readPcapBatches(path, options)) yield* batch;
}

/** Opens a file for the blocking readers; '-' is standard input, read where it is. */
function openSyncFor(path: string): number {
  // /dev/stdin cannot be opened again when it is a socket (what a parent process's spawn() gives as a pipe).
  if (path === '-') return 0;
  try {
    return openSync(fileToOpen(path), 'r');
  } catch (err) {
    throw openError(path, err);
  }
}

/** One blocking read into the reader's buffer; -1 when a non-blocking pipe has nothing yet (after a short sleep). */
function readSyncInto(fd: number, reader: ChunkedReader, path: string): number {
  const length = reader.readLength();
  try {
    return readSync(fd, reader.buf, reader.readAt, length, null);
  } catch (err) {
    // A pipe with nothing yet to give: wait for it rather than fail (stdin from a slow writer),
    // sleeping a moment instead of spinning on the CPU.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
      Atomics.wait(PAUSE, 0, 0, 5);
      return -1;
    }
    throw openError(path, err);
  }
}

/** Records in batches with blocking reads: for scripts and CLIs that have nothing else to do. */
export function* readPcapBatchesSync(path: string, options: ReadOptions = {}): Generator<PcapRecord[], void, undefined> {
  const fd = openSyncFor(path);
  try {
    const reader = readerFor(path, options);
    while (!reader.done) {
      const bytesRead = readSyncInto(fd, reader, path);
      if (bytesRead < 0) continue;
      const records = reader.advance(bytesRead);
      if (records.length > 0) yield records;
    }
    if (reader.error) throw reader.error;
  } finally {
    if (path !== '-') closeSync(fd);
  }
}

/** Bytes per read when scanning: the one buffer is read into again and again. */
const SCAN_CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * Every frame of a capture file, with blocking reads and no record or slice per frame: `visit`
 * sees each one where it lies in the read chunk (valid during the call only). The fastest way
 * to walk a big file when nothing is kept (printing, counting, analysis). With a filter, only
 * the frames it accepts are visited. `afterChunk` is called after the frames of each read
 * (a pipe's reader prints what it has before waiting for more). Errors as readPcapBatchesSync.
 */
export function scanFramesSync(path: string, visit: FrameVisitor, options: Omit<ReadOptions, 'transient'> & { afterChunk?: () => void } = {}): void {
  const fd = openSyncFor(path);
  try {
    const filter = typeof options.filter === 'string' ? (options.filter.trim() === '' ? undefined : compileFilter(options.filter)) : options.filter;
    const reader = new ChunkedReader(path, options.chunkSize ?? SCAN_CHUNK_SIZE, options.onInterface, undefined, true);
    const visitor = filter ? filteredVisitor(filter, visit) : visit;
    const afterChunk = options.afterChunk;
    while (!reader.done) {
      const bytesRead = readSyncInto(fd, reader, path);
      if (bytesRead < 0) continue;
      reader.advanceScan(bytesRead, visitor);
      afterChunk?.();
    }
    if (reader.error) throw reader.error;
  } finally {
    if (path !== '-') closeSync(fd);
  }
}

/** One visitor for the whole scan that passes on only the frames `filter` accepts (its test is looked up per link type). */
function filteredVisitor(filter: CompiledFilter, visit: FrameVisitor): FrameVisitor {
  let linkTypeSeen = Number.NaN;
  let test = filter.forLinkType(1);
  return (buf, start, caplen, origLen, seconds, nanos, linkType, at) => {
    if (linkType !== linkTypeSeen) {
      linkTypeSeen = linkType;
      test = filter.forLinkType(linkType);
    }
    if (test(buf, start, caplen, origLen)) visit(buf, start, caplen, origLen, seconds, nanos, linkType, at);
  };
}

/** Records one at a time with blocking reads. */
export function* readPcapSync(path: string, options: ReadOptions = {}): Generator<PcapRecord, void, undefined> {
  for (const batch of readPcapBatchesSync(path, options)) yield* batch;
}

/** A record dissected from its link type, with its capture time set. */
export function recordToPacket(rec: PcapRecord): Packet {
  const packet = dissect(rec.data, rec.linkType);
  packet.time = rec.time;
  packet.timeNs = rec.timestamp;
  if (rec.comment !== undefined) packet.comment = rec.comment;
  return packet;
}

/** Dissected packets, with `time` (µs) and `timeNs` (bigint ns) set from the file. */
export async function* readPackets(path: string, options: ReadOptions = {}): AsyncGenerator<Packet, void, undefined> {
  for await (const batch of readPcapBatches(path, options)) {
    for (const rec of batch) yield recordToPacket(rec);
  }
}

/** Dissected packets with blocking reads. */
export function* readPacketsSync(path: string, options: ReadOptions = {}): Generator<Packet, void, undefined> {
  for (const batch of readPcapBatchesSync(path, options)) {
    for (const rec of batch) yield recordToPacket(rec);
  }
}

export { PcapRecord, formatEpoch, type CaptureInterface, type CaptureFormat, type InterfaceListener } from './record.js';
export { CaptureFileError } from './errors.js';

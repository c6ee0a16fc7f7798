/**
 * `synack read FILE [FILTER]`: prints a capture file as `tcpdump -nn -r FILE [FILTER]` does,
 * line for line (the "reading from file" note goes to stderr, as tcpdump's does), with -v,
 * -e, -x/-xx and -S. --ladder draws each TCP conversation as a ladder; --svg writes them.
 *
 * The FILTER is synack's own subset of pcap-filter(7), compiled to code (pcap/filter/): the
 * cap addon can compile filters only on live interfaces.
 *
 * Fast path: blocking batch reads (one per 256 KiB chunk), the printer's batch path (no
 * dissection, no string per packet: lines are written as bytes into one buffer), output
 * written in ~1 MiB blocks with one call each. A second thread was tried and measured slower
 * once the batch path existed: handing records across costs more than printing them.
 * main.ts loads this module without the packet runtime (layers, link types, show hooks), so
 * whatever here dissects must import it: conversations.ts does.
 */
import { fstatSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { readPcapBatchesSync, recordToPacket, scanFramesSync } from '../pcap/read.js';
import type { CompiledFilter } from '../pcap/filter/index.js';
import type { PcapRecord } from '../pcap/record.js';
import { linkTypeDescription } from '../pcap/link-type-names.js';
import { createPrinter, type Printer } from '../show/printer.js';
import type { InterfaceListener } from '../pcap/record.js';
import { examples, intOption, LineWriter, note, OutputClosed, writeAll } from './common.js';
import { addDisplayOptions, printerOptionsFor, type DisplayFlags } from './display-options.js';
import { action } from './run.js';

interface ReadOptions extends DisplayFlags {
  count?: number;
  ladder?: boolean;
  svg?: string;
  nano?: boolean;
  lines?: boolean;
  n?: number;
  explain?: boolean;
  json?: boolean;
}

/**
 * Whether the input is a pipe or a terminal rather than a file: then each batch read is
 * printed at once (tcpdump -r - prints packets as they arrive), not when a megabyte of lines
 * has gathered.
 */
function isLiveInput(file: string): boolean {
  try {
    return !(file === '-' ? fstatSync(0) : statSync(file)).isFile();
  } catch {
    // The reader reports a missing or unreadable file in its own words.
    return false;
  }
}

export function registerRead(program: Command): void {
  const command = program
    .command('read')
    .description('print a capture file as tcpdump -nn -r does; draw its TCP conversations as ladders')
    .argument('<file>', "a pcap or pcapng file ('-' for standard input)")
    .argument('[filter...]', 'a capture filter (a subset of pcap-filter(7): host, net, port, portrange, protocols, tcp[...] tests, and/or/not)');
  addDisplayOptions(command)
    .option('-n', 'accepted for tcpdump habits: synack never resolves names', (_: string, n: number) => n + 1, 0)
    .option('-c, --count <n>', 'stop after this many packets (that pass the filter)', intOption('count', 1))
    .option('--nano', 'print nanosecond timestamps for nanosecond files (tcpdump --nano)')
    .option('--ladder', 'after the lines, draw each TCP conversation as a ladder')
    .option('--svg <out>', 'write each TCP conversation as an SVG ladder (OUT, or OUT-1.svg, OUT-2.svg...)')
    .option('--no-lines', 'with --ladder/--svg: leave the packet lines out')
    .option('--json', 'each packet as one line of JSON (the packet schema of every --json: time, summary, layers)')
    .option('--explain', "under each TCP line, a plain-language note, Wireshark's analysis flags and both endpoints' states")
    .addHelpText(
      'after',
      examples(
        'synack read capture.pcap',
        "synack read capture.pcap 'tcp port 80 and host 127.0.0.1'",
        "synack read capture.pcapng -v 'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0'",
        'synack read capture.pcap -e -xx -c 10',
        'synack read capture.pcap -X -tttt port 80',
        'tcpdump -i lo -U -w - port 8080 | synack read -',
        'synack read handshake.pcap --ladder --svg handshake.svg',
        'synack read capture.pcap --explain',
      ),
    )
    .action(
      action(async (file: string, filterWords: string[], opts: ReadOptions) => {
        const filterText = filterWords.join(' ');
        // Compiled before the file is opened, so a mistake in it is reported first; the reader
        // tests each frame in place and makes records only of those that pass.
        const filter = filterText.trim() === '' ? undefined : (await import('../pcap/filter/index.js')).compileFilter(filterText);
        const printerOptions = printerOptionsFor(opts);
        if (opts.json) return printJson(file, filter, opts);
        const printer = createPrinter(printerOptions);
        // Ladders dissect packets: only they load the layers (the printer's fast path needs none).
        const conversations = opts.ladder || opts.svg ? new (await import('./conversations.js')).ConversationTable() : undefined;
        const printLines = !(opts.lines === false && conversations);
        const explainer = opts.explain ? await (await import('./explain-lines.js')).createExplainLines() : undefined;
        // One line per record unless -v or -x add more: then notes go after each record's lines.
        const oneLinePerRecord = printerOptions.verbose === 0 && printerOptions.hex === undefined && printerOptions.ascii === undefined;
        const live = isLiveInput(file);
        const nano = opts.nano ?? false;
        let announced = false;
        const onInterface: InterfaceListener = (iface) => {
          // tcpdump announces the file once, on stderr, before the first line.
          if (announced) return;
          announced = true;
          note(`reading from file ${file}, link-type ${linkTypeDescription(iface.linkType)}, snapshot length ${iface.snaplen || 262144}\n`);
        };
        // Only lines, every one: printed from the read chunk itself, no record per frame.
        if (printLines && !conversations && !explainer && opts.count === undefined) return printFrames(file, filter, printer, nano, live, onInterface);
        const w = new LineWriter();
        let printed = 0;
        const limit = opts.count ?? Infinity;
        const kept: PcapRecord[] = [];
        try {
          outer: for (const batch of readPcapBatchesSync(file, {
            filter,
            // Lines (and --explain's notes, which keep no frame) are printed from each batch before
            // the next is read; ladders keep packets.
            transient: !conversations,
            onInterface,
          })) {
            let stop = false;
            let records: readonly PcapRecord[] = batch;
            if (printed + batch.length > limit) {
              kept.length = 0;
              for (let i = 0; i < batch.length; i++) {
                kept.push(batch[i]!);
                if (printed + kept.length >= limit) {
                  stop = true;
                  break;
                }
              }
              records = kept;
            }
            printed += records.length;
            if (printLines && records.length > 0 && explainer) {
              if (oneLinePerRecord) {
                const chunk = printer.formatBatch(records, nano);
                let start = 0;
                for (const rec of records) {
                  const end = chunk.indexOf(10, start) + 1;
                  w.bytes(chunk, start, end);
                  start = end;
                  const line = explainer.line(rec);
                  if (line !== undefined) w.line(line);
                }
              } else {
                for (const rec of records) {
                  w.line(printer.formatRecord(rec, nano));
                  const line = explainer.line(rec);
                  if (line !== undefined) w.line(line);
                }
              }
            } else if (printLines && records.length > 0) {
              // One buffer of lines per batch: no string per packet.
              const chunk = printer.formatBatch(records, nano);
              w.bytes(chunk, 0, chunk.length);
            }
            if (conversations) for (const rec of records) conversations.add(rec.data, rec.linkType, rec.seconds * 1e6 + rec.nanos / 1000);
            if (stop) break outer;
            if (live) w.flush();
          }
          if (conversations && opts.ladder) {
            if (printLines && printed > 0) w.line('');
            w.line(conversations.size ? conversations.ladders(opts.absolute) : 'no TCP conversations to draw');
          }
          w.flush();
        } catch (err) {
          if (err instanceof OutputClosed) {
            return 0;
          }
          // What was read before a damaged record is printed before the error, as tcpdump does.
          try {
              w.flush();
          } catch {
            // The reader is gone; the error below is what matters.
          }
          throw err;
        }
        if (conversations && opts.svg) {
          const paths = conversations.writeSvgs(opts.svg, opts.absolute);
          note(paths.length ? `wrote ${paths.join(', ')}\n` : 'no TCP conversations: no SVG written\n');
        }
        return 0;
      }),
    );
}

/** Bytes of lines gathered before they are written: a block that stays in the CPU's cache. */
const FLUSH_AT = 1 << 16;
/**
 * Bytes per read: one core's L2 cache (1 MiB here) rather than the scanner's 4 MiB default,
 * measured 10-20% less CPU for a filtered read of 600k packets (the filter looks at each frame
 * while its bytes are still in the cache the read put them in); the same for a plain read.
 */
const READ_CHUNK_SIZE = 1 << 20;

/**
 * The lines of every frame (that passes the filter), printed where each frame lies in the read
 * chunk (scanFramesSync): no record, no slice, no string per frame; the printer's own buffer is
 * written out each time FLUSH_AT bytes have gathered (and after each read from a pipe).
 */
function printFrames(file: string, filter: CompiledFilter | undefined, printer: Printer, nano: boolean, live: boolean, onInterface: InterfaceListener): number {
  const flush = (): void => {
    const bytes = printer.takeBytes();
    if (bytes.length > 0) writeAll(1, bytes);
  };
  try {
    scanFramesSync(
      file,
      (buf, start, caplen, origLen, seconds, nanos, linkType) => {
        if (printer.appendFrame(buf, start, caplen, origLen, seconds, nanos, linkType, nano) >= FLUSH_AT) flush();
      },
      { filter, onInterface, chunkSize: READ_CHUNK_SIZE, afterChunk: live ? flush : undefined },
    );
    flush();
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    // What was read before a damaged record is printed before the error, as tcpdump does.
    try {
      flush();
    } catch {
      // The reader is gone; the error below is what matters.
    }
    throw err;
  }
  return 0;
}

/**
 * --json: one packet a line (JSON Lines, so a capture of any size streams), each in the packet
 * schema every --json uses (src/show/json.ts); the summary is the line tcpdump prints without
 * its time stamp (sequence numbers relative per flow unless -S).
 */
async function printJson(file: string, filter: CompiledFilter | undefined, opts: ReadOptions): Promise<number> {
  // Dissecting needs every layer registered: only --json (and ladders) load them.
  await import('./packet-support.js');
  const { packetJson } = await import('../show/json.js');
  const summaries = createPrinter({ noTimestamp: true, absolute: opts.absolute ?? false, verbose: opts.verbose ?? 0, quiet: opts.quiet ?? false });
  const live = isLiveInput(file);
  const w = new LineWriter();
  const limit = opts.count ?? Infinity;
  let printed = 0;
  let announced = false;
  try {
    outer: for (const batch of readPcapBatchesSync(file, {
      filter,
      onInterface: (iface) => {
        if (announced) return;
        announced = true;
        note(`reading from file ${file}, link-type ${linkTypeDescription(iface.linkType)}, snapshot length ${iface.snaplen || 262144}\n`);
      },
    })) {
      for (const rec of batch) {
        if (printed >= limit) break outer;
        printed++;
        w.line(JSON.stringify(packetJson(recordToPacket(rec), summaries.formatRecord(rec))));
      }
      if (live) w.flush();
      if (printed >= limit) break;
    }
    w.flush();
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    try {
      w.flush();
    } catch {
      // The reader is gone; the error below is what matters.
    }
    throw err;
  }
  return 0;
}

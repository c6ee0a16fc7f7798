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
import type { Command } from 'commander';
import { readPcapBatchesSync } from '../pcap/read.js';
import type { PcapRecord } from '../pcap/record.js';
import { linkTypeDescription } from '../pcap/link-type-names.js';
import { createPrinter } from '../show/printer.js';
import { examples, intOption, LineWriter, note, OutputClosed } from './common.js';
import { action } from './run.js';

interface ReadOptions {
  verbose?: number;
  link?: boolean;
  hex?: number;
  absolute?: boolean;
  count?: number;
  ladder?: boolean;
  svg?: string;
  nano?: boolean;
  quiet?: boolean;
  n?: number;
}

const increase = (_: string, previous: number): number => previous + 1;


export function registerRead(program: Command): void {
  program
    .command('read')
    .description('print a capture file as tcpdump -nn -r does; draw its TCP conversations as ladders')
    .argument('<file>', "a pcap or pcapng file ('-' for standard input)")
    .argument('[filter...]', 'a capture filter (a subset of pcap-filter(7): host, net, port, portrange, protocols, tcp[...] tests, and/or/not)')
    .option('-v, --verbose', 'more detail, as tcpdump -v (repeat: -vv)', increase, 0)
    .option('-e, --link', 'print the link-layer header (tcpdump -e)')
    .option('-x, --hex', 'hex of each packet from the network layer; -xx from the link layer', increase, 0)
    .option('-S, --absolute', 'absolute TCP sequence numbers (tcpdump -S)')
    .option('-n', 'accepted for tcpdump habits: synack never resolves names', increase, 0)
    .option('-c, --count <n>', 'stop after this many packets (that pass the filter)', intOption('count', 1))
    .option('--nano', 'print nanosecond timestamps for nanosecond files (tcpdump --nano)')
    .option('--ladder', 'after the lines, draw each TCP conversation as a ladder')
    .option('--svg <out>', 'write each TCP conversation as an SVG ladder (OUT, or OUT-1.svg, OUT-2.svg...)')
    .option('-q, --quiet', 'with --ladder/--svg: leave the packet lines out')
    .addHelpText(
      'after',
      examples(
        'synack read capture.pcap',
        "synack read capture.pcap 'tcp port 80 and host 127.0.0.1'",
        "synack read capture.pcapng -v 'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0'",
        'synack read capture.pcap -e -xx -c 10',
        'synack read handshake.pcap --ladder --svg handshake.svg',
      ),
    )
    .action(
      action(async (file: string, filterWords: string[], opts: ReadOptions) => {
        const filterText = filterWords.join(' ');
        // Compiled before the file is opened, so a mistake in it is reported first; the reader
        // tests each frame in place and makes records only of those that pass.
        const filter = filterText.trim() === '' ? undefined : (await import('../pcap/filter/index.js')).compileFilter(filterText);
        const printerOptions = {
          verbose: opts.verbose ?? 0,
          link: opts.link ?? false,
          absolute: opts.absolute ?? false,
          hex: opts.hex === undefined || opts.hex === 0 ? undefined : opts.hex === 1 ? ('x' as const) : ('xx' as const),
        };
        const printer = createPrinter(printerOptions);
        // Ladders dissect packets: only they load the layers (the printer's fast path needs none).
        const conversations = opts.ladder || opts.svg ? new (await import('./conversations.js')).ConversationTable() : undefined;
        const printLines = !(opts.quiet && conversations);
        const nano = opts.nano ?? false;
        const w = new LineWriter();
        let announced = false;
        let printed = 0;
        const limit = opts.count ?? Infinity;
        const kept: PcapRecord[] = [];
        try {
          outer: for (const batch of readPcapBatchesSync(file, {
            filter,
            onInterface: (iface) => {
              // tcpdump announces the file once, on stderr, before the first line.
              if (announced) return;
              announced = true;
              note(`reading from file ${file}, link-type ${linkTypeDescription(iface.linkType)}, snapshot length ${iface.snaplen || 262144}\n`);
            },
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
            if (printLines && records.length > 0) {
              // One buffer of lines per batch: no string per packet.
              const chunk = printer.formatBatch(records, nano);
              w.bytes(chunk, 0, chunk.length);
            }
            if (conversations) for (const rec of records) conversations.add(rec.data, rec.linkType, rec.seconds * 1e6 + rec.nanos / 1000);
            if (stop) break outer;
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

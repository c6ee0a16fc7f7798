/**
 * `synack sniff`: live tcpdump lines. The FILTER is handed to libpcap itself (the whole
 * pcap-filter(7) language), -w writes the capture instead of printing it (as tcpdump -w),
 * --ladder draws the TCP conversations seen when the capture ends. It ends after -c packets,
 * after --duration seconds, or on Ctrl-C.
 */
import { Option, type Command } from 'commander';
import { Capture } from '../io/capture.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { linkTypeDescription, linkTypeNumber } from '../pcap/link-type-names.js';
import { PcapWriter } from '../pcap/pcap-writer.js';
import { createPrinter } from '../show/printer.js';
import { ConversationTable } from './conversations.js';
import { examples, intOption, LineWriter, note } from './common.js';
import { durationOption } from './duration.js';
import { action } from './run.js';
import { SynackError, usageError } from '../wire/errors.js';
import { compileFilter } from '../pcap/filter/index.js';
import { checkIface } from './send.js';
import { addDisplayOptions, printerOptionsFor, type DisplayFlags } from './display-options.js';
import { packetJson } from '../show/json.js';
import { dissect } from '../packet/dissect.js';
import { checkWritable } from './files.js';
import type { ViewFrame } from '../view/model.js';
import { MAX_VIEW_BYTES, MAX_VIEW_PACKETS } from '../view/model.js';

interface SniffOptions extends DisplayFlags {
  iface?: string;
  count?: number;
  duration?: number;
  write?: string;
  ladder?: boolean;
  n?: number;
  explain?: boolean;
  json?: boolean;
  html?: string;
  I?: string;
}

/**
 * Opens a capture; when libpcap rejects the filter with its bare "syntax error", the filter is
 * diagnosed by the compiler `synack read` uses, which names the column and suggests the fix.
 */
function openCapture(...args: ConstructorParameters<typeof Capture>): Capture {
  try {
    return new Capture(...args);
  } catch (err) {
    if (err instanceof SynackError && err.message.startsWith('bad capture filter')) compileFilter(args[2]?.filter ?? '');
    throw err;
  }
}

export function registerSniff(program: Command): void {
  const command = program
    .command('sniff')
    .description('capture live packets and print them as tcpdump -nn does')
    .argument('[filter...]', "a capture filter in pcap-filter(7) syntax, e.g. 'tcp port 80'");
  addDisplayOptions(command)
    .option('-i, --iface <name>', "interface to capture on (default 'any')")
    .option('-c, --count <n>', 'stop after this many packets', intOption('count', 1))
    .option('--duration <time>', 'stop after this long: seconds, or 500ms, 2m', durationOption())
    .option('-w, --write <file>', 'write the packets to a pcap file instead of printing them')
    .option('-n', 'accepted for tcpdump habits: synack never resolves names', (_: string, n: number) => n + 1, 0)
    .option('--json', 'each packet as one line of JSON (the packet schema of every --json: time, summary, layers)')
    .option('--ladder', 'when the capture ends, draw each TCP conversation as a ladder')
    .option('--html <out>', 'when the capture ends, also write it as a self-contained HTML view (list, layers, bytes, ladders, follow)')
    .option('--explain', "under each TCP line, a plain-language note, Wireshark's analysis flags and both endpoints' states")
    .addOption(new Option('-I <name>', "hping3's interface flag, answered with tcpdump's -i").hideHelp())
    .addHelpText(
      'after',
      examples(
        'sudo synack sniff -i lo tcp port 8080',
        "sudo synack sniff -i lo -c 10 -v 'tcp[tcpflags] & tcp-syn != 0'",
        'sudo synack sniff -i lo -A -t port 8080',
        'sudo synack sniff -i lo -c 5 --json port 8080',
        'sudo synack sniff -i lo --duration 5 -w capture.pcap',
        'sudo synack sniff -i lo port 8080 -c 11 --ladder',
      ),
    )
    .action(
      action(async (filterWords: string[], opts: SniffOptions) => {
        if (opts.I !== undefined) throw usageError(`sniff takes the interface as -i, as tcpdump does (-I is hping3's): did you mean -i ${opts.I}?`);
        requireRawPrivilege('synack sniff');
        const iface = opts.iface ?? 'any';
        // Checked first: libpcap would print its own warning about a missing device on stderr.
        if (iface !== 'any') checkIface(iface);
        const filter = filterWords.join(' ');
        const printer = createPrinter(printerOptionsFor(opts));
        // --json: the summary is the line without its time stamp (the time is a field of its own).
        const summaries = opts.json ? createPrinter({ noTimestamp: true, absolute: opts.absolute ?? false, verbose: opts.verbose ?? 0, quiet: opts.quiet ?? false }) : undefined;
        const conversations = opts.ladder ? new ConversationTable() : undefined;
        const explainer = opts.explain ? await (await import('./explain-lines.js')).createExplainLines() : undefined;
        if (opts.html) checkWritable(opts.html, 'HTML view');
        // --html: the frames kept for the view, within the view's own bounds.
        const frames: ViewFrame[] | undefined = opts.html ? [] : undefined;
        let frameBytes = 0;
        const lines = new LineWriter(1, 64 * 1024);
        let writer: PcapWriter | undefined;
        let seen = 0;
        let linkType = 1;
        let finish: () => void = () => undefined;
        const ended = new Promise<void>((resolve) => (finish = resolve));
        let flushTimer: NodeJS.Timeout | undefined;
        const capture = openCapture(
          iface,
          (buf, length, time) => {
            if (opts.count !== undefined && seen >= opts.count) return;
            seen++;
            const data = buf.subarray(0, length);
            const sec = Math.floor(time / 1e6);
            const frac = Math.floor(time - sec * 1e6);
            if (writer) writer.write(data, Math.floor(time));
            else if (summaries) {
              const p = dissect(data, linkType);
              p.time = time;
              lines.line(JSON.stringify(packetJson(p, summaries.format({ data, linkType, sec, frac }))));
            } else lines.line(printer.format({ data, linkType, sec, frac }));
            if (explainer && !writer) {
              const line = explainer.line({ data, linkType, seconds: sec, nanos: frac * 1000 });
              if (line !== undefined) lines.line(line);
            }
            conversations?.add(data, linkType, time);
            if (frames && frames.length < MAX_VIEW_PACKETS && frameBytes + length <= MAX_VIEW_BYTES) {
              frames.push({ data: Buffer.from(data), linkType, seconds: sec, nanos: frac * 1000 });
              frameBytes += length;
            }
            // Live output: flush soon, but not once per packet.
            flushTimer ??= setTimeout(() => {
              flushTimer = undefined;
              lines.flush();
            }, 20);
            if (opts.count !== undefined && seen >= opts.count) finish();
          },
          { filter },
        );
        linkType = linkTypeNumber(capture.link);
        const onSignal = (): void => finish();
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const timer = opts.duration !== undefined ? setTimeout(finish, opts.duration) : undefined;
        try {
          if (opts.write) writer = new PcapWriter(opts.write, { linkType, snaplen: 65535 });
          note(`listening on ${iface}, link-type ${linkTypeDescription(linkType)}, snapshot length 65535 bytes\n`);
          await ended;
        } finally {
          if (timer) clearTimeout(timer);
          if (flushTimer) clearTimeout(flushTimer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          capture.close();
          writer?.close();
        }
        if (conversations) {
          if (!writer && seen > 0) lines.line('');
          lines.line(conversations.size ? conversations.ladders(opts.absolute) : 'no TCP conversations to draw');
        }
        lines.flush();
        note(`${seen} packet${seen === 1 ? '' : 's'} captured${writer ? ` to ${opts.write}` : ''}\n`);
        if (frames && opts.html) {
          if (frames.length < seen) note(`the view keeps the first ${frames.length} packets (its bounds: ${MAX_VIEW_PACKETS} packets, ${MAX_VIEW_BYTES / 1024 / 1024} MiB)\n`);
          await (await import('./view.js')).writeHtmlView(opts.html, frames, `sniff on ${iface}`);
        }
        return 0;
      }),
    );
}

/**
 * `synack script`: run a conversation script (packetdrill's packet lines, seen from the server
 * under test) against a live server and check its replies; or record one.
 *
 *   synack script examples/scripts/handshake-3way-close.pkt --target 127.0.0.1:8080
 *   synack script examples/scripts/ --target 127.0.0.1:8080 --report junit > results.xml
 *   synack script --record 127.0.0.1:8080 --send 'get' --close active > get.pkt
 *
 * Exit 0 when every line holds, 1 on the first failed check (the report names the line and
 * the field, shows both segments in script syntax, and leaves a pcap of the run), 2 on a
 * script error (file:line:column) or a usage mistake. A folder (or several files) runs every
 * .pkt in it, in name order, and reports one verdict per script (--report tap|junit for a CI):
 * exit 1 if any failed, 2 if any could not be read.
 */
import type { Command } from 'commander';
import { writeHtmlView } from './view.js';
import { usageError } from '../wire/errors.js';
import { parseScript } from '../script/parse.js';
import { runScript } from '../script/runner.js';
import { CLOSE_MODES, recordConversation, type CloseMode } from '../script/recorder.js';
import { parseTarget } from '../script/target.js';
import { requireRoot } from './privilege.js';
import { EXIT_NO_ANSWER, EXIT_OK, EXIT_USAGE, action } from './run.js';
import { durationOption } from './duration.js';
import { checkWritable, readTextFile, writeTextFile } from './files.js';
import { unescapeData } from './common.js';
import { createPrinter } from '../show/printer.js';
import { packetExplainer } from './explain-lines.js';
import { REPORT_FORMATS, formatReport, type ReportFormat } from '../script/report.js';
import { expandScriptPaths, passSummary, runScriptFiles, type SuiteOptions } from '../script/suite.js';

interface ScriptOptions {
  target?: string;
  tolerance?: number;
  pcap?: string;
  quiet?: boolean;
  absolute?: boolean;
  record?: string;
  send: string[];
  close?: string;
  wait?: number;
  output?: string;
  explain?: boolean;
  html?: string;
  strictSegments?: boolean;
  nothingMore?: boolean;
  define: string[];
  report?: string;
  listen?: string;
  client?: string;
}

/** `--listen PORT` or `--listen ADDRESS:PORT`: the listening role. */
function parseListen(text: string | undefined): { port: number; address?: string } | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) {
    const port = Number(text);
    if (port < 1 || port > 65535) throw usageError(`bad --listen '${text}': port ${text} is out of range (1-65535)`);
    return { port };
  }
  const t = parseTarget(text);
  return { port: t.port, address: t.host };
}

/** `--define NAME=VALUE`, repeatable, into packetdrill's symbol table. */
function parseDefines(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(d);
    if (!m) throw usageError(`bad --define '${d}': give NAME=VALUE, e.g. --define MSS=1460`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

export function registerScript(program: Command): void {
  program
    .command('script')
    .description("run a conversation script (packetdrill's packet lines) against a live server and check its replies, or record one")
    .argument('[files...]', 'the script (.pkt), several, or a folder of them')
    .option('-t, --target <host:port>', "the server under test (overrides the script's 'target' line)")
    .option('--tolerance <time>', "timing tolerance: seconds, or 25ms (overrides the script's 'tolerance'; twice the handshake RTT and the scheduling delay measured in this process are added)", durationOption())
    .option('--pcap <file>', 'write the run to this pcap file (a failed run is always written: by default to ~/.local/state/synack/failed-runs, the newest 20 kept)')
    .option('-q, --quiet', 'do not print the exchange, only the verdict')
    .option('--html <out>', 'also write the run as a self-contained HTML view (list, layers, bytes, ladder); a failed run too')
    .option('-S, --absolute', 'print absolute TCP sequence numbers (default relative, as tcpdump)')
    .option('--record <host:port>', 'drive a conversation with --send/--close and print it as a script that passes against the same server')
    .option('--send <data>', 'with --record: data to send once connected (repeatable; \\n \\r \\t \\xNN escapes)', (v: string, all: string[]) => [...all, v], [])
    .option('--close <how>', `with --record: how it ends: ${CLOSE_MODES.join(', ')} (default active)`)
    .option('--wait <time>', 'with --record: listen this long after each send and before closing: seconds, or 200ms (default 200ms)', durationOption())
    .option('-o, --output <file>', 'with --record: write the script here instead of stdout')
    .option('--explain', "under each segment, a plain-language note, Wireshark's analysis flags and both endpoints' states")
    .option('--strict-segments', "one '>' line is one segment (packetdrill's --strict_segments); default: consecutive segments join up to the line's length")
    .option('--nothing-more', 'fail if the server sent anything no line expected by the end (default: nothing after the last line is looked at, as packetdrill)')
    .option('-D, --define <name=value>', "a symbol for the script's numbers, as packetdrill's --define (repeatable): --define MSS=1460", (v: string, all: string[]) => [...all, v], [])
    .option('--listen <port>', "play the server: the script's '>' side is a client connecting to 127.0.0.1:PORT (or ADDRESS:PORT), its SYN the first '>' line (with named connections, one client each)")
    .option('--client <command>', 'with --listen: a shell command started once we listen (curl, nc, ...), stopped when the script ends')
    .option('--report <format>', `how verdicts are written: ${REPORT_FORMATS.join(', ')} (default synack)`)
    .addHelpText(
      'after',
      `
Script lines (time, direction, flags, start:end(length), then ack, win, <options>, payload):
  0      < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
  +0     > S. 0:0(0) ack 1 <...>              // <...>: options not checked; no win: window not checked
  +0     < P. 1:4(3) ack 1 win 502 "get"      // payload as "text" or 0x676574
  *      > P. 1:7(6) ack 4 "200 ok"           // '*' any time; '0.1~0.3' or '+0~+0.05' a window
  +0     quiet 0.2                            // the server must send nothing for 0.2 s
  +0     > [ect0] . 1:1(0) ack 4              // ECN marks: [noecn] [ect0] [ect1] [ce] [ect01]
  0      < S 0:0(0) win 64240 <mss MSS,FO,nop,nop>  // --define MSS=1460; FO/FOEXP cookies, md5 digests
  +0     b < S 0:0(0) win 64240               // a second connection, named before the direction
  --tolerance_usecs=10000   --strict_segments   --define=MSS=1460   (packetdrill's option lines)
  target 127.0.0.1:8080   tolerance 25ms   retransmits allow   psh ignore
'<' is a segment we send to the server, '>' one it must send. Sequence numbers are relative:
ours from a random ISN, the server's from its SYN-ACK; the server's TS val maps from the first one seen.
Named connections each count from their own ISNs; each opens its own port (--target) or is the next
client to connect, in the order of the script's SYN lines (--listen). A line without a name is the first's.

Examples:
  sudo synack script examples/scripts/handshake-3way-close.pkt --target 127.0.0.1:8080
  sudo synack script --record 127.0.0.1:8080 --send 'get' --close active -o get.pkt
  sudo synack script examples/scripts/listen-get.pkt --listen 8081 --client 'printf get | nc -q1 127.0.0.1 8081'
  sudo synack script scripts/ --target 127.0.0.1:8080 --report junit > results.xml`,
    )
    .action(
      action(async (files: string[], opts: ScriptOptions) => {
        const file = files.length === 1 ? files[0] : undefined;
        const report = (opts.report ?? 'synack') as ReportFormat;
        if (!REPORT_FORMATS.includes(report)) throw usageError(`unknown --report '${opts.report}': use ${REPORT_FORMATS.join(', ')}`);
        const defines = parseDefines(opts.define);
        if (opts.record !== undefined) {
          if (files.length > 0) throw usageError('give either a script FILE to run or --record HOST:PORT, not both');
          if (opts.output) checkWritable(opts.output, 'script');
          requireRoot('synack script --record');
          const close = (opts.close ?? 'active') as CloseMode;
          if (!CLOSE_MODES.includes(close)) throw usageError(`unknown --close '${opts.close}': use ${CLOSE_MODES.join(', ')}`);
          const rec = await recordConversation({
            target: opts.record,
            send: opts.send.map(unescapeData),
            close,
            ...(opts.wait !== undefined ? { wait: opts.wait } : {}),
          });
          if (opts.output) writeTextFile(opts.output, rec.script, 'script');
          else process.stdout.write(rec.script);
          return EXIT_OK;
        }
        if (files.length === 0) throw usageError('give a script FILE (or a folder of them) to run, with --target HOST:PORT; or --record HOST:PORT');
        if (opts.send.length || opts.close || opts.wait !== undefined || opts.output) throw usageError('--send, --close, --wait and --output go with --record');
        const listen = parseListen(opts.listen);
        if (listen && opts.target) throw usageError('give --target HOST:PORT (we connect) or --listen PORT (a client connects to us), not both');
        if (opts.client !== undefined && !listen) throw usageError('--client goes with --listen PORT');
        const suite: SuiteOptions = {
          target: opts.target,
          listen,
          client: opts.client,
          tolerance: opts.tolerance === undefined ? undefined : opts.tolerance / 1000,
          strictSegments: opts.strictSegments,
          nothingMore: opts.nothingMore,
          defines,
        };
        const paths = expandScriptPaths(files);
        if (file === undefined || paths.length !== 1 || paths[0] !== file || report !== 'synack') {
          if (opts.pcap) throw usageError('--pcap goes with one script; a folder run keeps a pcap of each failed run');
          requireRoot('synack script');
          const outcomes = await runScriptFiles(paths, suite);
          process.stdout.write(formatReport(report, outcomes));
          if (outcomes.some((o) => o.status === 'error')) return EXIT_USAGE;
          return outcomes.some((o) => o.status === 'failed') ? EXIT_NO_ANSWER : EXIT_OK;
        }
        const text = readTextFile(file, 'script');
        // Parse before asking for root: a script error is worth reporting to anyone.
        const script = parseScript(text, file, { defines });
        if (opts.pcap) checkWritable(opts.pcap, 'capture file');
        requireRoot('synack script');
        const tolerance = opts.tolerance;
        const out = process.stdout;
        // Relative sequence numbers per flow, as tcpdump (and the script itself) writes them; -S absolute.
        const printer = createPrinter({ noTimestamp: true, absolute: opts.absolute ?? false });
        const explain = opts.explain ? packetExplainer() : undefined;
        const result = await runScript(script, {
          target: opts.target,
          listen,
          client: opts.client,
          tolerance: tolerance === undefined ? undefined : tolerance / 1000,
          strictSegments: opts.strictSegments,
          nothingMore: opts.nothingMore,
          pcap: opts.pcap,
          onSegment: opts.quiet
            ? undefined
            : (e, seconds) => {
                const note = explain?.(e.packet);
                out.write(`${seconds.toFixed(6)} ${printer.formatPacket(e.packet)}\n${note === undefined ? '' : note + '\n'}`);
              },
        });
        if (opts.html) await writeHtmlView(opts.html, result.trace.map((t) => t.entry), `script ${file}`);
        if (result.failure) {
          process.stderr.write(`${result.failure.message}\n`);
          return EXIT_NO_ANSWER;
        }
        out.write(`${file}: passed ${passSummary(result)}${opts.pcap ? `; pcap ${opts.pcap}` : ''}\n`);
        return EXIT_OK;
      }),
    );
}

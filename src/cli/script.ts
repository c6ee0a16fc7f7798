/**
 * `synack script`: run a conversation script (packetdrill's packet lines, seen from the server
 * under test) against a live server and check its replies; or record one.
 *
 *   synack script examples/scripts/handshake-3way-close.pkt --target 127.0.0.1:8080
 *   synack script --record 127.0.0.1:8080 --send 'get' --close active > get.pkt
 *
 * Exit 0 when every line holds, 1 on the first failed check (the report names the line and
 * the field, shows both segments in script syntax, and leaves a pcap of the run), 2 on a
 * script error (file:line:column) or a usage mistake.
 */
import type { Command } from 'commander';
import { writeHtmlView } from './view.js';
import { usageError } from '../wire/errors.js';
import { parseScript } from '../script/parse.js';
import { runScript } from '../script/runner.js';
import { CLOSE_MODES, recordConversation, type CloseMode } from '../script/recorder.js';
import { formatTarget } from '../script/target.js';
import { requireRoot } from './privilege.js';
import { EXIT_NO_ANSWER, EXIT_OK, action } from './run.js';
import { durationOption } from './duration.js';
import { checkWritable, readTextFile, writeTextFile } from './files.js';
import { unescapeData } from './common.js';
import { createPrinter } from '../show/printer.js';
import { packetExplainer } from './explain-lines.js';

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
}

export function registerScript(program: Command): void {
  program
    .command('script')
    .description("run a conversation script (packetdrill's packet lines) against a live server and check its replies, or record one")
    .argument('[file]', 'the script (.pkt)')
    .option('-t, --target <host:port>', "the server under test (overrides the script's 'target' line)")
    .option('--tolerance <time>', "timing tolerance: seconds, or 25ms (overrides the script's 'tolerance'; twice the handshake RTT is added)", durationOption())
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
    .addHelpText(
      'after',
      `
Script lines (time, direction, flags, start:end(length), then ack, win, <options>, payload):
  0      < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
  +0     > S. 0:0(0) ack 1 <...>              // <...>: options not checked; no win: window not checked
  +0     < P. 1:4(3) ack 1 win 502 "get"      // payload as "text" or 0x676574
  *      > P. 1:7(6) ack 4 "200 ok"           // '*' any time; '0.1~0.3' or '+0~+0.05' a window
  +0     quiet 0.2                            // the server must send nothing for 0.2 s
  target 127.0.0.1:8080   tolerance 25ms   retransmits allow
'<' is a segment we send to the server, '>' one it must send. Sequence numbers are relative:
ours from a random ISN, the server's from its SYN-ACK; the server's TS val maps from the first one seen.

Examples:
  sudo synack script examples/scripts/handshake-3way-close.pkt --target 127.0.0.1:8080
  sudo synack script --record 127.0.0.1:8080 --send 'get' --close active -o get.pkt`,
    )
    .action(
      action(async (file: string | undefined, opts: ScriptOptions) => {
        if (opts.record !== undefined) {
          if (file !== undefined) throw usageError('give either a script FILE to run or --record HOST:PORT, not both');
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
        if (file === undefined) throw usageError('give a script FILE to run (with --target HOST:PORT), or --record HOST:PORT');
        if (opts.send.length || opts.close || opts.wait !== undefined || opts.output) throw usageError('--send, --close, --wait and --output go with --record');
        const text = readTextFile(file, 'script');
        // Parse before asking for root: a script error is worth reporting to anyone.
        const script = parseScript(text, file);
        if (opts.pcap) checkWritable(opts.pcap, 'capture file');
        requireRoot('synack script');
        const tolerance = opts.tolerance;
        const out = process.stdout;
        // Relative sequence numbers per flow, as tcpdump (and the script itself) writes them; -S absolute.
        const printer = createPrinter({ noTimestamp: true, absolute: opts.absolute ?? false });
        const explain = opts.explain ? packetExplainer() : undefined;
        const result = await runScript(script, {
          target: opts.target,
          tolerance: tolerance === undefined ? undefined : tolerance / 1000,
          pcap: opts.pcap,
          onSegment: opts.quiet
            ? undefined
            : (e, seconds) => {
                const note = explain?.(e.packet);
                out.write(`${seconds.toFixed(6)} ${printer.formatPacket(e.packet)}\n${note === undefined ? '' : note + '\n'}`);
              },
        });
        if (opts.html) await writeHtmlView(opts.html, result.trace.map((t) => t.entry), `script ${file}`);
        const rtt = result.rtt === undefined ? '' : `, handshake RTT ${(result.rtt * 1000).toFixed(3)} ms`;
        if (result.failure) {
          process.stderr.write(`${result.failure.message}\n`);
          return EXIT_NO_ANSWER;
        }
        const skipped = result.retransmissionsSkipped ? `, ${result.retransmissionsSkipped} retransmissions tolerated` : '';
        out.write(`${file}: passed against ${formatTarget(result.target)}${rtt}${skipped}${opts.pcap ? `; pcap ${opts.pcap}` : ''}\n`);
        return EXIT_OK;
      }),
    );
}

/**
 * `synack handshake HOST:PORT`: one conversation by hand against a real server: the three-way
 * handshake, optionally some data and the peer's answer, then the teardown of your choice.
 * Printed as tcpdump lines (relative sequence numbers, as tcpdump shows a live capture), each
 * followed by our state after it, then as a ladder.
 *
 * --close active          we send FIN after the exchange (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT)
 * --close wait            we wait for the peer's FIN, then close (CLOSE-WAIT, LAST-ACK)
 * --close simultaneous    our FIN leaves the moment the peer's answer arrives: a peer that
 *                         closes right after answering sends its FIN before ours reaches it,
 *                         and both sides pass through CLOSING
 * --close rst             we abort with RST
 * The states printed are what happened on the wire, whatever the peer chose to do; a
 * simultaneous close that did not happen is said so (exit 1). Against a closed port the SYN and
 * the peer's RST are shown, with the ladder, and the exit status is 1 (an answer, not a usage
 * error). Lines are printed as the segments go and come; Ctrl-C prints what happened so far.
 */
import type { Command } from 'commander';
import { ephemeralPort, openConversation } from '../tcp/connect.js';
import type { Conversation, TraceEntry } from '../tcp/conversation.js';
import { packetJson } from '../show/json.js';
import { requireRoot } from './privilege.js';
import { renderLadder, renderLadderSvg } from '../show/ladder.js';
import { writeHtmlView } from './view.js';
import { createPrinter } from '../show/printer.js';
import { packetExplainer } from './explain-lines.js';
import { writeTextFile } from './files.js';
import { SynackError, usageError } from '../wire/errors.js';
import { examples, intOption, out, parseHostPort, unescapeData } from './common.js';
import { durationOption, formatDuration } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';

type CloseMode = 'active' | 'wait' | 'simultaneous' | 'rst';
const CLOSE_MODES: CloseMode[] = ['active', 'wait', 'simultaneous', 'rst'];

interface HandshakeOptions {
  send?: string;
  close?: string;
  isn?: number;
  mss?: number;
  timeout?: number;
  json?: boolean;
  svg?: string;
  html?: string;
  absolute?: boolean;
  explain?: boolean;
}

function isTimeout(err: unknown): boolean {
  return err instanceof SynackError && err.kind === 'timeout';
}

/** The teardown, as asked; a peer that does not play along ends in a timeout error. */
async function teardown(c: Conversation, mode: CloseMode, timeout: number, peerClosed: boolean, received: Buffer[]): Promise<void> {
  switch (mode) {
    case 'rst':
      await c.abort();
      return;
    case 'wait': {
      // Read until the peer's FIN (recv returns empty), then close from CLOSE-WAIT.
      const deadline = performance.now() + timeout;
      for (; !peerClosed; ) {
        const left = deadline - performance.now();
        if (left <= 0) throw new SynackError(`the peer did not close within ${formatDuration(timeout)} (state ${c.state})`, 'timeout');
        const chunk = await c.recv({ timeout: left });
        if (chunk.length === 0) break;
        received.push(chunk);
      }
      await c.close({ timeout });
      return;
    }
    default:
      await c.close({ timeout });
  }
}

export function registerHandshake(program: Command): void {
  program
    .command('handshake')
    .description('one TCP conversation by hand: handshake, optional data, a chosen teardown; tcpdump lines, states and a ladder')
    .argument('<target>', 'HOST:PORT of a listening server, e.g. 127.0.0.1:8080')
    .option('--send <data>', 'send this after the handshake and print the whole answer (\\r \\n \\t \\\\ \\xNN escapes)')
    .option('--close <mode>', 'teardown: active, wait, simultaneous or rst', 'active')
    .option('--isn <n>', 'our initial sequence number (default random)', intOption('isn', 0, 0xffffffff))
    .option('--mss <n>', 'the MSS we announce (default 1460)', intOption('mss', 1, 65535))
    .option('--timeout <time>', 'wait for each step: seconds, or 500ms (default 2)', durationOption())
    .option('--svg <out>', 'also write the ladder as SVG')
    .option('--html <out>', 'also write the conversation as a self-contained HTML view (list, layers, bytes, ladder)')
    .option('--json', 'print the trace as JSON (each packet in the schema of src/show/json.ts)')
    .option('-S, --absolute', 'absolute TCP sequence numbers (default relative, as tcpdump)')
    .option('--explain', "under each segment, a plain-language note, Wireshark's analysis flags and both endpoints' states")
    .addHelpText(
      'after',
      examples(
        'sudo synack handshake 127.0.0.1:8080',
        "sudo synack handshake 127.0.0.1:8080 --send 'get' --close wait",
        "sudo synack handshake 127.0.0.1:8080 --send 'get' --close simultaneous",
        'sudo synack handshake 127.0.0.1:8080 --close rst --isn 1000 --mss 536 --svg conversation.svg',
        "sudo synack handshake 127.0.0.1:8080 --send 'get' --explain",
      ),
    )
    .action(
      action(async (target: string, opts: HandshakeOptions) => {
        const { host, port } = parseHostPort(target);
        const mode = (opts.close ?? 'active') as CloseMode;
        if (!CLOSE_MODES.includes(mode)) throw usageError(`unknown --close mode '${opts.close}': use active, wait, simultaneous or rst`);
        const data = opts.send === undefined ? undefined : unescapeData(opts.send);
        requireRoot('synack handshake');
        const timeout = opts.timeout ?? 2000;
        const c = await openConversation(
          { dst: host, dport: port, sport: ephemeralPort() },
          { ...(opts.isn !== undefined ? { isn: opts.isn } : {}), ...(opts.mss !== undefined ? { mss: opts.mss } : {}) },
        );
        const printer = createPrinter({ noTimestamp: true, absolute: opts.absolute ?? false });
        const live = opts.json ? undefined : new TraceFollower(c.trace, printer, opts.explain ? packetExplainer() : undefined);
        // Ctrl-C: the steps are raced against it; the conversation is released and what
        // happened so far is printed.
        let interrupted = false;
        let interrupt: () => void = () => undefined;
        const interruption = new Promise<never>((_, reject) => (interrupt = () => reject(new SynackError('interrupted', 'timeout'))));
        interruption.catch(() => undefined);
        const onSignal = (): void => {
          interrupted = true;
          interrupt();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        let failure: unknown;
        const received: Buffer[] = [];
        let note: string | undefined;
        const steps = async (): Promise<void> => {
          await c.handshake(timeout);
          let peerClosed = false;
          if (data !== undefined) {
            await c.send(data, { timeout });
            peerClosed = await receiveReply(c, received, timeout, mode === 'simultaneous');
            // A peer that closes right after answering: its FIN is on its way; ours leaves now.
            if (mode === 'simultaneous' && (c.state === 'ESTABLISHED' || c.state === 'CLOSE-WAIT')) await c.sendSegment({ flags: 'FA' });
          } else if (mode === 'simultaneous') {
            await c.sendSegment({ flags: 'FA' });
          }
          await teardown(c, mode, timeout, peerClosed, received);
        };
        try {
          await Promise.race([steps(), interruption]);
        } catch (err) {
          failure = err;
          await c.release().catch(() => undefined);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        // Asked for a simultaneous close and the trace shows none: say what happened instead.
        if (mode === 'simultaneous' && !interrupted && c.trace.some((e) => e.state === 'FIN-WAIT-1') && !c.trace.some((e) => e.state === 'CLOSING')) {
          note = notSimultaneous(c, isTimeout(failure) ? timeout : undefined);
          if (isTimeout(failure)) failure = undefined;
        }
        live?.flush();
        const reply = received.length ? Buffer.concat(received) : undefined;
        const left = `us ${c.endpoints.src}.${c.endpoints.sport}`;
        const right = `peer ${host}.${port}`;
        const message = failure instanceof Error ? failure.message : (note ?? null);
        if (opts.json) {
          printer.reset();
          out(
            JSON.stringify(
              {
                src: `${c.endpoints.src}.${c.endpoints.sport}`,
                dst: `${host}.${port}`,
                reply: reply === undefined ? null : reply.toString('latin1'),
                final_state: c.state,
                trace: c.trace.map((e) => ({ time_ms: Number(e.time.toFixed(3)), direction: e.direction, state: e.state, packet: packetJson(e.packet, printer.formatPacket(e.packet)) })),
                error: message,
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          const lines: string[] = [''];
          if (reply !== undefined) lines.push(`received ${JSON.stringify(reply.toString('latin1'))}`);
          lines.push(`final state ${c.state}`, '', renderLadder(c.trace, { left, right, absolute: opts.absolute ?? false }));
          out(lines.join('\n') + '\n');
        }
        if (opts.svg) {
          writeTextFile(opts.svg, renderLadderSvg(c.trace, { left, right, absolute: opts.absolute ?? false }) + '\n');
        }
        if (opts.html) await writeHtmlView(opts.html, c.trace, `handshake with ${host}.${port}`);
        if (interrupted) {
          process.stderr.write('synack: interrupted: the conversation so far is above\n');
          // The step that was running still holds its timer: end here, as Ctrl-C means.
          process.exit(130);
        }
        if (note) {
          process.stderr.write(`synack: ${note}\n`);
          return EXIT_NO_ANSWER;
        }
        if (failure) {
          // The peer answered (RST, silence): the exchange is the answer, not a usage error.
          if (failure instanceof SynackError && failure.kind !== 'usage') {
            process.stderr.write(`synack: ${failure.message}\n`);
            return EXIT_NO_ANSWER;
          }
          throw failure;
        }
        return 0;
      }),
    );
}

/**
 * Prints each trace entry as it happens: the tcpdump line, then our state after it. The
 * conversation keeps its trace as an array; it is looked at every few milliseconds (and once
 * more at the end), which keeps the printing out of the conversation's hot path.
 */
class TraceFollower {
  private printed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly trace: readonly TraceEntry[],
    private readonly printer: ReturnType<typeof createPrinter>,
    private readonly explain?: (packet: TraceEntry['packet']) => string | undefined,
  ) {
    this.timer = setInterval(() => this.printNew(), 5);
    this.timer.unref();
  }

  private printNew(): void {
    let text = '';
    for (; this.printed < this.trace.length; this.printed++) {
      const e = this.trace[this.printed]!;
      text += `${e.time.toFixed(3).padStart(9)} ms  ${this.printer.formatPacket(e.packet)}\n${' '.repeat(14)}-> ${e.state}\n`;
      const note = this.explain?.(e.packet);
      if (note !== undefined) text += note + '\n';
    }
    if (text) out(text);
  }

  flush(): void {
    clearInterval(this.timer);
    this.printNew();
  }
}

/**
 * The peer's whole answer: the first chunk within `timeout`, then whatever follows until the
 * peer's FIN or a quiet spell (the body that comes with the FIN after the headers). Returns
 * true when the peer's FIN came. With `quick`, only the first chunk is awaited: a simultaneous
 * close must send its FIN before the peer's arrives.
 */
async function receiveReply(c: Conversation, received: Buffer[], timeout: number, quick: boolean): Promise<boolean> {
  let wait = timeout;
  for (;;) {
    let chunk: Buffer;
    try {
      chunk = await c.recv({ timeout: wait });
    } catch (err) {
      if (isTimeout(err)) return false;
      throw err;
    }
    if (chunk.length === 0) return true;
    received.push(chunk);
    if (quick) return false;
    wait = QUIET_MS;
  }
}

/** After the first chunk of a reply, this long without more data ends it. */
const QUIET_MS = 300;

/** What happened instead of a simultaneous close, from the trace; `stuckAfter` when the peer never closed. */
function notSimultaneous(c: Conversation, stuckAfter?: number): string {
  const states = [...new Set(c.trace.map((e) => e.state))].join(' -> ');
  if (c.trace.some((e) => e.state === 'CLOSE-WAIT')) return `not a simultaneous close: the peer's FIN came before ours left (${states})`;
  if (stuckAfter !== undefined) return `not a simultaneous close: the peer did not close at once, it acknowledged our FIN and had not closed after ${stuckAfter / 1000} s (${states})`;
  return `not a simultaneous close: the peer did not close at once, it acknowledged our FIN first and closed later (${states})`;
}

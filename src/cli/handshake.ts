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
 * The states printed are what happened on the wire, whatever the peer chose to do.
 */
import type { Command } from 'commander';
import { connect } from '../tcp/connect.js';
import type { Conversation } from '../tcp/conversation.js';
import { requireRoot } from './privilege.js';
import { renderLadder, renderLadderSvg } from '../show/ladder.js';
import { createPrinter } from '../show/printer.js';
import { writeTextFile } from './files.js';
import { SynackError, usageError } from '../wire/errors.js';
import { examples, intOption, out, parseHostPort } from './common.js';
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
}

function isTimeout(err: unknown): boolean {
  return err instanceof SynackError && err.kind === 'timeout';
}

/** The teardown, as asked; a peer that does not play along ends in a timeout error. */
async function teardown(c: Conversation, mode: CloseMode, timeout: number): Promise<void> {
  switch (mode) {
    case 'rst':
      await c.abort();
      return;
    case 'wait': {
      // Read until the peer's FIN (recv returns empty), then close from CLOSE-WAIT.
      const deadline = performance.now() + timeout;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) throw new SynackError(`the peer did not close within ${formatDuration(timeout)} (state ${c.state})`, 'timeout');
        const chunk = await c.recv({ timeout: left });
        if (chunk.length === 0) break;
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
    .option('--send <data>', 'send this after the handshake and wait for the answer')
    .option('--close <mode>', 'teardown: active, wait, simultaneous or rst', 'active')
    .option('--isn <n>', 'our initial sequence number (default random)', intOption('isn', 0, 0xffffffff))
    .option('--mss <n>', 'the MSS we announce (default 1460)', intOption('mss', 1, 65535))
    .option('--timeout <time>', 'wait for each step: seconds, or 500ms (default 2)', durationOption())
    .option('--svg <out>', 'also write the ladder as SVG')
    .option('--json', 'print the trace as JSON')
    .addHelpText(
      'after',
      examples(
        'sudo synack handshake 127.0.0.1:8080',
        "sudo synack handshake 127.0.0.1:8080 --send 'get' --close wait",
        "sudo synack handshake 127.0.0.1:8080 --send 'get' --close simultaneous",
        'sudo synack handshake 127.0.0.1:8080 --close rst --isn 1000 --mss 536 --svg conversation.svg',
      ),
    )
    .action(
      action(async (target: string, opts: HandshakeOptions) => {
        const { host, port } = parseHostPort(target);
        const mode = (opts.close ?? 'active') as CloseMode;
        if (!CLOSE_MODES.includes(mode)) throw usageError(`unknown --close mode '${opts.close}': use active, wait, simultaneous or rst`);
        requireRoot('synack handshake');
        const timeout = opts.timeout ?? 2000;
        const c = await connect({ dst: host, dport: port, timeout, ...(opts.isn !== undefined ? { isn: opts.isn } : {}), ...(opts.mss !== undefined ? { mss: opts.mss } : {}) });
        let failure: unknown;
        let reply: Buffer | undefined;
        try {
          if (opts.send !== undefined) {
            await c.send(opts.send, { timeout });
            try {
              reply = await c.recv({ timeout });
            } catch (err) {
              if (!isTimeout(err)) throw err;
            }
            // A peer that closes right after answering: its FIN is on its way; ours leaves now.
            if (mode === 'simultaneous' && (c.state === 'ESTABLISHED' || c.state === 'CLOSE-WAIT')) await c.sendSegment({ flags: 'FA' });
          } else if (mode === 'simultaneous') {
            await c.sendSegment({ flags: 'FA' });
          }
          await teardown(c, mode, timeout);
        } catch (err) {
          failure = err;
          await c.release().catch(() => undefined);
        }
        const printer = createPrinter({ noTimestamp: true });
        const left = `us ${host}.${c.endpoints.sport}`;
        const right = `peer ${host}.${port}`;
        if (opts.json) {
          out(
            JSON.stringify(
              {
                src: `${c.endpoints.src}.${c.endpoints.sport}`,
                dst: `${host}.${port}`,
                reply: reply === undefined ? null : reply.toString('latin1'),
                final_state: c.state,
                trace: c.trace.map((e) => ({ time_ms: Number(e.time.toFixed(3)), direction: e.direction, line: printer.formatPacket(e.packet), state: e.state })),
                error: failure instanceof Error ? failure.message : null,
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          const lines: string[] = [];
          for (const e of c.trace) lines.push(`${e.time.toFixed(3).padStart(9)} ms  ${printer.formatPacket(e.packet)}\n${' '.repeat(14)}-> ${e.state}`);
          lines.push('');
          if (reply !== undefined) lines.push(`received ${JSON.stringify(reply.toString('latin1'))}`);
          lines.push(`final state ${c.state}`, '', renderLadder(c.trace, { left, right }));
          out(lines.join('\n') + '\n');
        }
        if (opts.svg) {
          writeTextFile(opts.svg, renderLadderSvg(c.trace, { left, right }) + '\n');
        }
        if (failure) {
          if (isTimeout(failure)) {
            process.stderr.write(`synack: ${(failure as Error).message}\n`);
            return EXIT_NO_ANSWER;
          }
          throw failure;
        }
        return 0;
      }),
    );
}

/**
 * `synack shell`: a REPL with the whole API in scope, as Scapy's shell: top-level await
 * (`await sr1(IP({dst:'127.0.0.1'}).add(TCP({dport:22,flags:'S'})))`), tab completion of layer
 * names and, inside a layer's parentheses, of that layer's fields, and a history file
 * (~/.synack_history, or $SYNACK_HISTORY).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import repl, { type REPLServer } from 'node:repl';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import * as api from '../index.js';
import { connect, openConversation } from '../tcp/connect.js';
import { renderLadder, renderLadderSvg } from '../show/ladder.js';
import type { LayerFactory } from '../packet/packet.js';
import { examples } from './common.js';
import { action } from './run.js';

/** Every layer factory in the API, by name. */
function factories(): Map<string, LayerFactory> {
  const out = new Map<string, LayerFactory>();
  for (const [name, value] of Object.entries(api)) {
    if (typeof value === 'function' && (value as Partial<LayerFactory>).isFactory) out.set(name, value as LayerFactory);
  }
  return out;
}

/** Field names of a layer, for completion inside `Layer({ ...`. */
function fieldNames(f: LayerFactory): string[] {
  return [...new Set(f.layerClass.fieldSpecs.map((s) => s.name))];
}

type Completer = (line: string, callback: (err: Error | null, result?: [string[], string]) => void) => void;

/**
 * Completion: inside `Name(` or `Name({` (up to the closing parenthesis) the fields of layer
 * Name; otherwise layer names added to Node's own completion of the REPL's scope.
 */
export function synackCompleter(layers: Map<string, LayerFactory>, fallback: Completer | undefined): Completer {
  return (line, callback) => {
    const inside = /([A-Za-z_][A-Za-z0-9_]*)\(\{?(?:[^()]*?[,{]\s*)?([A-Za-z_]*)$/.exec(line);
    if (inside && layers.has(inside[1]!)) {
      const prefix = inside[2]!;
      const fields = fieldNames(layers.get(inside[1]!)!).filter((n) => n.startsWith(prefix));
      callback(null, [fields.map((n) => `${n}: `), prefix]);
      return;
    }
    const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(line)?.[0] ?? '';
    const ours = word ? [...layers.keys()].filter((n) => n.startsWith(word)) : [];
    if (!fallback) {
      callback(null, [ours, word]);
      return;
    }
    fallback(line, (err, result) => {
      if (err || !result) {
        callback(null, [ours, word]);
        return;
      }
      const [hits, sub] = result;
      if (sub === word) callback(null, [[...new Set([...ours, ...hits])].sort(), sub]);
      else callback(null, result);
    });
  };
}

/** The prompt used with piped input: the REPL writes it once a line is fully evaluated. */
const PIPED_PROMPT = '\u0001synack\u0001';

/**
 * Feeds standard input to the REPL one line at a time, waiting for each line's evaluation
 * (awaits included) to finish, shown by the REPL writing its prompt again. Output goes to
 * stdout without prompts; 1 when any line threw.
 */
async function runPiped(server: REPLServer, input: PassThrough, output: PassThrough): Promise<number> {
  const lines = readFileSync(0, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let failed = false;
  let seen = '';
  let wake: (() => void) | undefined;
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    seen += chunk;
    // Everything before the last prompt (or a continuation prompt) is finished output.
    const ready = seen.endsWith(PIPED_PROMPT) || /(^|\n)\.\.\. *$/.test(seen);
    if (!ready) return;
    const text = seen.split(PIPED_PROMPT).join('').replace(/(^|\n)\.\.\. *$/, '$1');
    seen = '';
    if (/(^|\n)Uncaught\b/.test(text)) failed = true;
    if (text) process.stdout.write(text);
    const w = wake;
    wake = undefined;
    w?.();
  });
  const step = (line?: string): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      if (line !== undefined) input.write(line + '\n');
    });
  await step(); // the first prompt
  for (const line of lines) await step(line);
  void server;
  return failed ? 1 : 0;
}

export function registerShell(program: Command): void {
  program
    .command('shell')
    .description('an interactive shell with the whole synack API in scope (top-level await, completion, history)')
    .option('--history <file>', 'history file (default ~/.synack_history, or $SYNACK_HISTORY)')
    .option('--no-history', 'keep no history')
    .addHelpText(
      'after',
      examples(
        'synack shell',
        "  synack> p = IP({dst: '127.0.0.1'}).add(TCP({dport: 22, flags: 'S'}))",
        '  synack> p.show()',
        '  synack> r = await sr1(p)            (as root)',
        "  synack> packet(\"IP(dst='127.0.0.1')/TCP(dport=80)\").summary()",
        "echo \"IP().add(TCP()).summary()\" | synack shell",
      ),
    )
    .action(
      action(async (opts: { history?: string | false }) => {
        const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
        if (tty) process.stdout.write("synack shell: the API is in scope (IP, TCP, packet, sr1, connect, ...). Tab completes layers and fields; .exit leaves.\n");
        // Piped input is run line by line, each awaited before the next (the REPL itself would
        // start the next line while an `await` is still pending).
        const input = tty ? process.stdin : new PassThrough();
        const output = tty ? process.stdout : new PassThrough();
        const server = repl.start({ prompt: tty ? 'synack> ' : PIPED_PROMPT, useGlobal: false, ignoreUndefined: true, terminal: tty, input, output });
        const layers = factories();
        Object.assign(server.context, api, { connect, openConversation, renderLadder, renderLadderSvg, synack: api });
        const fallback = server.completer as unknown as Completer | undefined;
        (server as unknown as { completer: Completer }).completer = synackCompleter(layers, fallback);
        if (!tty) {
          const code = await runPiped(server, input as PassThrough, output as PassThrough);
          server.close();
          return code;
        }
        const historyFile = opts.history === false ? undefined : (opts.history ?? process.env.SYNACK_HISTORY ?? join(homedir(), '.synack_history'));
        if (historyFile) {
          await new Promise<void>((resolve) => server.setupHistory(historyFile, () => resolve()));
        }
        await new Promise<void>((resolve) => server.on('exit', resolve));
        return 0;
      }),
    );
}

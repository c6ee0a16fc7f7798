/**
 * `synack shell`: a REPL with the whole API in scope, as Scapy's shell: top-level await
 * (`await sr1(IP({dst:'127.0.0.1'}).add(TCP({dport:22,flags:'S'})))`), tab completion of layer
 * names and, inside a layer's parentheses, of that layer's fields, and a history file
 * (~/.synack_history, or $SYNACK_HISTORY). Scapy's habits: a packet shows as its short repr
 * (util.inspect, see show/repr.ts), show(), hexdump() and ls() print their text, Ctrl-C stops the
 * running sr/sr1/send/sniff/connect/listen (through their AbortSignal; an aborted
 * connect or listen releases its guard) and gives the prompt back, and leaving
 * (.exit, Ctrl-D) aborts the conversations still open, so that no guard is left behind.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import repl, { type REPLEval, type REPLWriter } from 'node:repl';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import * as api from '../index.js';
import type { Conversation } from '../tcp/conversation.js';
import { flushGuards } from '../tcp/guard.js';
import { packetHooks, type LayerFactory } from '../packet/packet.js';
import { SynackError } from '../wire/errors.js';
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

export type Completer = (line: string, callback: (err: Error | null, result?: [string[], string]) => void) => void;

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

type AnyFn = (...args: never[]) => unknown;

const INTERRUPTED = 'interrupted (Ctrl-C)';

/**
 * What the shell keeps around the API: the signal that Ctrl-C aborts, the conversations the
 * user opened (aborted on the way out), and the texts to print as they are rather than as quoted
 * strings (what show(), hexdump(), ls() and the ladders return).
 */
export class ShellSession {
  private interrupt = new AbortController();
  /** Whether a line is being evaluated (awaits included). */
  evaluating = false;
  readonly conversations = new Set<Conversation>();
  private readonly printable = new Set<string>();

  /** `options` with the shell's interrupt signal added to any signal of the user's. */
  withSignal<O extends { signal?: AbortSignal }>(options: O | undefined): O {
    const own = this.interrupt.signal;
    const signal = options?.signal ? AbortSignal.any([options.signal, own]) : own;
    return { ...(options ?? ({} as O)), signal };
  }

  /** Ctrl-C: stops what is running (sr, sr1, send, sniff, connect, listen), and arms a fresh signal. */
  interruptNow(): void {
    const running = this.interrupt;
    this.interrupt = new AbortController();
    running.abort(new SynackError(INTERRUPTED, 'usage'));
  }

  /** Marks a text to be printed as it is when it is the result of a line. */
  printed(text: string): string {
    this.printable.add(text);
    return text;
  }

  /** The REPL's writer around `base`: marked texts as they are, anything else as `base` shows it. */
  writer(base: (value: unknown) => string): (value: unknown) => string {
    const write = (value: unknown): string => {
      if (typeof value === 'string' && this.printable.has(value)) return value;
      // Errors reach the writer too (the REPL shows an uncaught error with it): Ctrl-C is one
      // line, as Python's KeyboardInterrupt, and a user mistake reads without our stack frames.
      if (isInterruption(value)) return INTERRUPTED;
      if (value instanceof SynackError) return `${value.name}: ${value.message}`;
      return base(value);
    };
    return Object.assign(write, { options: (base as { options?: unknown }).options });
  }

  /** A new line starts: texts marked for an earlier line print quoted again. */
  startLine(): void {
    this.printable.clear();
  }

  /** The API as the shell's scope: the calls that wait take the interrupt signal; what opens a conversation is tracked. */
  scope(): Record<string, unknown> {
    const session = this;
    const signalled =
      <F extends AnyFn>(fn: F, at: number) =>
      (...args: Parameters<F>): ReturnType<F> => {
        const list = [...args] as unknown[];
        while (list.length < at) list.push(undefined);
        list[at] = session.withSignal(list[at] as { signal?: AbortSignal } | undefined);
        return fn(...(list as Parameters<F>)) as ReturnType<F>;
      };
    const tracked =
      <F extends (...args: never[]) => Promise<Conversation>>(fn: F) =>
      async (...args: Parameters<F>): Promise<Conversation> => {
        const c = await fn(...args);
        session.conversations.add(c);
        return c;
      };
    const printing =
      <F extends (...args: never[]) => string>(fn: F) =>
      (...args: Parameters<F>): string =>
        session.printed(fn(...args));
    return {
      ...api,
      synack: api,
      sr: signalled(api.sr, 1),
      sr1: signalled(api.sr1, 1),
      send: signalled(api.send, 1),
      sendp: signalled(api.sendp, 1),
      sniff: signalled(api.sniff, 0),
      connect: tracked(signalled(api.connect, 0)),
      openConversation: tracked(api.openConversation),
      listen: tracked(signalled(api.listen, 0)),
      ls: printing(api.ls),
      renderLadder: printing(api.renderLadder),
      traceLadder: printing(api.traceLadder),
    };
  }

  /** show() and hexdump() print in the shell: their texts are marked as they are made. */
  markPacketTexts(): void {
    for (const name of ['show', 'hexdump'] as const) {
      const make = packetHooks[name];
      if (make) packetHooks[name] = (p) => this.printed(make(p));
    }
  }

  /** Leaving: stops what runs, aborts every conversation still open (RST), and waits for the guards to go. */
  async end(): Promise<void> {
    this.interruptNow();
    for (const c of this.conversations) {
      if (c.state === 'CLOSED') continue;
      await c.abort().catch(() => undefined);
    }
    this.conversations.clear();
    await flushGuards().catch(() => undefined);
  }
}

/** The REPL's own "interrupted" (its await race) or our abort reason. */
function isInterruption(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED' || (err instanceof SynackError && err.message === INTERRUPTED);
}

/**
 * Feeds standard input to the REPL one line at a time, waiting for each line's evaluation
 * (awaits included) to finish, shown by the REPL writing its prompt again. Output goes to
 * stdout without prompts; 1 when any line threw, 130 when interrupted (SIGINT).
 */
async function runPiped(input: PassThrough, output: PassThrough, session: ShellSession): Promise<number> {
  const lines = readFileSync(0, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let failed = false;
  let interrupted = false;
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
  // Ctrl-C (SIGINT) stops the line that runs and reads no more.
  const onSigint = (): void => {
    interrupted = true;
    session.interruptNow();
  };
  process.on('SIGINT', onSigint);
  const step = (line?: string): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      if (line !== undefined) input.write(line + '\n');
    });
  try {
    await step(); // the first prompt
    for (const line of lines) {
      if (interrupted) break;
      await step(line);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (interrupted) process.stderr.write('synack shell: interrupted\n');
  return interrupted ? 130 : failed ? 1 : 0;
}

/**
 * The terminal as the REPL's input, with one change: a chunk that ends in tabs is passed on a
 * key at a time. Node's readline completes only on a tab that ends its chunk (a tab inside a
 * paste is text), so `IPv` Tab Tab sent at once (tmux send-keys, a fast typist over ssh) would
 * list nothing.
 */
function terminalInput(): PassThrough {
  const stdin = process.stdin;
  const out = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    setRawMode(mode: boolean) {
      stdin.setRawMode(mode);
      out.isRaw = mode;
      return out;
    },
  });
  stdin.on('data', (chunk: Buffer) => {
    let end = chunk.length;
    while (end > 0 && chunk[end - 1] === 0x09) end--;
    if (end === chunk.length || end === chunk.length - 1) {
      out.write(chunk);
      return;
    }
    // "IPv\t\t" -> "IPv\t", "\t": every tab its own key.
    out.write(chunk.subarray(0, end + 1));
    for (let i = end + 1; i < chunk.length; i++) out.write(chunk.subarray(i, i + 1));
  });
  stdin.on('end', () => out.end());
  return out;
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
        '  <IP  dst=127.0.0.1 |<TCP  dport=ssh flags=S |>>',
        '  synack> p.show()',
        '  synack> ls(TCP)',
        '  synack> r = await sr1(p)            (as root; Ctrl-C stops it)',
        "  synack> packet(\"IP(dst='127.0.0.1')/TCP(dport=80)\").summary()",
        "echo \"IP().add(TCP()).summary()\" | synack shell",
      ),
    )
    .action(
      action(async (opts: { history?: string | false }) => {
        const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
        if (tty) process.stdout.write("synack shell: the API is in scope (IP, TCP, packet, sr1, connect, ls, ...). Tab completes layers and fields; Ctrl-C stops a wait; .exit leaves.\n");
        // Piped input is run line by line, each awaited before the next (the REPL itself would
        // start the next line while an `await` is still pending).
        const input = tty ? terminalInput() : new PassThrough();
        const output = tty ? process.stdout : new PassThrough();
        const session = new ShellSession();
        session.markPacketTexts();
        const server = repl.start({
          prompt: tty ? 'synack> ' : PIPED_PROMPT,
          useGlobal: false,
          ignoreUndefined: true,
          terminal: tty,
          // Ctrl-C during an await ends the await (the REPL's own race); our listener below stops the work itself.
          breakEvalOnSigint: tty,
          input,
          output,
        });
        const layers = factories();
        Object.assign(server.context, session.scope());
        const fallback = server.completer as unknown as Completer | undefined;
        (server as unknown as { completer: Completer }).completer = synackCompleter(layers, fallback);
        // The REPL reads both from the instance on every line, so they can be wrapped after start().
        const mutable = server as unknown as { writer: REPLWriter; eval: REPLEval };
        mutable.writer = session.writer(server.writer) as REPLWriter;
        const evaluate = server.eval;
        mutable.eval = (code, context, file, done) => {
          session.startLine();
          session.evaluating = true;
          evaluate.call(server, code, context, file, done);
        };
        // A line ends (with a result, or an error the REPL reports by itself) when the prompt is shown again.
        const prompt = server.displayPrompt.bind(server);
        server.displayPrompt = (preserveCursor?: boolean) => {
          session.evaluating = false;
          prompt(preserveCursor);
        };
        server.on('SIGINT', () => {
          if (session.evaluating) session.interruptNow();
        });
        const left = new Promise<void>((resolve) => server.on('exit', resolve));
        let code = 0;
        if (!tty) {
          code = await runPiped(input as PassThrough, output as PassThrough, session);
          server.close();
        } else {
          const historyFile = opts.history === false ? undefined : (opts.history ?? process.env.SYNACK_HISTORY ?? join(homedir(), '.synack_history'));
          if (historyFile) {
            await new Promise<void>((resolve) => server.setupHistory(historyFile, () => resolve()));
          }
          await left;
        }
        await session.end();
        // Everything the session opened is released: nothing the user left running keeps the process.
        process.exit(code);
      }),
    );
}

/**
 * The synack command: one file per command under src/cli/, assembled here.
 *
 * Start-up time is part of every benchmark against tcpdump and nmap, so only the invoked command's
 * module is loaded: `synack read FILE` never loads sr, tcp, lab or script. Top-level help, `help`
 * and unknown commands (which need every name for "did you mean") load them all.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, reportError } from './run.js';

type Register = (program: Command) => void;

interface CommandEntry {
  name: string;
  load: () => Promise<Register>;
  /**
   * false when the command's module imports what it needs itself: read's fast path prints without
   * dissecting, scan builds probes (factories) and reads replies from raw bytes.
   */
  packets?: boolean;
}

// In the order `synack --help` lists them.
const COMMANDS: readonly CommandEntry[] = [
  { name: 'build', load: async () => (await import('./build.js')).registerBuild },
  { name: 'send', load: async () => (await import('./send.js')).registerSend },
  { name: 'sr1', load: async () => (await import('./sr1.js')).registerSr1 },
  { name: 'sr', load: async () => (await import('./sr.js')).registerSr },
  { name: 'read', load: async () => (await import('./read.js')).registerRead, packets: false },
  { name: 'conv', load: async () => (await import('./conv.js')).registerConv, packets: false },
  { name: 'follow', load: async () => (await import('./follow.js')).registerFollow, packets: false },
  { name: 'scan', load: async () => (await import('./scan.js')).registerScan, packets: false },
  { name: 'traceroute', load: async () => (await import('./traceroute.js')).registerTraceroute },
  { name: 'ping', load: async () => (await import('./ping.js')).registerPing },
  { name: 'probe', load: async () => (await import('./probe.js')).registerProbe },
  { name: 'sniff', load: async () => (await import('./sniff.js')).registerSniff },
  { name: 'handshake', load: async () => (await import('./handshake.js')).registerHandshake },
  { name: 'shell', load: async () => (await import('./shell.js')).registerShell },
  { name: 'demo', load: async () => (await import('./demo.js')).registerDemo },
  { name: 'guard', load: async () => (await import('./guard.js')).registerGuard },
  { name: 'lab', load: async () => (await import('./lab.js')).registerLab },
  { name: 'script', load: async () => (await import('./script.js')).registerScript },
  { name: 'serve', load: async () => (await import('./serve.js')).registerServe, packets: false },
  { name: 'view', load: async () => (await import('./view.js')).registerView, packets: false },
];

function emptyProgram(): Command {
  return new Command('synack')
    .description('raw-packet crafting: build, send, sniff and read packets; drive TCP conversations by hand')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // One line, always: commander puts its "(Did you mean ...?)" hint on a line of its own.
      outputError: (text, write) => write('synack: ' + text.trim().replace(/\s*\n\s*/g, ' ') + '\n'),
    });
}

/**
 * The commands argv needs: the one it names, none for a bare --version, else all of them.
 * The top-level options (-V, -h) take no value, so the first word not starting with '-' is the command.
 */
function commandsFor(args: readonly string[]): readonly CommandEntry[] {
  const word = args.find((a) => !a.startsWith('-'));
  const named = word === undefined ? undefined : COMMANDS.find((c) => c.name === word);
  if (named) return [named];
  if (word === undefined && args.length > 0 && args.every((a) => a === '-V' || a === '--version')) return [];
  return COMMANDS;
}

async function programWith(entries: readonly CommandEntry[]): Promise<Command> {
  if (entries.some((c) => c.packets !== false)) await import('./packet-support.js');
  const registers = await Promise.all(entries.map((c) => c.load()));
  const program = emptyProgram();
  for (const register of registers) register(program);
  return program;
}

/** The whole program, every command registered. */
export function buildProgram(): Promise<Command> {
  return programWith(COMMANDS);
}

/**
 * A reader that stops early (`synack read --help | head -1`) closes the pipe under commander's
 * help text or a command's last lines: that is the reader's choice, not an error, as for tcpdump.
 */
function endQuietlyWhenOutputCloses(): void {
  const attach = (stdout: NodeJS.WriteStream): void => {
    stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  };
  // Node makes process.stdout on first use (a stream, and Node's net module for a pipe: 3-4 ms
  // of CPU at start-up). `synack read` writes with fs.writeSync and never needs it: the handler
  // is attached when something first asks for it, through Node's own (configurable) getter.
  const own = Object.getOwnPropertyDescriptor(process, 'stdout');
  const get = own?.get;
  if (!own || !get || !own.configurable) return attach(process.stdout);
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: own.enumerable ?? true,
    get(): NodeJS.WriteStream {
      Object.defineProperty(process, 'stdout', own);
      const stdout = get.call(process) as NodeJS.WriteStream;
      attach(stdout);
      return stdout;
    },
  });
}

export async function main(argv: string[]): Promise<void> {
  endQuietlyWhenOutputCloses();
  try {
    const program = await programWith(commandsFor(argv.slice(2)));
    for (const cmd of program.commands) cmd.exitOverride();
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(err);
  }
}

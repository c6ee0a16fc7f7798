/**
 * The synack command: one file per command under src/cli/, assembled here.
 */
import { Command, CommanderError } from 'commander';
import '../index.js';
import { registerDemo } from './demo.js';
import { registerGuard } from './guard.js';
import { EXIT_USAGE, reportError } from './run.js';

export function buildProgram(): Command {
  const program = new Command('synack')
    .description('raw-packet crafting: build, send, sniff and read packets; drive TCP conversations by hand')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });
  registerDemo(program);
  registerGuard(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(err);
  }
}

/**
 * The synack command: one file per command under src/cli/, assembled here.
 */
import { Command, CommanderError } from 'commander';
import '../index.js';
import { registerDemo } from './demo.js';
import { registerGuard } from './guard.js';
import { registerBuild } from './build.js';
import { registerSend } from './send.js';
import { registerSr1 } from './sr1.js';
import { registerSr } from './sr.js';
import { registerRead } from './read.js';
import { registerScan } from './scan.js';
import { registerPing } from './ping.js';
import { registerProbe } from './probe.js';
import { registerSniff } from './sniff.js';
import { registerHandshake } from './handshake.js';
import { registerShell } from './shell.js';
import { registerLab } from './lab.js';
import { registerScript } from './script.js';
import { EXIT_USAGE, reportError } from './run.js';

export function buildProgram(): Command {
  const program = new Command('synack')
    .description('raw-packet crafting: build, send, sniff and read packets; drive TCP conversations by hand')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // One line, always: commander puts its "(Did you mean ...?)" hint on a line of its own.
      outputError: (text, write) => write('synack: ' + text.trim().replace(/\s*\n\s*/g, ' ') + '\n'),
    });
  registerBuild(program);
  registerSend(program);
  registerSr1(program);
  registerSr(program);
  registerRead(program);
  registerScan(program);
  registerPing(program);
  registerProbe(program);
  registerSniff(program);
  registerHandshake(program);
  registerShell(program);
  registerDemo(program);
  registerGuard(program);
  registerLab(program);
  registerScript(program);
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

/** `synack guard --sweep`: removes kernel-RST guard rules that a crashed synack left behind. */
import type { Command } from 'commander';
import { sweepGuards } from '../tcp/guard.js';
import { requireRoot } from './privilege.js';
import { action } from './run.js';

export function registerGuard(program: Command): void {
  program
    .command('guard')
    .description('manage the firewall rules that keep the kernel\'s RSTs out of hand-made conversations')
    .option('--sweep', 'remove rules whose synack process is gone')
    .option('--all', 'with --sweep: remove every synack rule, even of live processes')
    .addHelpText('after', '\nExamples:\n  synack guard --sweep\n  synack guard --sweep --all')
    .action(
      action(async (opts: { sweep?: boolean; all?: boolean }) => {
        if (!opts.sweep) {
          process.stderr.write('synack guard: nothing to do; did you mean `synack guard --sweep`?\n');
          return 2;
        }
        requireRoot('synack guard --sweep');
        const removed = await sweepGuards({ all: opts.all ?? false });
        process.stdout.write(removed.length ? removed.map((r) => `removed ${r}\n`).join('') : 'nothing left behind\n');
        return 0;
      }),
    );
}

/**
 * `synack serve TARGET --port N`: one of the lab's target servers in the foreground, so the
 * servers the examples and scripts name (get-close, never-close, ...) can be started by hand.
 * It listens on 127.0.0.1 (or another loopback address), or inside a lab host with --host;
 * every event it sees is printed as it happens (`accepted`, `data`, `fin`, `closed`), and
 * Ctrl-C stops it.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { argvFor, TARGET_DESCRIPTIONS, TARGET_KINDS, type TargetKind } from '../lab/serve.js';
import { hostNamespace } from '../lab/network.js';
import { didYouMean, usageError } from '../wire/errors.js';
import { examples, intOption, note, parseAddress } from './common.js';
import { action } from './run.js';

/** The names the scripts use, beside the lab's kind names. */
const ALIASES: Record<string, TargetKind> = { 'get-close': 'get' };
const NAMES = [...TARGET_KINDS, ...Object.keys(ALIASES)];

function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

interface ServeOptions {
  port: number;
  address?: string;
  host?: string;
  lab?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(`run a target server in the foreground: ${NAMES.join(', ')}`)
    .argument('<target>', Object.entries(TARGET_DESCRIPTIONS).map(([k, d]) => `${k}: ${d}`).join('; ') + "; get-close is 'get'")
    .requiredOption('--port <n>', 'port to listen on', intOption('port', 1, 65535))
    .option('--address <ip>', 'loopback address to listen on (default 127.0.0.1)')
    .option('--host <name>', 'run inside this lab host instead (listening on all its addresses)')
    .option('--lab <name>', 'with --host: the lab (default: the default lab)')
    .addHelpText('after', examples('synack serve get-close --port 7000', 'synack serve never-close --port 7001 --address ::1', 'sudo synack serve echo --port 7000 --host server'))
    .action(
      action(async (target: string, opts: ServeOptions) => {
        const kind = (ALIASES[target] ?? target) as TargetKind;
        if (!(TARGET_KINDS as readonly string[]).includes(kind)) throw usageError(`no target '${target}'${didYouMean(target, NAMES)}; targets: ${NAMES.join(', ')}`);
        if (opts.host !== undefined && opts.address !== undefined) throw usageError('--address and --host do not go together: a lab host listens on all its addresses');
        let argv: string[];
        if (opts.host !== undefined) {
          argv = ['ip', 'netns', 'exec', hostNamespace(opts.host, opts.lab), ...argvFor(kind, opts.port)];
        } else {
          const address = parseAddress(opts.address ?? '127.0.0.1');
          if (!isLoopback(address)) throw usageError(`serve listens on loopback only (127.0.0.0/8 or ::1), not ${address}; inside a lab use --host NAME`);
          argv = argvFor(kind, opts.port, address);
        }
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
        const stop = (): void => void child.kill('SIGTERM');
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        const code = await new Promise<number | null>((resolve) => {
          child.on('error', (err) => {
            note(`synack: cannot start the ${target} target: ${err.message}\n`);
            resolve(2);
          });
          child.on('exit', (c, signal) => resolve(signal ? 0 : c));
        });
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        return code ?? 0;
      }),
    );
}

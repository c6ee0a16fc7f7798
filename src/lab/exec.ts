/**
 * Running programs inside a lab host: `ip netns exec <ns> ...`. The child's whole network is
 * the host's (its interfaces, routes, sysctls, firewall), which is what raw sockets and
 * captures need: they work in the namespace of the process that opens them.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { usageError } from '../wire/errors.js';
import { hostNamespace } from './network.js';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  lab?: string;
  input?: string;
  /** Kill the command after this many ms (default 30 s). */
  timeout?: number;
  env?: NodeJS.ProcessEnv;
}

function checkArgv(argv: string[]): void {
  if (argv.length === 0) throw usageError('no command given: write it after --, e.g. `synack lab exec client -- ip addr`');
}

/** Runs a command inside a host and waits for it. */
export function labExec(host: string, argv: string[], options: ExecOptions = {}): ExecResult {
  checkArgv(argv);
  const ns = hostNamespace(host, options.lab);
  const out = spawnSync('ip', ['netns', 'exec', ns, ...argv], {
    encoding: 'utf8',
    input: options.input,
    timeout: options.timeout ?? 30_000,
    env: options.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.error && (out.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw out.error;
  return { code: out.status, signal: out.signal, stdout: out.stdout ?? '', stderr: out.stderr ?? '' };
}

/** Starts a command inside a host and returns the child (`ip netns exec` execs it: same pid). */
export function labSpawn(host: string, argv: string[], options: SpawnOptions & { lab?: string } = {}): ChildProcess {
  checkArgv(argv);
  const { lab, ...spawnOptions } = options;
  const ns = hostNamespace(host, lab);
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
}

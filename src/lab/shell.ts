/**
 * The lab's hands: iproute2 and friends, run synchronously (setting up a namespace is a
 * sequence of small steps where each depends on the last). Failures become SynackErrors
 * carrying the command and what it printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SynackError } from '../wire/errors.js';

function fail(cmd: string, args: string[], err: unknown): SynackError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new SynackError(`the lab needs \`${cmd}\` (iproute2): install it`, 'system');
  const stderr = String((err as { stderr?: string | Buffer }).stderr ?? '').trim();
  return new SynackError(`${cmd} ${args.join(' ')}: ${stderr || (err as Error).message}`, 'system');
}

/** Runs a command and returns its stdout; throws with its stderr on failure. */
export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    throw fail(cmd, args, err);
  }
}

export function ip(args: string[]): string {
  return run('ip', args);
}

/** Runs a command inside a namespace. */
export function inNs(ns: string, argv: string[], input?: string): string {
  return run('ip', ['netns', 'exec', ns, ...argv], input);
}

/** Sets sysctls inside a namespace (each 'key=value'). */
export function sysctl(ns: string, ...settings: string[]): void {
  inNs(ns, ['sysctl', '-qw', ...settings]);
}

/** Every network namespace name on this machine. */
export function listNamespaces(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (out.error) throw fail('ip', ['netns', 'list'], out.error);
  // Lines look like 'name' or 'name (id: 3)'.
  return out.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** The processes whose network namespace is `ns`. */
export function nsPids(ns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return out.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Whether a process runs (a zombie, dead but not yet reaped by its parent, does not count). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: 'pid (comm) S ...'; comm may hold spaces, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The process's start time (clock ticks since boot, /proc/PID/stat field 22), or undefined when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is still the process we started (same start time): a pid read from a file
 * is signalled only then, never a stranger that reused the number or a pid someone wrote in.
 */
export function isOurProcess(pid: number, startTime: string | undefined): boolean {
  return Number.isInteger(pid) && pid > 1 && startTime !== undefined && processStartTime(pid) === startTime && isAlive(pid);
}

/** Blocks the thread for `ms` (setup code is synchronous; Atomics.wait is the honest sleep). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

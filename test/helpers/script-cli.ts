/**
 * The synack CLI from source in a child process, so exit codes are real. Asynchronous: the
 * servers of a test live in the test's process, and a blocked event loop would keep them from
 * answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const ENTRY = "import('./src/cli/main.ts').then((m) => m.main(['node', 'synack', ...process.argv.slice(1)]))";

/** Starts `synack ...args`; the caller reads and ends it. */
export function spawnCli(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '-e', ENTRY, '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `synack ...args` to its end (killed after 30 s). */
export function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return cliWithin(30_000, args);
}

/** Runs `synack ...args` to its end, killed after `ms`. */
export function cliWithin(ms: number, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill(), ms);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * The client a listening script waits for: a shell command (curl, nc, a python one-liner)
 * started once our listener is in place, in its own process group so that stopping it stops
 * whatever it started. It is stopped when the script ends, and on SIGINT/SIGTERM/exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { onCleanup } from '../io/cleanup.js';

export interface ClientProcess {
  /** What the client wrote to stderr (the last 4 KiB), for a failure report. */
  readonly stderr: () => string;
  /** SIGTERM to its group, SIGKILL after a grace; resolves when it has exited. */
  stop(): Promise<void>;
}

const STDERR_KEPT = 4096;
const GRACE_MS = 500;

export function startClient(command: string): ClientProcess {
  const child: ChildProcess = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + String(d)).slice(-STDERR_KEPT);
  });
  child.on('error', () => undefined);
  let exited = child.exitCode !== null;
  const done = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  const signal = (sig: NodeJS.Signals): void => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Gone already.
    }
  };
  const unregister = onCleanup(() => signal('SIGKILL'));
  return {
    stderr: () => err,
    async stop() {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), GRACE_MS);
      await done;
      clearTimeout(timer);
      unregister();
    },
  };
}

/**
 * The local-mode helper process (helper.py beside this file): a private network namespace that
 * lives exactly as long as the process, the system calls of a script, its shell lines, and the
 * remote side's packets, all over one pipe of JSON lines.
 *
 * Why a process of its own: Node cannot enter a network namespace, and its net module cannot
 * make packetdrill's calls (any setsockopt, fcntl O_NONBLOCK, a blocking accept, the errno of
 * a failed call). Python 3's socket module makes each as one system call; helper.py says more.
 *
 * Nothing is left behind: the namespace is the helper's own (unshare), so it goes when the
 * helper exits; the helper exits when asked, when its stdin closes (this process gone), and on
 * this process's death by any signal (PR_SET_PDEATHSIG, SIGTERM). Processes a shell line left running in
 * the namespace are killed before it exits.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SynackError } from '../../wire/errors.js';
import { onCleanup } from '../../io/cleanup.js';

/** Inside the namespace: the kernel's side (packetdrill's local address) and the remote side. */
export const NAMESPACE_ADDRESSES = {
  local4: '198.51.100.1',
  remote4: '198.51.100.2',
  local6: '2001:db8::1',
  remote6: '2001:db8::2',
} as const;

const HELPER = fileURLToPath(new URL('../../../src/script/local/helper.py', import.meta.url));
/** Debian's python3 (the pyenv one on PATH may be anything). */
const PYTHON = '/usr/bin/python3';
const READY_TIMEOUT_MS = 5000;
const EXIT_TIMEOUT_MS = 2000;

/** What a system call returned. */
export interface CallReply {
  ret: number;
  errno: number;
  /** Bytes read, or a getsockopt value. */
  data?: Buffer;
  revents?: Array<[number, number]>;
  /** Seconds the call took in the helper. */
  took: number;
  /** A command the helper could not run (a bug of ours, not the kernel's answer). */
  error?: string;
}

export interface ShellReply {
  status: number;
  stderr: string;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
}

export class LocalHelper {
  /** Milliseconds to make the namespace (measured inside the helper), and to remove it (the helper's exit). */
  madeMs = 0;
  removedMs: number | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: Promise<void>;
  private alive = true;
  /** The helper's last words (a Python traceback), for the message when it dies. */
  private stderr = '';
  private readonly unregister: () => void;
  onPacket: ((ip: Buffer) => void) | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    // Ctrl-C, SIGTERM: the helper ends what shell lines left running and exits (its namespace
    // with it), whether or not this process lives on.
    this.unregister = onCleanup(() => child.kill('SIGTERM'));
    this.exited = new Promise((resolve) => child.once('exit', () => {
      this.alive = false;
      const why = this.stderr.trim().split('\n').pop();
      for (const p of this.pending.values()) p.resolve({ ret: -1, errno: 0, error: `the local-mode helper exited${why ? `: ${why}` : ''}` });
      this.pending.clear();
      resolve();
    }));
  }

  /** Starts the helper and waits until its namespace is ready. */
  static async start(): Promise<LocalHelper> {
    const child = spawn(PYTHON, ['-I', '-S', HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const helper = new LocalHelper(child);
    child.stderr.on('data', (b: Buffer) => {
      helper.stderr = (helper.stderr + b.toString()).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SynackError(`the local-mode helper did not start within ${READY_TIMEOUT_MS} ms`, 'system')), READY_TIMEOUT_MS);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new SynackError(`cannot start ${PYTHON} for local mode (${err.message}): install python3`, 'system'));
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new SynackError(`the local-mode helper exited before its namespace was ready${helper.stderr ? `: ${helper.stderr.trim().split('\n').pop()}` : ''}`, 'system'));
      });
      lines.on('line', (line) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (typeof msg.pkt === 'string') helper.onPacket?.(Buffer.from(msg.pkt, 'base64'));
        else if (typeof msg.id === 'number') {
          const p = helper.pending.get(msg.id);
          helper.pending.delete(msg.id);
          p?.resolve(msg);
        } else if (msg.ready) {
          clearTimeout(timer);
          helper.madeMs = Number((msg.ready as { made: number }).made) * 1000;
          resolve();
        } else if (typeof msg.fatal === 'string') {
          clearTimeout(timer);
          reject(new SynackError(`local mode cannot make its network namespace: ${msg.fatal} (it needs root)`, 'system'));
        }
      });
    });
    try {
      await ready;
    } catch (err) {
      await helper.close();
      throw err;
    }
    return helper;
  }

  private request(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.alive) return Promise.resolve({ ret: -1, errno: 0, error: 'the local-mode helper has exited' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      this.child.stdin.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  /** One system call, made on the helper's system-call thread (in order, one at a time). */
  async call(op: string, args: Record<string, unknown>): Promise<CallReply> {
    const r = await this.request({ op, ...args });
    const data = typeof r.data === 'string' ? r.data : typeof r.bytes === 'string' ? r.bytes : undefined;
    return {
      ret: Number(r.ret),
      errno: Number(r.errno),
      took: Number(r.took ?? 0),
      ...(data !== undefined ? { data: Buffer.from(data, 'base64') } : {}),
      ...(Array.isArray(r.revents) ? { revents: r.revents as Array<[number, number]> } : {}),
      ...(typeof r.error === 'string' ? { error: r.error } : {}),
    };
  }

  /** A shell command inside the namespace (`sh -c`), in `cwd`; waits for it (at most `timeout` s). */
  async shell(cmd: string, cwd: string | undefined, timeout: number): Promise<ShellReply> {
    const r = await this.request({ op: 'shell', cmd, cwd, timeout, env: { PACKETDRILL_PID: String(this.child.pid ?? 0) } });
    return { status: typeof r.status === 'number' ? r.status : -1, stderr: typeof r.stderr === 'string' ? r.stderr : String(r.error ?? '') };
  }

  /** Puts an IP packet on the remote side of the veth pair (toward the kernel). */
  send(ip: Buffer): void {
    if (this.alive) this.child.stdin.write(`{"op":"packet","pkt":"${ip.toString('base64')}"}\n`);
  }

  /** Ends the helper (and so the namespace); kills it if it does not exit promptly. */
  async close(): Promise<void> {
    if (this.removedMs !== undefined) return;
    const t0 = performance.now();
    if (this.alive) {
      this.child.stdin.end('{"op":"exit"}\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.removedMs = performance.now() - t0;
    this.unregister();
  }
}

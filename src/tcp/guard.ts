/**
 * The kernel-RST guard. A handshake made from crafted packets gets a SYN-ACK the local kernel
 * knows nothing about, so the kernel answers it with a RST and the peer drops the connection.
 * For the life of a conversation we drop the kernel's RSTs for that one 4-tuple, and only
 * those: our own raw socket marks its packets with SO_MARK, and the rule matches unmarked RSTs.
 *
 * nftables first (a table of our own per process, `synack_<pid>`, so a sweep can tell a
 * crashed owner from a live one), iptables as the fallback (rules tagged `synack:<pid>`).
 * Rules go on close, on error, at exit and on SIGINT/SIGTERM; sweepGuards() removes what a
 * crash left. A guard never matches more than its 4-tuple: closed ports must still RST others.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { isIPv6 } from '../wire/addr.js';
import { SynackError } from '../wire/errors.js';

const run = promisify(execFile);

/** The SO_MARK our raw sockets put on every packet they send; the guard lets these through. */
export const SYNACK_MARK = 0x5a4b;

export interface FourTuple {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

export interface Guard {
  readonly backend: 'nftables' | 'iptables';
  readonly tuple: FourTuple;
  /** Removes the rule; safe to call more than once. */
  remove(): Promise<void>;
}

type Backend = 'nftables' | 'iptables';
let backend: Backend | undefined;
const live = new Set<ActiveGuard>();
const tableName = `synack_${process.pid}`;
let tableReady = false;

async function has(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function chooseBackend(): Promise<Backend> {
  if (backend) return backend;
  if (await has('nft', ['list', 'tables'])) backend = 'nftables';
  else if (await has('iptables', ['-S', 'OUTPUT'])) backend = 'iptables';
  else {
    throw new SynackError(
      'cannot install the kernel-RST guard: neither nftables (nft) nor iptables works here; install nftables (apt-get install nftables) and run as root',
      'privilege',
    );
  }
  return backend;
}

function nftMatch(t: FourTuple): string {
  const family = isIPv6(t.src) ? 'ip6' : 'ip';
  return `${family} saddr ${t.src} ${family} daddr ${t.dst} tcp sport ${t.sport} tcp dport ${t.dport} tcp flags & rst == rst meta mark != ${SYNACK_MARK}`;
}

function iptablesArgs(t: FourTuple, op: '-I' | '-D'): [string, string[]] {
  const cmd = isIPv6(t.src) ? 'ip6tables' : 'iptables';
  return [
    cmd,
    [op, 'OUTPUT', '-p', 'tcp', '-s', t.src, '-d', t.dst, '--sport', String(t.sport), '--dport', String(t.dport),
      '--tcp-flags', 'RST', 'RST', '-m', 'mark', '!', '--mark', String(SYNACK_MARK),
      '-m', 'comment', '--comment', `synack:${process.pid}`, '-j', 'DROP'],
  ];
}

class ActiveGuard implements Guard {
  private removed = false;
  constructor(
    readonly backend: Backend,
    readonly tuple: FourTuple,
    private readonly handle: string | undefined,
  ) {}

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    try {
      if (this.backend === 'nftables') {
        if (live.size === 0) await dropOwnTable();
        else if (this.handle) await run('nft', ['delete', 'rule', 'inet', tableName, 'output', 'handle', this.handle], { timeout: 5000 });
      } else {
        const [cmd, args] = iptablesArgs(this.tuple, '-D');
        await run(cmd, args, { timeout: 5000 });
      }
    } catch {
      // Already gone (a sweep, or the exit hook got there first): nothing to undo.
    }
  }

  /** Synchronous removal for the exit path, where promises no longer run. */
  removeSync(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    try {
      if (this.backend === 'iptables') {
        const [cmd, args] = iptablesArgs(this.tuple, '-D');
        execFileSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
      }
    } catch {
      // Best effort at exit.
    }
  }
}

async function dropOwnTable(): Promise<void> {
  tableReady = false;
  await run('nft', ['delete', 'table', 'inet', tableName], { timeout: 5000 }).catch(() => undefined);
}

/** Installs the guard for one conversation. The 4-tuple is as the kernel's RST would carry it: our side first. */
export async function installGuard(tuple: FourTuple): Promise<Guard> {
  const which = await chooseBackend();
  installExitHooks();
  let handle: string | undefined;
  try {
    if (which === 'nftables') {
      if (!tableReady) {
        await run('nft', ['add', 'table', 'inet', tableName], { timeout: 5000 });
        // Priority -150 runs before conntrack-based filters; policy accept touches nothing else.
        await run('nft', ['add', 'chain', 'inet', tableName, 'output', '{ type filter hook output priority -150 ; policy accept ; }'], { timeout: 5000 });
        tableReady = true;
      }
      const { stdout } = await run('nft', ['--echo', '--handle', 'add', 'rule', 'inet', tableName, 'output', ...nftMatch(tuple).split(' '), 'drop'], { timeout: 5000 });
      handle = /# handle (\d+)/.exec(stdout)?.[1];
    } else {
      const [cmd, args] = iptablesArgs(tuple, '-I');
      await run(cmd, args, { timeout: 5000 });
    }
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new SynackError(`cannot install the kernel-RST guard with ${which}: ${msg.split('\n')[0]} (run as root)`, 'privilege');
  }
  const guard = new ActiveGuard(which, tuple, handle);
  live.add(guard);
  return guard;
}

let hooksInstalled = false;

function cleanupSync(): void {
  for (const g of [...live]) g.removeSync();
  if (backend === 'nftables' || tableReady) {
    try {
      execFileSync('nft', ['delete', 'table', 'inet', tableName], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // No table: nothing was installed, or it is already gone.
    }
    tableReady = false;
  }
}

/** At exit and on SIGINT/SIGTERM, remove every rule this process installed, then let the signal do its work. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      process.removeListener(signal, onSignal);
      // Re-raise so the process ends the way the signal means (exit status 128+n).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes guards whose owning process is gone (or all of them with `all`). Returns what it removed. */
export async function sweepGuards(options: { all?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  try {
    const { stdout } = await run('nft', ['list', 'tables'], { timeout: 5000 });
    for (const m of stdout.matchAll(/table inet (synack_(\d+))/g)) {
      const pid = Number(m[2]);
      if (options.all || (pid !== process.pid && !pidAlive(pid))) {
        await run('nft', ['delete', 'table', 'inet', m[1]!], { timeout: 5000 }).catch(() => undefined);
        removed.push(`nftables table inet ${m[1]}`);
      }
    }
  } catch {
    // No nftables here: nothing of ours can be in it.
  }
  for (const cmd of ['iptables', 'ip6tables']) {
    let rules = '';
    try {
      rules = (await run(`${cmd}-save`, [], { timeout: 5000 })).stdout;
    } catch {
      continue;
    }
    for (const line of rules.split('\n')) {
      const m = /^-A (\S+) (.*synack:(\d+).*)$/.exec(line);
      if (!m) continue;
      const pid = Number(m[3]);
      if (!options.all && (pid === process.pid || pidAlive(pid))) continue;
      const args = m[2]!.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
      await run(cmd, ['-D', m[1]!, ...args], { timeout: 5000 }).catch(() => undefined);
      removed.push(`${cmd} rule ${line}`);
    }
  }
  return removed;
}

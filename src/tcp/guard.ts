/**
 * The kernel-RST guard. A handshake made from crafted packets gets a SYN-ACK the local kernel
 * knows nothing about, so the kernel answers it with a RST and the peer drops the connection.
 * For the life of a conversation we drop the kernel's RSTs for that one 4-tuple, and only
 * those: our own raw socket marks its packets with SO_MARK (SYNACK_MARK), and the rule
 * matches unmarked RSTs, so the RSTs a script crafts still leave.
 *
 * Scope. A guard is either
 * - a 4-tuple (our address and port, the peer's address and port): what connect() uses, and
 *   what listen() narrows to as soon as it has seen the peer's SYN; or
 * - a port on one of our addresses, the peer unknown: what listen() needs BEFORE the first
 *   SYN arrives, because the kernel answers that SYN with a RST in the same softirq, long
 *   before userspace could see the SYN and install a 4-tuple rule. It silences the kernel's
 *   RSTs from that one address and port only, and only while the listener waits: every
 *   other port still answers RST to everyone. There is deliberately no way to ask for less
 *   than an address and a port: an unscoped rule would make every closed port of the host go
 *   silent.
 *
 * Backends. nftables first: one table per process, `inet synack_<pid>` (so a sweep can tell a
 * crashed owner from a live one), with four rules that look the packet up in sets (4-tuples
 * and ports, IPv4 and IPv6). Adding a guard is adding a set element, through one long-lived
 * `nft -i` process: ~0.2 ms, where spawning `nft` per rule costs ~3 ms and would dominate a
 * 2 ms conversation. The table outlives its last element by a short linger (so back-to-back
 * conversations do not rebuild it) and is deleted then, or at once at exit/SIGINT/SIGTERM
 * (io/cleanup.ts). iptables is the fallback: one rule per guard, tagged `synack:<pid>`.
 * sweepGuards() removes what a crash (SIGKILL) left behind.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { isIPv6 } from '../wire/addr.js';
import { SynackError, usageError } from '../wire/errors.js';
import { SYNACK_MARK } from '../io/constants.js';
import { onCleanup } from '../io/cleanup.js';

export { SYNACK_MARK };

const run = promisify(execFile);

/** The 4-tuple as the kernel's RST would carry it: our side first. */
export interface FourTuple {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** One of our addresses and ports, the peer unknown (a listener waiting for its first SYN). */
export interface PortScope {
  src: string;
  sport: number;
}

export type GuardScope = FourTuple | PortScope;

export interface Guard {
  readonly backend: 'nftables' | 'iptables';
  readonly tuple: GuardScope;
  /** Removes the rule; safe to call more than once. */
  remove(): Promise<void>;
}

type Backend = 'nftables' | 'iptables';

/** How long the nftables table stays after its last guard goes, in ms (tests may set 0). */
export const guardSettings = { lingerMs: 250 };

const tableName = `synack_${process.pid}`;
let backend: Backend | undefined;

function isFourTuple(s: GuardScope): s is FourTuple {
  return (s as FourTuple).dst !== undefined;
}

function checkScope(s: GuardScope): void {
  // Never unscoped: an address and a port at the very least (see the header comment).
  if (!s.src || !Number.isInteger(s.sport) || s.sport < 1 || s.sport > 65535) {
    throw usageError(`a kernel-RST guard needs our address and port (got ${s.src || '?'}.${s.sport}): an unscoped guard would silence every closed port`);
  }
  if (isFourTuple(s) && (!Number.isInteger(s.dport) || s.dport < 1 || s.dport > 65535)) {
    throw usageError(`a kernel-RST guard's peer port must be 1-65535 (got ${s.dport})`);
  }
}

function describe(s: GuardScope): string {
  return isFourTuple(s) ? `${s.src}.${s.sport} > ${s.dst}.${s.dport}` : `${s.src}.${s.sport} > any`;
}

// ---------------------------------------------------------------------------------------------
// nftables: one `nft -i` process, commands answered in order.

/**
 * A long-lived `nft -i`. After each command we write a line nft cannot parse; its error on
 * stderr marks the end of the command's answer, and whatever stderr said before it is the
 * command's own error. Commands run one at a time, in the order given.
 */
class NftSession {
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void; command: string }> = [];
  private dead: Error | undefined;

  constructor() {
    this.child = spawn('nft', ['-i'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.on('error', (err) => this.fail(err));
    this.child.on('exit', () => this.fail(new Error('nft -i exited')));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => this.onStderr(d));
    this.child.stdin!.on('error', (err) => this.fail(err));
    this.idle();
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  command(command: string): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, command });
      this.busy();
      this.child.stdin!.write(`${command}\n${SENTINEL}\n`);
    });
  }

  private onStderr(chunk: string): void {
    this.stderr += chunk;
    for (;;) {
      const at = this.stderr.indexOf(`\n${SENTINEL}\n`);
      if (at < 0) return;
      const caretEnd = this.stderr.indexOf('\n', at + SENTINEL.length + 2);
      if (caretEnd < 0) return;
      const sentinelError = this.stderr.lastIndexOf('Error:', at);
      const own = this.stderr.slice(0, Math.max(0, sentinelError)).trim();
      this.stderr = this.stderr.slice(caretEnd + 1);
      const done = this.pending.shift();
      if (this.pending.length === 0) this.idle();
      if (!done) continue;
      if (own) done.reject(new Error(own.split('\n')[0]!));
      else done.resolve();
    }
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  /** A waiting command keeps the process alive; an idle session must not. */
  private busy(): void {
    this.child.ref();
    (this.child.stderr as unknown as { ref?: () => void }).ref?.();
    (this.child.stdin as unknown as { ref?: () => void }).ref?.();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  close(): void {
    this.fail(new Error('nft session closed'));
    try {
      this.child.stdin!.end();
      this.child.kill('SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

const SENTINEL = 'synack_sync';

let session: NftSession | undefined;
let tableReady: Promise<void> | undefined;
let tableCleanup: (() => void) | undefined;
let lingerTimer: NodeJS.Timeout | undefined;
/** Elements in the sets, counted: two conversations may share a 4-tuple one after the other. */
const elements = new Map<string, number>();
/** Every table change goes through this chain, so a linger's delete never races an add. */
let nftQueue: Promise<unknown> = Promise.resolve();

function nftSession(): NftSession {
  if (!session || !session.alive) session = new NftSession();
  return session;
}

function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = nftQueue.then(fn, fn);
  nftQueue = next.catch(() => undefined);
  return next;
}

function ensureTable(): Promise<void> {
  if (tableReady) return tableReady;
  const s = nftSession();
  const t = `inet ${tableName}`;
  const mark = `meta mark != ${SYNACK_MARK}`;
  const rst = 'tcp flags & rst == rst';
  const steps = [
    `add table ${t}`,
    // Priority -150 runs before conntrack-based filters; policy accept touches nothing else.
    `add chain ${t} output { type filter hook output priority -150 ; policy accept ; }`,
    `add set ${t} tuples4 { type ipv4_addr . inet_service . ipv4_addr . inet_service ; }`,
    `add set ${t} tuples6 { type ipv6_addr . inet_service . ipv6_addr . inet_service ; }`,
    `add set ${t} ports4 { type ipv4_addr . inet_service ; }`,
    `add set ${t} ports6 { type ipv6_addr . inet_service ; }`,
    `add rule ${t} output ${rst} ${mark} ip saddr . tcp sport . ip daddr . tcp dport @tuples4 drop`,
    `add rule ${t} output ${rst} ${mark} ip6 saddr . tcp sport . ip6 daddr . tcp dport @tuples6 drop`,
    `add rule ${t} output ${rst} ${mark} ip saddr . tcp sport @ports4 drop`,
    `add rule ${t} output ${rst} ${mark} ip6 saddr . tcp sport @ports6 drop`,
  ];
  // Registered before the first change, so an interruption mid-setup still removes the table.
  tableCleanup ??= onCleanup(dropTableSync);
  tableReady = (async () => {
    for (const step of steps) await s.command(step);
  })();
  tableReady.catch(() => {
    tableReady = undefined;
  });
  return tableReady;
}

function nftElement(s: GuardScope): { set: string; key: string } {
  const v6 = isIPv6(s.src);
  if (isFourTuple(s)) return { set: v6 ? 'tuples6' : 'tuples4', key: `${s.src} . ${s.sport} . ${s.dst} . ${s.dport}` };
  return { set: v6 ? 'ports6' : 'ports4', key: `${s.src} . ${s.sport}` };
}

async function nftAdd(scope: GuardScope): Promise<void> {
  await serial(async () => {
    if (lingerTimer) {
      clearTimeout(lingerTimer);
      lingerTimer = undefined;
    }
    await ensureTable();
    const { set, key } = nftElement(scope);
    const id = `${set} ${key}`;
    const count = elements.get(id) ?? 0;
    if (count === 0) await nftSession().command(`add element inet ${tableName} ${set} { ${key} }`);
    elements.set(id, count + 1);
  });
}

async function nftRemove(scope: GuardScope): Promise<void> {
  await serial(async () => {
    const { set, key } = nftElement(scope);
    const id = `${set} ${key}`;
    const count = elements.get(id) ?? 0;
    if (count > 1) elements.set(id, count - 1);
    else if (count === 1) {
      elements.delete(id);
      await nftSession().command(`delete element inet ${tableName} ${set} { ${key} }`).catch(() => undefined);
    }
    if (elements.size === 0) scheduleTableDrop();
  });
}

function scheduleTableDrop(): void {
  if (lingerTimer) clearTimeout(lingerTimer);
  if (guardSettings.lingerMs <= 0) {
    void serial(dropTable);
    return;
  }
  lingerTimer = setTimeout(() => {
    lingerTimer = undefined;
    void serial(dropTable);
  }, guardSettings.lingerMs);
  // The table waiting for a next conversation must not keep the process alive; exit drops it.
  lingerTimer.unref();
}

async function dropTable(): Promise<void> {
  if (elements.size > 0 || !tableReady) return;
  tableReady = undefined;
  const s = session;
  await (s?.alive ? s.command(`delete table inet ${tableName}`) : run('nft', ['delete', 'table', 'inet', tableName], { timeout: 5000 })).catch(() => undefined);
  session?.close();
  session = undefined;
  tableCleanup?.();
  tableCleanup = undefined;
}

/** The exit path (exit, SIGINT, SIGTERM): promises no longer run, so synchronously. */
function dropTableSync(): void {
  tableCleanup = undefined;
  session?.close();
  session = undefined;
  if (!tableReady) return;
  tableReady = undefined;
  elements.clear();
  try {
    execFileSync('nft', ['delete', 'table', 'inet', tableName], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // Already gone.
  }
}

// ---------------------------------------------------------------------------------------------
// iptables: one rule per guard.

function iptablesArgs(s: GuardScope, op: '-I' | '-D'): [string, string[]] {
  const cmd = isIPv6(s.src) ? 'ip6tables' : 'iptables';
  const peer = isFourTuple(s) ? ['-d', s.dst, '--dport', String(s.dport)] : [];
  return [
    cmd,
    [op, 'OUTPUT', '-p', 'tcp', '-s', s.src, '--sport', String(s.sport), ...peer,
      '--tcp-flags', 'RST', 'RST', '-m', 'mark', '!', '--mark', String(SYNACK_MARK),
      '-m', 'comment', '--comment', `synack:${process.pid}`, '-j', 'DROP'],
  ];
}

// ---------------------------------------------------------------------------------------------

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

async function chooseBackend(): Promise<Backend> {
  if (backend) return backend;
  if (await works('nft', ['list', 'tables'])) backend = 'nftables';
  else if (await works('iptables', ['-S', 'OUTPUT'])) backend = 'iptables';
  else {
    throw new SynackError(
      'cannot install the kernel-RST guard: neither nftables (nft) nor iptables works here; install nftables (apt-get install nftables) and run as root',
      'privilege',
    );
  }
  return backend;
}

class ActiveGuard implements Guard {
  private removed = false;
  private unregister: (() => void) | undefined;

  constructor(
    readonly backend: Backend,
    readonly tuple: GuardScope,
  ) {
    // nftables guards go with their table (one cleanup for all); iptables rules one by one.
    if (backend === 'iptables') this.unregister = onCleanup(() => this.removeSync());
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    this.unregister?.();
    try {
      if (this.backend === 'nftables') await nftRemove(this.tuple);
      else {
        const [cmd, args] = iptablesArgs(this.tuple, '-D');
        await run(cmd, args, { timeout: 5000 });
      }
    } catch {
      // Already gone (a sweep, or the exit hook got there first): nothing to undo.
    }
  }

  private removeSync(): void {
    if (this.removed) return;
    this.removed = true;
    try {
      const [cmd, args] = iptablesArgs(this.tuple, '-D');
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
    } catch {
      // Best effort at exit.
    }
  }
}

/**
 * Installs the guard for one conversation (a 4-tuple, our side first) or for one listening
 * address and port. Resolves once the rule is in the kernel.
 */
export async function installGuard(scope: GuardScope, options: { backend?: Backend } = {}): Promise<Guard> {
  checkScope(scope);
  const which = options.backend ?? (await chooseBackend());
  try {
    if (which === 'nftables') await nftAdd(scope);
    else {
      const [cmd, args] = iptablesArgs(scope, '-I');
      await run(cmd, args, { timeout: 5000 });
    }
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new SynackError(`cannot install the kernel-RST guard for ${describe(scope)} with ${which}: ${msg.split('\n')[0]} (run as root)`, 'privilege');
  }
  return new ActiveGuard(which, scope);
}

/** Drops this process's nftables table now if no guard uses it (instead of after the linger). */
export async function flushGuards(): Promise<void> {
  if (lingerTimer) {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
  }
  await serial(dropTable);
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

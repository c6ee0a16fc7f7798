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
 * (io/cleanup.ts). iptables is the fallback: one rule per guard, tagged `synack:<pid>`, added
 * and removed by one `iptables` run each (remove() waits for it). sweepGuards() removes what a
 * crash (SIGKILL) left behind.
 *
 * Timing. installGuard() resolves once the element is in the kernel (the SYN-ACK must not
 * beat it). Guard.remove() with nftables resolves once the delete is QUEUED, not run: it is
 * written at the next turn of the event loop, or sooner on the same line (one transaction) as
 * the next guard's add. All commands go in order through one `nft -i` pipe, so a later add never
 * overtakes the delete, and a rule can only stay a little longer (~0.2 ms) than asked, which is
 * the safe direction. flushGuards() waits for every command written; the exit hook drops the
 * whole table synchronously, queued deletes or not.
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
  /**
   * Removes the rule; safe to call more than once. With nftables it resolves once the delete
   * is queued (in order with every other table change), not once nft has run it: the rule
   * may outlive the call by ~0.2 ms, never the process. flushGuards() waits for it.
   */
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
 *
 * This round trip is on connect()'s critical path, so stderr stays raw bytes (searched with
 * Buffer.indexOf; decoded only when a command really failed), and the process is ref'd only
 * on the idle -> busy edge and unref'd on the busy -> idle edge: a waiting command keeps the
 * event loop alive, an idle session never does.
 */
class NftSession {
  private readonly child: ChildProcess;
  /** Bytes of stderr not yet matched to a command (usually empty between commands). */
  private stderr: Buffer = EMPTY;
  private readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private dead: Error | undefined;
  private held = true;

  constructor() {
    this.child = spawn('nft', ['-i'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.on('error', (err) => this.fail(err));
    this.child.on('exit', () => this.fail(new Error('nft -i exited')));
    this.child.stderr!.on('data', (d: Buffer) => this.onStderr(d));
    this.child.stdin!.on('error', (err) => this.fail(err));
    this.hold(false);
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** No command waiting for its answer. */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  /** Settles once every command written so far has been answered (never rejects). */
  drained(): Promise<void> {
    return this.last;
  }

  private last: Promise<void> = Promise.resolve();

  command(command: string): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const answer = new Promise<void>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      if (!this.held) this.hold(true);
      this.child.stdin!.write(`${command}\n${SENTINEL}\n`);
    });
    this.last = answer.catch(() => undefined);
    return answer;
  }

  private onStderr(chunk: Buffer): void {
    let buf = this.stderr.length === 0 ? chunk : Buffer.concat([this.stderr, chunk]);
    for (;;) {
      const at = buf.indexOf(SENTINEL_LINE);
      if (at < 0) break;
      const caretEnd = buf.indexOf(NEWLINE, at + SENTINEL_LINE.length);
      if (caretEnd < 0) break;
      // The sentinel's own "Error: ..." line starts the last "Error:" before it; anything
      // earlier belongs to the command.
      const sentinelError = buf.lastIndexOf(ERROR_WORD, at);
      const own = sentinelError > 0 ? buf.toString('utf8', 0, sentinelError).trim() : '';
      buf = buf.subarray(caretEnd + 1);
      const done = this.pending.shift();
      if (this.pending.length === 0) this.hold(false);
      if (!done) continue;
      if (own) done.reject(new Error(own.split('\n')[0]!));
      else done.resolve();
    }
    // Keep only an unfinished answer (a copy: small, and the chunk may be a pooled buffer).
    this.stderr = buf.length === 0 ? EMPTY : Buffer.from(buf);
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const p of this.pending.splice(0)) p.reject(err);
    this.hold(false);
  }

  /** A waiting command keeps the process alive; an idle session must not. */
  private hold(on: boolean): void {
    if (this.held === on) return;
    this.held = on;
    const handles = [this.child, this.child.stderr, this.child.stdin] as unknown as Array<{ ref?: () => void; unref?: () => void } | null>;
    for (const h of handles) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
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

const EMPTY = Buffer.alloc(0);
const SENTINEL_LINE = Buffer.from('\nsynack_sync\n');
const NEWLINE = 0x0a;
const ERROR_WORD = Buffer.from('Error:');
const SENTINEL = 'synack_sync';

let session: NftSession | undefined;
/** The table's creation, written on the current session (its answer may still be on the way). */
let tableReady: Promise<void> | undefined;
/** The table may be in the kernel: set when its creation is written, cleared once its delete is answered. */
let tableMayExist = false;
let tableCleanup: (() => void) | undefined;
let lingerTimer: NodeJS.Timeout | undefined;
/**
 * Elements in the sets, counted: two conversations may share a 4-tuple one after the other.
 * `added` is the answer to the one `add element` written for the first of them.
 */
const elements = new Map<string, { count: number; added: Promise<void> }>();
/**
 * Element deletes not yet written: they leave with the next add, on the same line (one nft
 * transaction instead of two round trips), or on their own at the next turn of the event loop.
 */
let deferredDeletes: string[] = [];
let flushScheduled = false;

/*
 * Ordering. Every command is written, synchronously, to the one `nft -i` session, and nft runs
 * its input lines in order: that pipe IS the queue. So a delete written before an add runs
 * before it, the table's creation runs before the first element, and a linger's `delete table`
 * (written only when no element is counted) runs before the `add table` of a guard that comes
 * later. The session is closed only when, after its `delete table` was answered, it is idle and
 * no table was asked for since: a guard arriving meanwhile keeps it (closing it then was the
 * "nft session closed" race of a fire-and-forget remove).
 */

function nftSession(): NftSession {
  if (!session || !session.alive) session = new NftSession();
  return session;
}

function ensureTable(): Promise<void> {
  if (tableReady) return tableReady;
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
  tableMayExist = true;
  // One line, one transaction: the table appears whole or not at all.
  const ready = nftSession().command(steps.join(' ; '));
  tableReady = ready;
  ready.catch(() => {
    if (tableReady === ready) tableReady = undefined;
  });
  return ready;
}

function nftElement(s: GuardScope): { set: string; key: string } {
  const v6 = isIPv6(s.src);
  if (isFourTuple(s)) return { set: v6 ? 'tuples6' : 'tuples4', key: `${s.src} . ${s.sport} . ${s.dst} . ${s.dport}` };
  return { set: v6 ? 'ports6' : 'ports4', key: `${s.src} . ${s.sport}` };
}

/**
 * Writes `command` with the deferred deletes in front, on one line. nft runs a line as one
 * transaction, so if any delete fails (its element already gone: a sweep, an external flush)
 * nothing of the line happened: then each delete goes alone (its failure ignored) and the
 * command is tried again alone, still in order.
 */
function writeWithDeletes(command: string): Promise<void> {
  const s = nftSession();
  if (deferredDeletes.length === 0) return s.command(command);
  const deletes = deferredDeletes;
  deferredDeletes = [];
  return s.command([...deletes, command].join(' ; ')).catch(() => {
    const again = nftSession();
    for (const d of deletes) again.command(d).catch(() => undefined);
    return again.command(command);
  });
}

function flushDeletes(): void {
  flushScheduled = false;
  if (deferredDeletes.length === 0) return;
  const deletes = deferredDeletes;
  deferredDeletes = [];
  const s = nftSession();
  s.command(deletes.join(' ; ')).catch(() => {
    if (deletes.length === 1) return;
    const again = nftSession();
    for (const d of deletes) again.command(d).catch(() => undefined);
  });
}

async function nftAdd(scope: GuardScope): Promise<void> {
  if (lingerTimer) {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
  }
  const table = ensureTable();
  const { set, key } = nftElement(scope);
  const id = `${set} ${key}`;
  let entry = elements.get(id);
  if (entry) entry.count++;
  else {
    const added = writeWithDeletes(`add element inet ${tableName} ${set} { ${key} }`);
    const fresh = { count: 1, added };
    entry = fresh;
    elements.set(id, fresh);
    // Not in the set after all: whoever shares this entry fails with the first installer.
    added.catch(() => {
      if (elements.get(id) === fresh) elements.delete(id);
      if (elements.size === 0) scheduleTableDrop();
    });
  }
  // The table's own error names the real cause; the element's follows from it.
  await table;
  await entry.added;
}

/**
 * Counts the element down; at zero its delete is deferred (see deferredDeletes) and the call
 * returns at once: the caller (a closing conversation) does not wait for nft. Order still
 * holds (a later add for the same element is written after this delete), flushGuards() waits
 * for it, and the exit hook drops the whole table synchronously, so a delete not yet run at
 * exit cannot leave the rule behind.
 */
function nftRemove(scope: GuardScope): void {
  const { set, key } = nftElement(scope);
  const id = `${set} ${key}`;
  const entry = elements.get(id);
  if (!entry) return;
  if (--entry.count > 0) return;
  elements.delete(id);
  deferredDeletes.push(`delete element inet ${tableName} ${set} { ${key} }`);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushDeletes);
  }
  if (elements.size === 0) scheduleTableDrop();
}

function scheduleTableDrop(): void {
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = undefined;
  if (guardSettings.lingerMs <= 0) {
    void dropTable();
    return;
  }
  lingerTimer = setTimeout(() => {
    lingerTimer = undefined;
    void dropTable();
  }, guardSettings.lingerMs);
  // The table waiting for a next conversation must not keep the process alive; exit drops it.
  lingerTimer.unref();
}

/** Deletes the table if no element is counted; settles once nft has answered. */
async function dropTable(): Promise<void> {
  if (elements.size > 0 || !tableReady) return;
  tableReady = undefined;
  // Deletes still deferred are moot: the table goes with its elements.
  deferredDeletes = [];
  // Through the session even if the old one died (a fresh one then): a separate `nft` process
  // could run after a later guard's `add table` and delete the new table under it.
  const s = nftSession();
  const dropped = s.command(`delete table inet ${tableName}`);
  await dropped.then(
    () => undefined,
    () => undefined,
  );
  if (tableReady) return; // A guard came meanwhile: its table, its session, its exit hook.
  tableMayExist = false;
  if (session === s && s.idle) {
    s.close();
    session = undefined;
  }
  tableCleanup?.();
  tableCleanup = undefined;
}

/** The exit path (exit, SIGINT, SIGTERM): promises no longer run, so synchronously. */
function dropTableSync(): void {
  tableCleanup = undefined;
  session?.close();
  session = undefined;
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = undefined;
  deferredDeletes = [];
  elements.clear();
  tableReady = undefined;
  if (!tableMayExist) return;
  tableMayExist = false;
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
      if (this.backend === 'nftables') nftRemove(this.tuple);
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
  // Once known, the backend costs no await: this is on connect()'s critical path.
  const which = options.backend ?? backend ?? (await chooseBackend());
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

/**
 * Waits for every guard change asked for so far (removals included), then drops this
 * process's nftables table now if no guard uses it (instead of after the linger).
 */
export async function flushGuards(): Promise<void> {
  if (lingerTimer) {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
  }
  flushDeletes();
  if (elements.size === 0) await dropTable();
  await session?.drained();
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

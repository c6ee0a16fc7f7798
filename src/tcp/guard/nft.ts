/**
 * The nftables backend: one table per process, `inet synack_<pid>`, with four rules that look
 * the packet up in sets (4-tuples and ports, IPv4 and IPv6). Adding a guard is adding a set
 * element through one long-lived `nft -i` process: ~0.2 ms, where spawning `nft` per rule costs
 * ~3 ms and would dominate a 2 ms conversation.
 *
 * The table is made with `flags owner`: the kernel ties it to the netlink socket of our `nft -i`
 * and removes it, rules and all, the moment that socket closes. So no exit of ours leaves it
 * behind, not even SIGKILL of the whole process group (nft -i dies with us, or reads EOF on its
 * stdin when we die alone and exits). Its comment carries this run's token. On a kernel without
 * owner tables (before 5.12) the table is made without the flag, recorded in the state directory,
 * and a sweep removes it after a crash.
 *
 * Timing. add() resolves once the element is in the kernel (the SYN-ACK must not beat it).
 * remove() only queues the delete: it is written at the next turn of the event loop, or sooner
 * on the same line (one transaction) as the next add. All commands go in order through the one
 * pipe, so a later add never overtakes the delete and a rule can only stay a little longer
 * (~0.2 ms) than asked, which is the safe direction.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { GUARD_TABLE_PREFIX, SYNACK_MARK } from '../../io/constants.js';
import { onCleanup } from '../../io/cleanup.js';
import { deleteRecord, processIdentity, writeRecord } from './records.js';
import { isFourTuple, type CheckedScope } from './scope.js';

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
export class NftSession {
  private readonly child: ChildProcess;
  /** Bytes of stderr not yet matched to a command (usually empty between commands). */
  private stderr: Buffer = EMPTY;
  private readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private dead: Error | undefined;
  private held = true;
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly onDeath: (s: NftSession) => void = () => undefined) {
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

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** No command waiting for its answer. */
  get idle(): boolean {
    return this.pending.length === 0;
  }

  /** Settles once every command written so far has been answered (never rejects). */
  drained(): Promise<void> {
    return this.last;
  }

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
    this.onDeath(this);
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

  /** Ends nft -i; with it goes its netlink socket, and with that an owner table. */
  close(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.fail(new Error('nft session closed'));
    try {
      this.child.stdin!.end();
      this.child.kill(signal);
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

/** Blocks until `pid` has exited (gone, or a zombie) or `ms` passed: for exit paths only. */
function waitExitedSync(pid: number, ms: number): void {
  const deadline = Date.now() + ms;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    const p = processIdentity(pid);
    if (!p || p.zombie) return;
    Atomics.wait(nap, 0, 0, 1);
  }
}

function setOf(s: CheckedScope): string {
  return `${isFourTuple(s) ? 'tuples' : 'ports'}${s.family}`;
}

/** The set element for a checked scope: canonical addresses and integer ports only. */
function elementOf(s: CheckedScope): { set: string; key: string } {
  const key = isFourTuple(s) ? `${s.src} . ${s.sport} . ${s.dst} . ${s.dport}` : `${s.src} . ${s.sport}`;
  return { set: setOf(s), key };
}

export interface NftOptions {
  /** How long the table stays after its last guard goes, in ms. */
  lingerMs: () => number;
  /** This run's token (table comment, record name). */
  token: string;
}

/**
 * Every piece of nftables state of this process, in one owner: the session, the table's
 * creation, the counted elements, the deletes not yet written, the linger timer.
 *
 * Ordering. Every command is written, synchronously, to the one `nft -i` session, and nft runs
 * its input lines in order: that pipe IS the queue. So a delete written before an add runs
 * before it, the table's creation runs before the first element, and a linger's `delete table`
 * (written only when no element is counted) runs before the `add table` of a guard that comes
 * later. The session is closed only when, after its `delete table` was answered, it is idle and
 * no table was asked for since.
 */
export class NftGuards {
  readonly tableName = `${GUARD_TABLE_PREFIX}${process.pid}`;
  private session: NftSession | undefined;
  /** The table's creation, written on the current session (its answer may still be on the way). */
  private tableReady: Promise<void> | undefined;
  /** A table without `flags owner` may be in the kernel: the exit hook must delete it itself. */
  private unownedTable = false;
  /** Whether the kernel takes `flags owner` (learnt from the first table). */
  private ownerFlag = true;
  private tableCleanup: (() => void) | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  /**
   * Elements in the sets, counted: two conversations may share a 4-tuple one after the other.
   * `added` is the answer to the one `add element` written for the first of them.
   */
  private readonly elements = new Map<string, { count: number; added: Promise<void> }>();
  /** Element deletes not yet written: they leave with the next add, or at the next turn of the event loop. */
  private deferredDeletes: string[] = [];
  private flushScheduled = false;

  constructor(private readonly options: NftOptions) {}

  private nft(): NftSession {
    if (!this.session || !this.session.alive) this.session = new NftSession((s) => this.sessionDied(s));
    return this.session;
  }

  /** An owner table died with its session: the next command builds it anew (and re-adds what is counted). */
  private sessionDied(s: NftSession): void {
    if (s !== this.session || !this.ownerFlag) return;
    this.tableReady = undefined;
    if (this.elements.size === 0) return;
    const live = [...this.elements.keys()];
    queueMicrotask(() => {
      if (this.tableReady || this.elements.size === 0) return;
      const table = this.ensureTable();
      for (const id of live) if (this.elements.has(id)) void this.nft().command(`add element inet ${this.tableName} ${id}`).catch(() => undefined);
      table.catch(() => undefined);
    });
  }

  private tableCommand(owner: boolean): string {
    const t = `inet ${this.tableName}`;
    const mark = `meta mark != ${SYNACK_MARK}`;
    const rst = 'tcp flags & rst == rst';
    const flags = owner ? 'flags owner ; ' : '';
    return [
      `add table ${t} { ${flags}comment "synack:${this.options.token}" ; }`,
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
      // One line, one transaction: the table appears whole or not at all.
    ].join(' ; ');
  }

  private ensureTable(): Promise<void> {
    if (this.tableReady) return this.tableReady;
    // Registered before the first change, so an interruption mid-setup still removes the table.
    this.tableCleanup ??= onCleanup(() => this.dropTableSync());
    const session = this.nft();
    let ready: Promise<void>;
    if (this.ownerFlag) {
      ready = session.command(this.tableCommand(true)).catch((err: Error) => {
        // A kernel without owner tables: the flag is what it refuses. Fall back, recorded for the sweep.
        if (!/owner|syntax error|not supported|Operation not supported/i.test(err.message)) throw err;
        this.ownerFlag = false;
        return this.createUnowned();
      });
    } else ready = this.createUnowned();
    this.tableReady = ready;
    ready.catch(() => {
      if (this.tableReady === ready) this.tableReady = undefined;
    });
    return ready;
  }

  private createUnowned(): Promise<void> {
    const me = processIdentity(process.pid);
    if (me) writeRecord({ pid: process.pid, start: me.start, token: this.options.token, nftTable: this.tableName, rules: [] });
    this.unownedTable = true;
    return this.nft().command(this.tableCommand(false));
  }

  /**
   * Writes `command` with the deferred deletes in front, on one line. nft runs a line as one
   * transaction, so if any delete fails (its element already gone) nothing of the line
   * happened: then each delete goes alone (its failure ignored) and the command is tried again
   * alone, still in order.
   */
  private writeWithDeletes(command: string): Promise<void> {
    const s = this.nft();
    if (this.deferredDeletes.length === 0) return s.command(command);
    const deletes = this.deferredDeletes;
    this.deferredDeletes = [];
    return s.command([...deletes, command].join(' ; ')).catch(() => {
      const again = this.nft();
      for (const d of deletes) again.command(d).catch(() => undefined);
      return again.command(command);
    });
  }

  flushDeletes(): void {
    this.flushScheduled = false;
    if (this.deferredDeletes.length === 0) return;
    const deletes = this.deferredDeletes;
    this.deferredDeletes = [];
    this.nft().command(deletes.join(' ; ')).catch(() => {
      if (deletes.length === 1) return;
      const again = this.nft();
      for (const d of deletes) again.command(d).catch(() => undefined);
    });
  }

  async add(scope: CheckedScope): Promise<void> {
    this.cancelLinger();
    const table = this.ensureTable();
    const { set, key } = elementOf(scope);
    const id = `${set} { ${key} }`;
    let entry = this.elements.get(id);
    if (entry) entry.count++;
    else {
      const added = this.writeWithDeletes(`add element inet ${this.tableName} ${id}`);
      const fresh = { count: 1, added };
      entry = fresh;
      this.elements.set(id, fresh);
      // Not in the set after all: whoever shares this entry fails with the first installer.
      added.catch(() => {
        if (this.elements.get(id) === fresh) this.elements.delete(id);
        if (this.elements.size === 0) this.scheduleTableDrop();
      });
    }
    // The table's own error names the real cause; the element's follows from it.
    await table;
    await entry.added;
  }

  /**
   * Counts the element down; at zero its delete is deferred and the call returns at once.
   * Order still holds, flush() waits for it, and the exit hook ends the session (the kernel
   * then removes the owner table), so a delete not yet run at exit cannot leave the rule behind.
   */
  remove(scope: CheckedScope): void {
    const { set, key } = elementOf(scope);
    const id = `${set} { ${key} }`;
    const entry = this.elements.get(id);
    if (!entry) return;
    if (--entry.count > 0) return;
    this.elements.delete(id);
    this.deferredDeletes.push(`delete element inet ${this.tableName} ${id}`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushDeletes());
    }
    if (this.elements.size === 0) this.scheduleTableDrop();
  }

  private cancelLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  private scheduleTableDrop(): void {
    this.cancelLinger();
    const linger = this.options.lingerMs();
    if (linger <= 0) {
      void this.dropTable();
      return;
    }
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      void this.dropTable();
    }, linger);
    // The table waiting for a next conversation must not keep the process alive; exit drops it.
    this.lingerTimer.unref();
  }

  /** Waits for every change asked for so far, then drops the table now if no guard uses it. */
  async flush(): Promise<void> {
    this.cancelLinger();
    this.flushDeletes();
    if (this.elements.size === 0) await this.dropTable();
    await this.session?.drained();
  }

  /** Deletes the table if no element is counted; settles once nft has answered. */
  private async dropTable(): Promise<void> {
    if (this.elements.size > 0 || !this.tableReady) return;
    this.tableReady = undefined;
    // Deletes still deferred are moot: the table goes with its elements.
    this.deferredDeletes = [];
    // Through the session, in order: a separate `nft` could not touch an owner table anyway,
    // and could run after a later guard's `add table` and delete the new table under it.
    const s = this.nft();
    await s.command(`delete table inet ${this.tableName}`).then(
      () => undefined,
      () => undefined,
    );
    if (this.tableReady) return; // A guard came meanwhile: its table, its session, its exit hook.
    if (this.unownedTable) {
      this.unownedTable = false;
      deleteRecord({ pid: process.pid, token: this.options.token });
    }
    if (this.session === s && s.idle) {
      s.close();
      this.session = undefined;
    }
    this.tableCleanup?.();
    this.tableCleanup = undefined;
  }

  /** The exit path (exit, SIGINT, SIGTERM): promises no longer run, so synchronously. */
  private dropTableSync(): void {
    this.tableCleanup = undefined;
    // Ending nft -i closes its netlink socket: the kernel removes the owner table at once.
    const s = this.session;
    this.session = undefined;
    s?.close('SIGKILL');
    // The kernel drops the table while nft -i exits (its files close before it is a zombie):
    // wait for that here, so that the table is gone when this process is.
    if (s?.pid !== undefined) waitExitedSync(s.pid, 1000);
    this.cancelLinger();
    this.deferredDeletes = [];
    this.elements.clear();
    this.tableReady = undefined;
    if (!this.unownedTable) return;
    this.unownedTable = false;
    try {
      execFileSync('nft', ['delete', 'table', 'inet', this.tableName], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // Already gone.
    }
    deleteRecord({ pid: process.pid, token: this.options.token });
  }
}

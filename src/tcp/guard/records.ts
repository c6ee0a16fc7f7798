/**
 * What this process created, written down where a later sweep can find it. A sweep removes a
 * table or a rule only when a record says we made it, its run token matches what is in the
 * kernel, and the process that made it is gone: a table named synack_<pid> or a rule tagged
 * synack:<pid> that someone else made is left alone, and so is anything whose pid was reused.
 *
 * Records live in a private directory (0700, owned by us, not a symlink): /run/synack-guards
 * for root (tmpfs: a reboot clears it together with the rules it describes), else under the
 * user's runtime or temp directory. SYNACK_STATE_DIR overrides the base, for tests.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SynackError } from '../../wire/errors.js';

/** One rule as created: the command and the arguments given after -I (the same follow -D). */
export interface RuleRecord {
  cmd: 'iptables' | 'ip6tables';
  chain: string;
  args: string[];
}

export interface GuardRecord {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused pid apart. */
  start: number;
  /** Random per run; carried by every table comment and rule comment we make. */
  token: string;
  /** An nft table made without `flags owner` (an old kernel): the kernel will not remove it for us. */
  nftTable?: string;
  rules: RuleRecord[];
}

export interface ProcessIdentity {
  pid: number;
  start: number;
}

/** This process's pid and start time, or undefined when /proc says nothing (then: gone, or not ours to judge). */
export function processIdentity(pid: number): (ProcessIdentity & { zombie: boolean }) | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': cut at the last one.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(rest[19]);
  if (!Number.isFinite(start)) return undefined;
  return { pid, start, zombie: rest[0] === 'Z' || rest[0] === 'X' };
}

/** Whether the process that wrote a record still runs: same pid, same start time, not a zombie. */
export function ownerAlive(record: ProcessIdentity): boolean {
  const now = processIdentity(record.pid);
  return now !== undefined && !now.zombie && now.start === record.start;
}

export function newToken(): string {
  return randomBytes(8).toString('hex');
}

export function stateDir(): string {
  const uid = process.getuid?.();
  const dir = process.env.SYNACK_STATE_DIR
    ? join(process.env.SYNACK_STATE_DIR, 'guards')
    : uid === 0 ? '/run/synack-guards' : join(process.env.XDG_RUNTIME_DIR ?? tmpdir(), `synack-guards-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { mode: 0o700, recursive: true });
  } catch (err) {
    throw new SynackError(`cannot create the guard state directory ${dir}: ${(err as Error).message}`, 'system');
  }
  // Never trust a directory someone else could have planted or can write into.
  const st = lstatSync(dir);
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new SynackError(`the guard state directory ${dir} is not a private directory of ours (a symlink, another owner, or open to others): remove it or set SYNACK_STATE_DIR`, 'system');
  }
  return dir;
}

function recordPath(dir: string, r: { pid: number; token: string }): string {
  return join(dir, `${r.pid}-${r.token}.json`);
}

/** Writes the record whole (a temporary file renamed over it, created exclusively with 0600). */
export function writeRecord(r: GuardRecord): void {
  const dir = stateDir();
  const path = recordPath(dir, r);
  const tmp = `${path}.${newToken()}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(r));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function deleteRecord(r: { pid: number; token: string }): void {
  try {
    unlinkSync(recordPath(stateDir(), r));
  } catch {
    // Already gone.
  }
}

const RECORD_NAME = /^(\d+)-([0-9a-f]{16})\.json$/;
const NAME_RE = /^[A-Za-z0-9_]{1,64}$/;

/** Every record in the state directory that reads as one (anything else is ignored, never trusted). */
export function readRecords(): GuardRecord[] {
  let dir: string;
  try {
    dir = stateDir();
  } catch {
    return [];
  }
  const out: GuardRecord[] = [];
  for (const name of readdirSync(dir)) {
    const m = RECORD_NAME.exec(name);
    if (!m) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, name), 'utf8')) as GuardRecord;
      if (r.pid !== Number(m[1]) || r.token !== m[2] || !Number.isInteger(r.start) || !Array.isArray(r.rules)) continue;
      if (r.nftTable !== undefined && !NAME_RE.test(r.nftTable)) continue;
      const rulesOk = r.rules.every((x) => (x.cmd === 'iptables' || x.cmd === 'ip6tables') && x.chain === 'OUTPUT' && Array.isArray(x.args) && x.args.every((a) => typeof a === 'string' && !a.includes('\n')));
      if (rulesOk) out.push(r);
    } catch {
      // A half-written or foreign file: not a record.
    }
  }
  return out;
}

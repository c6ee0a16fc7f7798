/**
 * Where the pcap of a failed script run is kept when the user named no --pcap: one private
 * directory, $XDG_STATE_HOME/synack/failed-runs (~/.local/state/synack/failed-runs), mode 0700,
 * holding the newest KEEP runs (older ones are removed, so a fuzz loop does not pile up
 * thousands). Each file is created exclusively, 0600: a planted file or symlink is never
 * followed. Without a usable home, a private mkdtemp directory under $TMPDIR.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Failed runs kept. */
export const KEEP_FAILED_RUNS = 20;

/** The directory, made when missing; undefined when it is not a private directory of ours. */
function privateDir(path: string): string | undefined {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const st = lstatSync(path);
    if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? st.uid) || (st.mode & 0o077) !== 0) return undefined;
    return path;
  } catch {
    return undefined;
  }
}

export function failedRunsDir(): string {
  const state = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return privateDir(join(state, 'synack', 'failed-runs')) ?? mkdtempSync(join(tmpdir(), 'synack-failed-'));
}

/** A new path for the pcap of a failed run of `name`, after removing all but the newest runs. */
export function failedRunPath(name: string): string {
  const dir = failedRunsDir();
  prune(dir, KEEP_FAILED_RUNS - 1);
  return join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.pcap`);
}

function prune(dir: string, keep: number): void {
  let files: Array<{ path: string; mtime: number }>;
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.pcap'))
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }));
  } catch {
    return;
  }
  files.sort((a, b) => b.mtime - a.mtime);
  for (const f of files.slice(keep)) rmSync(f.path, { force: true });
}

/**
 * The C ceiling (bench/helpers/sendto-loop.c) built with the machine's cc into a temporary
 * directory, for the send-rate bench and the scan bench; never committed as a binary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'sendto-loop.c');

export interface CLoop {
  /** The built program: sendto-loop <packet-hex> <seconds> <count>. */
  path: string;
  /** Removes the temporary directory. */
  remove(): void;
}

/** Builds the C loop; a sentence saying why instead when it cannot. */
export function buildCLoop(): CLoop | string {
  const dir = mkdtempSync(join(tmpdir(), 'synack-bench-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, 'sendto-loop');
  const cc = spawnSync('cc', ['-O2', '-o', path, SOURCE], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    remove();
    return `the C ceiling was not built (cc: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})`;
  }
  return { path, remove };
}

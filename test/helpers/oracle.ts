/**
 * Oracles (tcpdump, tshark, Scapy) and what to do when one is missing. On a developer's machine
 * a missing oracle skips its tests with the reason printed in the test name; in CI (CI=true) it
 * is a failure, loudly, because a suite that silently skips its oracle checks nothing.
 */
import { spawnSync } from 'node:child_process';

/** True in CI, where every oracle the README's test command installs must be present. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * undefined when `command args` runs here; else why not. In CI, throws instead: the test file
 * fails with a line naming the missing oracle and the package that provides it.
 */
export function oracleMissing(command: string, args: string[], pkg = command): string | undefined {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
  if (r.status === 0) return undefined;
  return missing(`${command} is not installed (apt-get install -y ${pkg})`);
}

/** Reports an oracle found missing: a reason to skip with, or in CI an error. */
export function missing(reason: string): string {
  if (inCI) throw new Error(`oracle missing in CI: ${reason}`);
  return reason;
}

/**
 * Raw and packet sockets need root or CAP_NET_RAW. Without them the user gets one error that
 * names both ways out, instead of an EPERM from deep inside an addon.
 */
import { readFileSync } from 'node:fs';
import { SynackError } from '../wire/errors.js';
import { CAP_NET_RAW } from './constants.js';

const WAYS_OUT =
  'run as root (sudo), or give node the capabilities once: ' +
  'sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f $(which node))';

/** The error for a missing privilege; `what` says what was being attempted. */
export function privilegeError(what: string): SynackError {
  return new SynackError(`${what} needs root or CAP_NET_RAW: ${WAYS_OUT}`, 'privilege');
}

/** Whether this process may open raw and packet sockets. */
export function hasRawPrivilege(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const line = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
    if (!line) return false;
    return (BigInt('0x' + line[1]) & (1n << BigInt(CAP_NET_RAW))) !== 0n;
  } catch {
    return false;
  }
}

/** Throws the privilege error unless raw sockets are allowed. */
export function requireRawPrivilege(what = 'sending and capturing raw packets'): void {
  if (!hasRawPrivilege()) throw privilegeError(what);
}

/** Whether an addon's error is the kernel refusing for lack of privilege. */
export function isPermissionError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /Operation not permitted|Permission denied|EPERM|EACCES|You don't have permission/i.test(message);
}

/**
 * The C ceilings (bench/helpers/sendto-loop.c, packet-loop.c, pcap-loop.c, scan-floor.c) built with the
 * machine's cc into a temporary directory, for the send-rate bench and the scan bench; never committed as a
 * binary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface CLoop {
  /** The built program (its arguments: see its source). */
  path: string;
  /** Removes the temporary directory. */
  remove(): void;
}

/**
 * Builds a C loop (sendto-loop: raw sendto; packet-loop: AF_PACKET send; pcap-loop: libpcap's
 * pcap_sendpacket; scan-floor: a SYN scanner with synack's capture; the last two linked with -lpcap,
 * so they need libpcap's headers); a sentence saying why instead when it cannot.
 */
export function buildCLoop(name: 'sendto-loop' | 'packet-loop' | 'pcap-loop' | 'scan-floor' = 'sendto-loop'): CLoop | string {
  const dir = mkdtempSync(join(tmpdir(), 'synack-bench-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, name);
  const libs = name === 'pcap-loop' || name === 'scan-floor' ? ['-lpcap'] : [];
  const cc = spawnSync('cc', ['-O2', '-o', path, join(HERE, `${name}.c`), ...libs], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    remove();
    return `the C loop ${name} was not built (cc: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})`;
  }
  return { path, remove };
}

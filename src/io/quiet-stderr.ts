/**
 * Runs a call with file descriptor 2 pointed at /dev/null. cap 0.2.1's open() prints libpcap's
 * pcap_lookupnet() failure straight to stderr with fprintf ("Warning: v0: no IPv4 address
 * assigned - This may not actually work", or "SIOCGIFADDR: ..."), which means nothing for a
 * capture (the netmask only matters to filters that name a broadcast address). Node has no
 * dup(), so the stream is reopened through /proc/self/fd: open() takes the lowest free
 * descriptor, which is 2 once it is closed. Where that cannot be done safely (stderr is a
 * socket, as under a Node parent's stdio pipes; a lower descriptor is closed), the call runs as it is.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';

export function withoutStderr<T>(call: () => T): T {
  let saved: number;
  try {
    fstatSync(0);
    fstatSync(1);
    const stat = fstatSync(2);
    if (stat.isSocket()) return call();
    // A regular file is reopened for appending, so the next write does not land at offset 0.
    saved = openSync('/proc/self/fd/2', stat.isFile() ? 'a' : 'w');
  } catch {
    return call();
  }
  let silenced = false;
  try {
    closeSync(2);
    const devNull = openSync('/dev/null', 'w');
    silenced = devNull === 2;
    if (!silenced) closeSync(devNull);
    return call();
  } finally {
    if (silenced) closeSync(2);
    const back = openSync(`/proc/self/fd/${saved}`, 'a');
    if (back !== 2) closeSync(back);
    closeSync(saved);
  }
}

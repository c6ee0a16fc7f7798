/** The CLI's root check: firewall rules and raw sockets need root (or CAP_NET_RAW/CAP_NET_ADMIN). */
import { SynackError } from '../wire/errors.js';

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new SynackError(`${what} needs root: run it with sudo, or give node the capabilities with \`sudo setcap cap_net_raw,cap_net_admin+ep $(readlink -f $(which node))\``, 'privilege');
  }
}

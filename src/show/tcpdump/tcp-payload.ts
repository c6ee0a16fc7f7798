/**
 * What tcpdump prints after `length N` for a segment with data. tcpdump picks a dissector by
 * port (telnet, ssh, http, bgp, ...); synack follows it for the text protocols people meet on
 * loopback (HTTP on 80 and 8080), DNS on 53 (after its length prefix), and prints nothing more for any other port, as tcpdump does
 * for ports it has no dissector for.
 */
import type { PrintContext } from './context.js';
import { printTextProtocol } from './text-protocol.js';
import { printDNS } from './dns.js';

const HTTP_METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'ORDERPATCH', 'ACL', 'SEARCH'];

export function printTCPPayload(c: PrintContext, off: number, length: number, sport: number, dport: number, _flags: number): void {
  if (sport === 53 || dport === 53) {
    printDNS(c, off, length, true, false);
    return;
  }
  if (sport === 80 || dport === 80 || sport === 8080 || dport === 8080) {
    c.w(': ');
    c.proto = 'http';
    printTextProtocol(c, off, length, 'HTTP', HTTP_METHODS, true);
  }
}

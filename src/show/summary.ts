/**
 * Packet.summary(): the line `tcpdump -nn` prints for the packet alone (no timestamp). A
 * single packet has no flow history, so sequence numbers are absolute, as tcpdump prints the
 * first segment of a connection.
 */
import type { Packet } from '../packet/packet.js';
import { createPrinter } from './printer.js';

export function summary(p: Packet): string {
  return createPrinter({ noTimestamp: true }).formatPacket(p);
}

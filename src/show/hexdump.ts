/** Packet.hexdump(): Scapy's hexdump() layout, 16 bytes a line, upper-case hex, then the printable text. */
import type { Packet } from '../packet/packet.js';

const HEXU: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

export function hexdumpBytes(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    let hex = '';
    let text = '';
    for (let i = off; i < Math.min(off + 16, bytes.length); i++) {
      const b = bytes[i]!;
      hex += HEXU[b] + ' ';
      text += b >= 32 && b < 127 ? String.fromCharCode(b) : '.';
    }
    lines.push(off.toString(16).padStart(4, '0') + '  ' + hex.padEnd(48, ' ') + ' ' + text);
  }
  return lines.join('\n');
}

export function hexdump(p: Packet): string {
  return hexdumpBytes(p.bytes());
}

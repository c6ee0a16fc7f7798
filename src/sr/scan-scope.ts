/**
 * Where a scan or a traceroute may send: loopback (127.0.0.0/8, ::1) and the lab's own
 * ranges (198.51.100.0/24 and 2001:db8::/32, documentation prefixes that the lab's namespaces
 * use and that no real network routes). Anything else is refused before a packet is built.
 *
 * A target is an address, a CIDR block of one (expanded here, bounded), or a lab host's name.
 */
import { formatIPv6, isIPv4, isIPv6, parseIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';

/** Most addresses one scan takes: a /16 of IPv4, or a /112 of IPv6. */
export const MAX_TARGETS = 65536;

const SCOPE_HINT = 'synack sends only to 127.0.0.0/8, ::1, or a lab\'s 198.51.100.0/24 and 2001:db8::/32';

function v4Number(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function v4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Whether `address` (canonical or not) lies where synack may send. */
export function inScope(address: string): boolean {
  if (isIPv4(address)) {
    const n = v4Number(address);
    return n >>> 24 === 127 || n >>> 8 === 0xc63364; // 198.51.100.0/24
  }
  if (isIPv6(address)) {
    const b = parseIPv6(address);
    if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return true; // ::1
    return b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8;
  }
  return false;
}

/** Throws the one-line usage error for an address outside the scope. */
export function checkInScope(address: string, command: string): void {
  if (!inScope(address)) throw usageError(`${command}: ${address} is out of bounds: ${SCOPE_HINT}`);
}

/**
 * The addresses one target word stands for: an address, a CIDR block (every address in it,
 * network and broadcast included, as nmap does), or what `resolve` makes of a name.
 */
export function expandTarget(text: string, command: string, resolve: (name: string) => string): string[] {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const address = isIPv4(text) || isIPv6(text) ? text : resolve(text);
    checkInScope(address, command);
    return [address];
  }
  const base = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  const v4 = isIPv4(base);
  if (!v4 && !isIPv6(base)) throw usageError(`bad target ${JSON.stringify(text.slice(0, 60))}: a CIDR block is ADDRESS/BITS, like 127.0.0.0/24 or ::1/128`);
  const width = v4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > width) throw usageError(`bad prefix length in ${JSON.stringify(text.slice(0, 60))}: give 0 to ${width} bits`);
  const bits = Number(bitsText);
  const count = 2 ** (width - bits);
  if (count > MAX_TARGETS) throw usageError(`${text} holds ${count > 1e15 ? 'more than 10^15' : count} addresses: one scan takes at most ${MAX_TARGETS} (a /${width - 16})`);
  if (v4) {
    const first = (v4Number(base) & (bits === 0 ? 0 : ~(2 ** (32 - bits) - 1))) >>> 0;
    const list = Array.from({ length: count }, (_, i) => v4Text(first + i));
    // The whole block must be in scope: checking both ends suffices (the scope is two blocks, each larger than any allowed CIDR's span).
    checkInScope(list[0]!, command);
    checkInScope(list[list.length - 1]!, command);
    return list;
  }
  const bytes = parseIPv6(base);
  const low = width - bits; // host bits: at most 16, so the block varies only the last two bytes
  const full = Math.floor(low / 8);
  for (let i = 16 - full; i < 16; i++) bytes[i] = 0;
  if (low % 8) bytes[15 - full]! &= (0xff << low % 8) & 0xff;
  const start = bytes.readUInt16BE(14);
  const list: string[] = [];
  for (let i = 0; i < count; i++) {
    bytes.writeUInt16BE(start + i, 14);
    list.push(formatIPv6(bytes));
  }
  checkInScope(list[0]!, command);
  checkInScope(list[list.length - 1]!, command);
  return list;
}

/** Every target's addresses, duplicates dropped (first place kept), bounded by MAX_TARGETS. */
export function expandTargets(texts: readonly string[], command: string, resolve: (name: string) => string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const text of texts) {
    for (const address of expandTarget(text, command, resolve)) {
      if (seen.has(address)) continue;
      seen.add(address);
      out.push(address);
      if (out.length > MAX_TARGETS) throw usageError(`the targets hold more than ${MAX_TARGETS} addresses: scan fewer at once`);
    }
  }
  return out;
}

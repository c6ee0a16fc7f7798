/**
 * What a kernel-RST guard covers, checked at the API boundary. Every value that a backend
 * writes into an nft or iptables command passes through normaliseScope() first: addresses
 * through the address parser (canonical text, nothing else survives), ports as integers
 * 1-65535. A string carrying ';', '}', a newline or shell syntax is refused here, before any
 * command exists.
 */
import { canonicalAddress } from '../../wire/addr.js';
import { usageError } from '../../wire/errors.js';

/** The 4-tuple as the kernel's RST would carry it: our side first. */
export interface FourTuple {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** One of our addresses and ports, the peer unknown (a listener waiting for its first SYN). */
export interface PortScope {
  src: string;
  sport: number;
}

export type GuardScope = FourTuple | PortScope;

/** A scope whose values are safe to write into a command: canonical addresses, integer ports. */
export type CheckedScope = Readonly<GuardScope> & { readonly family: 4 | 6 };

export function isFourTuple(s: GuardScope): s is FourTuple {
  return (s as FourTuple).dst !== undefined;
}

function checkPort(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw usageError(`a kernel-RST guard's ${what} must be an integer 1-65535 (got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value)})`);
  }
  return value;
}

/**
 * The scope with canonical values, or a usage error. Never unscoped: an address and a port at
 * the very least, or every closed port of the host would go silent.
 */
export function normaliseScope(s: GuardScope): CheckedScope {
  if (typeof s !== 'object' || s === null) throw usageError('a kernel-RST guard needs our address and port: { src, sport } or { src, sport, dst, dport }');
  if (s.src === undefined || s.src === '' || s.sport === undefined) {
    throw usageError(`a kernel-RST guard needs our address and port (got ${String(s.src || '?')}.${String(s.sport)}): an unscoped guard would silence every closed port`);
  }
  const src = canonicalAddress(s.src, "kernel-RST guard's source address");
  const sport = checkPort(s.sport, 'port');
  const raw = s as Partial<FourTuple>;
  if (raw.dst === undefined && raw.dport === undefined) return Object.freeze({ src: src.address, sport, family: src.family });
  const dst = canonicalAddress(raw.dst, "kernel-RST guard's peer address");
  if (dst.family !== src.family) throw usageError(`a kernel-RST guard's addresses must be of one family (got ${src.address} and ${dst.address})`);
  const dport = checkPort(raw.dport, 'peer port');
  return Object.freeze({ src: src.address, sport, dst: dst.address, dport, family: src.family });
}

export function describeScope(s: GuardScope): string {
  return isFourTuple(s) ? `${s.src}.${s.sport} > ${s.dst}.${s.dport}` : `${s.src}.${s.sport} > any`;
}

/**
 * tcpdump's relative sequence numbers (print-tcp.c, tcp_seq_hash). One entry per connection,
 * both directions, keyed by addresses and ports in a fixed collating order (`rev` says which
 * side this packet is). Only segments with ACK consult the table: the first one records the
 * base (and is itself printed absolute), and any SYN among them (the SYN-ACK) resets it.
 */
import { viewOf } from './context.js';

/**
 * The bases of one connection. Flows, their entries and their chains are made with `new`, not
 * object or array literals: V8 watches a literal's allocation site, and once it sees that the
 * site's objects live long (these do: the table never forgets) it allocates them elsewhere and
 * deoptimizes every function that allocates there, printTCP and the whole printer above it,
 * recompiled halfway through a big file. Their fields are never written after construction
 * (a field's first write after that deoptimizes what read it as a constant).
 */
export class FlowEntry {
  constructor(
    /** Base of the sequence numbers of the side that is not reversed (its 32 bits, signed: a small integer to V8). */
    readonly seq: number,
    /** Base of the other side's (one less than the ACK seen, so the first ACK prints as 1), signed as seq. */
    readonly ack: number,
    /**
     * Where the line's `src.sport > dst.dport: ` text for both sides lies in the table's
     * prefix bytes (see TCPFlowTable.prefixes): the side that is not reversed, then the other,
     * each prefixLength long (the same pieces swapped). -1 when the entry was made from a
     * segment whose addresses were not printed (behind extension headers, in an ICMP error).
     */
    readonly prefix: number,
    readonly prefixLength: number,
  ) {}
}

/** An IPv4 connection in its port word's chain, newest first. */
class Flow4 {
  constructor(
    readonly src: number,
    readonly dst: number,
    readonly entry: FlowEntry,
    readonly next: Flow4 | undefined,
  ) {}
}

/** An IPv6 connection: both addresses (in collating order) and the port word, newest first in its chain. */
class Flow6 {
  constructor(
    readonly addresses: Uint8Array,
    readonly port: number,
    readonly entry: FlowEntry,
    readonly next: Flow6 | undefined,
  ) {}
}

// A chain of two at load time: `next` has held both undefined and a flow before any code is
// optimized against what it holds (a field that changes kind deoptimizes that code).
new Flow4(0, 0, new FlowEntry(0, 0, -1, 0), new Flow4(0, 0, new FlowEntry(0, 0, -1, 0), undefined));
new Flow6(new Uint8Array(32), 0, new FlowEntry(0, 0, -1, 0), new Flow6(new Uint8Array(32), 0, new FlowEntry(0, 0, -1, 0), undefined));

export class TCPFlowTable {
  /** IPv4: port word -> its chain of connections, like tcpdump's hash chain. */
  private readonly v4 = new Map<number, Flow4>();
  /** IPv6: a hash of addresses and ports -> its chain, compared byte for byte (no key strings). */
  private readonly v6 = new Map<number, Flow6>();

  /**
   * The entries' prefix texts, one after another in one growing array: most lines of a big
   * capture belong to a known connection, and one copy of its prefix costs less than writing
   * two addresses and two ports digit by digit; one array, not one per connection (a typed
   * array per connection costs more to make than its copies save).
   */
  prefixes: Uint8Array;
  /** `prefixes` as a DataView, which PrintContext.wbytes copies from. */
  prefixView: DataView;
  /** Where the next entry's prefixes go in `prefixes`. */
  prefixEnd = 0;

  constructor(prefixBytes = 1 << 16) {
    this.prefixes = new Uint8Array(prefixBytes);
    this.prefixView = viewOf(this.prefixes);
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.prefixEnd = 0;
  }

  /**
   * Stores both sides' prefixes from the `src.sport > dst.dport: ` at out[start, end): that
   * side's text and the other side's (`dst.dport > src.sport: `), the side that is not
   * reversed first; returns where they start. Addresses and ports hold no space: the first
   * one is the one before '>'.
   */
  storePrefixes(out: Uint8Array, start: number, end: number, rev: boolean): number {
    const n = end - start;
    if (this.prefixEnd + 2 * n > this.prefixes.length) {
      const bigger = new Uint8Array(Math.max(this.prefixes.length * 2, this.prefixEnd + 2 * n));
      bigger.set(this.prefixes.subarray(0, this.prefixEnd));
      this.prefixes = bigger;
      this.prefixView = viewOf(bigger);
    }
    const both = this.prefixes;
    const at = this.prefixEnd;
    this.prefixEnd = at + 2 * n;
    let mid = start;
    while (out[mid] !== 0x20) mid++;
    let p = rev ? at + n : at;
    for (let i = start; i < end; i++) both[p++] = out[i]!;
    // The other side beside it: this side's destination, ' > ', its source, ': '.
    let q = rev ? at : at + n;
    for (let i = mid + 3; i < end - 2; i++) both[q++] = out[i]!;
    both[q++] = 0x20;
    both[q++] = 0x3e;
    both[q++] = 0x20;
    for (let i = start; i < mid; i++) both[q++] = out[i]!;
    both[q++] = 0x3a;
    both[q] = 0x20;
    return at;
  }

  /** The entry for an IPv4 flow. */
  lookup4(src: number, dst: number, port: number): FlowEntry | undefined {
    for (let f = this.v4.get(port); f !== undefined; f = f.next) if (f.src === src && f.dst === dst) return f.entry;
    return undefined;
  }

  /**
   * A flow stored again (a SYN-ACK restarting it) goes first in its chain, where lookups find
   * it before the old one it replaces: nothing already made is written.
   */
  store4(src: number, dst: number, port: number, entry: FlowEntry): void {
    this.v4.set(port, new Flow4(src, dst, entry, this.v4.get(port)));
  }

  /** The entry for an IPv6 flow whose addresses are b[first, first+16) and b[second, second+16). */
  lookup6(b: Uint8Array, first: number, second: number, port: number): FlowEntry | undefined {
    for (let f = this.v6.get(hash6(b, first, second, port)); f !== undefined; f = f.next) {
      if (f.port === port && same6(f.addresses, b, first, second)) return f.entry;
    }
    return undefined;
  }

  /** As store4; a flow stored again keeps its copy of the addresses. */
  store6(b: Uint8Array, first: number, second: number, port: number, entry: FlowEntry): void {
    const h = hash6(b, first, second, port);
    const head = this.v6.get(h);
    let addresses: Uint8Array | undefined;
    for (let f = head; f !== undefined && addresses === undefined; f = f.next) {
      if (f.port === port && same6(f.addresses, b, first, second)) addresses = f.addresses;
    }
    if (addresses === undefined) {
      addresses = new Uint8Array(32);
      addresses.set(b.subarray(first, first + 16), 0);
      addresses.set(b.subarray(second, second + 16), 16);
    }
    this.v6.set(h, new Flow6(addresses, port, entry, head));
  }
}

// A table that grows its prefix bytes at load time, at every store: storePrefixes has run its
// growing branch with feedback (V8 records none in a function's first few calls) and the
// fields have held more than one array before any code is optimized against them (else the
// first growth, a few thousand connections into a file, deoptimizes printTCP and it).
const warm = new TCPFlowTable(1);
const warmText = Uint8Array.from([0x61, 0x20, 0x3e, 0x20, 0x62, 0x3a, 0x20]);
for (let i = 0; i < 16; i++) warm.storePrefixes(warmText, 0, 7, false);
// And an IPv6 flow stored again and again (each SYN-ACK restarting one does so): store6's
// search of its chain has run with feedback too.
const warmAddresses = new Uint8Array(32);
for (let i = 0; i < 16; i++) warm.store6(warmAddresses, 0, 16, 0, new FlowEntry(0, 0, -1, 0));

function hash6(b: Uint8Array, first: number, second: number, port: number): number {
  let h = port | 0;
  for (let i = 0; i < 16; i += 4) {
    h = Math.imul(h ^ ((b[first + i]! << 24) | (b[first + i + 1]! << 16) | (b[first + i + 2]! << 8) | b[first + i + 3]!), 0x9e3779b1);
    h = Math.imul(h ^ ((b[second + i]! << 24) | (b[second + i + 1]! << 16) | (b[second + i + 2]! << 8) | b[second + i + 3]!), 0x85ebca6b);
    h ^= h >>> 15;
  }
  return h;
}

function same6(a: Uint8Array, b: Uint8Array, first: number, second: number): boolean {
  for (let i = 15; i >= 0; i--) if (a[i] !== b[first + i] || a[16 + i] !== b[second + i]) return false;
  return true;
}

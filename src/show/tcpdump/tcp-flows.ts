/**
 * tcpdump's relative sequence numbers (print-tcp.c, tcp_seq_hash). One entry per connection,
 * both directions, keyed by addresses and ports in a fixed collating order (`rev` says which
 * side this packet is). Only segments with ACK consult the table: the first one records the
 * base (and is itself printed absolute), and any SYN among them (the SYN-ACK) resets it.
 */
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
new Flow4(0, 0, new FlowEntry(0, 0), new Flow4(0, 0, new FlowEntry(0, 0), undefined));
new Flow6(new Uint8Array(32), 0, new FlowEntry(0, 0), new Flow6(new Uint8Array(32), 0, new FlowEntry(0, 0), undefined));

export class TCPFlowTable {
  /** IPv4: port word -> its chain of connections, like tcpdump's hash chain. */
  private readonly v4 = new Map<number, Flow4>();
  /** IPv6: a hash of addresses and ports -> its chain, compared byte for byte (no key strings). */
  private readonly v6 = new Map<number, Flow6>();

  clear(): void {
    this.v4.clear();
    this.v6.clear();
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

/**
 * tcpdump's relative sequence numbers (print-tcp.c, tcp_seq_hash). One entry per connection,
 * both directions, keyed by addresses and ports in a fixed collating order (`rev` says which
 * side this packet is). Only segments with ACK consult the table: the first one records the
 * base (and is itself printed absolute), and any SYN among them (the SYN-ACK) resets it.
 */
export interface FlowEntry {
  /** Base of the sequence numbers of the side that is not reversed (its 32 bits, signed: a small integer to V8). */
  seq: number;
  /** Base of the other side's (one less than the ACK seen, so the first ACK prints as 1), signed as seq. */
  ack: number;
}

/** An IPv6 connection: both addresses (in collating order) and the port word. */
interface Flow6 {
  addresses: Uint8Array;
  port: number;
  entry: FlowEntry;
}

export class TCPFlowTable {
  /** IPv4: port word -> entries with their two addresses, like tcpdump's hash chain. */
  private readonly v4 = new Map<number, { src: number; dst: number; entry: FlowEntry }[]>();
  /** IPv6: a hash of addresses and ports -> entries, compared byte for byte (no key strings). */
  private readonly v6 = new Map<number, Flow6[]>();

  clear(): void {
    this.v4.clear();
    this.v6.clear();
  }

  /** The entry for an IPv4 flow. */
  lookup4(src: number, dst: number, port: number): FlowEntry | undefined {
    const chain = this.v4.get(port);
    if (!chain) return undefined;
    for (let i = 0; i < chain.length; i++) {
      const c = chain[i]!;
      if (c.src === src && c.dst === dst) return c.entry;
    }
    return undefined;
  }

  store4(src: number, dst: number, port: number, entry: FlowEntry): void {
    let chain = this.v4.get(port);
    if (!chain) this.v4.set(port, (chain = []));
    for (const c of chain) {
      if (c.src === src && c.dst === dst) {
        c.entry = entry;
        return;
      }
    }
    chain.push({ src, dst, entry });
  }

  /** The entry for an IPv6 flow whose addresses are b[first, first+16) and b[second, second+16). */
  lookup6(b: Uint8Array, first: number, second: number, port: number): FlowEntry | undefined {
    const chain = this.v6.get(hash6(b, first, second, port));
    if (!chain) return undefined;
    for (let i = 0; i < chain.length; i++) {
      const f = chain[i]!;
      if (f.port === port && same6(f.addresses, b, first, second)) return f.entry;
    }
    return undefined;
  }

  store6(b: Uint8Array, first: number, second: number, port: number, entry: FlowEntry): void {
    const h = hash6(b, first, second, port);
    let chain = this.v6.get(h);
    if (!chain) this.v6.set(h, (chain = []));
    for (const f of chain) {
      if (f.port === port && same6(f.addresses, b, first, second)) {
        f.entry = entry;
        return;
      }
    }
    const addresses = new Uint8Array(32);
    addresses.set(b.subarray(first, first + 16), 0);
    addresses.set(b.subarray(second, second + 16), 16);
    chain.push({ addresses, port, entry });
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

/**
 * tcpdump's relative sequence numbers (print-tcp.c, tcp_seq_hash). One entry per connection,
 * both directions, keyed by addresses and ports in a fixed collating order (`rev` says which
 * side this packet is). Only segments with ACK consult the table: the first one records the
 * base (and is itself printed absolute), and any SYN among them (the SYN-ACK) resets it.
 */
export interface FlowEntry {
  /** Base of the sequence numbers of the side that is not reversed. */
  seq: number;
  /** Base of the other side's (one less than the ACK seen, so the first ACK prints as 1). */
  ack: number;
}

export class TCPFlowTable {
  /** IPv4: port word -> entries with their two addresses, like tcpdump's hash chain. */
  private readonly v4 = new Map<number, { src: number; dst: number; entry: FlowEntry }[]>();
  /** IPv6: addresses and ports as a string key (less frequent, simpler). */
  private readonly v6 = new Map<string, FlowEntry>();

  clear(): void {
    this.v4.clear();
    this.v6.clear();
  }

  /** The entry for an IPv4 flow; `created` tells the caller the entry is new (or reset). */
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

  lookup6(key: string): FlowEntry | undefined {
    return this.v6.get(key);
  }

  store6(key: string, entry: FlowEntry): void {
    this.v6.set(key, entry);
  }
}

/**
 * A seeded generator of Scapy packet expressions, for the byte-exact oracle and the round-trip
 * tests. Every expression gives its addresses and MACs explicitly (127.x, 198.51.100.x, ::1,
 * 2001:db8::x) so that Scapy never consults the routes or ARP cache of the machine, and every
 * time-based default (ICMP timestamps) is given too: the same expression must mean the same
 * bytes to Scapy and to synack.
 *
 * Only layers that synack has registered are generated (the caller passes `available`), so the
 * suite is useful while protocols are still being written; `missingLayers()` says what was left
 * out, and the tests print it.
 */

/** A tiny deterministic PRNG (mulberry32): the same seed gives the same specs on every run. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
  u32(): number {
    return this.int(0, 0xffff) * 0x10000 + this.int(0, 0xffff);
  }
}

/** Python literals. Bytes are written with \x escapes only, so no quoting rule can bite. */
export function pyBytes(b: Buffer): string {
  let s = "b'";
  for (const byte of b) s += '\\x' + byte.toString(16).padStart(2, '0');
  return s + "'";
}
function pyStr(s: string): string {
  return `'${s}'`;
}

/** One layer of an expression: Scapy class name and `field=value` texts in order. */
interface LayerText {
  name: string;
  args: string[];
}

export type SpecLink = 'ip' | 'ether' | 'sll' | 'sll2' | 'null';

export interface PacketSpec {
  /** The Scapy expression, e.g. "IP(src='127.0.0.1',dst='127.0.0.2')/TCP(dport=80)". */
  expr: string;
  /** Where dissect() should start for the built bytes. */
  link: SpecLink;
  /** Scapy class names used, layers and options, for coverage reports. */
  kinds: string[];
  /**
   * Index of the first layer whose given fields change how the bytes dissect (a lying length,
   * a nonzero fragment offset, a wrong type field): dissection may legitimately split the
   * bytes differently from there on. Infinity when the spec is consistent.
   */
  liesFrom: number;
}

/** Every Scapy layer class the generator can use; the ones synack lacks are left out. */
export const GENERATED_LAYERS = [
  'Ether', 'CookedLinux', 'CookedLinuxV2', 'Loopback', 'ARP',
  'IP', 'IPerror', 'IPv6', 'IPerror6',
  'IPv6ExtHdrHopByHop', 'IPv6ExtHdrRouting', 'IPv6ExtHdrFragment', 'IPv6ExtHdrDestOpt',
  'TCP', 'TCPerror', 'UDP', 'UDPerror', 'ICMP', 'ICMPerror',
  'ICMPv6EchoRequest', 'ICMPv6EchoReply', 'ICMPv6DestUnreach', 'ICMPv6PacketTooBig', 'ICMPv6TimeExceeded',
  'ICMPv6ParamProblem', 'ICMPv6ND_NS', 'ICMPv6ND_NA', 'ICMPv6NDOptSrcLLAddr', 'ICMPv6NDOptDstLLAddr',
  'Raw', 'Padding',
  'Dot1Q', 'Dot1AD', 'DNS', 'DNSQR', 'DNSRR', 'DNSRRSOA', 'DNSRRMX', 'DNSRRSRV', 'DNSRROPT', 'EDNS0TLV',
] as const;

export function missingLayers(available: (name: string) => boolean): string[] {
  return GENERATED_LAYERS.filter((n) => !available(n));
}

/**
 * The layers the generators know but did not emit in `specs`: unregistered ones (a layer whose
 * registerLayer() went missing) or ones the sample never reached. A suite that builds on
 * random specs asserts this is empty, so losing a layer fails it instead of shrinking it.
 */
export function uncoveredLayers(specs: readonly PacketSpec[], available: (name: string) => boolean): string[] {
  const seen = new Set(specs.flatMap((s) => s.kinds));
  return GENERATED_LAYERS.filter((n) => !available(n) || !seen.has(n));
}

class SpecBuilder {
  readonly layers: LayerText[] = [];
  readonly kinds = new Set<string>();
  liesFrom = Infinity;
  link: SpecLink = 'ip';

  constructor(
    readonly rng: Rng,
    readonly has: (name: string) => boolean,
  ) {}

  push(name: string, args: string[]): void {
    this.layers.push({ name, args });
    this.kinds.add(name);
  }

  /** Marks the layer being added next (or the last one) as the first that lies about structure. */
  lie(atLayer = this.layers.length): void {
    if (atLayer < this.liesFrom) this.liesFrom = atLayer;
  }

  // ---- addresses ----
  ipv4(): string {
    const r = this.rng;
    return r.chance(0.5) ? `127.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}` : `198.51.100.${r.int(1, 254)}`;
  }
  ipv6(): string {
    const r = this.rng;
    // Now and then an IPv4-compatible address (::a.b.c.d), which inet_ntop prints that way.
    if (r.chance(0.03)) return `::198.51.100.${r.int(1, 254)}`;
    switch (r.int(0, 4)) {
      case 0:
        return '::1';
      case 1:
        return `2001:db8::${r.int(1, 0xffff).toString(16)}`;
      case 2:
        return `2001:db8:${r.int(0, 0xffff).toString(16)}::${r.int(1, 0xffff).toString(16)}:${r.int(0, 0xffff).toString(16)}`;
      case 3:
        // Written in full with zero groups, so address parsing and compression both matter.
        return `2001:db8:0:${r.int(0, 9)}:0:0:${r.int(0, 0xffff).toString(16)}:${r.int(1, 0xffff).toString(16)}`;
      default:
        return `2001:db8:${r.int(1, 0xffff).toString(16)}:${r.int(0, 0xffff).toString(16)}:${r.int(0, 0xffff).toString(16)}:${r.int(0, 0xffff).toString(16)}:${r.int(0, 0xffff).toString(16)}:${r.int(0, 0xffff).toString(16)}`;
    }
  }
  mac(): string {
    const b = this.rng.bytes(6);
    b[0] = b[0]! & 0xfe; // unicast
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
  }
  payload(max = 48): Buffer {
    const r = this.rng;
    if (r.chance(0.3)) return Buffer.from('GET / HTTP/1.0\r\n\r\n'.slice(0, r.int(1, 18)), 'latin1');
    return r.bytes(r.int(1, max));
  }

  // ---- link layers ----
  linkLayer(network: 'ipv4' | 'ipv6' | 'arp'): void {
    const r = this.rng;
    const links: SpecLink[] = ['ip'];
    if (this.has('Ether')) links.push('ether', 'ether');
    if (this.has('CookedLinux')) links.push('sll');
    if (this.has('CookedLinuxV2')) links.push('sll2');
    if (this.has('Loopback') && network !== 'arp') links.push('null');
    let link = network === 'arp' ? 'ether' : r.chance(0.55) ? 'ip' : r.pick(links);
    if (network === 'arp' && this.has('CookedLinux') && r.chance(0.2)) link = 'sll';
    this.link = link as SpecLink;
    switch (link) {
      case 'ether':
        this.push('Ether', [`dst=${pyStr(this.mac())}`, `src=${pyStr(this.mac())}`]);
        this.vlanTags();
        break;
      case 'sll': {
        const args = [`pkttype=${r.pick([0, 1, 2, 3, 4])}`];
        if (r.chance(0.7)) args.push('lladdrtype=1', 'lladdrlen=6', `src=${pyBytes(Buffer.concat([this.rng.bytes(6), Buffer.alloc(2)]))}`);
        this.push('CookedLinux', args);
        break;
      }
      case 'sll2': {
        const args = [`ifindex=${r.int(0, 20)}`, `pkttype=${r.pick([0, 4])}`];
        if (r.chance(0.7)) args.push('lladdrtype=1', 'lladdrlen=6', `src=${pyBytes(Buffer.concat([this.rng.bytes(6), Buffer.alloc(2)]))}`);
        this.push('CookedLinuxV2', args);
        break;
      }
      case 'null':
        this.push('Loopback', []);
        break;
    }
  }

  /** Now and then an 802.1Q tag, or an 802.1ad tag with a 802.1Q tag inside (QinQ). */
  vlanTags(): void {
    const r = this.rng;
    if (!this.has('Dot1Q') || !r.chance(0.25)) return;
    const tag = (): string[] => [`prio=${r.int(0, 7)}`, `id=${r.int(0, 1)}`, `vlan=${r.int(0, 4095)}`];
    if (this.has('Dot1AD') && r.chance(0.4)) this.push('Dot1AD', tag());
    this.push('Dot1Q', tag());
  }

  // ---- DNS ----
  dnsName(): string {
    const r = this.rng;
    if (r.chance(0.05)) return '';
    const labels: string[] = [];
    for (let i = r.int(1, 3); i > 0; i--) {
      let l = '';
      for (let j = r.int(1, 10); j > 0; j--) l += r.pick([...'abcdefghijklmnopqrstuvwxyz0123456789-']);
      labels.push(l);
    }
    return labels.join('.') + (r.chance(0.3) ? '.' : '');
  }

  /** One resource record of a random kind, with its fields given as Scapy takes them. */
  dnsRecord(): string {
    const r = this.rng;
    const head = [`rrname=${pyStr(this.dnsName())}`];
    if (r.chance(0.7)) head.push(`ttl=${r.u32()}`);
    if (r.chance(0.1)) head.push(`rclass=${r.pick([1, 3, 255])}`);
    const kind = r.int(0, 9);
    this.kinds.add(kind <= 5 ? 'DNSRR' : ['DNSRRSOA', 'DNSRRMX', 'DNSRRSRV', 'DNSRROPT'][kind - 6]!);
    switch (kind) {
      case 0:
        return `DNSRR(${[...head, 'type=1', `rdata=${pyStr(this.ipv4())}`].join(',')})`;
      case 1:
        return `DNSRR(${[...head, 'type=28', `rdata=${pyStr(this.ipv6())}`].join(',')})`;
      case 2:
        return `DNSRR(${[...head, `type=${r.pick([2, 5, 12])}`, `rdata=${pyStr(this.dnsName())}`].join(',')})`;
      case 3: {
        const texts = Array.from({ length: r.int(1, 3) }, () => pyStr(this.dnsName().replace(/\./g, ' ')));
        return `DNSRR(${[...head, 'type=16', `rdata=[${texts.join(',')}]`].join(',')})`;
      }
      case 4:
        return `DNSRR(${[...head, `type=${r.pick([99, 257, 13])}`, `rdata=${pyBytes(r.bytes(r.int(0, 12)))}`].join(',')})`;
      case 5:
        return `DNSRR(${head.join(',')})`;
      case 6:
        return `DNSRRSOA(${[...head, `mname=${pyStr(this.dnsName())}`, `rname=${pyStr(this.dnsName())}`, `serial=${r.u32()}`, `refresh=${r.u32()}`, `retry=${r.int(0, 9999)}`, `expire=${r.u32()}`, `minimum=${r.int(0, 86400)}`].join(',')})`;
      case 7:
        return `DNSRRMX(${[...head, 'type=15', `preference=${r.int(0, 0xffff)}`, `exchange=${pyStr(this.dnsName())}`].join(',')})`;
      case 8:
        return `DNSRRSRV(${[...head, `priority=${r.int(0, 0xffff)}`, `weight=${r.int(0, 0xffff)}`, `port=${r.int(0, 0xffff)}`, `target=${pyStr(this.dnsName())}`].join(',')})`;
      default: {
        this.kinds.add('EDNS0TLV');
        // Option code 8 (client subnet) is a class of its own in Scapy; the others are plain TLVs.
        const tlvs = Array.from({ length: r.int(0, 2) }, () => `EDNS0TLV(optcode=${r.pick([3, 10, 12, 15])},optdata=${pyBytes(r.bytes(r.int(0, 10)))})`);
        return `DNSRROPT(rclass=${r.pick([512, 1232, 4096])},z=${r.pick([0, 32768])},rdata=[${tlvs.join(',')}])`;
      }
    }
  }

  /**
   * A DNS message with at most one record per section: Scapy 2.5 chains records with '/'
   * (a list keeps only its first), which the text form takes in a list instead.
   */
  dnsLayer(overTCP: boolean): void {
    const r = this.rng;
    const args: string[] = [`id=${r.int(0, 0xffff)}`];
    for (const bit of ['qr', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd']) if (r.chance(0.3)) args.push(`${bit}=${r.int(0, 1)}`);
    if (r.chance(0.2)) args.push(`opcode=${r.int(0, 5)}`);
    if (r.chance(0.2)) args.push(`rcode=${r.int(0, 5)}`);
    // Over TCP a message shorter than 14 bytes (no question, no record) is not DNS to Scapy: give one.
    if (overTCP || r.chance(0.8)) {
      args.push(`qd=DNSQR(qname=${pyStr(this.dnsName())},qtype=${r.pick([1, 28, 5, 15, 16, 33, 255])}${r.chance(0.2) ? `,qclass=${r.pick([1, 3, 255])}` : ''})`);
      this.kinds.add('DNSQR');
    } else if (r.chance(0.5)) args.push('qd=None');
    if (r.chance(0.5)) args.push(`an=${this.dnsRecord()}`);
    if (r.chance(0.2)) args.push(`ns=${this.dnsRecord()}`);
    if (r.chance(0.4)) args.push(`ar=${this.dnsRecord()}`);
    this.push('DNS', args);
  }

  /** DNS on a port Scapy binds: UDP 53 or 5353 on either side, or TCP 53 (with its length). */
  dnsTransport(): void {
    const r = this.rng;
    const port = r.chance(0.8) ? 53 : 5353;
    const other = r.int(1024, 0xffff);
    const [sport, dport] = r.chance(0.5) ? [other, port] : [port, other];
    const tcp = port === 53 && r.chance(0.25);
    if (tcp) this.push('TCP', [`sport=${sport}`, `dport=${dport}`, `flags='PA'`, `seq=${r.u32()}`, `ack=${r.u32()}`]);
    else this.push('UDP', [`sport=${sport}`, `dport=${dport}`]);
    this.dnsLayer(tcp);
  }

  // ---- IPv4 ----
  ipOptions(): string | undefined {
    const r = this.rng;
    const opts: string[] = [];
    let size = 0;
    const n = r.int(1, 4);
    for (let i = 0; i < n; i++) {
      const kind = r.int(0, 7);
      let text: string;
      let len: number;
      if (kind === 0) {
        [text, len] = ['IPOption_NOP()', 1];
      } else if (kind === 1) {
        [text, len] = ['IPOption_EOL()', 1];
      } else if (kind <= 3) {
        const cls = r.pick(['IPOption_RR', 'IPOption_LSRR', 'IPOption_SSRR']);
        const routers = Array.from({ length: r.int(0, 4) }, () => pyStr(this.ipv4()));
        const args = [`routers=[${routers.join(',')}]`];
        if (r.chance(0.3)) args.push(`pointer=${r.pick([4, 8, 12])}`);
        [text, len] = [`${cls}(${args.join(',')})`, 3 + 4 * routers.length];
      } else if (kind === 4) {
        const flg = r.pick([0, 1, 3]);
        const args = [`flg=${flg}`, `timestamp=${r.u32()}`];
        if (flg !== 0) args.push(`internet_address=${pyStr(this.ipv4())}`);
        if (r.chance(0.3)) args.push(`oflw=${r.int(0, 15)}`);
        [text, len] = [`IPOption_Timestamp(${args.join(',')})`, flg === 0 ? 8 : 12];
      } else if (kind === 5) {
        [text, len] = [`IPOption_Router_Alert(alert=${r.pick([0, 1, 0xffff])})`, 4];
      } else {
        // An option kind synack has no shape for: passed through as type, length and value.
        const value = r.bytes(r.int(0, 6));
        const option = r.pick([5, 6, 10, 13, 14, 15, 16, 17, 22, 25, 26, 30, 31]);
        [text, len] = [`IPOption(copy_flag=${r.int(0, 1)},optclass=${r.pick([0, 2])},option=${option},value=${pyBytes(value)})`, 2 + value.length];
      }
      if (size + len > 40) break;
      size += len;
      opts.push(text);
      this.kinds.add(text.slice(0, text.indexOf('(')));
    }
    return opts.length ? `[${opts.join(',')}]` : undefined;
  }

  ipv4Layer(name: 'IP' | 'IPerror', quoted: boolean): void {
    const r = this.rng;
    const args = [`src=${pyStr(this.ipv4())}`, `dst=${pyStr(this.ipv4())}`];
    if (r.chance(0.3)) args.push(`tos=${r.int(0, 255)}`);
    if (r.chance(0.5)) args.push(`id=${r.int(0, 0xffff)}`);
    if (r.chance(0.3)) args.push(`flags=${r.pick(["'DF'", "'MF'", "'MF+DF'", '0', '2', "'evil'"])}`);
    if (r.chance(0.4)) args.push(`ttl=${r.int(0, 255)}`);
    if (r.chance(0.2)) {
      const opts = this.ipOptions();
      if (opts) args.push(`options=${opts}`);
    }
    if (!quoted && r.chance(0.05)) {
      args.push(`frag=${r.int(1, 0x1fff)}`);
      this.lie(); // a fragment's payload dissects as Raw
    }
    if (r.chance(0.08)) args.push(`chksum=${r.pick(['0x1234', '0', '0xffff'])}`);
    if (quoted && r.chance(0.4)) args.push(`len=${r.int(60, 1500)}`); // an ICMP error quotes the start of a longer packet
    else if (!quoted && r.chance(0.06)) {
      args.push(`len=${r.int(0, 120)}`);
      this.lie();
    }
    if (r.chance(0.04)) {
      args.push(`ihl=${r.int(0, 15)}`);
      this.lie();
    }
    this.push(name, args);
  }

  // ---- IPv6 ----
  ipv6Layer(name: 'IPv6' | 'IPerror6', quoted: boolean, upper?: string): void {
    const r = this.rng;
    const args = [`src=${pyStr(this.ipv6())}`, `dst=${pyStr(this.ipv6())}`];
    if (r.chance(0.3)) args.push(`tc=${r.int(0, 255)}`);
    if (r.chance(0.3)) args.push(`fl=${r.int(0, 0xfffff)}`);
    // Neighbour discovery sets hlim 255 by default in Scapy: leave it unset often to test that.
    if (r.chance(upper?.startsWith('ICMPv6ND') ? 0.2 : 0.4)) args.push(`hlim=${r.int(0, 255)}`);
    if (quoted && r.chance(0.3)) args.push(`plen=${r.int(40, 1400)}`);
    else if (!quoted && r.chance(0.05)) {
      args.push(`plen=${r.int(0, 100)}`);
      this.lie();
    }
    this.push(name, args);
  }

  hbhOptions(inDestOpt: boolean): string {
    const r = this.rng;
    const opts: string[] = [];
    const n = r.int(0, 3);
    for (let i = 0; i < n; i++) {
      const choices = ['Pad1', 'PadN', 'RouterAlert', 'HBHOptUnknown'];
      if (inDestOpt) choices.push('HAO');
      else choices.push('Jumbo');
      const kind = r.pick(choices);
      this.kinds.add(kind);
      switch (kind) {
        case 'Pad1':
          opts.push('Pad1()');
          break;
        case 'PadN':
          opts.push(`PadN(optdata=${pyBytes(Buffer.alloc(r.int(0, 5)))})`);
          break;
        case 'RouterAlert':
          opts.push(`RouterAlert(value=${r.pick([0, 1, 2])})`);
          break;
        case 'Jumbo':
          opts.push(`Jumbo(jumboplen=${r.u32()})`);
          break;
        case 'HAO':
          opts.push(`HAO(hoa=${pyStr(this.ipv6())})`);
          break;
        default:
          opts.push(`HBHOptUnknown(otype=${r.pick([0x1e, 0x3e, 0x7e, 0x11])},optdata=${pyBytes(r.bytes(r.int(0, 6)))})`);
      }
    }
    return `[${opts.join(',')}]`;
  }

  extHeaders(): void {
    const r = this.rng;
    const chain: string[] = [];
    if (this.has('IPv6ExtHdrHopByHop') && r.chance(0.4)) chain.push('IPv6ExtHdrHopByHop');
    if (this.has('IPv6ExtHdrDestOpt') && r.chance(0.2)) chain.push('IPv6ExtHdrDestOpt');
    if (this.has('IPv6ExtHdrRouting') && r.chance(0.3)) chain.push('IPv6ExtHdrRouting');
    if (this.has('IPv6ExtHdrFragment') && r.chance(0.3)) chain.push('IPv6ExtHdrFragment');
    if (this.has('IPv6ExtHdrDestOpt') && r.chance(0.2)) chain.push('IPv6ExtHdrDestOpt');
    for (const name of chain) {
      const args: string[] = [];
      switch (name) {
        case 'IPv6ExtHdrHopByHop':
        case 'IPv6ExtHdrDestOpt':
          if (r.chance(0.8)) args.push(`options=${this.hbhOptions(name === 'IPv6ExtHdrDestOpt')}`);
          break;
        case 'IPv6ExtHdrRouting': {
          const addrs = Array.from({ length: r.int(0, 3) }, () => pyStr(this.ipv6()));
          args.push(`addresses=[${addrs.join(',')}]`);
          if (r.chance(0.4)) args.push(`segleft=${r.int(0, addrs.length)}`);
          break;
        }
        case 'IPv6ExtHdrFragment':
          if (r.chance(0.6)) args.push(`id=${r.u32()}`);
          if (r.chance(0.4)) args.push(`m=${r.int(0, 1)}`);
          if (r.chance(0.1)) {
            args.push(`offset=${r.int(1, 0x1fff)}`);
            this.lie(); // a later fragment's payload dissects as Raw
          }
          break;
      }
      this.push(name, args);
    }
  }

  // ---- transports ----
  tcpOptions(): string {
    const r = this.rng;
    const opts: string[] = [];
    let size = 0;
    const n = r.int(1, 8);
    for (let i = 0; i < n; i++) {
      let text: string;
      let len: number;
      switch (r.int(0, 8)) {
        case 0:
          [text, len] = [`('MSS',${r.int(0, 0xffff)})`, 4];
          break;
        case 1:
          [text, len] = ["('SAckOK',b'')", 2];
          break;
        case 2:
          [text, len] = [`('Timestamp',(${r.u32()},${r.u32()}))`, 10];
          break;
        case 3:
          [text, len] = ["('NOP',None)", 1];
          break;
        case 4:
          [text, len] = [`('WScale',${r.int(0, 14)})`, 3];
          break;
        case 5: {
          const edges = Array.from({ length: 2 * r.int(1, 4) }, () => r.u32());
          [text, len] = [`('SAck',(${edges.join(',')}))`, 2 + 4 * edges.length];
          break;
        }
        case 6:
          [text, len] = ["('EOL',None)", 1];
          break;
        default: {
          // Kinds Scapy has no name for: passed through as kind plus bytes.
          const value = r.chance(0.5) ? Buffer.from([1, 2]) : r.bytes(r.int(0, 6));
          [text, len] = [`(${r.pick([253, 254, 30, 77, 200])},${pyBytes(value)})`, 2 + value.length];
        }
      }
      if (size + len > 40) continue;
      size += len;
      opts.push(text);
      this.kinds.add(`TCP option ${text.slice(1, text.indexOf(','))}`);
    }
    return `[${opts.join(',')}]`;
  }

  tcpLayer(name: 'TCP' | 'TCPerror', quoted: boolean): void {
    const r = this.rng;
    const args: string[] = [];
    if (r.chance(0.8)) args.push(`sport=${r.int(0, 0xffff)}`);
    if (r.chance(0.8)) args.push(`dport=${r.int(0, 0xffff)}`);
    if (r.chance(0.6)) args.push(`seq=${r.u32()}`);
    if (r.chance(0.4)) args.push(`ack=${r.u32()}`);
    if (r.chance(0.7)) {
      if (r.chance(0.8)) {
        let letters = '';
        for (const l of 'FSRPAUEC') if (r.chance(0.3)) letters += l;
        args.push(`flags=${pyStr(letters)}`);
      } else args.push(`flags=${r.int(0, 0x1ff)}`);
    }
    if (r.chance(0.4)) args.push(`window=${r.int(0, 0xffff)}`);
    if (r.chance(0.1)) args.push(`urgptr=${r.int(0, 0xffff)}`);
    if (r.chance(0.05)) args.push(`reserved=${r.int(0, 7)}`);
    if (r.chance(0.6)) args.push(`options=${this.tcpOptions()}`);
    if (r.chance(0.1)) args.push(`chksum=${r.pick(['0x1234', '0', '0xffff'])}`);
    if (!quoted && r.chance(0.05)) {
      args.push(`dataofs=${r.int(0, 15)}`);
      this.lie();
    }
    this.push(name, args);
    if (!quoted && r.chance(0.4)) this.raw();
  }

  udpLayer(name: 'UDP' | 'UDPerror', quoted: boolean): void {
    const r = this.rng;
    const args: string[] = [];
    // Ports away from 53 and friends when bytes follow: both would dissect them as DNS. A
    // port left at its default (53) only on an empty datagram.
    const withRaw = !quoted && r.chance(0.6);
    if (withRaw || r.chance(0.9)) args.push(`sport=${r.int(1024, 0xffff)}`);
    if (withRaw || r.chance(0.9)) args.push(`dport=${r.int(1024, 0xffff)}`);
    if (r.chance(0.1)) args.push(`chksum=${r.pick(['0x1234', '0', '0xffff'])}`);
    if (!quoted && r.chance(0.07)) {
      args.push(`len=${r.int(0, 80)}`);
      this.lie();
    } else if (quoted && r.chance(0.3)) args.push(`len=${r.int(8, 1400)}`);
    this.push(name, args);
    if (withRaw) this.raw();
  }

  raw(): void {
    this.push('Raw', [`load=${pyBytes(this.payload())}`]);
  }

  /** What an ICMP or ICMPv6 error quotes: the offending header and the start of its payload. */
  quote(v6: boolean): void {
    const r = this.rng;
    const ipName = v6 ? 'IPerror6' : 'IPerror';
    if (!this.has(ipName)) {
      this.raw();
      return;
    }
    const uppers: string[] = [];
    if (this.has('TCPerror')) uppers.push('TCPerror');
    if (this.has('UDPerror')) uppers.push('UDPerror');
    if (!v6 && this.has('ICMPerror')) uppers.push('ICMPerror');
    uppers.push('Raw', 'none');
    const upper = r.pick(uppers);
    if (v6) this.ipv6Layer('IPerror6', true);
    else this.ipv4Layer('IPerror', true);
    switch (upper) {
      case 'TCPerror':
        this.tcpLayer('TCPerror', true);
        break;
      case 'UDPerror':
        this.udpLayer('UDPerror', true);
        break;
      case 'ICMPerror':
        this.push('ICMPerror', [`type=${r.pick([8, 0])}`, `id=${r.int(0, 0xffff)}`, `seq=${r.int(0, 0xffff)}`]);
        break;
      case 'Raw':
        this.raw();
        break;
    }
  }

  icmpLayer(): void {
    const r = this.rng;
    const kind = r.pick(['echo', 'echo', 'timestamp', 'unreach', 'unreach', 'timeexceeded', 'redirect', 'paramproblem', 'other']);
    const args: string[] = [];
    const chksum = r.chance(0.1) ? `chksum=${r.pick(['0x1234', '0', '0xffff'])}` : undefined;
    switch (kind) {
      case 'echo':
        args.push(`type=${r.pick([8, 0])}`);
        if (r.chance(0.8)) args.push(`id=${r.int(0, 0xffff)}`, `seq=${r.int(0, 0xffff)}`);
        break;
      case 'timestamp':
        args.push(`type=${r.pick([13, 14])}`, `id=${r.int(0, 0xffff)}`, `seq=${r.int(0, 0xffff)}`);
        args.push(`ts_ori=${r.int(0, 86_399_999)}`, `ts_rx=${r.int(0, 86_399_999)}`, `ts_tx=${r.int(0, 86_399_999)}`);
        break;
      case 'unreach':
        args.push('type=3', `code=${r.int(0, 15)}`);
        if (r.chance(0.3)) args.push(`nexthopmtu=${r.int(0, 0xffff)}`);
        if (r.chance(0.1)) args.push(`length=${r.int(0, 255)}`);
        break;
      case 'timeexceeded':
        args.push('type=11', `code=${r.int(0, 1)}`);
        if (r.chance(0.1)) args.push(`unused=${r.int(0, 0xffff)}`);
        break;
      case 'redirect':
        args.push('type=5', `code=${r.int(0, 3)}`, `gw=${pyStr(this.ipv4())}`);
        break;
      case 'paramproblem':
        args.push('type=12', `code=${r.int(0, 2)}`, `ptr=${r.int(0, 60)}`);
        break;
      default:
        // Types with a plain 32-bit unused word: source quench (an error, quoting like the
        // others), router advertisement and solicitation (followed by plain bytes).
        args.push(`type=${r.pick([4, 9, 10])}`);
        if (r.chance(0.5)) args.push(`unused=${r.u32()}`);
    }
    const sourceQuench = args[0] === 'type=4';
    if (chksum) args.push(chksum);
    this.push('ICMP', args);
    if (kind === 'unreach' || kind === 'timeexceeded' || kind === 'redirect' || kind === 'paramproblem' || sourceQuench) this.quote(false);
    else if ((kind === 'echo' || kind === 'other') && r.chance(0.6)) this.raw();
  }

  icmpv6Layer(): void {
    const r = this.rng;
    const kinds = ['ICMPv6EchoRequest', 'ICMPv6EchoReply', 'ICMPv6DestUnreach', 'ICMPv6PacketTooBig', 'ICMPv6TimeExceeded', 'ICMPv6ParamProblem', 'ICMPv6ND_NS', 'ICMPv6ND_NA'].filter((k) => this.has(k));
    if (kinds.length === 0) {
      this.raw();
      return;
    }
    const kind = r.pick(kinds);
    const args: string[] = [];
    switch (kind) {
      case 'ICMPv6EchoRequest':
      case 'ICMPv6EchoReply':
        if (r.chance(0.8)) args.push(`id=${r.int(0, 0xffff)}`, `seq=${r.int(0, 0xffff)}`);
        if (r.chance(0.6)) args.push(`data=${pyBytes(this.payload())}`);
        break;
      case 'ICMPv6DestUnreach':
        args.push(`code=${r.int(0, 6)}`);
        break;
      case 'ICMPv6PacketTooBig':
        if (r.chance(0.8)) args.push(`mtu=${r.pick([1280, 1400, 1500, 9000, r.u32()])}`);
        break;
      case 'ICMPv6TimeExceeded':
        args.push(`code=${r.int(0, 1)}`);
        break;
      case 'ICMPv6ParamProblem':
        args.push(`code=${r.int(0, 3)}`);
        if (r.chance(0.8)) args.push(`ptr=${r.int(0, 80)}`);
        break;
      case 'ICMPv6ND_NS':
        args.push(`tgt=${pyStr(this.ipv6())}`);
        break;
      case 'ICMPv6ND_NA':
        args.push(`tgt=${pyStr(this.ipv6())}`);
        for (const flag of ['R', 'S', 'O']) if (r.chance(0.4)) args.push(`${flag}=${r.int(0, 1)}`);
        break;
    }
    if (r.chance(0.1)) args.push(`cksum=${r.pick(['0x1234', '0', '0xffff'])}`);
    this.push(kind, args);
    if (kind === 'ICMPv6DestUnreach' || kind === 'ICMPv6PacketTooBig' || kind === 'ICMPv6TimeExceeded' || kind === 'ICMPv6ParamProblem') {
      this.quote(true);
    } else if (kind === 'ICMPv6ND_NS' || kind === 'ICMPv6ND_NA') {
      const opt = kind === 'ICMPv6ND_NS' ? 'ICMPv6NDOptSrcLLAddr' : 'ICMPv6NDOptDstLLAddr';
      if (this.has(opt) && r.chance(0.7)) this.push(opt, [`lladdr=${pyStr(this.mac())}`]);
    }
  }
}

/** The spec for ICMPv6 types that overload IPv6 fields in Scapy (hlim 255 for ND). */
function ipv6Upper(b: SpecBuilder): string | undefined {
  const r = b.rng;
  const choices: string[] = [];
  if (b.has('TCP')) choices.push('TCP', 'TCP');
  if (b.has('UDP')) choices.push('UDP');
  if (b.has('ICMPv6EchoRequest') || b.has('ICMPv6ND_NS') || b.has('ICMPv6DestUnreach')) choices.push('ICMPv6', 'ICMPv6');
  choices.push('Raw', 'none');
  return r.pick(choices);
}

/** One random packet spec. */
export function randomSpec(rng: Rng, has: (name: string) => boolean): PacketSpec {
  const b = new SpecBuilder(rng, has);
  const families: Array<'ipv4' | 'ipv6' | 'arp'> = ['ipv4', 'ipv4', 'ipv4', 'ipv4', 'ipv4', 'ipv4'];
  if (has('IPv6')) families.push('ipv6', 'ipv6', 'ipv6', 'ipv6', 'ipv6', 'ipv6');
  if (has('ARP') && has('Ether')) families.push('arp');
  const family = rng.pick(families);
  b.linkLayer(family);
  if (family === 'arp') {
    const args = [
      `op=${rng.pick([1, 2, 'who-has', 'is-at'].map((v) => (typeof v === 'string' ? pyStr(v) : String(v))))}`,
      `hwsrc=${pyStr(b.mac())}`,
      `psrc=${pyStr(b.ipv4())}`,
      `hwdst=${pyStr(rng.chance(0.5) ? '00:00:00:00:00:00' : b.mac())}`,
      `pdst=${pyStr(b.ipv4())}`,
    ];
    b.push('ARP', args);
  } else if (family === 'ipv4') {
    const uppers = ['TCP', 'TCP', 'UDP', 'ICMP', 'ICMP', 'Raw', 'none'].filter((u) => u === 'Raw' || u === 'none' || has(u));
    const upper = rng.pick(uppers);
    b.ipv4Layer('IP', false);
    if (upper !== 'none' && has('DNS') && rng.chance(0.15)) b.dnsTransport();
    else if (upper === 'TCP') b.tcpLayer('TCP', false);
    else if (upper === 'UDP') b.udpLayer('UDP', false);
    else if (upper === 'ICMP') b.icmpLayer();
    else if (upper === 'Raw') b.raw();
  } else {
    const upper = ipv6Upper(b);
    b.ipv6Layer('IPv6', false, upper === 'ICMPv6' ? 'ICMPv6ND' : upper);
    b.extHeaders();
    if (upper !== 'none' && upper !== 'ICMPv6' && has('DNS') && rng.chance(0.15)) b.dnsTransport();
    else if (upper === 'TCP') b.tcpLayer('TCP', false);
    else if (upper === 'UDP') b.udpLayer('UDP', false);
    else if (upper === 'ICMPv6') b.icmpv6Layer();
    else if (upper === 'Raw') b.raw();
  }
  // Bytes past the declared end, as an Ethernet frame padded to 60 bytes carries them.
  if (b.link === 'ether' && family !== 'arp' && has('Padding') && rng.chance(0.1)) {
    b.push('Padding', [`load=${pyBytes(Buffer.alloc(rng.int(1, 18)))}`]);
  }
  const expr = b.layers.map((l) => `${l.name}(${l.args.join(',')})`).join('/');
  return { expr, link: b.link, kinds: [...b.kinds], liesFrom: b.liesFrom };
}

/** `count` specs from `seed`, using only the layers `has` says exist. */
export function randomSpecs(count: number, seed: number, has: (name: string) => boolean): PacketSpec[] {
  const rng = new Rng(seed);
  const specs: PacketSpec[] = [];
  for (let i = 0; i < count; i++) specs.push(randomSpec(rng, has));
  return specs;
}

/**
 * Capture filters for reading files: a subset of pcap-filter(7), compiled to a predicate over
 * the frame's bytes. The cap addon compiles filters only for live handles (pcap_compile on an
 * open device) and exposes no offline compiler, so files are filtered here. Live captures
 * (sniff) hand the filter to libpcap itself and get the whole language.
 *
 * Supported (the words tcpdump users type most):
 *   protocols      ip  ip6  arp  rarp  tcp  udp  icmp  icmp6  sctp  igmp
 *                  ip proto N|NAME   ip6 proto N   proto N   ether proto N
 *   hosts, nets    [ip|ip6|arp] [src|dst|src or dst|src and dst] host ADDR
 *                  [src|dst] net A.B.C.D/LEN (or A.B.C, A.B, A)   ether [src|dst] host MAC
 *   ports          [tcp|udp|sctp] [src|dst] port N   [src|dst] portrange N-M
 *   lengths        less N   greater N   len
 *   byte tests     PROTO[OFF] PROTO[OFF:SIZE] (PROTO: ether ip ip6 tcp udp icmp icmp6) with
 *                  + - * / % & | ^ << >> and = == != < <= > >=, tcpdump's names
 *                  (tcpflags, tcp-syn..tcp-cwr, icmptype, icmpcode, icmp-echo, ...); as in
 *                  libpcap, tcp[], udp[] and sctp[] look at IPv4 packets only
 *   logic          and && or || not ! ( ), and libpcap's "host A or B" shorthand
 * Not supported (an error names it): vlan, mpls, gateway, broadcast, multicast, ether[...]
 * on non-Ethernet links, IPv6 extension-header walking beyond a first fragment header.
 */
import { parseIPv4, parseIPv6, writeMAC } from '../wire/addr.js';
import { nearest, usageError } from '../wire/errors.js';

/** A compiled filter: does this frame (captured bytes, length on the wire, link type) match? */
export type FramePredicate = (data: Buffer, wireLength: number, linkType: number) => boolean;

const ETH_IP = 0x0800;
const ETH_IP6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;

/** Where the layers of the current frame start; filled once per frame, read by every test. */
const f = {
  buf: Buffer.alloc(0) as Buffer,
  caplen: 0,
  wirelen: 0,
  linkType: 0,
  /** Offset of the link header's start (0), or -1 when the link has no Ethernet-like header. */
  ether: -1,
  etype: -1,
  l3: -1,
  /** IP protocol / IPv6 next header of the transport, -1 when not IP. */
  proto: -1,
  /** Transport header offset, -1 when not IP or a later fragment. */
  l4: -1,
};

function decodeFrame(buf: Buffer, caplen: number, wirelen: number, linkType: number): void {
  f.buf = buf;
  f.caplen = caplen;
  f.wirelen = wirelen;
  f.linkType = linkType;
  f.ether = -1;
  f.etype = -1;
  f.l3 = -1;
  f.proto = -1;
  f.l4 = -1;
  switch (linkType) {
    case 1:
      if (caplen >= 14) {
        f.ether = 0;
        f.etype = buf.readUInt16BE(12);
        f.l3 = 14;
      }
      break;
    case 101:
    case 228:
    case 229:
      if (caplen >= 1) {
        const v = buf[0]! >> 4;
        f.etype = v === 4 ? ETH_IP : v === 6 ? ETH_IP6 : -1;
        f.l3 = 0;
      }
      break;
    case 113:
      if (caplen >= 16) {
        f.etype = buf.readUInt16BE(14);
        f.l3 = 16;
      }
      break;
    case 276:
      if (caplen >= 20) {
        f.etype = buf.readUInt16BE(0);
        f.l3 = 20;
      }
      break;
    case 0:
    case 108:
      if (caplen >= 4) {
        const af = linkType === 108 ? buf.readUInt32BE(0) : buf.readUInt32LE(0) || buf.readUInt32BE(0);
        f.etype = af === 2 ? ETH_IP : af === 10 || af === 24 || af === 28 || af === 30 ? ETH_IP6 : -1;
        f.l3 = 4;
      }
      break;
  }
  const l3 = f.l3;
  if (f.etype === ETH_IP && caplen >= l3 + 20) {
    f.proto = buf[l3 + 9]!;
    // Only the first fragment carries the transport header.
    if ((buf.readUInt16BE(l3 + 6) & 0x1fff) === 0) f.l4 = l3 + (buf[l3]! & 15) * 4;
  } else if (f.etype === ETH_IP6 && caplen >= l3 + 40) {
    let nh = buf[l3 + 6]!;
    let off = l3 + 40;
    if (nh === 44 && caplen >= off + 8) {
      const first = (buf.readUInt16BE(off + 2) & 0xfff8) === 0;
      nh = buf[off]!;
      off = first ? off + 8 : -1;
    }
    f.proto = nh;
    f.l4 = off;
  }
}

type Test = () => boolean;
type Value = () => number;

// ---------------------------------------------------------------- tokens

interface Token {
  kind: 'word' | 'punct' | 'end';
  text: string;
  pos: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let brackets = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['&&', '||', '==', '!=', '<=', '>=', '<<', '>>'].includes(two)) {
      tokens.push({ kind: 'punct', text: two, pos: i });
      i += 2;
      continue;
    }
    if ('()[]!&|+*%^<>=\\'.includes(c) || (brackets > 0 && (c === ':' || c === '-' || c === '/'))) {
      if (c === '[') brackets++;
      if (c === ']') brackets--;
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === '-' && !/[A-Za-z0-9:]/.test(text[i + 1] ?? '')) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    if (c === '/' && brackets === 0 && tokens.length > 0 && tokens[tokens.length - 1]!.kind !== 'word') {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    const re = brackets > 0 ? /[A-Za-z0-9_.]+(?:-[A-Za-z][A-Za-z0-9]*)*/y : /[A-Za-z0-9_.:/-]+/y;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw usageError(`bad filter: unexpected '${c}' at column ${i + 1} of '${text}'`);
    tokens.push({ kind: 'word', text: m[0], pos: i });
    i += m[0].length;
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

// ---------------------------------------------------------------- names

const PROTO_NUMBERS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, icmp6: 58, sctp: 132, ah: 51, esp: 50 };

const CONSTANTS: Record<string, number> = {
  tcpflags: 13,
  'tcp-fin': 0x01,
  'tcp-syn': 0x02,
  'tcp-rst': 0x04,
  'tcp-push': 0x08,
  'tcp-ack': 0x10,
  'tcp-urg': 0x20,
  'tcp-ece': 0x40,
  'tcp-cwr': 0x80,
  icmptype: 0,
  icmpcode: 1,
  'icmp-echoreply': 0,
  'icmp-unreach': 3,
  'icmp-sourcequench': 4,
  'icmp-redirect': 5,
  'icmp-echo': 8,
  'icmp-routeradvert': 9,
  'icmp-routersolicit': 10,
  'icmp-timxceed': 11,
  'icmp-paramprob': 12,
  'icmp-tstamp': 13,
  'icmp-tstampreply': 14,
  'icmp-ireq': 15,
  'icmp-ireqreply': 16,
  'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0,
  icmp6code: 1,
  'icmp6-destinationunreach': 1,
  'icmp6-packettoobig': 2,
  'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4,
  'icmp6-echo': 128,
  'icmp6-echoreply': 129,
  'icmp6-neighborsolicit': 135,
  'icmp6-neighboradvert': 136,
};

const PROTOCOLS = ['ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp'];
const DIRS = ['src', 'dst'];
const TYPES = ['host', 'net', 'port', 'portrange', 'proto'];
const UNSUPPORTED = ['vlan', 'mpls', 'gateway', 'broadcast', 'multicast', 'pppoed', 'pppoes', 'geneve', 'inbound', 'outbound', 'ifname', 'on', 'wlan', 'link', 'decnet', 'iso', 'atalk'];

// ---------------------------------------------------------------- primitives

function isProto(p: number): Test {
  return () => f.proto === p;
}

function etypeIs(t: number): Test {
  return () => f.etype === t;
}

function protocolTest(name: string): Test {
  switch (name) {
    case 'ip':
      return etypeIs(ETH_IP);
    case 'ip6':
      return etypeIs(ETH_IP6);
    case 'arp':
      return etypeIs(ETH_ARP);
    case 'rarp':
      return etypeIs(ETH_RARP);
    case 'ether':
      return () => f.ether >= 0;
    case 'icmp':
      return () => f.etype === ETH_IP && f.proto === 1;
    case 'igmp':
      return () => f.etype === ETH_IP && f.proto === 2;
    case 'icmp6':
      return () => f.etype === ETH_IP6 && f.proto === 58;
    default:
      return isProto(PROTO_NUMBERS[name]!);
  }
}

type Dir = 'src' | 'dst' | 'src or dst' | 'src and dst';

function either(dir: Dir, src: Test, dst: Test): Test {
  switch (dir) {
    case 'src':
      return src;
    case 'dst':
      return dst;
    case 'src and dst':
      return () => src() && dst();
    default:
      return () => src() || dst();
  }
}

function bytesEqual(off: number, want: Buffer, mask: Buffer | undefined): boolean {
  const buf = f.buf;
  if (off < 0 || off + want.length > f.caplen) return false;
  for (let i = 0; i < want.length; i++) {
    const b = mask ? buf[off + i]! & mask[i]! : buf[off + i]!;
    if (b !== want[i]) return false;
  }
  return true;
}

function ipv4Mask(len: number): Buffer {
  const m = Buffer.alloc(4);
  m.writeUInt32BE(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
  return m;
}

function ipv6Mask(len: number): Buffer {
  const m = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    m[i] = (0xff << (8 - bits)) & 0xff;
  }
  return m;
}

/** host / net tests; `proto` restricts to ip, ip6 or arp when given. */
function addressTest(proto: string | undefined, dir: Dir, addr: string, prefix: number | undefined): Test {
  const v6 = addr.includes(':');
  if (v6) {
    const bytes = parseIPv6OrFail(addr);
    const len = prefix ?? 128;
    if (len > 128) throw usageError(`bad filter: /${len} is too long for an IPv6 net`);
    const mask = len === 128 ? undefined : ipv6Mask(len);
    const want = mask ? Buffer.from(bytes.map((b, i) => b & mask[i]!)) : bytes;
    if (proto && proto !== 'ip6') throw usageError(`bad filter: '${proto} host ${addr}': an IPv6 address goes with ip6`);
    return () => f.etype === ETH_IP6 && either(dir, () => bytesEqual(f.l3 + 8, want, mask), () => bytesEqual(f.l3 + 24, want, mask))();
  }
  const bytes = parseIPv4OrFail(addr);
  const len = prefix ?? 32;
  if (len > 32) throw usageError(`bad filter: /${len} is too long for an IPv4 net`);
  const mask = len === 32 ? undefined : ipv4Mask(len);
  const want = mask ? Buffer.from(bytes.map((b, i) => b & mask[i]!)) : bytes;
  const ip = either(dir, () => bytesEqual(f.l3 + 12, want, mask), () => bytesEqual(f.l3 + 16, want, mask));
  // ARP for IPv4 over Ethernet: sender protocol address at 14, target at 24.
  const arp = either(dir, () => bytesEqual(f.l3 + 14, want, mask), () => bytesEqual(f.l3 + 24, want, mask));
  if (proto === 'ip') return () => f.etype === ETH_IP && ip();
  if (proto === 'arp' || proto === 'rarp') {
    const t = proto === 'arp' ? ETH_ARP : ETH_RARP;
    return () => f.etype === t && arp();
  }
  if (proto === 'ip6') throw usageError(`bad filter: 'ip6 host ${addr}': an IPv4 address goes with ip`);
  return () => (f.etype === ETH_IP ? ip() : f.etype === ETH_ARP || f.etype === ETH_RARP ? arp() : false);
}

function parseIPv4OrFail(text: string): Buffer {
  try {
    return parseIPv4(text);
  } catch {
    throw usageError(`bad filter: '${text}' is not an IPv4 address`);
  }
}

function parseIPv6OrFail(text: string): Buffer {
  try {
    return parseIPv6(text);
  } catch {
    throw usageError(`bad filter: '${text}' is not an IPv6 address`);
  }
}

function portTest(proto: string | undefined, dir: Dir, lo: number, hi: number): Test {
  const protos = proto ? [PROTO_NUMBERS[proto]!] : [6, 17, 132];
  const inRange = (off: number): boolean => {
    if (f.l4 < 0 || f.l4 + off + 2 > f.caplen) return false;
    const p = f.buf.readUInt16BE(f.l4 + off);
    return p >= lo && p <= hi;
  };
  const t = either(dir, () => inRange(0), () => inRange(2));
  const family = proto === 'ip' ? ETH_IP : proto === 'ip6' ? ETH_IP6 : -1;
  return () => (f.etype === ETH_IP || f.etype === ETH_IP6) && (family < 0 || f.etype === family) && protos.includes(f.proto) && t();
}

function parsePortNumber(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw usageError(`bad filter: '${text}' is not a port number (0-65535)`);
  return n;
}

// ---------------------------------------------------------------- parser

interface Qualifiers {
  proto?: string;
  dir: Dir;
  type?: string;
}

class FilterParser {
  private pos = 0;
  private last: Qualifiers | undefined;
  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private is(text: string, k = 0): boolean {
    return this.peek(k).text === text && this.peek(k).kind !== 'end';
  }

  private fail(message: string, t = this.peek()): never {
    throw usageError(`bad filter '${this.text}': ${message} at column ${t.pos + 1}`);
  }

  parse(): Test {
    const t = this.or();
    const extra = this.peek();
    if (extra.kind !== 'end') {
      const hint = extra.kind === 'word' ? nearest(extra.text, [...PROTOCOLS, ...DIRS, ...TYPES, 'and', 'or', 'not', 'less', 'greater']) : undefined;
      this.fail(`unexpected '${extra.text}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    return t;
  }

  private or(): Test {
    let left = this.and();
    while (this.is('or') || this.is('||')) {
      this.next();
      const a = left;
      const b = this.and();
      left = () => a() || b();
    }
    return left;
  }

  private and(): Test {
    let left = this.not();
    while (this.is('and') || this.is('&&')) {
      this.next();
      const a = left;
      const b = this.not();
      left = () => a() && b();
    }
    return left;
  }

  private not(): Test {
    if (this.is('not') || this.is('!')) {
      this.next();
      const t = this.not();
      return () => !t();
    }
    return this.primary();
  }

  private primary(): Test {
    const t = this.peek();
    if (t.kind === 'end') this.fail('the expression ends too soon');
    if (t.text === '(') {
      // A group of tests, or an arithmetic expression in parentheses: try the first.
      const save = this.pos;
      const saveLast = this.last;
      try {
        this.next();
        const inner = this.or();
        if (!this.is(')')) this.fail("expected ')'");
        this.next();
        if (!isRelop(this.peek().text)) return inner;
      } catch {
        // Not a group of tests; read it as arithmetic below.
      }
      this.pos = save;
      this.last = saveLast;
      return this.relation();
    }
    const word = t.text;
    if (UNSUPPORTED.includes(word)) this.fail(`'${word}' is not supported when reading files (supported: ${PROTOCOLS.join(', ')}, host, net, port, portrange, less, greater, byte tests)`);
    if (word === 'len' || /^\d/.test(word) && this.startsRelation() || (PROTOCOLS.includes(word) && this.is('[', 1))) return this.relation();
    if (word === 'less' || word === 'greater') {
      this.next();
      const n = this.number(this.next());
      return word === 'less' ? () => f.wirelen <= n : () => f.wirelen >= n;
    }
    return this.primitive();
  }

  /** A number followed by an operator starts arithmetic; a number alone continues "port 80 or 443". */
  private startsRelation(): boolean {
    const n = this.peek(1).text;
    return isRelop(n) || ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'].includes(n);
  }

  private primitive(): Test {
    const q: Qualifiers = { dir: 'src or dst' };
    let any = false;
    if (PROTOCOLS.includes(this.peek().text)) {
      q.proto = this.next().text;
      any = true;
    }
    if (DIRS.includes(this.peek().text)) {
      const d = this.next().text;
      if ((this.is('or') || this.is('and')) && DIRS.includes(this.peek(1).text) && this.peek(1).text !== d) {
        const joiner = this.next().text;
        this.next();
        q.dir = joiner === 'or' ? 'src or dst' : 'src and dst';
      } else q.dir = d as Dir;
      any = true;
    }
    if (TYPES.includes(this.peek().text)) {
      q.type = this.next().text;
      any = true;
    }
    if (!any) {
      // libpcap's shorthand: "host a or b" repeats the qualifiers for a bare address or number.
      const word = this.peek();
      if (this.last && word.kind === 'word' && /^[0-9a-fA-F:.]/.test(word.text)) return this.withId(this.last, this.next());
      const hint = [...PROTOCOLS, ...DIRS, ...TYPES, 'not', 'less', 'greater', 'len'];
      const near = hint.find((h) => h.startsWith(word.text.slice(0, 2)));
      this.fail(`unknown word '${word.text}'${near ? ` (did you mean '${near}'?)` : ''}`, word);
    }
    const id = this.peek();
    const hasId = id.kind === 'word' && !['and', 'or', 'not'].includes(id.text) && (q.type !== undefined || q.dir !== 'src or dst' || /^[0-9a-fA-F:.]+(\/\d+)?$/.test(id.text) && q.proto !== undefined);
    if (!hasId) {
      if (q.type || q.dir !== 'src or dst') this.fail(`'${q.type ?? q.dir}' needs a value after it`, id);
      this.last = undefined;
      return protocolTest(q.proto!);
    }
    this.next();
    this.last = q;
    return this.withId(q, id);
  }

  private withId(q: Qualifiers, id: Token): Test {
    const type = q.type ?? (q.proto === 'tcp' || q.proto === 'udp' || q.proto === 'sctp' ? 'port' : 'host');
    const text = id.text;
    switch (type) {
      case 'host': {
        if (q.proto === 'ether') {
          let mac: Buffer;
          try {
            if (!/^[0-9a-f]{1,2}([:.-][0-9a-f]{1,2}){5}$/i.test(text)) throw new Error('not a MAC');
            mac = Buffer.alloc(6);
            writeMAC(text, mac, 0);
          } catch {
            return this.fail(`'${text}' is not a MAC address`, id);
          }
          return () => f.ether >= 0 && either(q.dir, () => bytesEqual(6, mac, undefined), () => bytesEqual(0, mac, undefined))();
        }
        if (q.proto && !['ip', 'ip6', 'arp', 'rarp'].includes(q.proto)) this.fail(`'${q.proto} host' is not a filter: use 'host' with ip, ip6 or arp`, id);
        if (!/^[0-9a-fA-F:.]+$/.test(text)) this.fail(`'${text}' is not an address (host names are not resolved)`, id);
        return addressTest(q.proto, q.dir, text, undefined);
      }
      case 'net': {
        const m = /^([0-9a-fA-F:.]+)(?:\/(\d+))?$/.exec(text);
        if (!m) return this.fail(`'${text}' is not a net (write it as 10.0.0.0/8)`, id);
        let addr = m[1]!;
        let prefix = m[2] !== undefined ? Number(m[2]) : undefined;
        if (!addr.includes(':') && prefix === undefined) {
          const parts = addr.split('.');
          prefix = parts.length * 8;
          while (parts.length < 4) parts.push('0');
          addr = parts.join('.');
        }
        return addressTest(q.proto, q.dir, addr, prefix);
      }
      case 'port': {
        if (q.proto && !['tcp', 'udp', 'sctp', 'ip', 'ip6'].includes(q.proto)) this.fail(`'${q.proto} port' is not a filter`, id);
        const n = parsePortNumber(text);
        return portTest(q.proto, q.dir, n, n);
      }
      case 'portrange': {
        const m = /^(\d+)-(\d+)$/.exec(text);
        if (!m) return this.fail(`'${text}' is not a port range (write it as 1-1024)`, id);
        const lo = parsePortNumber(m[1]!);
        const hi = parsePortNumber(m[2]!);
        return portTest(q.proto, q.dir, Math.min(lo, hi), Math.max(lo, hi));
      }
      case 'proto': {
        let name = text;
        if (name === '\\') name = this.next().text;
        const n = /^\d+$/.test(name) ? Number(name) : PROTO_NUMBERS[name];
        if (n === undefined) return this.fail(`unknown protocol '${name}'`, id);
        if (q.proto === 'ether') return etypeIs(n);
        if (q.proto === 'ip') return () => f.etype === ETH_IP && f.proto === n;
        if (q.proto === 'ip6') return () => f.etype === ETH_IP6 && f.proto === n;
        return () => f.proto === n;
      }
      default:
        return this.fail(`unexpected '${text}'`, id);
    }
  }

  private number(t: Token): number {
    const n = this.literal(t);
    if (n === undefined) this.fail(`'${t.text}' is not a number`, t);
    return n;
  }

  /** A number or a named constant (tcp-syn...); libpcap's values are 32 bits, as tcpdump says. */
  private literal(t: Token): number | undefined {
    const n = /^(0x[0-9a-f]+|\d+)$/i.test(t.text) ? Number(t.text) : CONSTANTS[t.text];
    if (n !== undefined && n > 0xffffffff) this.fail(`number ${t.text} overflows 32 bits`, t);
    return n;
  }

  // Arithmetic, with libpcap's precedence: | lowest, then &, then shifts, then + -, then * / %.
  private relation(): Test {
    const a = this.arith();
    const op = this.peek();
    if (!isRelop(op.text)) this.fail(`expected a comparison (=, !=, <, >, <=, >=) after the value`, op);
    this.next();
    const b = this.arith();
    switch (op.text) {
      case '=':
      case '==':
        return () => safe(a) === safe(b);
      case '!=':
        return () => {
          const x = safe(a);
          const y = safe(b);
          return x >= 0 && y >= 0 && x !== y;
        };
      case '<':
        return () => lt(safe(a), safe(b));
      case '>':
        return () => lt(safe(b), safe(a));
      case '<=':
        return () => le(safe(a), safe(b));
      default:
        return () => le(safe(b), safe(a));
    }
  }

  private arith(): Value {
    return this.binary(0);
  }

  private static readonly LEVELS: string[][] = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  private binary(level: number): Value {
    if (level === FilterParser.LEVELS.length) return this.operand();
    let left = this.binary(level + 1);
    while (FilterParser.LEVELS[level]!.includes(this.peek().text) && this.peek().kind === 'punct') {
      const op = this.next().text;
      const a = left;
      const b = this.binary(level + 1);
      left = arithmetic(op, a, b);
    }
    return left;
  }

  private operand(): Value {
    const t = this.next();
    if (t.text === '(') {
      const v = this.arith();
      if (!this.is(')')) this.fail("expected ')'");
      this.next();
      return v;
    }
    if (t.text === '-') {
      const v = this.operand();
      return () => {
        const x = v();
        return x < 0 ? -1 : (-x >>> 0);
      };
    }
    if (t.text === 'len') return () => f.wirelen;
    if (PROTOCOLS.includes(t.text) && this.is('[')) {
      this.next();
      const off = this.arith();
      let size = 1;
      if (this.is(':')) {
        this.next();
        size = this.number(this.next());
        if (size !== 1 && size !== 2 && size !== 4) this.fail('the size after : must be 1, 2 or 4');
      }
      if (!this.is(']')) this.fail("expected ']'");
      this.next();
      return byteLoad(t.text, off, size);
    }
    if (t.kind === 'word') {
      const n = this.literal(t);
      if (n !== undefined) return () => n;
    }
    return this.fail(`expected a number, len or PROTO[OFFSET], found '${t.text || 'the end'}'`, t);
  }
}

function isRelop(text: string): boolean {
  return ['=', '==', '!=', '<', '>', '<=', '>='].includes(text);
}

/** -1 stands for "the load fell outside the packet": libpcap rejects the packet then. */
function safe(v: Value): number {
  return v();
}

function lt(a: number, b: number): boolean {
  return a >= 0 && b >= 0 && a < b;
}

function le(a: number, b: number): boolean {
  return a >= 0 && b >= 0 && a <= b;
}

function arithmetic(op: string, a: Value, b: Value): Value {
  const guard = (fn: (x: number, y: number) => number): Value => () => {
    const x = a();
    if (x < 0) return -1;
    const y = b();
    if (y < 0) return -1;
    return fn(x, y) >>> 0;
  };
  switch (op) {
    case '|':
      return guard((x, y) => x | y);
    case '^':
      return guard((x, y) => x ^ y);
    case '&':
      return guard((x, y) => x & y);
    case '<<':
      return guard((x, y) => x << y);
    case '>>':
      return guard((x, y) => x >>> y);
    case '+':
      return guard((x, y) => x + y);
    case '-':
      return guard((x, y) => x - y);
    case '*':
      return guard((x, y) => Math.imul(x, y));
    case '/':
      return () => {
        const x = a();
        const y = b();
        return x < 0 || y <= 0 ? -1 : Math.floor(x / y);
      };
    default:
      return () => {
        const x = a();
        const y = b();
        return x < 0 || y <= 0 ? -1 : x % y;
      };
  }
}

/** PROTO[off:size]: the base is the protocol's header; the packet must be of that protocol. */
function byteLoad(proto: string, off: Value, size: number): Value {
  const base = (): number => {
    switch (proto) {
      case 'ether':
        return f.ether;
      case 'ip':
        return f.etype === ETH_IP ? f.l3 : -1;
      case 'ip6':
        return f.etype === ETH_IP6 ? f.l3 : -1;
      case 'arp':
        return f.etype === ETH_ARP ? f.l3 : -1;
      case 'rarp':
        return f.etype === ETH_RARP ? f.l3 : -1;
      case 'icmp':
        return f.etype === ETH_IP && f.proto === 1 ? f.l4 : -1;
      case 'icmp6':
        return f.etype === ETH_IP6 && f.proto === 58 ? f.l4 : -1;
      case 'igmp':
        return f.etype === ETH_IP && f.proto === 2 ? f.l4 : -1;
      default:
        // libpcap reads tcp[], udp[] and sctp[] over IPv4 only.
        return f.etype === ETH_IP && f.proto === PROTO_NUMBERS[proto] ? f.l4 : -1;
    }
  };
  return () => {
    const b = base();
    if (b < 0) return -1;
    const o = off();
    if (o < 0) return -1;
    const at = b + o;
    if (at + size > f.caplen) return -1;
    const buf = f.buf;
    return size === 1 ? buf[at]! : size === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
  };
}

/** Compiles a filter; '' matches everything. Mistakes are usage errors naming the column. */
export function compileFilter(text: string): FramePredicate {
  const trimmed = text.trim();
  if (trimmed === '') return () => true;
  const test = new FilterParser(tokenize(trimmed), trimmed).parse();
  return (data, wireLength, linkType) => {
    decodeFrame(data, data.length, wireLength, linkType);
    return test();
  };
}

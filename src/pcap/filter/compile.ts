/**
 * The pcap-filter(7) compiler: parses an expression and writes it out as one JavaScript
 * function over the frame's bytes (no tree walked per packet, no state between packets),
 * made with `new Function` once per link type. The generated code follows libpcap's
 * semantics: a header field is read at a fixed place once the protocol tests before it hold,
 * and a read past the captured bytes rejects the packet (BPF's "ret #0"), whatever the
 * operators around it.
 *
 * Supported (the words tcpdump users type most):
 *   protocols      ether ip ip6 arp rarp tcp udp icmp icmp6 sctp igmp
 *                  ip proto N|NAME  ip6 proto N  proto N  ether proto N|\ip|\arp...  (\NAME too)
 *   hosts, nets    [ip|ip6|arp] [src|dst|src or dst|src and dst] host ADDR
 *                  [src|dst] net A.B.C.D/LEN (or A.B.C, A.B, A)   ether [src|dst] host MAC
 *   ports          [tcp|udp|sctp] [src|dst] port N|NAME   [src|dst] portrange N-M
 *   vlan           vlan [ID]: an 802.1Q/802.1ad tag, and every test after it looks past the tag
 *   lengths        less N   greater N   len
 *   byte tests     PROTO[OFF] PROTO[OFF:SIZE] with + - * / % & | ^ << >> and = == != < <= > >=,
 *                  tcpdump's names (tcpflags, tcp-syn..tcp-cwr, icmptype, icmp-echo, ...);
 *                  as in libpcap, tcp[], udp[] and sctp[] look at IPv4 packets only
 *   logic          and && or || not ! ( ), and libpcap's "host A or B" shorthand
 * Not supported (an error names it): mpls, gateway, broadcast, multicast, host names,
 * IPv6 extension-header walking beyond a first fragment header.
 */
import { parseIPv4, parseIPv6, writeMAC } from '../../wire/addr.js';
import { nearest, usageError } from '../../wire/errors.js';
import { isVlanType, networkStart, networkStartSource, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL } from '../../wire/network-start.js';
import { CONSTANTS, ETHER_PROTO_NAMES, PROTO_NUMBERS, servicePort } from './names.js';
import { parseNumber, tokenize, type Token } from './tokens.js';

/** A boolean test in the generated code. */
type Test = string;
/** A 32-bit unsigned value in the generated code, and the protocol tests its reads need. */
interface Value {
  code: string;
  guards: string[];
}

const PROTOCOLS = ['ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp'];
const DIRS = ['src', 'dst'];
const TYPES = ['host', 'net', 'port', 'portrange', 'proto'];
const UNSUPPORTED = ['mpls', 'gateway', 'broadcast', 'multicast', 'pppoed', 'pppoes', 'geneve', 'inbound', 'outbound', 'ifname', 'on', 'wlan', 'link', 'decnet', 'iso', 'atalk', 'protochain'];

type Dir = 'src' | 'dst' | 'src or dst' | 'src and dst';

interface Qualifiers {
  proto?: string;
  dir: Dir;
  type?: string;
}

/**
 * Names in the generated code, per VLAN depth d (the number of `vlan` keywords before a test):
 * t{d} the ethertype, l{d} the network header's offset in b, p{d} the transport protocol
 * (-1 when not IP, -2 when the capture ends before it), q{d} the transport header's offset (-1 when not IP or a later fragment).
 * b is the buffer, o the frame's first byte in it, e its end (o + captured length), w the
 * length on the wire.
 */
const t = (d: number): string => `t${d}`;
const l = (d: number): string => `l${d}`;
/** The transport protocol, read through px(): -2 means its byte lies past the capture (reject). */
const p = (d: number): string => `px(p${d})`;
const q = (d: number): string => `q${d}`;

/** The compiled expression: the body of the test, and which VLAN depths it reads. */
export interface FilterProgram {
  text: string;
  test: Test;
  depths: number;
  usesTransport: boolean;
}

/** Parses an expression into a program; mistakes are usage errors naming the column. */
export function parseFilter(text: string): FilterProgram {
  const parser = new FilterParser(tokenize(text), text);
  const test = parser.parse();
  return { text, test, depths: parser.maxDepth + 1, usesTransport: parser.usesTransport };
}

class FilterParser {
  private pos = 0;
  private last: Qualifiers | undefined;
  /** `vlan` keywords read so far: every test after one looks 4 bytes further (libpcap's rule). */
  private depth = 0;
  maxDepth = 0;
  usesTransport = false;

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

  private fail(message: string, tok = this.peek()): never {
    throw usageError(`bad filter '${this.text}': ${message} at column ${tok.pos + 1}`);
  }

  private get d(): number {
    return this.depth;
  }

  private transport(): void {
    this.usesTransport = true;
  }

  parse(): Test {
    const test = this.or();
    const extra = this.peek();
    if (extra.kind !== 'end') {
      const hint = extra.kind === 'word' ? nearest(extra.text, [...PROTOCOLS, ...DIRS, ...TYPES, 'and', 'or', 'not', 'less', 'greater', 'vlan']) : undefined;
      this.fail(`unexpected '${extra.text}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    return test;
  }

  private or(): Test {
    let left = this.and();
    while (this.is('or') || this.is('||')) {
      this.next();
      left = `(${left} || ${this.and()})`;
    }
    return left;
  }

  private and(): Test {
    let left = this.not();
    while (this.is('and') || this.is('&&')) {
      this.next();
      left = `(${left} && ${this.not()})`;
    }
    return left;
  }

  private not(): Test {
    if (this.is('not') || this.is('!')) {
      this.next();
      return `!${this.not()}`;
    }
    return this.primary();
  }

  private primary(): Test {
    const tok = this.peek();
    if (tok.kind === 'end') this.fail('the expression ends too soon');
    if (tok.text === '(') {
      // A group of tests, or an arithmetic expression in parentheses: try the first.
      const save = { pos: this.pos, last: this.last, depth: this.depth, maxDepth: this.maxDepth, usesTransport: this.usesTransport };
      try {
        this.next();
        const inner = this.or();
        if (!this.is(')')) this.fail("expected ')'");
        this.next();
        if (!isRelop(this.peek().text)) return inner;
      } catch {
        // Not a group of tests; read it as arithmetic below.
      }
      Object.assign(this, save);
      return this.relation();
    }
    const word = tok.text;
    if (UNSUPPORTED.includes(word)) this.fail(`'${word}' is not supported when reading files (supported: ${PROTOCOLS.join(', ')}, vlan, host, net, port, portrange, less, greater, byte tests)`);
    if (word === 'len' || (/^\d/.test(word) && this.startsRelation()) || (PROTOCOLS.includes(word) && this.is('[', 1))) return this.relation();
    if (word === 'less' || word === 'greater') {
      this.next();
      const n = this.number(this.next());
      return word === 'less' ? `(w <= ${n})` : `(w >= ${n})`;
    }
    if (word === 'vlan') return this.vlan();
    return this.primitive();
  }

  /** `vlan [ID]`: a tag at the current depth; what follows looks past it. */
  private vlan(): Test {
    this.next();
    const d = this.d;
    let test = `(lt === ${LINKTYPE_ETHERNET} || lt === ${LINKTYPE_LINUX_SLL}) && isVlanType(${t(d)})`;
    const id = this.peek();
    if (id.kind === 'word' && /^\d/.test(id.text)) {
      this.next();
      const n = this.number(id);
      if (n > 4095) this.fail(`VLAN id ${n} is out of range (0-4095)`, id);
      // The tag's control field follows its type: at the network offset of this depth.
      test += ` && (u16(b, ${l(d)}, e) & 0xfff) === ${n}`;
    }
    this.last = undefined;
    this.depth++;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
    return `(${test})`;
  }

  /** A number followed by an operator starts arithmetic; a number alone continues "port 80 or 443". */
  private startsRelation(): boolean {
    const n = this.peek(1).text;
    return isRelop(n) || ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'].includes(n);
  }

  private primitive(): Test {
    const qual: Qualifiers = { dir: 'src or dst' };
    let any = false;
    if (PROTOCOLS.includes(this.peek().text)) {
      qual.proto = this.next().text;
      any = true;
    }
    if (DIRS.includes(this.peek().text)) {
      const dir = this.next().text;
      if ((this.is('or') || this.is('and')) && DIRS.includes(this.peek(1).text) && this.peek(1).text !== dir) {
        const joiner = this.next().text;
        this.next();
        qual.dir = joiner === 'or' ? 'src or dst' : 'src and dst';
      } else qual.dir = dir as Dir;
      any = true;
    }
    if (TYPES.includes(this.peek().text)) {
      qual.type = this.next().text;
      any = true;
    }
    if (!any) {
      // libpcap's shorthand: "host a or b" repeats the qualifiers for a bare address or number.
      const word = this.peek();
      if (this.last && word.kind === 'word' && /^[0-9a-zA-Z:.]/.test(word.text) && !['and', 'or', 'not'].includes(word.text)) return this.withId(this.last, this.next());
      const hint = [...PROTOCOLS, ...DIRS, ...TYPES, 'not', 'less', 'greater', 'len', 'vlan'];
      const near = hint.find((h) => h.startsWith(word.text.slice(0, 2)));
      this.fail(`unknown word '${word.text}'${near ? ` (did you mean '${near}'?)` : ''}`, word);
    }
    let id = this.peek();
    if (id.text === '\\' && qual.type === 'proto') {
      // `ip proto \tcp`: the backslash keeps a keyword from being read as one.
      this.next();
      id = this.peek();
    }
    const hasId =
      id.kind === 'word' &&
      !['and', 'or', 'not'].includes(id.text) &&
      (qual.type !== undefined || qual.dir !== 'src or dst' || (/^[0-9a-fA-F:.]+(\/\d+)?$/.test(id.text) && qual.proto !== undefined));
    if (!hasId) {
      if (qual.type || qual.dir !== 'src or dst') this.fail(`'${qual.type ?? qual.dir}' needs a value after it`, id);
      this.last = undefined;
      return this.protocolTest(qual.proto!);
    }
    this.next();
    this.last = qual;
    return this.withId(qual, id);
  }

  private protocolTest(name: string): Test {
    const d = this.d;
    switch (name) {
      case 'ip':
        return `(${t(d)} === 0x800)`;
      case 'ip6':
        return `(${t(d)} === 0x86dd)`;
      case 'arp':
        return `(${t(d)} === 0x806)`;
      case 'rarp':
        return `(${t(d)} === 0x8035)`;
      case 'ether':
        return `(lt === ${LINKTYPE_ETHERNET})`;
      case 'icmp':
        this.transport();
        return `(${t(d)} === 0x800 && ${p(d)} === 1)`;
      case 'igmp':
        this.transport();
        return `(${t(d)} === 0x800 && ${p(d)} === 2)`;
      case 'icmp6':
        this.transport();
        return `(${t(d)} === 0x86dd && ${p(d)} === 58)`;
      default:
        this.transport();
        return `(${p(d)} === ${PROTO_NUMBERS[name]!})`;
    }
  }

  private withId(qual: Qualifiers, id: Token): Test {
    const type = qual.type ?? (qual.proto === 'tcp' || qual.proto === 'udp' || qual.proto === 'sctp' ? 'port' : 'host');
    const text = id.text;
    const d = this.d;
    switch (type) {
      case 'host': {
        if (qual.proto === 'ether') {
          if (!/^[0-9a-f]{1,2}([:.-][0-9a-f]{1,2}){5}$/i.test(text)) return this.fail(`'${text}' is not a MAC address`, id);
          const mac = Buffer.alloc(6);
          writeMAC(text, mac, 0);
          return `(lt === ${LINKTYPE_ETHERNET} && ${either(qual.dir, bytesAt('o + 6', mac), bytesAt('o', mac))})`;
        }
        if (qual.proto && !['ip', 'ip6', 'arp', 'rarp'].includes(qual.proto)) this.fail(`'${qual.proto} host' is not a filter: use 'host' with ip, ip6 or arp`, id);
        if (!/^[0-9a-fA-F:.]+$/.test(text)) this.fail(`'${text}' is not an address (host names are not resolved)`, id);
        return addressTest(qual.proto, qual.dir, text, undefined, d);
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
        return addressTest(qual.proto, qual.dir, addr, prefix, d);
      }
      case 'port': {
        if (qual.proto && !['tcp', 'udp', 'sctp', 'ip', 'ip6'].includes(qual.proto)) this.fail(`'${qual.proto} port' is not a filter`, id);
        const n = this.portNumber(text, qual.proto, id);
        this.transport();
        return portTest(qual.proto, qual.dir, n, n, d);
      }
      case 'portrange': {
        const m = /^([A-Za-z0-9_.]+)-([A-Za-z0-9_.]+)$/.exec(text);
        if (!m) return this.fail(`'${text}' is not a port range (write it as 1-1024)`, id);
        const lo = this.portNumber(m[1]!, qual.proto, id);
        const hi = this.portNumber(m[2]!, qual.proto, id);
        this.transport();
        return portTest(qual.proto, qual.dir, Math.min(lo, hi), Math.max(lo, hi), d);
      }
      case 'proto': {
        const name = text;
        if (qual.proto === 'ether') {
          const n = parseNumber(name) ?? ETHER_PROTO_NAMES[name];
          if (n === undefined) return this.fail(`unknown ether protocol '${name}' (write a number like 0x0800, or \\ip, \\ip6, \\arp)`, id);
          if (n > 0xffff) return this.fail(`ether proto ${name} does not fit 16 bits`, id);
          return `(${t(d)} === ${n})`;
        }
        const n = parseNumber(name) ?? PROTO_NUMBERS[name];
        if (n === undefined) return this.fail(`unknown protocol '${name}'`, id);
        if (n > 255) return this.fail(`protocol ${name} does not fit 8 bits`, id);
        this.transport();
        if (qual.proto === 'ip') return `(${t(d)} === 0x800 && ${p(d)} === ${n})`;
        if (qual.proto === 'ip6') return `(${t(d)} === 0x86dd && ${p(d)} === ${n})`;
        return `(${p(d)} === ${n})`;
      }
      default:
        return this.fail(`unexpected '${text}'`, id);
    }
  }

  private portNumber(text: string, proto: string | undefined, tok: Token): number {
    const n = /^\d/.test(text) ? parseNumber(text) : servicePort(text, proto);
    if (n === undefined) return this.fail(`'${text}' is not a port number or a known service name (0-65535, or a name from /etc/services like http)`, tok);
    if (n > 65535) return this.fail(`'${text}' is not a port number (0-65535)`, tok);
    return n;
  }

  private number(tok: Token): number {
    const n = parseNumber(tok.text) ?? CONSTANTS[tok.text];
    if (n === undefined) this.fail(`'${tok.text}' is not a number`, tok);
    return n;
  }

  // Arithmetic, with libpcap's precedence: | lowest, then &, then shifts, then + -, then * / %.
  private relation(): Test {
    const a = this.arith();
    const op = this.peek();
    if (!isRelop(op.text)) this.fail(`expected a comparison (=, !=, <, >, <=, >=) after the value`, op);
    this.next();
    const b = this.arith();
    const js = op.text === '=' || op.text === '==' ? '===' : op.text === '!=' ? '!==' : op.text;
    const guards = [...new Set([...a.guards, ...b.guards])];
    const cmp = `${a.code} ${js} ${b.code}`;
    return `(${guards.length ? `${guards.join(' && ')} && ` : ''}${cmp})`;
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
      const right = this.binary(level + 1);
      left = { code: arithmetic(op, left.code, right.code), guards: [...left.guards, ...right.guards] };
    }
    return left;
  }

  private operand(): Value {
    const tok = this.next();
    if (tok.text === '(') {
      const v = this.arith();
      if (!this.is(')')) this.fail("expected ')'");
      this.next();
      return v;
    }
    if (tok.text === '-') {
      const v = this.operand();
      return { code: `((-${v.code}) >>> 0)`, guards: v.guards };
    }
    if (tok.text === 'len') return { code: 'w', guards: [] };
    if (PROTOCOLS.includes(tok.text) && this.is('[')) {
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
      return this.byteLoad(tok.text, off, size);
    }
    if (tok.kind === 'word') {
      const n = parseNumber(tok.text) ?? CONSTANTS[tok.text];
      if (n !== undefined) return { code: String(n), guards: [] };
    }
    return this.fail(`expected a number, len or PROTO[OFFSET], found '${tok.text || 'the end'}'`, tok);
  }

  /** PROTO[off:size]: the base is the protocol's header; the packet must be of that protocol. */
  private byteLoad(proto: string, off: Value, size: number): Value {
    const d = this.d;
    let guard: string;
    let base: string;
    switch (proto) {
      case 'ether':
        guard = `lt === ${LINKTYPE_ETHERNET}`;
        base = 'o';
        break;
      case 'ip':
        guard = `${t(d)} === 0x800`;
        base = l(d);
        break;
      case 'ip6':
        guard = `${t(d)} === 0x86dd`;
        base = l(d);
        break;
      case 'arp':
        guard = `${t(d)} === 0x806`;
        base = l(d);
        break;
      case 'rarp':
        guard = `${t(d)} === 0x8035`;
        base = l(d);
        break;
      case 'icmp6':
        this.transport();
        guard = `${t(d)} === 0x86dd && ${p(d)} === 58 && ${q(d)} >= 0`;
        base = q(d);
        break;
      default: {
        // libpcap reads icmp[], igmp[], tcp[], udp[] and sctp[] over IPv4 only.
        this.transport();
        guard = `${t(d)} === 0x800 && ${p(d)} === ${PROTO_NUMBERS[proto]!} && ${q(d)} >= 0`;
        base = q(d);
      }
    }
    const at = off.code === '0' ? base : `${base} + ${off.code}`;
    return { code: `u${size * 8}(b, ${at}, e)`, guards: [...off.guards, guard] };
  }
}

function isRelop(text: string): boolean {
  return ['=', '==', '!=', '<', '>', '<=', '>='].includes(text);
}

function arithmetic(op: string, a: string, b: string): string {
  switch (op) {
    case '*':
      return `(Math.imul(${a}, ${b}) >>> 0)`;
    case '/':
      return `div(${a}, ${b})`;
    case '%':
      return `mod(${a}, ${b})`;
    case '>>':
      return `(${a} >>> ${b})`;
    default:
      return `((${a} ${op} ${b}) >>> 0)`;
  }
}

function either(dir: Dir, src: Test, dst: Test): Test {
  switch (dir) {
    case 'src':
      return src;
    case 'dst':
      return dst;
    case 'src and dst':
      return `(${src} && ${dst})`;
    default:
      return `(${src} || ${dst})`;
  }
}

/** Bytes equal `want` (under `mask`) at `at` in the frame; a read past the capture rejects it. */
function bytesAt(at: string, want: Buffer, mask?: Buffer): Test {
  const parts: string[] = [];
  let i = 0;
  while (i < want.length) {
    const size = want.length - i >= 4 ? 4 : want.length - i >= 2 ? 2 : 1;
    const word = readWord(want, i, size);
    const m = mask ? readWord(mask, i, size) : 0xffffffff;
    if (mask && m === 0) {
      i += size;
      continue;
    }
    const where = i === 0 ? at : `${at} + ${i}`;
    const load = `u${size * 8}(b, ${where}, e)`;
    const full = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    parts.push((m & full) === full ? `${load} === ${word}` : `((${load} & ${m}) >>> 0) === ${(word & m) >>> 0}`);
    i += size;
  }
  return parts.length ? `(${parts.join(' && ')})` : 'true';
}

function readWord(buf: Buffer, i: number, size: number): number {
  return size === 4 ? buf.readUInt32BE(i) : size === 2 ? buf.readUInt16BE(i) : buf[i]!;
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
function addressTest(proto: string | undefined, dir: Dir, addr: string, prefix: number | undefined, d: number): Test {
  if (addr.includes(':')) {
    const bytes = parseOrFail(parseIPv6, addr, 'IPv6');
    const len = prefix ?? 128;
    if (len > 128) throw usageError(`bad filter: /${len} is too long for an IPv6 net`);
    if (proto && proto !== 'ip6') throw usageError(`bad filter: '${proto} host ${addr}': an IPv6 address goes with ip6`);
    const mask = len === 128 ? undefined : ipv6Mask(len);
    const want = mask ? Buffer.from(bytes.map((x, i) => x & mask[i]!)) : bytes;
    return `(${t(d)} === 0x86dd && ${either(dir, bytesAt(`${l(d)} + 8`, want, mask), bytesAt(`${l(d)} + 24`, want, mask))})`;
  }
  const bytes = parseOrFail(parseIPv4, addr, 'IPv4');
  const len = prefix ?? 32;
  if (len > 32) throw usageError(`bad filter: /${len} is too long for an IPv4 net`);
  const mask = len === 32 ? undefined : ipv4Mask(len);
  const want = mask ? Buffer.from(bytes.map((x, i) => x & mask[i]!)) : bytes;
  const ip = either(dir, bytesAt(`${l(d)} + 12`, want, mask), bytesAt(`${l(d)} + 16`, want, mask));
  // ARP for IPv4 over Ethernet: sender protocol address at 14, target at 24.
  const arp = either(dir, bytesAt(`${l(d)} + 14`, want, mask), bytesAt(`${l(d)} + 24`, want, mask));
  if (proto === 'ip') return `(${t(d)} === 0x800 && ${ip})`;
  if (proto === 'arp') return `(${t(d)} === 0x806 && ${arp})`;
  if (proto === 'rarp') return `(${t(d)} === 0x8035 && ${arp})`;
  if (proto === 'ip6') throw usageError(`bad filter: 'ip6 host ${addr}': an IPv4 address goes with ip`);
  return `(${t(d)} === 0x800 ? ${ip} : (${t(d)} === 0x806 || ${t(d)} === 0x8035) && ${arp})`;
}

function parseOrFail(parse: (text: string) => Buffer, text: string, family: string): Buffer {
  try {
    return parse(text);
  } catch {
    throw usageError(`bad filter: '${text}' is not an ${family} address`);
  }
}

function portTest(proto: string | undefined, dir: Dir, lo: number, hi: number, d: number): Test {
  const protos = proto === 'tcp' || proto === 'udp' || proto === 'sctp' ? [PROTO_NUMBERS[proto]!] : [6, 17, 132];
  const family = proto === 'ip' ? `${t(d)} === 0x800` : proto === 'ip6' ? `${t(d)} === 0x86dd` : `(${t(d)} === 0x800 || ${t(d)} === 0x86dd)`;
  const inRange = (at: string): Test => (lo === hi ? `u16(b, ${at}, e) === ${lo}` : `within(u16(b, ${at}, e), ${lo}, ${hi})`);
  const ports = either(dir, inRange(q(d)), inRange(`${q(d)} + 2`));
  return `(${family} && (${protos.map((n) => `${p(d)} === ${n}`).join(' || ')}) && ${q(d)} >= 0 && ${ports})`;
}

/** Thrown by a read past the captured bytes: libpcap rejects the packet then. */
const OUT_OF_BOUNDS = { outOfBounds: true };

const runtime = {
  isVlanType,
  px(proto: number): number {
    if (proto === -2) throw OUT_OF_BOUNDS;
    return proto;
  },
  networkStart,
  u8(b: Buffer, at: number, e: number): number {
    if (at + 1 > e) throw OUT_OF_BOUNDS;
    return b[at]!;
  },
  u16(b: Buffer, at: number, e: number): number {
    if (at + 2 > e) throw OUT_OF_BOUNDS;
    return (b[at]! << 8) | b[at + 1]!;
  },
  u32(b: Buffer, at: number, e: number): number {
    if (at + 4 > e) throw OUT_OF_BOUNDS;
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  },
  div(a: number, b: number): number {
    if (b === 0) throw OUT_OF_BOUNDS;
    return Math.floor(a / b) >>> 0;
  },
  mod(a: number, b: number): number {
    if (b === 0) throw OUT_OF_BOUNDS;
    return a % b;
  },
  within(v: number, lo: number, hi: number): boolean {
    return v >= lo && v <= hi;
  },
};

/** A frame test for one link type: buf[off, off + caplen), wireLength bytes on the wire. */
export type FrameTest = (buf: Buffer, off: number, caplen: number, wireLength: number) => boolean;

/** The JavaScript source of a program's test for one link type (for `--explain`-style diagnosis and tests). */
export function programSource(program: FilterProgram, linkType: number): string {
  const lines: string[] = [];
  lines.push(`const e = o + n;`);
  for (let d = 0; d < program.depths; d++) {
    lines.push(networkStartSource(linkType, d, t(d), l(d)));
    if (program.usesTransport) {
      lines.push(
        `let p${d} = -1, q${d} = -1;`,
        `if (t${d} === 0x800) {`,
        `  if (e >= l${d} + 10) {`,
        `    p${d} = b[l${d} + 9];`,
        // Only the first fragment carries the transport header.
        `    if ((((b[l${d} + 6] & 0x1f) << 8) | b[l${d} + 7]) === 0) q${d} = l${d} + (b[l${d}] & 15) * 4;`,
        `  } else p${d} = -2;`,
        `} else if (t${d} === 0x86dd) {`,
        `  if (e >= l${d} + 7) {`,
        `    p${d} = b[l${d} + 6]; q${d} = l${d} + 40;`,
        `    if (p${d} === 44) {`,
        `      if (e >= q${d} + 4) {`,
        `        const first = ((b[q${d} + 2] << 8 | b[q${d} + 3]) & 0xfff8) === 0;`,
        `        p${d} = b[q${d}]; q${d} = first ? q${d} + 8 : -1;`,
        `      } else p${d} = -2;`,
        `    }`,
        `  } else p${d} = -2;`,
        `}`,
      );
    }
  }
  lines.push(`try { return ${program.test}; } catch (err) { if (err === OUT_OF_BOUNDS) return false; throw err; }`);
  return `const lt = ${linkType};\nreturn function match(b, o, n, w) {\n  ${lines.join('\n  ')}\n};`;
}

/** Turns a program into a function for one link type. */
export function programFor(program: FilterProgram, linkType: number): FrameTest {
  const names = Object.keys(runtime);
  const make = new Function('OUT_OF_BOUNDS', ...names, programSource(program, linkType)) as (...args: unknown[]) => FrameTest;
  return make(OUT_OF_BOUNDS, ...names.map((k) => runtime[k as keyof typeof runtime]));
}

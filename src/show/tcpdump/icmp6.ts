/**
 * ICMPv6 as tcpdump 4.99 prints it (print-icmp6.c): `ICMP6, echo request, id 1, seq 2, length
 * 64`, errors naming the quoted destination, neighbor discovery (`who has`, `tgt is`), and a
 * hex dump for types tcpdump has no words for. With -v the checksum verdict comes first and
 * the length moves (or goes), as in tcpdump.
 */
import { cksumResult, cksumShouldBe, HEX2, ipv6Text, sum16, type PrintContext } from './context.js';
import { printName } from './dns.js';
import { pseudoSum, type IPInfo } from './tcp.js';
import { hexLines } from './hex.js';

const TYPES: Record<number, string> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 138: 'router renumbering',
  141: 'inverse neighbor solicitation', 142: 'inverse neighbor advertisement', 143: 'multicast listener report v2',
  144: 'ha discovery request', 145: 'ha discovery reply', 146: 'mobile router solicitation',
  147: 'mobile router advertisement', 139: 'node information query', 140: 'node information reply',
  200: 'mtrace response', 201: 'mtrace message', 155: 'RPL',
};

const UNREACH_CODES: Record<number, string> = {
  0: 'unreachable route', 1: ' unreachable prohibited', 2: 'beyond scope', 3: 'unreachable address', 4: 'unreachable port',
};

const OPTION_NAMES: Record<number, string> = {
  1: 'source link-address', 2: 'destination link-address', 3: 'prefix info', 4: 'redirected header', 5: 'mtu',
  25: 'rdnss', 31: 'dnssl', 7: 'advertisement interval', 8: 'homeagent information', 24: 'route info',
};

/** get_rtpref: the two preference bits (RFC 4191) of a router advertisement or a route. */
const ROUTER_PREFS: readonly string[] = ['medium', 'high', 'reserved', 'low'];

const PREFIX_FLAGS: readonly [number, string][] = [[0x80, 'onlink'], [0x40, 'auto'], [0x20, 'router']];

/** get_lifetime: seconds, or infinity for all ones. */
function lifetime(v: number): string {
  return v === 0xffffffff ? 'infinity' : v + 's';
}

const NA_FLAGS: [number, string][] = [[0x80000000, 'router'], [0x40000000, 'solicited'], [0x20000000, 'override']];

/** The quoted packet's upper-layer header (tcpdump's get_upperlayer), or undefined. */
function upperLayer(c: PrintContext, ip6: number): { off: number; proto: number } | undefined {
  if (!c.has(ip6 + 6, 1)) return undefined;
  let nh = c.b[ip6 + 6]!;
  let hlen = 40;
  let bp = ip6;
  while (bp < c.snapend) {
    bp += hlen;
    switch (nh) {
      case 6:
      case 17:
        return c.has(bp + 2, 2) ? { off: bp, proto: nh } : undefined;
      case 0:
      case 60:
      case 43:
        if (!c.has(bp + 1, 1)) return undefined;
        nh = c.b[bp]!;
        hlen = (c.b[bp + 1]! + 1) << 3;
        break;
      case 44:
        if (!c.has(bp + 2, 2)) return undefined;
        if (((c.b[bp + 2]! << 8) | c.b[bp + 3]!) & 0xfff8) return undefined;
        nh = c.b[bp]!;
        hlen = 8;
        break;
      case 51:
        if (!c.has(bp + 1, 1)) return undefined;
        nh = c.b[bp]!;
        hlen = (c.b[bp + 1]! + 2) << 2;
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

export function printICMP6(c: PrintContext, off: number, length: number, ip: IPInfo, fragmented: boolean): void {
  c.proto = 'icmp6';
  const v = c.opts.verbose;
  const b = c.b;
  if (length === 0) {
    c.w('ICMP6, length 0 (invalid)');
    return;
  }
  if (v && !fragmented && c.has(off, length)) {
    const field = c.u16(off + 2);
    const sum = cksumResult(pseudoSum(c, ip, 58, length) + sum16(b, off, off + length));
    if (sum !== 0) {
      const should = cksumShouldBe(field, sum);
      c.w('[bad icmp6 cksum 0x' + HEX2[field >> 8] + HEX2[field & 0xff] + ' -> 0x' + HEX2[should >> 8] + HEX2[should & 0xff] + '!] ');
    } else c.w('[icmp6 sum ok] ');
  }
  const type = c.u8(off);
  c.w('ICMP6, ' + (TYPES[type] ?? 'unknown icmp6 type (' + type + ')'));
  if (v && (type === 133 || type === 134 || type === 136 || type === 135 || type === 137 || type === 145 || type === 147)) c.w(', length ' + length);
  const code = c.u8(off + 1);
  const oip = off + 8;
  switch (type) {
    case 1:
      c.w(', ' + (UNREACH_CODES[code] ?? 'unknown unreach code (' + code + ')'));
      switch (code) {
        case 0:
        case 1:
        case 3:
          c.w(' ' + c.ipv6(oip + 24));
          break;
        case 2:
          c.w(' ' + c.ipv6(oip + 24) + ', source address ' + c.ipv6(oip + 8));
          break;
        case 4: {
          const up = upperLayer(c, oip);
          if (!up) {
            c.w(' [|icmp6]');
            return;
          }
          const dport = c.u16(up.off + 2);
          if (up.proto === 6) c.w(', ' + c.ipv6(oip + 24) + ' tcp port ' + dport);
          else if (up.proto === 17) c.w(', ' + c.ipv6(oip + 24) + ' udp port ' + dport);
          else c.w(', ' + c.ipv6(oip + 24) + ' protocol ' + up.proto + ' port ' + dport + ' unreachable');
          break;
        }
        default:
          if (v <= 1) {
            unknownData(c, off, length);
            return;
          }
      }
      break;
    case 2:
      c.w(', mtu ' + c.u32(off + 4));
      break;
    case 3:
      if (code === 0) c.w(' for ' + c.ipv6(oip + 24));
      else if (code === 1) c.w(' (reassembly)');
      else c.w(', unknown code (' + code + ')');
      break;
    case 4: {
      c.need(oip + 24, 16);
      const names = ['erroneous', 'next header', 'option', 'incomplete header chain'];
      c.w(code < 4 ? ', ' + names[code] + ' - octet ' + c.u32(off + 4) : ', code-#' + code);
      break;
    }
    case 128:
    case 129:
      c.w(', id ' + c.u16(off + 4) + ', seq ' + c.u16(off + 6));
      break;
    case 130:
      if (length === 24) mld(c, off);
      else if (length >= 28) c.w(' v2');
      else c.w(' unknown-version (len ' + length + ') ');
      break;
    case 131:
    case 132:
      mld(c, off);
      break;
    case 133:
      if (v && !options(c, off + 8, length - 8)) return trunc(c);
      break;
    case 134:
      if (v) {
        const flags = c.u8(off + 5);
        const flagNames: string[] = [];
        if (flags & 0x80) flagNames.push('managed');
        if (flags & 0x40) flagNames.push('other stateful');
        if (flags & 0x20) flagNames.push('home agent');
        if (flags & 0x01) flagNames.push('ipv6 only');
        const pref = ROUTER_PREFS[(flags >> 3) & 3];
        c.w('\n\thop limit ' + c.u8(off + 4) + ', Flags [' + (flagNames.join(', ') || 'none') + '], pref ' + pref + ', router lifetime ' + c.u16(off + 6) + 's, reachable time ' + c.u32(off + 8) + 'ms, retrans timer ' + c.u32(off + 12) + 'ms');
        if (!options(c, off + 16, length - 16)) return trunc(c);
      }
      break;
    case 135:
      c.w(', who has ' + c.ipv6(off + 8));
      if (v && !options(c, off + 24, length - 24)) return trunc(c);
      break;
    case 136:
      c.w(', tgt is ' + c.ipv6(off + 8));
      if (v) {
        const flags = c.u32(off + 4);
        const names = NA_FLAGS.filter(([bit]) => (flags & bit) >>> 0 !== 0).map(([, n]) => n);
        c.w(', Flags [' + (names.join(', ') || 'none') + ']');
        if (!options(c, off + 24, length - 24)) return trunc(c);
      }
      break;
    case 137:
      c.w(', ' + c.ipv6(off + 24) + ' to ' + c.ipv6(off + 8));
      if (v && !options(c, off + 40, length - 40)) return trunc(c);
      break;
    case 143: {
      if (length < 8) {
        c.w(' [invalid len ' + length + ']');
        break;
      }
      c.w(', ' + c.u16(off + 6) + ' group record(s)');
      break;
    }
    case 141:
    case 142:
      break;
    case 144:
    case 146:
      c.w(', id 0x' + HEX2[c.u8(off + 4)] + HEX2[c.u8(off + 5)]);
      break;
    default:
      c.w(', length ' + length);
      if (v <= 1) unknownData(c, off, length);
      return;
  }
  if (!v) c.w(', length ' + length);
}

function trunc(c: PrintContext): void {
  c.w(' [|icmp6]');
}

function mld(c: PrintContext, off: number): void {
  if (off + 24 > c.snapend) return;
  c.w('max resp delay: ' + c.u16(off + 4) + ' addr: ' + c.ipv6(off + 8));
}

function unknownData(c: PrintContext, off: number, length: number): void {
  const n = Math.min(length, Math.max(0, c.snapend - off));
  c.w(hexLines(c.b, off, n, '\n\t'));
}

/** Neighbor discovery options (icmp6_opt_print); false when they run past the captured bytes. */
function options(c: PrintContext, cp: number, resid: number): boolean {
  const ep = c.snapend;
  const start = cp;
  while (cp < ep) {
    if (!c.has(cp + 1, 1)) return false;
    if (resid <= 0) return true;
    const type = c.b[cp]!;
    const len = c.b[cp + 1]!;
    if (len === 0) return false;
    if (cp + (len << 3) > ep) return false;
    c.w('\n\t  ' + (OPTION_NAMES[type] ?? 'unknown') + ' option (' + type + '), length ' + (len << 3) + ' (' + len + '): ');
    switch (type) {
      case 1:
      case 2: {
        const parts: string[] = [];
        for (let i = 0; i < (len << 3) - 2; i++) parts.push(HEX2[c.b[cp + 2 + i]!]!);
        c.w(parts.join(':'));
        break;
      }
      case 5:
        c.w(' ' + c.u32(cp + 4) + (len !== 1 ? 'bad option length' : ''));
        break;
      case 3: {
        const flags = c.u8(cp + 3);
        const names = PREFIX_FLAGS.filter(([bit]) => flags & bit).map(([, n]) => n);
        c.w(c.ipv6(cp + 16) + '/' + c.u8(cp + 2) + (len !== 4 ? 'badlen' : '') + ', Flags [' + (names.length ? names.join(', ') : 'none') + '], valid time ' + lifetime(c.u32(cp + 4)));
        c.w(', pref. time ' + lifetime(c.u32(cp + 8)));
        break;
      }
      case 4:
        // tcpdump dumps the option's length in bytes from the first option on (its "xxx").
        c.w(hexLines(c.b, start, Math.min(len << 3, Math.max(0, ep - start)), '\n\t    '));
        break;
      case 25: {
        c.w(' lifetime ' + c.u32(cp + 4) + 's,');
        for (let i = 0; i < (len - 1) >> 1; i++) c.w(' addr: ' + c.ipv6(cp + 8 + 16 * i));
        break;
      }
      case 31: {
        // Names end at the option's end or at a zero byte (the padding), read as fqdn_print does.
        c.w(' lifetime ' + c.u32(cp + 4) + 's, domain(s):');
        let dom = cp + 8;
        while (dom < cp + (len << 3) && c.b[dom] !== 0) {
          c.w(' ');
          dom = printName(c, dom, start);
          if (dom < 0) return false;
        }
        break;
      }
      case 24: {
        // The prefix is 0, 8 or 16 bytes by the option's length, the rest of the address zero.
        if (len > 3) return false;
        const prefix = Buffer.alloc(16);
        if (len > 1) prefix.set(c.b.subarray(cp + 8, cp + 8 + 8 * (len - 1)));
        c.w(' ' + ipv6Text(prefix, 0) + '/' + c.u8(cp + 2) + ', pref=' + ROUTER_PREFS[(c.u8(cp + 3) >> 3) & 3] + ', lifetime=' + lifetime(c.u32(cp + 4)));
        break;
      }
      case 7:
        c.w(' ' + c.u32(cp + 4) + 'ms');
        break;
      case 8:
        c.w(' preference ' + c.u16(cp + 4) + ', lifetime ' + c.u16(cp + 6));
        break;
      default:
        if (c.opts.verbose <= 1) {
          c.w(hexLines(c.b, cp + 2, (len << 3) - 2, '\n\t  '));
          return true;
        }
    }
    if (c.opts.verbose > 1) c.w(hexLines(c.b, cp + 2, (len << 3) - 2, '\n\t    '));
    cp += len << 3;
    resid -= len << 3;
  }
  return true;
}

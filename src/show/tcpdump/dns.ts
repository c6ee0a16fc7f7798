/**
 * DNS as tcpdump 4.99 prints it (print-domain.c's domain_print): a query as
 * `12345+ [1au] A? example.test. (30)`, a response as `12345* 1/0/1 A 198.51.100.7 (46)`; with
 * -v each answer starts with its owner name, with -vv the question (q:), authority (ns:) and
 * additional (ar:) sections follow, EDNS0 as `OPT UDPsize=1232 [COOKIE ...]`. mDNS (5353)
 * adds (QU)/(QM) and (Cache flush); over TCP the 2-byte length prefix is checked first.
 * A read past the captured bytes ends the line with ` [|domain]`, as tcpdump's does.
 */
import { HEX2, TRUNCATED, type PrintContext } from './context.js';

const INDIR_MASK = 0xc0;
const EDNS0_MASK = 0x40;
const EDNS0_ELT_BITLABEL = 0x01;
const MAXCDNAME = 255;
const T_OPT = 41;

const OPS = [
  '', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7',
  ' op8', ' updateA', ' updateD', ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef',
];
const RCODES = [
  '', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet',
  ' NXRRSet', ' NotAuth', ' NotZone', ' Resp11', ' Resp12', ' Resp13', ' Resp14', ' NoChange',
];

/** tcpdump's ns_type2str. */
const TYPES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL',
  11: 'WKS', 12: 'PTR', 13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25',
  20: 'ISDN', 21: 'RT', 22: 'NSAP', 23: 'NSAP_PTR', 24: 'SIG', 25: 'KEY', 26: 'PX', 27: 'GPOS', 28: 'AAAA',
  29: 'LOC', 30: 'NXT', 31: 'EID', 32: 'NIMLOC', 33: 'SRV', 34: 'ATMA', 35: 'NAPTR', 36: 'KX', 37: 'CERT',
  38: 'A6', 39: 'DNAME', 40: 'SINK', 41: 'OPT', 42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY',
  46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 99: 'SPF', 100: 'UINFO', 101: 'UID', 102: 'GID', 103: 'UNSPEC',
  104: 'UNSPECA', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: 'ANY',
  256: 'URI',
};
const CLASSES: Readonly<Record<number, string>> = { 1: 'IN', 3: 'CHAOS', 4: 'HS', 255: 'ANY' };
const EDNS_OPTIONS: Readonly<Record<number, string>> = {
  1: 'LLQ', 2: 'UL', 3: 'NSID', 5: 'DAU', 6: 'DHU', 7: 'N3U', 8: 'ECS', 9: 'EXPIRE', 10: 'COOKIE',
  11: 'KEEPALIVE', 12: 'PADDING', 13: 'CHAIN', 14: 'KEY-TAG', 16: 'CLIENT-TAG', 17: 'SERVER-TAG',
};

function typeName(t: number): string {
  return TYPES[t] ?? 'Type' + t;
}

function className(k: number): string {
  return CLASSES[k] ?? '(Class ' + k + ')';
}

/** nd_printn: bytes as tcpdump shows them (M- for 8-bit, ^ for control); false when the capture ends first. */
function printn(c: PrintContext, off: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (off + i >= c.snapend) return false;
    let ch = c.b[off + i]!;
    if (ch > 0x7f) {
      c.w('M-');
      ch &= 0x7f;
    }
    if (ch < 0x20 || ch === 0x7f) c.w('^' + String.fromCharCode(ch ^ 0x40));
    else c.wc(ch);
  }
  return true;
}

/** labellen: a label's length (a bit label's in bytes), or -1 for an unknown extended label or the end. */
function labelLength(c: PrintContext, cp: number): number {
  if (!c.has(cp, 1)) return -1;
  const i = c.b[cp]!;
  if ((i & INDIR_MASK) === EDNS0_MASK) {
    if ((i & ~INDIR_MASK) !== EDNS0_ELT_BITLABEL) return -1;
    if (!c.has(cp + 1, 1)) return -1;
    const bitlen = c.b[cp + 1]! || 256;
    return Math.floor((bitlen + 7) / 8) + 1;
  }
  return i;
}

/** ns_nskip: past a name without printing it, or -1. */
function skipName(c: PrintContext, cp: number): number {
  if (!c.has(cp, 1)) return -1;
  let i = c.b[cp++]!;
  while (i) {
    const kind = i & INDIR_MASK;
    if (kind === INDIR_MASK) return cp + 1;
    if (kind === EDNS0_MASK) {
      if ((i & ~INDIR_MASK) !== EDNS0_ELT_BITLABEL) return -1;
      if (!c.has(cp, 1)) return -1;
      const bitlen = c.b[cp]! || 256;
      cp += 1 + Math.floor((bitlen + 7) / 8);
    } else cp += i;
    if (!c.has(cp, 1)) return -1;
    i = c.b[cp++]!;
  }
  return cp;
}

/** blabel_print: a bit-string label as \[x...] */
function bitLabel(c: PrintContext, cp: number): number {
  if (!c.has(cp, 1)) return -1;
  const bitlen = c.b[cp]! || 256;
  const slen = Math.floor((bitlen + 7) / 8);
  c.w('\\[x');
  let b = bitlen;
  let p = cp + 1;
  for (; b > 8; b -= 8, p++) {
    if (!c.has(p, 1)) throw TRUNCATED;
    c.w(HEX2[c.b[p]!]!);
  }
  if (!c.has(p, 1)) throw TRUNCATED;
  const tc = c.b[p]!;
  if (b > 4) c.w(HEX2[tc & (0xff << (8 - b))]!);
  else c.w(((tc >> 4) & (0x0f << (4 - b)) & 0x0f).toString(16));
  c.w('/' + bitlen + ']');
  return cp + 1 + slen;
}

/** fqdn_print: a name with compression pointers followed (each must point backwards), or -1. */
export function printName(c: PrintContext, cp: number, bp: number): number {
  let l = labelLength(c, cp);
  if (l === -1) return -1;
  let maxOffset = cp - bp;
  let i = c.b[cp++]!;
  let rp = -1;
  let compress = false;
  let nameChars = 0;
  if ((i & INDIR_MASK) !== INDIR_MASK) rp = cp + l;
  if (i === 0) {
    c.w('.');
    return rp;
  }
  while (i && cp < c.snapend) {
    if ((i & INDIR_MASK) === INDIR_MASK) {
      if (!compress) {
        rp = cp + 1;
        compress = true;
      }
      if (!c.has(cp, 1)) return -1;
      const offset = ((i << 8) | c.b[cp]!) & 0x3fff;
      if (offset >= maxOffset) {
        c.w('<BAD PTR>');
        return -1;
      }
      maxOffset = offset;
      cp = bp + offset;
      if (!c.has(cp, 1)) return -1;
      i = c.b[cp]!;
      l = labelLength(c, cp);
      if (l === -1) return -1;
      cp++;
      continue;
    }
    if ((i & INDIR_MASK) === EDNS0_MASK) {
      const elt = i & ~INDIR_MASK;
      if (elt !== EDNS0_ELT_BITLABEL) {
        c.w('<ELT ' + elt + '>');
        return -1;
      }
      if (bitLabel(c, cp) < 0) return -1;
    } else {
      if (nameChars + l <= MAXCDNAME) {
        if (!printn(c, cp, l)) return -1;
      } else if (nameChars < MAXCDNAME) {
        if (!printn(c, cp, MAXCDNAME - nameChars)) return -1;
      }
      nameChars += l;
    }
    cp += l;
    if (nameChars <= MAXCDNAME) c.w('.');
    nameChars++;
    if (!c.has(cp, 1)) return -1;
    i = c.b[cp]!;
    l = labelLength(c, cp);
    if (l === -1) return -1;
    cp++;
    if (!compress) rp += l + 1;
  }
  if (nameChars > MAXCDNAME) c.w('<DOMAIN NAME TOO LONG>');
  return rp;
}

/** ns_qprint: ` A? example.test.` */
function printQuestion(c: PrintContext, cp: number, bp: number, mdns: boolean): number {
  const np = cp;
  cp = skipName(c, cp);
  if (cp < 0 || !c.has(cp, 4)) return -1;
  c.w(' ' + typeName(c.u16(cp)));
  const raw = c.u16(cp + 2);
  const klass = mdns ? raw & 0x7fff : raw;
  if (klass !== 1) c.w(' ' + className(klass));
  if (mdns) c.w(raw & 0x8000 ? ' (QU)' : ' (QM)');
  c.w('? ');
  const end = printName(c, np, bp);
  return end < 0 ? -1 : end + 4;
}

/** ns_cprint: one <character-string>. */
function printCharString(c: PrintContext, cp: number): number {
  const n = c.u8(cp);
  if (!printn(c, cp + 1, n)) return -1;
  return cp + 1 + n;
}

/** edns_print_option: `COOKIE 4588dfe41e036c37`, `ECS 198.51.100.0/24/0`, `PADDING (12)`; others as hex. */
function printEdnsOption(c: PrintContext, cp: number): number {
  if (!c.has(cp, 4)) return -1;
  const code = c.u16(cp);
  const len = c.u16(cp + 2);
  const data = cp + 4;
  c.w(EDNS_OPTIONS[code] ?? 'Opt' + code);
  if (!c.has(data, len)) throw TRUNCATED;
  if (len === 0) return data;
  c.w(' ');
  const hex = (from: number, to: number, splitAt = -1): void => {
    for (let i = from; i < to; i++) c.w((i - from === splitAt ? ' ' : '') + HEX2[c.b[data + i]!]!);
  };
  switch (code) {
    case 8:
      printClientSubnet(c, data, len);
      break;
    case 10:
      if (len < 8 || (len > 8 && len < 16) || len > 40) c.w(' (invalid)');
      else hex(0, len, 8);
      break;
    case 11:
      if (len % 2 !== 0) c.w(' (invalid)');
      else c.w((c.u16(data) / 10).toFixed(1) + ' sec');
      break;
    case 9:
      if (len !== 4) c.w(' (invalid)');
      else c.w(c.u32(data) + ' sec');
      break;
    case 12:
      c.w('(' + len + ')');
      break;
    case 14:
      if (len % 2 !== 0) c.w(' (invalid)');
      else for (let i = 0; i < len; i += 2) c.w((i > 0 ? ' ' : '') + c.u16(data + i));
      break;
    default:
      hex(0, len);
  }
  return data + len;
}

/** print_eopt_ecs: family 1 or 2, source and scope prefix lengths, the address cut to its prefix. */
function printClientSubnet(c: PrintContext, data: number, len: number): void {
  if (len < 4) return c.w(' (invalid)');
  const family = c.u16(data);
  const src = c.u8(data + 2);
  const scope = c.u8(data + 3);
  const bits = family === 1 ? 32 : family === 2 ? 128 : 0;
  if (bits === 0 || len - 4 > bits / 8 || src > bits || scope > bits || Math.floor((src + 7) / 8) !== len - 4) return c.w(' (invalid)');
  const padded = Buffer.alloc(16);
  c.b.copy(padded, 0, data + 4, data + len);
  const saved = c.b;
  const savedEnd = c.snapend;
  c.b = padded;
  c.snapend = 16;
  const addr = family === 1 ? c.ipv4(0) : c.ipv6(0);
  c.b = saved;
  c.snapend = savedEnd;
  c.w(addr + '/' + src + '/' + scope);
}

/** ns_rprint: one resource record; returns where the next starts, the snapshot end when the record is cut, or -1. */
function printRecord(c: PrintContext, cp: number, bp: number, mdns: boolean): number {
  if (c.opts.verbose) {
    c.w(' ');
    cp = printName(c, cp, bp);
    if (cp < 0) return -1;
  } else cp = skipName(c, cp);
  if (cp < 0 || !c.has(cp, 10)) return c.snapend;
  const type = c.u16(cp);
  const rawClass = c.u16(cp + 2);
  const klass = mdns ? rawClass & 0x7fff : rawClass;
  if (klass !== 1 && type !== T_OPT) c.w(' ' + className(klass));
  if (mdns && rawClass & 0x8000) c.w(' (Cache flush)');
  let optFlags = 0;
  if (type === T_OPT) optFlags = c.u16(cp + 6);
  else if (c.opts.verbose > 2) c.w(' [' + relTime(c.u32(cp + 4)) + ']');
  const len = c.u16(cp + 8);
  cp += 10;
  const rp = cp + len;
  c.w(' ' + typeName(type));
  if (rp > c.snapend) return -1;
  switch (type) {
    case 1:
      if (!c.has(cp, 4)) return -1;
      c.w(' ' + c.ipv4(cp));
      break;
    case 2:
    case 5:
    case 12:
    case 39:
      c.w(' ');
      if (printName(c, cp, bp) < 0) return -1;
      break;
    case 6: {
      if (!c.opts.verbose) break;
      c.w(' ');
      cp = printName(c, cp, bp);
      if (cp < 0) return -1;
      c.w(' ');
      cp = printName(c, cp, bp);
      if (cp < 0) return -1;
      if (!c.has(cp, 20)) return -1;
      for (let k = 0; k < 5; k++) c.w(' ' + c.u32(cp + 4 * k));
      break;
    }
    case 15:
      c.w(' ');
      if (!c.has(cp, 2)) return -1;
      if (printName(c, cp + 2, bp) < 0) return -1;
      c.w(' ' + c.u16(cp));
      break;
    case 16:
      while (cp < rp) {
        c.w(' "');
        cp = printCharString(c, cp);
        if (cp < 0) return -1;
        c.w('"');
      }
      break;
    case 33:
      c.w(' ');
      if (!c.has(cp, 6)) return -1;
      if (printName(c, cp + 6, bp) < 0) return -1;
      c.w(':' + c.u16(cp + 4) + ' ' + c.u16(cp) + ' ' + c.u16(cp + 2));
      break;
    case 28:
      if (!c.has(cp, 16)) return -1;
      c.w(' ' + c.ipv6(cp));
      break;
    case T_OPT:
      c.w(' UDPsize=' + klass);
      if (optFlags & 0x8000) c.w(' DO');
      if (cp < rp) {
        c.w(' [');
        while (cp < rp) {
          cp = printEdnsOption(c, cp);
          if (cp < 0) return -1;
          if (cp < rp) c.w(',');
        }
        c.w(']');
      }
      break;
    case 104:
      if (!c.has(cp, len)) return -1;
      if (!printn(c, cp, len)) return -1;
      break;
    default:
      break;
  }
  return rp;
}

/** unsigned_relts_print: 3600 -> 1h, 90 -> 1m30s. */
function relTime(secs: number): string {
  if (secs === 0) return '0s';
  const units: [number, string][] = [[31536000, 'y'], [604800, 'w'], [86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let s = '';
  for (const [size, name] of units) {
    if (secs >= size) {
      s += Math.floor(secs / size) + name;
      secs %= size;
    }
  }
  return s;
}

/** A section of records after its label (` ns:`), comma-separated; false when the bytes ran out. */
function printSection(c: PrintContext, cp: { at: number }, count: number, bp: number, mdns: boolean, label: string): boolean {
  if (!count || cp.at >= c.snapend) return count === 0;
  c.w(label);
  let next = printRecord(c, cp.at, bp, mdns);
  if (next < 0) return false;
  count--;
  while (next < c.snapend && count) {
    c.w(',');
    next = printRecord(c, next, bp, mdns);
    if (next < 0) return false;
    count--;
  }
  cp.at = next;
  return count === 0;
}

/**
 * domain_print. `off`/`length` are the UDP or TCP payload; `overTCP`: the message starts with
 * its length; `mdns`: port 5353's class bits.
 */
export function printDNS(c: PrintContext, off: number, length: number, overTCP: boolean, mdns: boolean): void {
  c.proto = 'domain';
  if (overTCP) {
    if (length < 2) {
      c.w(' [DNS over TCP: length ' + length + ' < 2] (invalid)');
      return;
    }
    length -= 2;
    const prefix = c.u16(off);
    if (prefix !== length) {
      c.w(' [prefix length(' + prefix + ') != length(' + length + ')] (invalid)');
      return;
    }
    off += 2;
    c.w(' ');
  }
  const bp = off;
  if (length < 12) {
    c.w('domain [length ' + length + ' < 12] (invalid)');
    return;
  }
  if (!c.has(off, 12)) throw TRUNCATED;
  const flags = c.u16(off + 2);
  const qdcount = c.u16(off + 4);
  const ancount = c.u16(off + 6);
  const nscount = c.u16(off + 8);
  const arcount = c.u16(off + 10);
  let rcode = flags & 0xf;
  rcode = extendedRcode(c, off + 12, qdcount, ancount + nscount, arcount, rcode);
  const id = c.u16(off);
  const opcode = (flags >> 11) & 0xf;
  if (flags & 0x8000) {
    c.w(id + OPS[opcode]! + (RCODES[rcode] ?? 'Resp' + rcode) + (flags & 0x0400 ? '*' : '') + (flags & 0x0080 ? '' : '-') + (flags & 0x0200 ? '|' : '') + (flags & 0x0020 ? '$' : ''));
    if (qdcount !== 1) c.w(' [' + qdcount + 'q]');
    let cp = off + 12;
    for (let i = 0; i < qdcount; i++) {
      if (i !== 0) c.w(',');
      if (c.opts.verbose > 1) {
        c.w(' q:');
        cp = printQuestion(c, cp, bp, mdns);
      } else {
        cp = skipName(c, cp);
        if (cp >= 0) cp += 4;
      }
      if (cp < 0) throw TRUNCATED;
    }
    c.w(' ' + ancount + '/' + nscount + '/' + arcount);
    const at = { at: cp };
    printAnswers(c, at, ancount, bp, mdns);
    if (c.opts.verbose > 1) {
      if (!printSection(c, at, nscount, bp, mdns, ' ns:')) throw TRUNCATED;
      if (!printSection(c, at, arcount, bp, mdns, ' ar:')) throw TRUNCATED;
    }
  } else {
    c.w(id + OPS[opcode]! + (flags & 0x0100 ? '+' : '') + (flags & 0x0010 ? '%' : ''));
    if (flags & 0x6cf) c.w(' [b2&3=0x' + flags.toString(16) + ']');
    if (opcode === 1) {
      if (qdcount) c.w(' [' + qdcount + 'q]');
      if (ancount !== 1) c.w(' [' + ancount + 'a]');
    } else {
      if (ancount) c.w(' [' + ancount + 'a]');
      if (qdcount !== 1) c.w(' [' + qdcount + 'q]');
    }
    if (nscount) c.w(' [' + nscount + 'n]');
    if (arcount) c.w(' [' + arcount + 'au]');
    let cp = off + 12;
    let left = qdcount;
    if (left) {
      cp = printQuestion(c, cp, bp, mdns);
      if (cp < 0) throw TRUNCATED;
      left--;
      while (cp < c.snapend && left) {
        cp = printQuestion(c, cp, bp, mdns);
        if (cp < 0) throw TRUNCATED;
        left--;
      }
    }
    if (left) throw TRUNCATED;
    if (c.opts.verbose > 1) {
      const at = { at: cp };
      printAnswers(c, at, ancount, bp, mdns);
      if (!printSection(c, at, nscount, bp, mdns, ' ns:')) throw TRUNCATED;
      if (!printSection(c, at, arcount, bp, mdns, ' ar:')) throw TRUNCATED;
    }
  }
  c.w(' (' + length + ')');
}

/** The answer section: records after the counts, comma-separated, with no label; throws when the bytes run out first. */
function printAnswers(c: PrintContext, at: { at: number }, count: number, bp: number, mdns: boolean): void {
  if (!count) return;
  let next = printRecord(c, at.at, bp, mdns);
  if (next < 0) throw TRUNCATED;
  count--;
  while (next < c.snapend && count) {
    c.w(',');
    next = printRecord(c, next, bp, mdns);
    if (next < 0) throw TRUNCATED;
    count--;
  }
  if (count) throw TRUNCATED;
  at.at = next;
}

/** The rcode with the upper bits an OPT record in the additional section carries (tcpdump looks before printing). */
function extendedRcode(c: PrintContext, cp: number, qd: number, anns: number, ar: number, rcode: number): number {
  for (let i = 0; i < qd; i++) {
    cp = skipName(c, cp);
    if (cp < 0) return rcode;
    cp += 4;
    if (cp >= c.snapend) return rcode;
  }
  for (let i = 0; i < anns; i++) {
    cp = skipName(c, cp);
    if (cp < 0) return rcode;
    cp += 8;
    if (cp + 2 > c.snapend) return rcode;
    cp += c.u16(cp) + 2;
    if (cp >= c.snapend) return rcode;
  }
  for (let i = 0; i < ar; i++) {
    cp = skipName(c, cp);
    if (cp < 0) return rcode;
    if (cp + 2 > c.snapend) return rcode;
    if (c.u16(cp) === T_OPT) {
      if (!c.has(cp + 4, 1)) return rcode;
      return rcode | (c.u8(cp + 4) << 4);
    }
    cp += 8;
    if (cp + 2 > c.snapend) return rcode;
    cp += c.u16(cp) + 2;
    if (cp >= c.snapend) return rcode;
  }
  return rcode;
}

/**
 * TCP as tcpdump 4.99 prints it (print-tcp.c): `Flags [S.], seq 1:4, ack 1, win 512, options
 * [...], length 3`, relative sequence numbers per flow unless -S, checksum verdicts with -v.
 */
import { pseudoHeaderSum } from '../../wire/checksum.js';
import { ByteText, cksumResult, cksumShouldBe, HEX2, sum16, TRUNCATED, type PrintContext } from './context.js';
import { FlowEntry } from './tcp-flows.js';
import { printTCPPayload } from './tcp-payload.js';
import { printMPTCP } from './mptcp.js';

/** Flags in tcpdump's letters, bit order F S R P . U E W; 'none' when no bit is set ('S.', 'FS', 'FPU'). */
export const TCP_FLAG_LETTERS: readonly string[] = Array.from({ length: 256 }, (_, bits) => {
  const letters = 'FSRP.UEW';
  let s = '';
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) s += letters[i];
  return s === '' ? 'none' : s;
});
const FLAG_TEXT: readonly ByteText[] = TCP_FLAG_LETTERS.map((letters) => new ByteText('Flags [' + letters + ']'));
const SEQ = new ByteText(', seq ');
const ACK_TEXT = new ByteText(', ack ');
const WIN = new ByteText(', win ');
const NOP_NOP_TS = new ByteText(', options [nop,nop,TS val ');
const ECR = new ByteText(' ecr ');
const LENGTH = new ByteText(', length ');
const TO = new ByteText(' > ');
const COLON = new ByteText(': ');

const OPTION_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS',
  11: 'cc', 12: 'ccnew', 13: '', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};
const OPTION_TEXT: readonly string[] = Array.from({ length: 256 }, (_, k) => OPTION_NAMES[k] ?? 'unknown-' + k);

const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const ACK = 0x10;
const URG = 0x20;

/** Where the IP header that carries the segment is, for addresses and the pseudo-header. */
export interface IPInfo {
  version: 4 | 6;
  /** Offset of the IP header. */
  off: number;
  /** Whether the IP header names this protocol directly (else only ports are printed). */
  direct: boolean;
  /** Behind a source route (IPv4 LSRR/SSRR, IPv6 routing types 0 and 2): where the final destination the checksum covers lies (tcpdump's ip_finddst). */
  finalDst: number | undefined;
}

/**
 * `src.sport > dst.dport: `, or only the ports for a segment behind extension headers or
 * quoted in an ICMP error. The IP printer has checked that its addresses were captured.
 */
export function addressesAndPorts(c: PrintContext, ip: IPInfo, sport: number, dport: number): void {
  if (ip.direct) {
    if (ip.version === 4) c.wipv4(ip.off + 12);
    else c.wipv6(ip.off + 8);
    c.wc(0x2e);
  }
  c.wn(sport);
  c.wt(TO);
  if (ip.direct) {
    if (ip.version === 4) c.wipv4(ip.off + 16);
    else c.wipv6(ip.off + 24);
    c.wc(0x2e);
  }
  c.wn(dport);
  c.wt(COLON);
}

function addressesOnly(c: PrintContext, ip: IPInfo): string {
  return ip.version === 4 ? c.ipv4(ip.off + 12) + ' > ' + c.ipv4(ip.off + 16) + ':' : c.ipv6(ip.off + 8) + ' > ' + c.ipv6(ip.off + 24) + ':';
}

/** The IPv4 or IPv6 pseudo-header sum for an upper-layer checksum of `length` bytes. */
export function pseudoSum(c: PrintContext, ip: IPInfo, proto: number, length: number): number {
  const v4 = ip.version === 4;
  const sum = v4 ? pseudoHeaderSum(c.b, ip.off + 12, 4, proto, length) : pseudoHeaderSum(c.b, ip.off + 8, 16, proto, length);
  if (ip.finalDst === undefined) return sum;
  // The sum is unfolded: swap the header's destination words for the source route's last address.
  const dst = v4 ? ip.off + 16 : ip.off + 24;
  const size = v4 ? 4 : 16;
  return sum - sum16(c.b, dst, dst + size) + sum16(c.b, ip.finalDst, ip.finalDst + size);
}

export function printTCP(c: PrintContext, off: number, length: number, ip: IPInfo, fragmented: boolean): void {
  c.proto = 'tcp';
  if (!c.has(off, 4)) {
    c.w(addressesOnly(c, ip) + ' [|tcp]');
    return;
  }
  const b = c.b;
  const sport = (b[off]! << 8) | b[off + 1]!;
  const dport = (b[off + 2]! << 8) | b[off + 3]!;
  const flags = c.has(off, 20) ? b[off + 13]! : 0;
  // The flow is looked up before anything is written (a lookup changes nothing), so that a
  // known connection's addresses and ports are one copy of its cached text.
  let rev = false;
  let entry: FlowEntry | undefined;
  let key4src = 0;
  let key4dst = 0;
  let port = 0;
  let first6 = 0;
  let second6 = 0;
  const relative = !c.opts.absolute && !c.opts.quiet && (flags & ACK) !== 0;
  if (relative) {
    if (ip.version === 4) {
      // Keys as signed 32-bit numbers: small integers to V8, where unsigned ones above 2^31
      // would be boxed doubles, slow to hash and compare. The order is the unsigned one.
      const src = c.i32(ip.off + 12);
      const dst = c.i32(ip.off + 16);
      rev = sport > dport || (sport === dport && src >>> 0 > dst >>> 0);
      key4src = rev ? dst : src;
      key4dst = rev ? src : dst;
      port = rev ? (dport << 16) | sport : (sport << 16) | dport;
      entry = c.flows.lookup4(key4src, key4dst, port);
    } else {
      rev = sport > dport || (sport === dport && compare6(b, ip.off + 8, ip.off + 24) > 0);
      first6 = rev ? ip.off + 24 : ip.off + 8;
      second6 = rev ? ip.off + 8 : ip.off + 24;
      port = rev ? (dport << 16) | sport : (sport << 16) | dport;
      entry = c.flows.lookup6(b, first6, second6, port);
    }
  }
  const prefixStart = c.pos;
  if (entry !== undefined && ip.direct && entry.prefix >= 0) c.wbytes(c.flows.prefixView, rev ? entry.prefix + entry.prefixLength : entry.prefix, entry.prefixLength);
  else addressesAndPorts(c, ip, sport, dport);
  const prefixEnd = c.pos;
  if (!c.has(off, 20)) {
    c.w(' [|tcp]');
    return;
  }
  let hlen = (b[off + 12]! >> 4) * 4;
  if (hlen < 20) {
    c.w(' tcp ' + ((length - hlen) >>> 0) + ' [bad hdr length ' + hlen + ' - too short, < 20]');
    return;
  }
  // Signed, and printed with wu32: small integers all the way (see PrintContext.wu32).
  let seq = c.i32(off + 4);
  let ack = c.i32(off + 8);
  const win = (b[off + 14]! << 8) | b[off + 15]!;
  const urp = (b[off + 18]! << 8) | b[off + 19]!;
  if (c.opts.quiet) {
    // -q: the payload length only (no flags, sequence numbers or options; no flow state kept).
    c.w('tcp ');
    c.wn((length - hlen) >>> 0);
    if (hlen > length) c.w(' [bad hdr length ' + hlen + ' - too long, > ' + length + ']');
    return;
  }
  c.wt(FLAG_TEXT[flags]!);

  let thseq = 0;
  let thack = 0;
  if (relative) {
    if (!entry || flags & SYN) {
      // A new conversation (or a SYN-ACK restarting one): this segment sets the bases, printed absolute.
      const prefix = ip.direct ? c.flows.storePrefixes(c.out, prefixStart, prefixEnd, rev) : -1;
      const prefixLength = prefixEnd - prefixStart;
      entry = rev ? new FlowEntry((ack - 1) | 0, seq, prefix, prefixLength) : new FlowEntry(seq, (ack - 1) | 0, prefix, prefixLength);
      if (ip.version === 4) c.flows.store4(key4src, key4dst, port, entry);
      else c.flows.store6(b, first6, second6, port, entry);
    } else if (rev) {
      seq = (seq - entry.ack) | 0;
      ack = (ack - entry.seq) | 0;
    } else {
      seq = (seq - entry.seq) | 0;
      ack = (ack - entry.ack) | 0;
    }
    thseq = entry.seq;
    thack = entry.ack;
  }

  if (hlen > length) {
    c.w(' [bad hdr length ' + hlen + ' - too long, > ' + length + ']');
    return;
  }

  if (c.opts.verbose && !fragmented && c.has(off, length)) {
    const sum = cksumResult(pseudoSum(c, ip, 6, length) + sum16(b, off, off + length));
    const field = (b[off + 16]! << 8) | b[off + 17]!;
    c.w(', cksum 0x' + HEX2[field >> 8] + HEX2[field & 0xff]);
    if (sum !== 0) {
      const should = cksumShouldBe(field, sum);
      c.w(' (incorrect -> 0x' + HEX2[should >> 8] + HEX2[should & 0xff] + ')');
    } else c.w(' (correct)');
  }

  length -= hlen;
  if (c.opts.verbose > 1 || length > 0 || flags & (SYN | FIN | RST)) {
    c.wt(SEQ);
    c.wu32(seq);
    if (length > 0) {
      c.wc(0x3a);
      c.wu32((seq + length) | 0);
    }
  }
  if (flags & ACK) {
    c.wt(ACK_TEXT);
    c.wu32(ack);
  }
  c.wt(WIN);
  c.wn(win);
  if (flags & URG) {
    c.w(', urg ');
    c.wn(urp);
  }

  if (hlen === 32 && isNopNopTimestamp(c, off + 20)) {
    // Most segments of a conversation carry only nop,nop,TS: what printOptions prints for them, in one step.
    c.wt(NOP_NOP_TS);
    c.wu32(c.i32(off + 24));
    c.wt(ECR);
    c.wu32(c.i32(off + 28));
    c.wc(0x5d);
  } else if (hlen > 20 && !printOptions(c, off + 20, hlen - 20, flags, rev, thseq, thack, off + hlen, length)) return;
  c.wt(LENGTH);
  c.wn(length);
  if (length === 0) return;
  if (!c.has(off, hlen)) {
    c.w(' [remaining caplen(' + Math.max(0, c.snapend - off) + ') < header length(' + hlen + ')]');
    throw TRUNCATED;
  }
  if (flags & RST && c.opts.verbose) return printRSTData(c, off + hlen, length);
  printTCPPayload(c, off + hlen, length, sport, dport, flags);
}

/** Whether the 12 option bytes at cp were captured and are nop, nop, TS (kind 8, length 10). */
function isNopNopTimestamp(c: PrintContext, cp: number): boolean {
  const b = c.b;
  return c.has(cp, 12) && b[cp] === 1 && b[cp + 1] === 1 && b[cp + 2] === 8 && b[cp + 3] === 10;
}

/** Prints the option list; false when an option was bad (tcpdump then ends the line there). */
function printOptions(c: PrintContext, cp: number, hlen: number, flags: number, rev: boolean, thseq: number, thack: number, payload: number, payloadLength: number): boolean {
  c.w(', options [');
  let first = true;
  while (hlen > 0) {
    if (!first) c.wc(0x2c);
    const opt = c.u8(cp++);
    let len: number;
    if (opt === 0 || opt === 1) len = 1;
    else {
      len = c.u8(cp++);
      if (len < 2 || len > hlen) return bad(c, first);
      hlen--;
    }
    hlen--;
    let datalen = 0;
    let check = 0;
    c.w(OPTION_TEXT[opt]!);
    switch (opt) {
      case 2:
        datalen = 2;
        if ((check = lenCheck(c, cp, 2, hlen))) return optionsStop(c, check, first);
        c.wc(0x20);
        c.wn(c.u16(cp));
        break;
      case 3:
        datalen = 1;
        if ((check = lenCheck(c, cp, 1, hlen))) return optionsStop(c, check, first);
        c.wc(0x20);
        c.wn(c.u8(cp));
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 !== 0) c.w(' invalid sack');
        else {
          c.wc(0x20);
          c.wn(datalen / 8);
          c.wc(0x20);
          for (let i = 0; i < datalen; i += 8) {
            if ((check = lenCheck(c, cp, i + 4, hlen))) return optionsStop(c, check, first);
            let s = c.i32(cp + i);
            if ((check = lenCheck(c, cp, i + 8, hlen))) return optionsStop(c, check, first);
            let e = c.i32(cp + i + 4);
            if (rev) {
              s = (s - thseq) | 0;
              e = (e - thseq) | 0;
            } else {
              s = (s - thack) | 0;
              e = (e - thack) | 0;
            }
            c.wc(0x7b);
            c.wu32(s);
            c.wc(0x3a);
            c.wu32(e);
            c.wc(0x7d);
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
        datalen = 4;
        if ((check = lenCheck(c, cp, 4, hlen))) return optionsStop(c, check, first);
        c.w(' ' + c.u32(cp));
        break;
      case 8:
        datalen = 8;
        if ((check = lenCheck(c, cp, 8, hlen))) return optionsStop(c, check, first);
        c.w(' val ');
        c.wu32(c.i32(cp));
        c.w(' ecr ');
        c.wu32(c.i32(cp + 4));
        break;
      case 19:
        datalen = 16;
        if ((check = lenCheck(c, cp, 16, hlen))) return optionsStop(c, check, first);
        // tcpdump (built with libcrypto) cannot check without -M: it says why, then the signature.
        c.w(' ' + (!c.has(payload, payloadLength) ? 'snaplen too short, ' : "shared secret not supplied with -M, ") + "can't check - ");
        for (let i = 0; i < 16; i++) c.w(HEX2[c.u8(cp + i)]);
        break;
      case 29:
        datalen = len - 2;
        if (datalen < 2) c.w(' (invalid)');
        else {
          if ((check = lenCheck(c, cp, 1, hlen))) return optionsStop(c, check, first);
          c.w(' keyid ' + c.u8(cp));
          if ((check = lenCheck(c, cp, 2, hlen))) return optionsStop(c, check, first);
          c.w(' rnextkeyid ' + c.u8(cp + 1));
          if (datalen > 2) {
            c.w(' mac 0x');
            for (let i = 2; i < datalen; i++) {
              if ((check = lenCheck(c, cp, i + 1, hlen))) return optionsStop(c, check, first);
              c.w(HEX2[c.u8(cp + i)]);
            }
          }
        }
        break;
      case 30: {
        datalen = len - 2;
        if ((check = lenCheck(c, cp, datalen, hlen))) return optionsStop(c, check, first);
        // Options after this one are not the MPTCP printer's to read: the snapshot ends with it.
        const snapend = c.snapend;
        c.snapend = Math.min(cp + datalen, snapend);
        const ok = printMPTCP(c, cp - 2, len, flags);
        c.snapend = snapend;
        if (!ok) return bad(c, first);
        break;
      }
      case 34:
        datalen = len - 2;
        if ((check = lenCheck(c, cp, datalen, hlen))) return optionsStop(c, check, first);
        c.w(' ');
        fastOpen(c, cp, datalen, false);
        break;
      case 254: {
        datalen = len - 2;
        if ((check = lenCheck(c, cp, datalen, hlen))) return optionsStop(c, check, first);
        if (datalen < 2) return bad(c, first);
        const magic = c.u16(cp);
        c.w('-');
        if (magic === 0xf989) fastOpen(c, cp + 2, datalen - 2, true);
        else c.w(HEX2[magic >> 8] + HEX2[magic & 0xff]);
        break;
      }
      case 20:
        datalen = 2;
        if ((check = lenCheck(c, cp, 2, hlen))) return optionsStop(c, check, first);
        c.w(' cap ' + HEX2[c.u8(cp)] + ' id ' + c.u8(cp + 1));
        break;
      case 0:
      case 1:
      case 4:
        break;
      case 28: {
        datalen = 2;
        if ((check = lenCheck(c, cp, 2, hlen))) return optionsStop(c, check, first);
        let uto = c.u16(cp);
        c.w(' 0x' + uto.toString(16));
        uto = uto & 1 ? (uto >> 1) * 60 : uto >> 1;
        c.w(' ' + uto);
        break;
      }
      default:
        datalen = len - 2;
        if (datalen) c.w(' 0x');
        for (let i = 0; i < datalen; i++) {
          if ((check = lenCheck(c, cp, i + 1, hlen))) return optionsStop(c, check, first);
          c.w(HEX2[c.u8(cp + i)]);
        }
        break;
    }
    cp += datalen;
    hlen -= datalen;
    datalen++;
    if (opt !== 0 && opt !== 1) datalen++;
    if (datalen !== len) c.w('[len ' + len + ']');
    first = false;
    if (opt === 0) break;
  }
  c.w(']');
  return true;
}

/** LENCHECK: 0 when l more option bytes are within the header and captured; 1 bad option; 2 cut short. */
function lenCheck(c: PrintContext, cp: number, l: number, hlen: number): number {
  if (l > hlen) return 1;
  return c.has(cp, l) ? 0 : 2;
}

/** tcpdump's `bad:` and `trunc:` labels of the option loop: the line ends there. */
function optionsStop(c: PrintContext, check: number, first: boolean): false {
  if (check === 1) return bad(c, first);
  // The protocol named is the last one a printer named: after an MPTCP option, mptcp.
  c.w(' [|' + c.proto + (first ? ']' : ']>'));
  return false;
}

/** tcpdump's `bad:` label in the option loop: the line ends, closing the list only if an option was printed. */
function bad(c: PrintContext, first: boolean): false {
  c.w(first ? '[bad opt]' : '[bad opt]]');
  return false;
}

/** print_tcp_rst_data: with -v, the text a RST carries (RFC 1122 says it may explain the reset). */
function printRSTData(c: PrintContext, off: number, length: number): void {
  c.w(c.has(off, length) ? ' [RST' : ' [!RST');
  if (length > 30) {
    length = 30;
    c.w('+');
  }
  c.w(' ');
  for (let p = off; length > 0 && p < c.snapend; p++, length--) c.w(printChar(c.b[p]!));
  c.w(']');
}

/** fn_print_char: M- for bytes above 127, ^X for control characters. */
export function printChar(ch: number): string {
  let s = '';
  if (ch > 0x7f) {
    s = 'M-';
    ch &= 0x7f;
  }
  if (ch < 0x20 || ch === 0x7f) return s + '^' + String.fromCharCode(ch ^ 0x40);
  return s + String.fromCharCode(ch);
}

/** print_tcp_fastopen_option: `cookiereq`, ` cookie <hex>`, or ` (invalid)`. */
function fastOpen(c: PrintContext, cp: number, datalen: number, experimental: boolean): void {
  if (experimental) c.w('tfo');
  if (datalen === 0) c.w(' cookiereq');
  else if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) c.w(' (invalid)');
  else {
    c.w(' cookie ');
    for (let i = 0; i < datalen; i++) c.w(HEX2[c.u8(cp + i)]);
  }
}

/** memcmp of two 16-byte addresses: negative, zero or positive. */
function compare6(b: Uint8Array, x: number, y: number): number {
  for (let i = 0; i < 16; i++) {
    const d = b[x + i]! - b[y + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

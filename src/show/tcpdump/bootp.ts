/**
 * BOOTP and DHCP as tcpdump 4.99 prints them (print-bootp.c): `BOOTP/DHCP, Request from MAC,
 * length N`; with -v the header fields worth printing (xid, flags, the addresses, the client's
 * hardware address, sname, file) and every RFC 1048 option, each in the format tcpdump's table
 * gives it (addresses, numbers, text, booleans), with the message type, parameter request
 * list, client id, classless static routes and user class decoded as tcpdump decodes them.
 */
import { TRUNCATED_CHECK, type PrintContext } from './context.js';
import { hexLines } from './hex.js';

/** tcpdump's tag2str: each name starts with its format letter (a text, i address, l/L 32-bit, s 16-bit, b bytes, B boolean, p address pairs, $ special). */
const TAGS: Readonly<Record<number, string>> = { 0: ' PAD', 1: 'iSubnet-Mask', 2: 'LTime-Zone', 3: 'iDefault-Gateway', 4: 'iTime-Server', 5: 'iIEN-Name-Server', 6: 'iDomain-Name-Server', 7: 'iLOG', 8: 'iCS', 9: 'iLPR-Server', 10: 'iIM', 11: 'iRL', 12: 'aHostname', 13: 'sBS', 255: ' END', 14: 'aDP', 15: 'aDomain-Name', 16: 'iSS', 17: 'aRP', 18: 'aEP', 19: 'BIPF', 20: 'BSRT', 21: 'pPF', 22: 'sRSZ', 23: 'bTTL', 24: 'lMTU-Timeout', 25: 'sMTU-Table', 26: 'sMTU', 27: 'BLSN', 28: 'iBR', 29: 'BMD', 30: 'BMS', 31: 'BRouter-Discovery', 32: 'iRSA', 33: 'pStatic-Route', 34: 'BUT', 35: 'lAT', 36: 'BIE', 37: 'bTT', 38: 'lKI', 39: 'BKG', 40: 'aYD', 41: 'iYS', 42: 'iNTP', 43: 'bVendor-Option', 44: 'iNetbios-Name-Server', 45: 'iWDD', 46: '$Netbios-Node', 47: 'aNetbios-Scope', 48: 'iXFS', 49: 'iXDM', 64: 'sN+D', 65: 'iN+S', 68: 'iMH', 69: 'iSMTP', 70: 'iPOP3', 71: 'iNNTP', 72: 'iWWW', 73: 'iFG', 74: 'iIRC', 75: 'iSTS', 76: 'iSTDA', 50: 'iRequested-IP', 51: 'lLease-Time', 52: '$OO', 66: 'aTFTP', 67: 'aBF', 53: ' DHCP-Message', 54: 'iServer-ID', 55: 'bParameter-Request', 56: 'aMSG', 57: 'sMSZ', 58: 'lRN', 59: 'lRB', 60: 'aVendor-Class', 61: '$Client-ID', 98: 'aUAP', 116: 'BNOAUTO', 78: 'bSLP-DA', 79: 'bSLP-SCOPE', 117: 'sNSSEARCH', 77: '$User-Class', 118: 'iSUBNET', 121: '$Classless-Static-Route', 249: '$Classless-Static-Route-Microsoft', 150: 'iTFTP-Server-Address', 80: 'aSLP-NA', 81: '$FQDN', 82: '$Agent-Information', 83: 'bARMT', 88: 'aTZSTR', 89: 'bFQDNS', 90: 'bAUTH', 91: 'LLast-Transaction-Time', 92: 'iAssociated-IP', 93: 'sARCH', 94: 'bNDI', 97: 'bGUID', 95: 'aLDAP', 100: 'aPOSIX-TZ', 101: 'aTZ-Name', 112: 'iNI', 113: 'aNITAG', 114: 'aURL', 161: 'aMUD-URL'
 };

const MESSAGE_TYPES: Readonly<Record<number, string>> = {
  1: 'Discover', 2: 'Offer', 3: 'Request', 4: 'Decline', 5: 'ACK', 6: 'NACK', 7: 'Release', 8: 'Inform',
  10: 'LeaseQuery', 11: 'LeaseUnassigned', 12: 'LeaseUnknown', 13: 'LeaseActive',
};
const HARDWARE: Readonly<Record<number, string>> = { 1: 'ether', 6: 'ieee802', 7: 'arcnet', 15: 'frelay', 23: 'strip', 24: 'ieee1394' };
const NETBIOS_NODE: Readonly<Record<number, string>> = { 1: 'b-node', 2: 'p-node', 4: 'm-node', 8: 'h-node' };
const OVERLOAD: Readonly<Record<number, string>> = { 1: 'file', 2: 'sname', 3: 'file+sname' };

/** The relay agent's sub-options tcpdump names (and prints as text). */
const AGENT_SUBOPTIONS: Readonly<Record<number, string>> = { 1: 'Circuit-ID', 2: 'Remote-ID', 6: 'Subscriber-ID' };

function tagName(tag: number): string {
  return TAGS[tag] ?? '?Unknown';
}

/** nd_printn: printable ASCII as it is, the rest as tcpdump escapes it. */
function printable(c: PrintContext, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    let ch = c.u8(off + i);
    if (ch >= 0x80) {
      s += 'M-';
      ch &= 0x7f;
    }
    s += ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : '^' + String.fromCharCode(ch ^ 0x40);
  }
  return s;
}

/** nd_printztn: up to a NUL within `size` bytes. */
function zeroTerminated(c: PrintContext, off: number, size: number): string {
  let n = 0;
  while (n < size && c.u8(off + n) !== 0) n++;
  return printable(c, off, n);
}

export function printBOOTP(c: PrintContext, off: number, length: number): void {
  c.proto = 'bootp';
  const op = c.u8(off);
  c.w('BOOTP/DHCP, ' + (op === 1 ? 'Request' : op === 2 ? 'Reply' : 'unknown (0x' + op.toString(16).padStart(2, '0') + ')'));
  const htype = c.u8(off + 1);
  const hlen = c.u8(off + 2);
  if (htype === 1 && hlen === 6 && op === 1) c.w(' from ' + c.mac(off + 28));
  c.w(', length ' + length);
  if (!c.opts.verbose) return;
  c.need(off + 8, 2);
  if (htype !== 1) c.w(', htype ' + htype);
  if (htype !== 1 || hlen !== 6) c.w(', hlen ' + hlen);
  if (c.u8(off + 3)) c.w(', hops ' + c.u8(off + 3));
  if (c.u32(off + 4)) c.w(', xid 0x' + c.u32(off + 4).toString(16));
  if (c.u16(off + 8)) c.w(', secs ' + c.u16(off + 8));
  const flags = c.u16(off + 10);
  c.w(', Flags [' + (flags & 0x8000 ? 'Broadcast' : 'none') + ']');
  if (c.opts.verbose > 1) c.w(' (0x' + flags.toString(16).padStart(4, '0') + ')');
  const addrs: [number, string][] = [[12, 'Client-IP'], [16, 'Your-IP'], [20, 'Server-IP'], [24, 'Gateway-IP']];
  for (const [at, name] of addrs) if (c.u32(off + at)) c.w('\n\t  ' + name + ' ' + c.ipv4(off + at));
  if (htype === 1 && hlen === 6) c.w('\n\t  Client-Ethernet-Address ' + c.mac(off + 28));
  if (c.u8(off + 44)) c.w('\n\t  sname "' + zeroTerminated(c, off + 44, 64) + '"');
  if (c.u8(off + 108)) c.w('\n\t  file "' + zeroTerminated(c, off + 108, 128) + '"');
  c.need(off + 236, 4);
  const magic = c.u32(off + 236);
  if (magic === 0x63825363) printOptions(c, off + 236);
  else if (magic === 0x434d5500) c.w(' vend-cmu');
  else if (magic !== 0) c.w('\n\t  Vendor-#0x' + magic.toString(16));
}

function printOptions(c: PrintContext, start: number): void {
  c.w('\n\t  Vendor-rfc1048 Extensions');
  c.w('\n\t    Magic Cookie 0x' + c.u32(start).toString(16).padStart(8, '0'));
  let p = start + 4;
  const verbose = c.opts.verbose;
  while (c.has(p, 1)) {
    const tag = c.u8(p++);
    if (tag === 0 && verbose < 3) continue;
    if (tag === 255 && verbose < 3) return;
    const entry = tagName(tag);
    let format = entry[0]!;
    const name = entry.slice(1);
    let len = 0;
    if (tag !== 0 && tag !== 255) len = c.u8(p++);
    c.w('\n\t    ' + name + ' (' + tag + '), length ' + len + (len > 0 ? ': ' : ''));
    if (tag === 0 && verbose > 2) {
      let n = 1;
      while (c.has(p, 1) && c.u8(p) === 0) {
        p++;
        n++;
      }
      if (n > 1) c.w(', occurs ' + n);
    }
    if (!c.has(p, len)) throw TRUNCATED_CHECK;
    if (tag === 53 && len === 1) {
      const t = c.u8(p++);
      c.w(MESSAGE_TYPES[t] ?? 'Unknown (' + t + ')');
      continue;
    }
    if (tag === 55) {
      for (let i = 0; i < len; i++) {
        const inner = c.u8(p++);
        c.w(i % 4 === 0 ? '\n\t      ' : ', ');
        c.w(tagName(inner).slice(1) + ' (' + inner + ')');
      }
      continue;
    }
    if (format === '?') format = len & 1 ? 'b' : len & 2 ? 's' : 'l';
    let first = true;
    const sep = (s: string): void => {
      if (!first) c.w(s);
      first = false;
    };
    switch (format) {
      case 'a':
        c.w('"' + printable(c, p, len) + '"');
        p += len;
        len = 0;
        break;
      case 'i':
      case 'l':
      case 'L':
        while (len >= 4) {
          sep(',');
          c.w(format === 'i' ? c.ipv4(p) : format === 'L' ? String(c.u32(p) | 0) : String(c.u32(p)));
          p += 4;
          len -= 4;
        }
        break;
      case 'p':
        while (len >= 8) {
          sep(',');
          c.w('(' + c.ipv4(p) + ':' + c.ipv4(p + 4) + ')');
          p += 8;
          len -= 8;
        }
        break;
      case 's':
        while (len >= 2) {
          sep(',');
          c.w(String(c.u16(p)));
          p += 2;
          len -= 2;
        }
        break;
      case 'B':
        while (len > 0) {
          sep(',');
          const v = c.u8(p++);
          c.w(v === 0 ? 'N' : v === 1 ? 'Y' : v + '?');
          len--;
        }
        break;
      case '$': {
        const left = printSpecial(c, tag, p, len);
        p += len - left;
        len = left;
        break;
      }
      default:
        while (len > 0) {
          sep(format === 'x' ? ':' : '.');
          const v = c.u8(p++);
          c.w(format === 'x' ? v.toString(16).padStart(2, '0') : String(v));
          len--;
        }
    }
    if (len) {
      c.w('\n\t  trailing data length ' + len);
      p += len;
    }
  }
}

/** The options tcpdump decodes by hand; returns the bytes left unread. */
function printSpecial(c: PrintContext, tag: number, p: number, len: number): number {
  switch (tag) {
    case 46:
    case 52: {
      if (len < 1) {
        c.w('[ERROR: length < 1 bytes]');
        return len;
      }
      const v = c.u8(p);
      const name = (tag === 46 ? NETBIOS_NODE : OVERLOAD)[v];
      if (name !== undefined) c.w(name);
      return len - 1;
    }
    case 61: {
      if (len < 1) {
        c.w('[ERROR: length < 1 bytes]');
        return len;
      }
      const type = c.u8(p);
      if (type === 0) {
        c.w('"' + printable(c, p + 1, len - 1) + '"');
        return 0;
      }
      c.w((HARDWARE[type] ?? 'hardware-type ' + type + ',') + ' ');
      const bytes: string[] = [];
      for (let i = 1; i < len; i++) bytes.push(c.u8(p + i).toString(16).padStart(2, '0'));
      c.w(bytes.join(':'));
      return 0;
    }
    case 81: {
      if (len < 3) {
        c.w('[ERROR: length < 3 bytes]');
        return 0;
      }
      const flags = c.u8(p);
      if (flags & 0xf0) c.w('[ERROR: MBZ nibble 0x' + ((flags & 0xf0) >> 4).toString(16) + ' != 0] ');
      if (flags & 0x0f) {
        const names = [[8, 'N'], [4, 'E'], [2, 'O'], [1, 'S']].filter(([bit]) => flags & (bit as number)).map(([, n]) => n);
        c.w('[' + names.join('') + '] ');
      }
      if (c.u8(p + 1) || c.u8(p + 2)) c.w(c.u8(p + 1) + '/' + c.u8(p + 2) + ' ');
      c.w('"' + printable(c, p + 3, len - 3) + '"');
      return 0;
    }
    case 121:
    case 249: {
      if (len < 5) {
        c.w('[ERROR: length < 5 bytes]');
        return 0;
      }
      let first = true;
      while (len > 0) {
        if (!first) c.w(',');
        first = false;
        const width = c.u8(p++);
        len--;
        if (width > 32) {
          c.w('[ERROR: Mask width (' + width + ') > 32]');
          return 0;
        }
        const octets = (width + 7) >> 3;
        if (len < octets + 4) {
          c.w('[ERROR: Remaining length (' + len + ') < ' + (octets + 4) + ' bytes]');
          return 0;
        }
        c.w('(');
        if (width === 0) c.w('default');
        else {
          const parts: string[] = [];
          for (let i = 0; i < 4; i++) parts.push(i < octets ? String(c.u8(p + i)) : '0');
          c.w(parts.join('.') + '/' + width);
        }
        p += octets;
        c.w(':' + c.ipv4(p) + ')');
        p += 4;
        len -= octets + 4;
      }
      return 0;
    }
    case 77: {
      if (len < 2) {
        c.w('[ERROR: length < 2 bytes]');
        return 0;
      }
      let n = 1;
      while (len > 0) {
        const sub = c.u8(p++);
        len--;
        c.w('\n\t      instance#' + n + ': ');
        if (sub === 0) {
          c.w('[ERROR: suboption length must be non-zero]');
          return 0;
        }
        if (len < sub) {
          c.w('[ERROR: invalid option]');
          return 0;
        }
        c.w('"' + printable(c, p, sub) + '", length ' + sub);
        n++;
        len -= sub;
        p += sub;
      }
      return 0;
    }
    case 82: {
      // Relay agent information (RFC 3046): sub-options, the identifiers as text.
      while (len >= 2) {
        const sub = c.u8(p);
        const subLen = c.u8(p + 1);
        p += 2;
        len -= 2;
        const head = '\n\t      ' + (AGENT_SUBOPTIONS[sub] ?? 'Unknown') + ' SubOption ' + sub + ', length ' + subLen + ': ';
        if (subLen > len) {
          c.w(head + 'length goes past end of option');
          return 0;
        }
        c.w(head);
        if (AGENT_SUBOPTIONS[sub]) c.w(printable(c, p, subLen));
        else c.w(hexLines(c.b, p, Math.min(subLen, Math.max(0, c.snapend - p)), '\n\t\t'));
        len -= subLen;
        p += subLen;
      }
      return len;
    }
    default:
      c.w('[unknown special tag ' + tag + ', size ' + len + ']');
      return 0;
  }
}

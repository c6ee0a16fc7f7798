/**
 * PPP as tcpdump 4.99 prints it inside GRE (print-ppp.c's ppp_print): the address and control
 * bytes skipped, a protocol of one byte (an odd first byte) or two, with -e `IP (0x0021),
 * length N: `, then IPv4 or IPv6, or for a control protocol (LCP, IPCP, CCP, ...) its code, id
 * and length (`LCP, Conf-Request (0x01), id 1, length 6`) and with -v the encoded length.
 * Not followed yet: the control protocols' options (a message longer than its 4-byte header
 * prints its header and, with -vv, the hex tcpdump shows before the options), CHAP, PAP,
 * multilink and HDLC-escaped frames; these print as tcpdump prints an unknown protocol.
 */
import { TRUNCATED_CHECK, type PrintContext } from './context.js';
import { hexLines } from './hex.js';
import { printIPv4 } from './ip.js';
import { printIPv6 } from './ip6.js';

/** ppptype2str: the protocol names tcpdump knows. */
const PPP_TYPES: Readonly<Record<number, string>> = {
  0x0021: 'IP', 0x0023: 'OSI', 0x0025: 'NS', 0x0027: 'DECNET', 0x0029: 'APPLE', 0x002b: 'IPX', 0x002d: 'VJC IP', 0x002f: 'VJNC IP',
  0x0031: 'BRPDU', 0x0033: 'STII', 0x0035: 'VINES', 0x0281: 'MPLS', 0x0283: 'MPLS', 0x00fd: 'Compressed', 0x003d: 'MLPPP', 0x0057: 'IP6',
  0x0201: 'HELLO', 0x0231: 'LUXCOM', 0x0233: 'SNS', 0x8021: 'IPCP', 0x8023: 'OSICP', 0x8025: 'NSCP', 0x8027: 'DECNETCP', 0x8029: 'APPLECP',
  0x802b: 'IPXCP', 0x8033: 'STIICP', 0x8035: 'VINESCP', 0x8057: 'IP6CP', 0x8281: 'MPLSCP', 0xc021: 'LCP', 0xc023: 'PAP', 0xc025: 'LQM',
  0xc223: 'CHAP', 0xc227: 'EAP', 0xc027: 'SPAP', 0xc123: 'Old-SPAP', 0xc02b: 'BACP', 0xc02d: 'BAP', 0xc03d: 'MLPPP-CP', 0x80fd: 'CCP',
};

/** The control protocols handle_ctrl_proto prints (LCP, IPCP, OSICP, MPLSCP, IP6CP, CCP, BACP). */
const CONTROL_PROTOCOLS = new Set([0xc021, 0x8021, 0x8023, 0x8281, 0x8057, 0x80fd, 0xc02b]);

/** cpcodes: RFC 1661's codes and the later ones tcpdump names. */
const CP_CODES: readonly string[] = [
  'Vendor-Extension', 'Conf-Request', 'Conf-Ack', 'Conf-Nack', 'Conf-Reject', 'Term-Request', 'Term-Ack', 'Code-Reject', 'Prot-Reject',
  'Echo-Request', 'Echo-Reply', 'Disc-Req', 'Ident', 'Time-Rem', 'Reset-Req', 'Reset-Ack',
];

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

export function printPPP(c: PrintContext, off: number, length: number): void {
  c.proto = 'ppp';
  const total = length;
  if (length < 2) throw TRUNCATED_CHECK;
  let p = off;
  const header = c.u16(p);
  if (header === 0x0003 || header === 0x0103 || header === 0xff03) {
    // pppd's direction bytes (shown with -e) or the HDLC address and control bytes.
    if (c.opts.link && header !== 0xff03) c.w(header === 0x0003 ? 'In  ' : 'Out ');
    p += 2;
    length -= 2;
  }
  if (length < 2) throw TRUNCATED_CHECK;
  let proto: number;
  if (c.u8(p) % 2) {
    proto = c.u8(p);
    p += 1;
    length -= 1;
  } else {
    proto = c.u16(p);
    p += 2;
    length -= 2;
  }
  if (c.opts.link) {
    const name = PPP_TYPES[proto] ?? 'unknown';
    c.w(name + ' (0x' + hex4(proto) + '), length ' + total);
    if (PPP_TYPES[proto] === undefined) return;
    c.w(': ');
  }
  handlePPP(c, proto, p, length);
}

function handlePPP(c: PrintContext, proto: number, p: number, length: number): void {
  if (CONTROL_PROTOCOLS.has(proto)) return printControl(c, proto, p, length);
  switch (proto) {
    case 0x0800:
    case 0x002f:
    case 0x0021:
      printIPv4(c, p, length);
      return;
    case 0x86dd:
    case 0x0057:
      printIPv6(c, p, length);
      return;
    default:
      c.w((PPP_TYPES[proto] ?? 'unknown PPP protocol (0x' + hex4(proto) + ')') + ' ');
      c.w(hexLines(c.b, p, Math.min(length, Math.max(0, c.snapend - p)), '\n\t'));
  }
}

/** handle_ctrl_proto, up to the options. */
function printControl(c: PrintContext, proto: number, p: number, length: number): void {
  c.w(PPP_TYPES[proto] + ', ');
  if (length < 4) throw TRUNCATED_CHECK;
  const code = c.u8(p);
  c.w((CP_CODES[code] ?? 'Unknown Opcode') + ' (0x' + code.toString(16).padStart(2, '0') + '), id ' + c.u8(p + 1) + ', length ' + (length + 2));
  if (!c.opts.verbose) return;
  const len = c.u16(p + 2);
  if (len < 4) {
    c.w('\n\tencoded length ' + len + ' (< 4))');
    return;
  }
  if (len > length) {
    c.w('\n\tencoded length ' + len + ' (> packet length ' + length + '))');
    return;
  }
  c.w('\n\tencoded length ' + len + ' (=Option(s) length ' + (len - 4) + ')');
  if (len === 4) return;
  if (c.opts.verbose > 1) c.w(hexLines(c.b, p - 2, Math.min(6, Math.max(0, c.snapend - p + 2)), '\n\t'));
}

/**
 * ICMP as tcpdump 4.99 prints it (print-icmp.c): `ICMP echo request, id 5, seq 1, length 64`,
 * `ICMP 127.0.0.1 udp port 9 unreachable, length 36`, and with -v the quoted IP packet on the
 * following lines. The text is built whole before printing, as tcpdump does, so a packet cut
 * short prints only ` [|icmp]`.
 */
import { cksumResult, cksumShouldBe, DEC, sum16, type PrintContext } from './context.js';
import type { IPInfo } from './tcp.js';
import { printIPv4 } from './ip.js';

const SIMPLE: Record<number, string> = {
  0: 'echo reply', 4: 'source quench', 8: 'echo request', 10: 'router solicitation', 13: 'time stamp request',
  14: 'time stamp reply', 15: 'information request', 16: 'information reply', 17: 'address mask request',
};

const UNREACH: Record<number, [string, string]> = {
  0: ['net ', ' unreachable'],
  1: ['host ', ' unreachable'],
  5: ['', ' unreachable - source route failed'],
  6: ['net ', ' unreachable - unknown'],
  7: ['host ', ' unreachable - unknown'],
  8: ['', ' unreachable - source host isolated'],
  9: ['net ', ' unreachable - admin prohibited'],
  10: ['host ', ' unreachable - admin prohibited'],
  11: ['net ', ' unreachable - tos prohibited'],
  12: ['host ', ' unreachable - tos prohibited'],
  13: ['host ', ' unreachable - admin prohibited filter'],
  14: ['host ', ' unreachable - host precedence violation'],
  15: ['host ', ' unreachable - precedence cutoff'],
};

const REDIRECT = ['redirect %s to net %s', 'redirect %s to host %s', 'redirect-tos %s to net %s', 'redirect-tos %s to host %s'];

function isErrorType(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** ms since midnight as tcpdump's icmp_tstamp_print writes it. */
function tstamp(t: number): string {
  const msec = t % 1000;
  let sec = Math.floor(t / 1000);
  let min = Math.floor(sec / 60);
  sec -= min * 60;
  const hrs = Math.floor(min / 60);
  min -= hrs * 60;
  return pad2(hrs) + ':' + pad2(min) + ':' + pad2(sec) + '.' + String(msec).padStart(3, '0');
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function describe(c: PrintContext, off: number, type: number, code: number): string {
  switch (type) {
    case 0:
    case 8:
      return 'echo ' + (type === 8 ? 'request' : 'reply') + ', id ' + c.u16(off + 4) + ', seq ' + c.u16(off + 6);
    case 3: {
      const qip = off + 8;
      if (code === 2) return c.ipv4(qip + 16) + ' protocol ' + c.u8(qip + 9) + ' unreachable';
      if (code === 3) {
        c.need(qip + 9, 1);
        const hlen = (c.u8(qip) & 15) * 4;
        const dport = c.u16(qip + hlen + 2);
        const proto = c.u8(qip + 9);
        if (proto === 6) return c.ipv4(qip + 16) + ' tcp port ' + dport + ' unreachable';
        if (proto === 17) return c.ipv4(qip + 16) + ' udp port ' + dport + ' unreachable';
        return c.ipv4(qip + 16) + ' protocol ' + proto + ' port ' + dport + ' unreachable';
      }
      if (code === 4) {
        const mtu = c.u16(off + 6);
        return c.ipv4(qip + 16) + ' unreachable - need to frag' + (mtu ? ' (mtu ' + mtu + ')' : '');
      }
      const words = UNREACH[code];
      if (words) return words[0] + c.ipv4(qip + 16) + words[1];
      return c.ipv4(qip + 16) + ' unreachable - #' + code;
    }
    case 5: {
      const dst = c.ipv4(off + 8 + 16);
      const gw = c.ipv4(off + 4);
      const fmt = REDIRECT[code];
      if (fmt) return fmt.replace('%s', dst).replace('%s', gw);
      return 'redirect-#' + code + ' ' + dst + ' to ' + gw;
    }
    case 9: {
      c.need(off + 4, 4);
      let s = 'router advertisement lifetime ';
      const lifetime = c.u16(off + 6);
      if (lifetime < 60) s += lifetime;
      else if (lifetime < 3600) s += Math.floor(lifetime / 60) + ':' + pad2(lifetime % 60);
      else s += Math.floor(lifetime / 3600) + ':' + pad2(Math.floor((lifetime % 3600) / 60)) + ':' + pad2(lifetime % 60);
      let num = c.u8(off + 4);
      s += ' ' + num + ':';
      const size = c.u8(off + 5);
      if (size !== 2) return s + ' [size ' + size + ']';
      for (let p = off + 8; num > 0; num--, p += 8) {
        c.need(p, 8);
        s += ' {' + c.ipv4(p) + ' ' + c.u32(p + 4) + '}';
      }
      return s;
    }
    case 11:
      c.need(off + 8 + 16, 4);
      if (code === 0) return 'time exceeded in-transit';
      if (code === 1) return 'ip reassembly time exceeded';
      return 'time exceeded-#' + code;
    case 12:
      return code ? 'parameter problem - code ' + code : 'parameter problem - octet ' + c.u8(off + 4);
    case 18:
      return 'address mask is 0x' + c.u32(off + 8).toString(16).padStart(8, '0');
    case 13:
      return 'time stamp query id ' + c.u16(off + 4) + ' seq ' + c.u16(off + 6);
    case 14:
      c.need(off + 16, 4);
      return 'time stamp reply id ' + c.u16(off + 4) + ' seq ' + c.u16(off + 6) + ': org ' + tstamp(c.u32(off + 8)) + ', recv ' + tstamp(c.u32(off + 12)) + ', xmit ' + tstamp(c.u32(off + 16));
    default:
      return SIMPLE[type] ?? 'type-#' + DEC[type];
  }
}

export function printICMP(c: PrintContext, off: number, plen: number, _ip: IPInfo, fragmented: boolean): void {
  c.proto = 'icmp';
  const type = c.u8(off);
  const code = c.u8(off + 1);
  if (type === 0 || type === 8) {
    // The common case without a string: both reads come first, so a cut-off echo prints only [|icmp].
    const id = c.u16(off + 4);
    const seq = c.u16(off + 6);
    c.w(type === 8 ? 'ICMP echo request, id ' : 'ICMP echo reply, id ');
    c.wn(id);
    c.w(', seq ');
    c.wn(seq);
  } else c.w('ICMP ' + describe(c, off, type, code));
  c.w(', length ');
  c.wn(plen);
  if (c.opts.verbose && !fragmented && c.has(off, plen)) {
    const sum = cksumResult(sum16(c.b, off, off + plen));
    if (sum !== 0) {
      const field = c.u16(off + 2);
      c.w(' (wrong icmp cksum ' + field.toString(16) + ' (->' + cksumShouldBe(field, sum).toString(16) + ')!)');
    }
  }
  if (c.opts.verbose && isErrorType(type)) {
    const q = off + 8;
    c.w('\n\t');
    const saved = c.snapend;
    const qlen = c.u16(q + 2);
    if (q + qlen < c.snapend) c.snapend = q + qlen;
    printIPv4(c, q, qlen);
    c.snapend = saved;
  }
  c.proto = 'icmp';
}

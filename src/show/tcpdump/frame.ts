/**
 * One captured frame to one tcpdump line (without the timestamp): picks the link printer by
 * pcap link type and turns a read past the captured bytes into tcpdump's ` [|proto]`.
 */
import { PrintContext, TRUNCATED, TRUNCATED_CHECK } from './context.js';
import { printEther, printNull, printRawIP, printSLL } from './link.js';
import { printARP } from './arp.js';

/** pcap LINKTYPE numbers this printer knows. */
export const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276 } as const;

/**
 * What tcpdump prints instead of a frame whose record header is impossible (alone: no
 * timestamp, no hex), or undefined for a good one.
 */
export function invalidHeader(caplen: number, wireLength: number): string | undefined {
  if (caplen !== 0 && wireLength !== 0 && wireLength >= caplen) return undefined;
  return '[Invalid header:' + (caplen === 0 ? ' caplen==0' : '') + (wireLength === 0 ? (caplen === 0 ? ',' : '') + ' len==0' : wireLength < caplen ? ' len(' + wireLength + ') < caplen(' + caplen + ')' : '') + ']';
}

/**
 * Appends to c.out the line for data[start, start + caplen) of a frame `wireLength` long (the
 * frame where it lies, e.g. in a file's read chunk: printers read c.b at absolute offsets, so
 * no slice is made per frame); returns the link header length for -x (0 after a truncation,
 * when tcpdump dumps the whole frame), or -1 for an impossible record header (see invalidHeader).
 */
export function printFrame(c: PrintContext, data: Buffer, start: number, caplen: number, wireLength: number, linkType: number): number {
  const invalid = invalidHeader(caplen, wireLength);
  if (invalid !== undefined) {
    c.w(invalid);
    return -1;
  }
  c.b = data;
  c.frame = start;
  c.snapend = start + caplen;
  c.proto = '';
  c.linkHeader = 0;
  c.ipCount = 0;
  try {
    switch (linkType) {
      case LINKTYPE.ETHERNET:
        return printEther(c, wireLength, caplen, start);
      case LINKTYPE.RAW:
      case LINKTYPE.IPV4:
      case LINKTYPE.IPV6:
        return printRawIP(c, start, wireLength);
      case LINKTYPE.NULL:
        return printNull(c, start, wireLength, caplen, false);
      case LINKTYPE.LOOP:
        return printNull(c, start, wireLength, caplen, true);
      case LINKTYPE.LINUX_SLL:
        return printSLL(c, start, wireLength, caplen, false);
      case LINKTYPE.LINUX_SLL2:
        return printSLL(c, start, wireLength, caplen, true);
      case -1:
        printARP(c, start, wireLength);
        return 0;
      default:
        c.w('unsupported link type ' + linkType);
        return 0;
    }
  } catch (err) {
    if (err === TRUNCATED_CHECK) {
      c.w(' [|' + c.proto + ']');
      return c.linkHeader;
    }
    if (err !== TRUNCATED) throw err;
    c.w(' [|' + c.proto + ']');
    return 0;
  }
}

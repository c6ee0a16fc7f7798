/**
 * pcap LINKTYPE_ numbers: the names users type (the same ones dissect() takes) and the way
 * tcpdump describes them in "reading from file f.pcap, link-type EN10MB (Ethernet), ...".
 */
import { didYouMean, usageError } from '../wire/errors.js';

/** Names accepted wherever a link type is asked for, with their LINKTYPE_ numbers. */
export const linkTypeNumbers: Readonly<Record<string, number>> = {
  null: 0,
  ether: 1,
  ethernet: 1,
  ip: 101,
  raw: 101,
  loop: 108,
  sll: 113,
  ipv4: 228,
  ipv6: 229,
  sll2: 276,
};

/** tcpdump's description, by LINKTYPE_ number (libpcap's DLT name and description). */
const descriptions: Readonly<Record<number, string>> = {
  0: 'NULL (BSD loopback)',
  1: 'EN10MB (Ethernet)',
  101: 'RAW (Raw IP)',
  108: 'LOOP (OpenBSD loopback)',
  113: 'LINUX_SLL (Linux cooked v1)',
  228: 'IPV4 (Raw IPv4)',
  229: 'IPV6 (Raw IPv6)',
  276: 'LINUX_SLL2 (Linux cooked v2)',
};

/**
 * The LINKTYPE_ a file's header number stands for, as libpcap reads it (linktype_to_dlt):
 * 12, DLT_RAW as Linux and OpenBSD number it and old files carry, is raw IP, LINKTYPE_RAW 101.
 * (14, BSD/OS's DLT_RAW, tcpdump 4.99 refuses as an unknown link type: so is it here.)
 */
export function fileLinkType(linkType: number): number {
  return linkType === 12 ? linkTypeNumbers.raw! : linkType;
}

/** 'EN10MB (Ethernet)' for 1; a number tcpdump would not know is shown as it is. */
export function linkTypeDescription(linkType: number): string {
  return descriptions[linkType] ?? `${linkType}`;
}

/** A LINKTYPE_ number from a number or a name ('ether', 'ip', 'sll', ...). */
export function linkTypeNumber(linkType: number | string): number {
  if (typeof linkType === 'number') {
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
      throw usageError(`link type ${linkType} is not a LINKTYPE_ number (0..65535)`);
    }
    return linkType;
  }
  const n = linkTypeNumbers[linkType.toLowerCase()];
  if (n === undefined) {
    throw usageError(`unknown link type '${linkType}'${didYouMean(linkType, Object.keys(linkTypeNumbers))}; use one of ${Object.keys(linkTypeNumbers).join(', ')} or a LINKTYPE_ number`);
  }
  return n;
}

/**
 * Where the network layer starts in a captured frame, and what it is: the one place that knows
 * the link headers captures carry (Ethernet with its VLAN tags, Linux cooked v1 and v2, BSD
 * loopback, raw IP). The capture filter, link-layer framing, the conversation table and the
 * TCP wire all ask here.
 *
 * The answer is packed in one number so that the per-packet paths allocate nothing:
 * `(ethertype * 65536 + offset)`, or -1 when the frame is too short for its link header.
 * Raw IP and loopback frames carry no ethertype: it is derived from the IP version nibble or
 * the address family (0 when neither says IPv4 or IPv6).
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

/** pcap LINKTYPE_ numbers of the link headers read here. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/** 802.1Q, 802.1ad and the old QinQ type: the tags libpcap's `vlan` recognises. */
export function isVlanType(type: number): boolean {
  return type === 0x8100 || type === 0x88a8 || type === 0x9100;
}

/** Pass as `vlanTags` to skip whatever tags are there (up to two), as the wire paths do. */
export const SKIP_VLAN_TAGS = -1;

/**
 * The network layer of the frame at buf[off, off + caplen) on a link of type `linkType`.
 * `vlanTags`: SKIP_VLAN_TAGS (the default) looks past up to two VLAN tags when present; a
 * number k >= 0 assumes exactly k tags, without looking, which is what libpcap's `vlan` keyword
 * does to the tests after it. Returns (ethertype * 65536 + offset from off), or -1.
 */
export function networkStart(buf: Uint8Array, off: number, caplen: number, linkType: number, vlanTags = SKIP_VLAN_TAGS): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return afterEtherType(buf, off, caplen, 12, vlanTags);
    case LINKTYPE_LINUX_SLL:
      return afterEtherType(buf, off, caplen, 14, vlanTags);
    case LINKTYPE_LINUX_SLL2:
      // SLL2 puts its protocol type first and its 20-byte header before the payload.
      if (caplen < 20) return -1;
      return ((buf[off]! << 8) | buf[off + 1]!) * 65536 + 20;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      if (caplen < 1) return -1;
      const v = buf[off]! >> 4;
      return (v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : 0) * 65536;
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (caplen < 4) return -1;
      const be = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
      // NULL is in the writer's byte order; LOOP is always big-endian.
      const le = ((buf[off + 3]! << 24) | (buf[off + 2]! << 16) | (buf[off + 1]! << 8) | buf[off]!) >>> 0;
      const af = linkType === LINKTYPE_LOOP ? be : le || be;
      return (af === 2 ? ETHERTYPE_IPV4 : af === 10 || af === 24 || af === 28 || af === 30 ? ETHERTYPE_IPV6 : 0) * 65536 + 4;
    }
    default:
      return -1;
  }
}

function afterEtherType(buf: Uint8Array, off: number, caplen: number, typeAt: number, vlanTags: number): number {
  if (vlanTags >= 0) {
    const at = typeAt + 4 * vlanTags;
    if (caplen < at + 2) return -1;
    return ((buf[off + at]! << 8) | buf[off + at + 1]!) * 65536 + at + 2;
  }
  if (caplen < typeAt + 2) return -1;
  let at = typeAt;
  let type = (buf[off + at]! << 8) | buf[off + at + 1]!;
  for (let i = 0; i < 2 && isVlanType(type) && caplen >= at + 6; i++) {
    at += 4;
    type = (buf[off + at]! << 8) | buf[off + at + 1]!;
  }
  return type * 65536 + at + 2;
}

/** The ethertype part of networkStart's answer. */
export function startType(start: number): number {
  return start < 0 ? -1 : Math.floor(start / 65536);
}

/** The offset part of networkStart's answer (from the frame's first byte), or -1. */
export function startOffset(start: number): number {
  return start < 0 ? -1 : start % 65536;
}

/** Offset of an IPv4 or IPv6 packet in the frame, or -1 when the frame does not carry one. */
export function ipOffset(buf: Uint8Array, off: number, caplen: number, linkType: number): number {
  const start = networkStart(buf, off, caplen, linkType);
  const type = startType(start);
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? startOffset(start) : -1;
}

/**
 * networkStart() as JavaScript statements, for code generated per link type (the capture
 * filter): sets `${type}` (the ethertype, -1 when the frame is too short) and `${at}` (the
 * network header's offset in b, -1 likewise) for the frame at b[o, o + n), assuming exactly
 * `vlanTags` tags. The same rules as networkStart(); test/filter.test.ts holds them equal.
 */
export function networkStartSource(linkType: number, vlanTags: number, type: string, at: string): string {
  const fixed = (typeExpr: string, offset: number, minLength: number): string =>
    `const ${type} = n < ${minLength} ? -1 : ${typeExpr}, ${at} = n < ${minLength} ? -1 : o + ${offset};`;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
    case LINKTYPE_LINUX_SLL: {
      const typeAt = (linkType === LINKTYPE_ETHERNET ? 12 : 14) + 4 * vlanTags;
      return fixed(`(b[o + ${typeAt}] << 8 | b[o + ${typeAt + 1}])`, typeAt + 2, typeAt + 2);
    }
    case LINKTYPE_LINUX_SLL2:
      return fixed('(b[o] << 8 | b[o + 1])', 20, 20);
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return fixed(`((b[o] >> 4) === 4 ? ${ETHERTYPE_IPV4} : (b[o] >> 4) === 6 ? ${ETHERTYPE_IPV6} : 0)`, 0, 1);
    default:
      // Loopback's address family comes in either byte order: leave it to the function.
      return `const ${type}s = networkStart(b, o, n, ${linkType}, ${vlanTags}), ${type} = ${type}s < 0 ? -1 : ${type}s >>> 16, ${at} = ${type}s < 0 ? -1 : o + (${type}s & 0xffff);`;
  }
}

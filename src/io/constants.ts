/**
 * Numbers the wire code shares with the kernel and with the rest of synack.
 */

/**
 * The SO_MARK every packet from our raw sockets carries. The kernel-RST guard (tcp/guard.ts)
 * drops unmarked RSTs for one 4-tuple and lets marked ones through, so our own crafted RSTs
 * still leave. Keep the two values equal (tcp/ may import this one: imports point down).
 */
export const SYNACK_MARK = 0x5a4b;

/**
 * The name every nftables table of the kernel-RST guard starts with (`synack_<pid>`,
 * tcp/guard/nft.ts): the injected way (sr/injected-way.ts) knows a chain there from a user's.
 */
export const GUARD_TABLE_PREFIX = 'synack_';

// Socket levels and options (Linux values; raw-socket passes any number through to setsockopt).
export const SOL_SOCKET = 1;
export const SO_MARK = 36;
export const IPPROTO_IP = 0;
export const IP_HDRINCL = 3;
export const IPPROTO_RAW = 255;

/** A bit in /proc/self/status CapEff: raw and packet sockets need it. */
export const CAP_NET_RAW = 13;

/**
 * The symbols packetdrill's system calls use, with their Linux values (from the kernel's uapi
 * headers: socket.h, in.h, tcp.h, fcntl.h, poll.h). errno names come from Node's own table
 * (os.constants.errno), not from here. A symbol missing here is named in the failure.
 */
import { constants } from 'node:os';

const SYMBOLS: Record<string, number> = {
  // families, types, protocols
  AF_UNSPEC: 0, AF_INET: 2, AF_INET6: 10,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
  IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41,
  // levels
  SOL_SOCKET: 1, SOL_IP: 0, SOL_TCP: 6, SOL_IPV6: 41,
  // SOL_SOCKET options
  SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6,
  SO_SNDBUF: 7, SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10, SO_LINGER: 13, SO_REUSEPORT: 15,
  SO_RCVLOWAT: 18, SO_SNDLOWAT: 19, SO_SNDBUFFORCE: 32, SO_RCVBUFFORCE: 33, SO_MARK: 36,
  SO_ZEROCOPY: 60, SO_MAX_PACING_RATE: 47, SO_INCOMING_CPU: 49,
  // SOL_TCP options
  TCP_NODELAY: 1, TCP_MAXSEG: 2, TCP_CORK: 3, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7, TCP_LINGER2: 8, TCP_DEFER_ACCEPT: 9, TCP_WINDOW_CLAMP: 10, TCP_INFO: 11,
  TCP_QUICKACK: 12, TCP_CONGESTION: 13, TCP_MD5SIG: 14, TCP_THIN_LINEAR_TIMEOUTS: 16,
  TCP_USER_TIMEOUT: 18, TCP_REPAIR: 19, TCP_FASTOPEN: 23, TCP_TIMESTAMP: 24, TCP_NOTSENT_LOWAT: 25,
  TCP_CC_INFO: 26, TCP_SAVE_SYN: 27, TCP_SAVED_SYN: 28, TCP_FASTOPEN_CONNECT: 30, TCP_ULP: 31,
  TCP_FASTOPEN_KEY: 33, TCP_FASTOPEN_NO_COOKIE: 34, TCP_ZEROCOPY_RECEIVE: 35, TCP_INQ: 36,
  TCP_TX_DELAY: 37,
  // SOL_IP / SOL_IPV6 options
  IP_TOS: 1, IP_TTL: 2, IP_MTU_DISCOVER: 10, IP_MTU: 14, IP_FREEBIND: 15,
  IP_PMTUDISC_DONT: 0, IP_PMTUDISC_WANT: 1, IP_PMTUDISC_DO: 2, IP_PMTUDISC_PROBE: 3,
  IPV6_V6ONLY: 26, IPV6_TCLASS: 67, IPV6_MTU_DISCOVER: 23,
  // send and recv flags
  MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTROUTE: 4, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_EOR: 0x80,
  MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000, MSG_MORE: 0x8000, MSG_FASTOPEN: 0x20000000,
  MSG_ZEROCOPY: 0x4000000, MSG_ERRQUEUE: 0x2000,
  // shutdown
  SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
  // fcntl
  F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_NONBLOCK: 0o4000,
  // poll
  POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20, POLLRDNORM: 0x40,
  POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLMSG: 0x400, POLLRDHUP: 0x2000,
  // packetdrill's own
  TCP_INFINITE_SSTHRESH: 0x7fffffff,
};

/** A symbol's value; undefined when this table does not know it. */
export function symbolValue(name: string): number | undefined {
  return Object.hasOwn(SYMBOLS, name) ? SYMBOLS[name] : undefined;
}

/** An errno name's number on this system (EINPROGRESS: 115 on Linux). */
export function errnoValue(name: string): number | undefined {
  const table = constants.errno as Record<string, number>;
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** An errno number's name (115: EINPROGRESS), or the number when unknown. */
export function errnoName(n: number): string {
  for (const [name, v] of Object.entries(constants.errno)) if (v === n) return name;
  return String(n);
}

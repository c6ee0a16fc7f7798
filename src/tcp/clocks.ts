/**
 * The process's two TCP clocks. ISNs and TSvals follow one clock per process (RFC 6528's
 * clock-driven ISN, RFC 7323's monotonic TSval), each from a random offset: a conversation
 * reusing a 4-tuple that the server still holds in TIME-WAIT then sends a SYN with a higher
 * seq and a newer timestamp, which Linux accepts (a random ISN or TSval would be refused half
 * the time).
 */
const ISN_OFFSET = Math.floor(Math.random() * 0x100000000);
const TS_OFFSET = Math.floor(Math.random() * 0x7fffffff);

/** One ISN tick every 4 µs, as RFC 793's clock. */
export function clockIsn(): number {
  return (ISN_OFFSET + Math.floor(performance.now() * 250)) >>> 0;
}

/** A TSval: one tick per millisecond. */
export function clockTsVal(): number {
  return (TS_OFFSET + Math.floor(performance.now())) >>> 0;
}

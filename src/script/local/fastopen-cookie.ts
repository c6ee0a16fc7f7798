/**
 * The TCP Fast Open cookie a Linux server gives a client (tcp_fastopen_cookie_gen in
 * net/ipv4/tcp_fastopen.c, since 4.20): SipHash-2-4 over the SYN's source and destination
 * addresses as they sit in the IP header (8 bytes for IPv4, 32 for IPv6), keyed with the
 * server's Fast Open key, its 8-byte result stored little-endian.
 *
 * packetdrill's scripts carry cookies computed for packetdrill's addresses (their literal
 * `FOEXP 00abaaabe8e954c2`, run_all.py's `-D TFO_COOKIE=3021b9d889017eeb`); local mode maps
 * each onto the cookie the kernel computes for the namespace's addresses with the same key.
 */
import { isIPv6, parseIPv4, parseIPv6 } from '../../wire/addr.js';

const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** SipHash-2-4 of `data` under a 16-byte key (two little-endian 64-bit words, as the kernel's siphash_key_t). */
export function siphash24(key: Buffer, data: Buffer): bigint {
  const k0 = key.readBigUInt64LE(0);
  const k1 = key.readBigUInt64LE(8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & MASK; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & MASK; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const compress = (m: bigint): void => {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  const whole = data.length - (data.length % 8);
  for (let i = 0; i < whole; i += 8) compress(data.readBigUInt64LE(i));
  let last = BigInt(data.length & 0xff) << 56n;
  for (let i = whole; i < data.length; i++) last |= BigInt(data[i]!) << BigInt(8 * (i - whole));
  compress(last);
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

/**
 * A key as `net.ipv4.tcp_fastopen_key` takes it ('a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4': four
 * 32-bit words, each stored little-endian) as the 16 bytes TCP_FASTOPEN_KEY takes; undefined
 * when it is not one.
 */
export function sysctlKeyBytes(text: string): Buffer | undefined {
  const m = /^([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,8})$/.exec(text.trim());
  if (!m) return undefined;
  const key = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) key.writeUInt32LE(parseInt(m[i + 1]!, 16), 4 * i);
  return key;
}

/** The cookie a server at `server` with `key` gives the client at `client` (both IPv4 or both IPv6). */
export function fastOpenCookie(key: Buffer, client: string, server: string): Buffer {
  if (isIPv6(client) !== isIPv6(server)) throw new Error(`a Fast Open cookie is over two addresses of one family, got ${client} and ${server}`);
  const h = siphash24(key, Buffer.concat([address(client), address(server)]));
  const cookie = Buffer.alloc(8);
  cookie.writeBigUInt64LE(h);
  return cookie;
}

function address(text: string): Buffer {
  return isIPv6(text) ? parseIPv6(text) : parseIPv4(text);
}

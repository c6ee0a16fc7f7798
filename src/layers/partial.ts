/**
 * Cut-off headers (a snap length, an ICMP error's quote). A decoder reads a header that ends
 * early from a zero-filled copy, then forgets the fields that start past the cut: a field the
 * cut splits keeps the bytes that were there, so the layer rebuilds to exactly those bytes
 * (buildPacket writes a cut layer whole, then keeps truncatedTo bytes).
 */

/** buf[off, end) copied into `length` zeroed bytes; only for headers shorter than `length`. */
export function zeroFilledHeader(buf: Buffer, off: number, end: number, length: number): Buffer {
  const copy = Buffer.alloc(length);
  buf.copy(copy, 0, off, Math.min(end, off + length));
  return copy;
}

/** Unsets the fields whose first byte lies at or past `avail` (offsets from the header start). */
export function forgetFieldsPast<F extends object>(fields: Partial<F>, starts: Readonly<Partial<Record<keyof F & string, number>>>, avail: number): void {
  for (const [name, start] of Object.entries(starts) as [keyof F & string, number][]) if (start >= avail) delete fields[name];
}

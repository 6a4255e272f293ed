/**
 * Internet checksum (RFC 1071), transport pseudo-headers for IPv4 (RFC 768/793) and IPv6
 * (RFC 8200 §8.1), and incremental update (RFC 1624) for NAT-style rewrites.
 *
 * Sums are one's complement sums folded to 16 bits (not inverted); checksums are the inverted
 * sums that go on the wire. Data of odd length is padded with one zero byte, so when a sum is
 * built from several pieces every piece but the last must have an even length.
 */

/** Folds a non-negative sum of 16-bit words into 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** One's complement sum of `bytes[start, end)` plus `initial` (a folded sum), folded to 16 bits. */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return foldSum(sum);
}

/** The RFC 1071 checksum of `bytes[start, end)`, with `initial` (e.g. a pseudo-header sum) added. */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return ~onesComplementSum(bytes, start, end, initial) & 0xffff;
}

/**
 * Sum of the transport pseudo-header: for 4-byte addresses src, dst, zero, protocol, 16-bit
 * length; for 16-byte addresses src, dst, 32-bit length, three zero bytes, next header.
 * For IPv6 `dst` is the final destination (the last segment of a routing header).
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = onesComplementSum(src, 0, src.length, 0);
  sum = onesComplementSum(dst, 0, dst.length, sum);
  if (src.length === 4) return foldSum(sum + protocol + (length & 0xffff));
  return foldSum(sum + Math.floor(length / 0x10000) + (length & 0xffff) + protocol);
}

/** TCP/UDP/ICMPv6 checksum of `segment[start, end)` under the pseudo-header of src/dst. */
export function transportChecksum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  segment: Uint8Array,
  start = 0,
  end = segment.length,
): number {
  return internetChecksum(segment, start, end, pseudoHeaderSum(src, dst, protocol, end - start));
}

/**
 * True when `bytes[start, end)`, which holds its own checksum field, verifies: the sum including
 * the stored checksum is 0xffff (one's complement -0). Receivers check this way, so a stored
 * 0xffff is as good as 0x0000 when the computed checksum is zero.
 */
export function checksumVerifies(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): boolean {
  return onesComplementSum(bytes, start, end, initial) === 0xffff;
}

function words(bytes: Uint8Array, oddOffset: boolean): number[] {
  const padded = oddOffset ? [0, ...bytes] : [...bytes];
  if (padded.length % 2 === 1) padded.push(0);
  const out: number[] = [];
  for (let i = 0; i < padded.length; i += 2) out.push((padded[i]! << 8) | padded[i + 1]!);
  return out;
}

/**
 * RFC 1624 eqn. 3 incremental update, HC' = ~(~HC + ~m + m'): the checksum after the field
 * `oldBytes` is replaced by `newBytes` (same length). Set `oddOffset` when the field starts at
 * an odd offset of the checksummed data (e.g. the IPv4 protocol byte).
 */
export function checksumAdjust(checksum: number, oldBytes: Uint8Array, newBytes: Uint8Array, oddOffset = false): number {
  if (oldBytes.length !== newBytes.length) {
    throw new RangeError(`checksumAdjust: old field has ${oldBytes.length} bytes, new field ${newBytes.length}`);
  }
  const m = words(oldBytes, oddOffset);
  const m2 = words(newBytes, oddOffset);
  let sum = ~checksum & 0xffff;
  for (let i = 0; i < m.length; i++) sum += (~m[i]! & 0xffff) + m2[i]!;
  return ~foldSum(sum) & 0xffff;
}

/** Incremental update for one aligned 16-bit word (a port, the TTL/protocol word …). */
export function checksumAdjust16(checksum: number, oldWord: number, newWord: number): number {
  const sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/**
 * Incremental update of a UDP checksum: a zero checksum (none, IPv4 only) stays zero, and a
 * result of zero is sent as 0xffff (RFC 768).
 */
export function udpChecksumAdjust(checksum: number, oldBytes: Uint8Array, newBytes: Uint8Array, oddOffset = false): number {
  if (checksum === 0) return 0;
  const c = checksumAdjust(checksum, oldBytes, newBytes, oddOffset);
  return c === 0 ? 0xffff : c;
}

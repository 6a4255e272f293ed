/**
 * Key hashes of NetCRAQ: the 64-bit key id (FNV-1a 64 of the full etcd key bytes) that the data
 * plane indexes by, and the 32-bit key_check (murmur3 x86_32, seed 0x6e6163) that a node compares
 * with the one it stored so that two keys whose ids collide are never confused.
 */
import { CRAQ_KEY_CHECK_SEED } from './constants.js';

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

function bytesOf(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? new TextEncoder().encode(key) : key;
}

/** FNV-1a 64 of the key's bytes (a string is UTF-8 encoded). */
export function craqKeyId(key: string | Uint8Array): bigint {
  let h = FNV64_OFFSET;
  for (const b of bytesOf(key)) h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  return h;
}

/** murmur3 x86_32 of the key's bytes. */
export function murmur3(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const n = bytes.length;
  const blocks = n & ~3;
  const k1of = (k: number): number => {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, c2);
  };
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= k1of(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const rest = n & 3;
  if (rest === 3) k ^= bytes[blocks + 2]! << 16;
  if (rest >= 2) k ^= bytes[blocks + 1]! << 8;
  if (rest >= 1) {
    k ^= bytes[blocks]!;
    h ^= k1of(k);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit key_check of a key. */
export function craqKeyCheck(key: string | Uint8Array): number {
  return murmur3(bytesOf(key), CRAQ_KEY_CHECK_SEED);
}

/** Both hashes of a key, as a message carries them. */
export function craqKey(key: string | Uint8Array): { keyId: bigint; keyCheck: number } {
  const bytes = bytesOf(key);
  return { keyId: craqKeyId(bytes), keyCheck: craqKeyCheck(bytes) };
}

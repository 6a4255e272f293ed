/**
 * Linux jhash (Bob Jenkins' lookup3, include/linux/jhash.h) on a little-endian host: jhash over
 * bytes, jhash2 over u32 words, jhash_3words and jhash_1word. The XDP balancer hashes flows with
 * it (@netaccel/bpf-programs/xlb, flow-hash.ts) and lb-controller's Maglev tables hash backend
 * names with it.
 */
const JHASH_INITVAL = 0xdeadbeef;

function rol32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

type Abc = [number, number, number];

function mix(s: Abc): void {
  let [a, b, c] = s;
  a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
  b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
  c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
  a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
  b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
  c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
  s[0] = a; s[1] = b; s[2] = c;
}

function final(s: Abc): void {
  let [a, b, c] = s;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  s[0] = a; s[1] = b; s[2] = c;
}

/** jhash(key, length, initval) over bytes, as include/linux/jhash.h on a little-endian host. */
export function jhash(key: Uint8Array, initval: number): number {
  const v = JHASH_INITVAL + key.length + initval;
  const s: Abc = [v >>> 0, v >>> 0, v >>> 0];
  let k = 0;
  let len = key.length;
  const word = (at: number, n: number): number => {
    let w = 0;
    for (let i = n - 1; i >= 0; i--) w = (w << 8) | key[at + i]!;
    return w >>> 0;
  };
  while (len > 12) {
    s[0] = (s[0] + word(k, 4)) >>> 0;
    s[1] = (s[1] + word(k + 4, 4)) >>> 0;
    s[2] = (s[2] + word(k + 8, 4)) >>> 0;
    mix(s);
    len -= 12;
    k += 12;
  }
  if (len === 0) return s[2];
  s[0] = (s[0] + word(k, Math.min(len, 4))) >>> 0;
  if (len > 4) s[1] = (s[1] + word(k + 4, Math.min(len - 4, 4))) >>> 0;
  if (len > 8) s[2] = (s[2] + word(k + 8, len - 8)) >>> 0;
  final(s);
  return s[2];
}

/** jhash2(words, length, initval). */
export function jhash2(words: readonly number[], initval: number): number {
  const v = (JHASH_INITVAL + words.length * 4 + initval) >>> 0;
  const s: Abc = [v, v, v];
  let i = 0;
  let len = words.length;
  while (len > 3) {
    s[0] = (s[0] + words[i]!) >>> 0;
    s[1] = (s[1] + words[i + 1]!) >>> 0;
    s[2] = (s[2] + words[i + 2]!) >>> 0;
    mix(s);
    len -= 3;
    i += 3;
  }
  if (len === 0) return s[2];
  if (len === 3) s[2] = (s[2] + words[i + 2]!) >>> 0;
  if (len >= 2) s[1] = (s[1] + words[i + 1]!) >>> 0;
  s[0] = (s[0] + words[i]!) >>> 0;
  final(s);
  return s[2];
}

function nwords(a: number, b: number, c: number, initval: number): number {
  const s: Abc = [(a + initval) >>> 0, (b + initval) >>> 0, (c + initval) >>> 0];
  final(s);
  return s[2];
}

export function jhash3words(a: number, b: number, c: number, initval: number): number {
  return nwords(a, b, c, (initval + JHASH_INITVAL + 12) >>> 0);
}

export function jhash1word(a: number, initval: number): number {
  return nwords(a, 0, 0, (initval + JHASH_INITVAL + 4) >>> 0);
}

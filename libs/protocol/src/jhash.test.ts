/**
 * Unit: jhash.ts — jhash against Bob Jenkins' published lookup3 vectors, and the identities
 * between jhash, jhash2 and jhash_Nwords that Linux relies on.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jhash, jhash1word, jhash2, jhash3words } from './jhash.js';

const words = (b: Buffer): number[] => Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));

describe('jhash', () => {
  test('jhash matches lookup3 hashlittle() test vectors', () => {
    assert.equal(jhash(new Uint8Array(0), 0), 0xdeadbeef);
    const text = Buffer.from('Four score and seven years ago');
    assert.equal(jhash(text, 0), 0x17770551);
    assert.equal(jhash(text, 1), 0xcd628161);
  });

  test('jhash2 over words equals jhash over their little-endian bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => a.subarray(0, a.length - (a.length % 4))), fc.nat(), (bytes, iv) => {
        assert.equal(jhash2(words(Buffer.from(bytes)), iv >>> 0), jhash(bytes, iv >>> 0));
      }),
    );
  });

  test('jhash_3words and jhash_1word equal jhash2 of the same words', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), (a, b, c, iv) => {
        assert.equal(jhash3words(a >>> 0, b >>> 0, c >>> 0, iv >>> 0), jhash2([a >>> 0, b >>> 0, c >>> 0], iv >>> 0));
        assert.equal(jhash1word(a >>> 0, iv >>> 0), jhash2([a >>> 0], iv >>> 0));
      }),
    );
  });

});

/**
 * Unit: the Huffman code derived from the canonical lengths, against RFC 7541: printed codes of
 * Appendix B, the Huffman-coded strings of the examples in C.4 (requests) and C.6 (responses),
 * round trips, padding rules; and the Huffman names the C header compares with.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { HUFFMAN_CODES, HUFFMAN_EOS, huffmanDecode, huffmanEncode, huffmanLength } from './huffman.js';
import { headerText, parseByteArray } from './header-text.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HPACK Huffman code', () => {
  test('codes of Appendix B, sampled over every length', () => {
    const printed: [number, number, number][] = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [22, 0x3ffffffe, 30], [32, 0x14, 6],
      [33, 0x3f8, 10], [39, 0x7fa, 11], [48, 0x0, 5], [51, 0x19, 6], [58, 0x5c, 7], [60, 0x7ffc, 15], [88, 0xfc, 8],
      [92, 0x7fff0, 19], [94, 0x3ffc, 14], [97, 0x3, 5], [122, 0x7b, 7], [124, 0x7fc, 11], [127, 0xffffffc, 28],
      [128, 0xfffe6, 20], [153, 0x1fffdc, 21], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27], [255, 0x3ffffee, 26],
      [HUFFMAN_EOS, 0x3fffffff, 30],
    ];
    for (const [symbol, code, bits] of printed) assert.deepEqual(HUFFMAN_CODES[symbol], { code, bits }, `symbol ${symbol}`);
  });

  test('the code is prefix-free and complete (Kraft sum 1)', () => {
    const kraft = HUFFMAN_CODES.reduce((a, c) => a + 2 ** -c.bits, 0);
    assert.equal(kraft, 1);
  });

  test('C.4: request header values', () => {
    assert.deepEqual(huffmanEncode('www.example.com'), hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
    assert.deepEqual(huffmanEncode('no-cache'), hex('a8eb 1064 9cbf'));
    assert.deepEqual(huffmanEncode('custom-key'), hex('25a8 49e9 5ba9 7d7f'));
    assert.deepEqual(huffmanEncode('custom-value'), hex('25a8 49e9 5bb8 e8b4 bf'));
  });

  test('C.6: response header values', () => {
    assert.deepEqual(huffmanEncode('302'), hex('6402'));
    assert.deepEqual(huffmanEncode('private'), hex('aec3 771a 4b'));
    assert.deepEqual(huffmanEncode('Mon, 21 Oct 2013 20:13:21 GMT'), hex('d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'));
    assert.deepEqual(huffmanEncode('https://www.example.com'), hex('9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'));
  });

  test('round trips over every byte value; lengths agree', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
    for (const s of ['', '/', '/helloworld.Greeter/SayHello', '/etcdserverpb.KV/Range', 'grpc-status']) {
      assert.equal(huffmanEncode(s).length, huffmanLength(s));
      assert.equal(huffmanDecode(huffmanEncode(s)).toString(), s);
    }
  });

  test('the decoder refuses padding that is too long or not ones, and EOS', () => {
    assert.throws(() => huffmanDecode(hex('1fff')), /padding/); // 'a' then 11 bits of ones
    assert.throws(() => huffmanDecode(hex('00')), /padding/); // '0' then 000: not EOS's prefix
    assert.throws(() => huffmanDecode(hex('ffffffff')), /EOS/);
  });

  test('the Huffman names in h2_parsing.h are the encoder\'s', () => {
    const text = headerText('h2_parsing.h');
    assert.deepEqual(parseByteArray(text, 'h2_name_path_huff'), huffmanEncode(':path'));
    assert.deepEqual(parseByteArray(text, 'h2_name_status_huff'), huffmanEncode('grpc-status'));
    assert.equal(parseByteArray(text, 'h2_name_path').toString(), ':path');
    assert.equal(parseByteArray(text, 'h2_name_status').toString(), 'grpc-status');
  });
});

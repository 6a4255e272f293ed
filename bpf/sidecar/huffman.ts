/**
 * The HPACK Huffman code (RFC 7541 Appendix B). The table there is canonical: codes are assigned
 * in order of (code length, symbol), each the previous code plus one, shifted left when the
 * length grows. So the 257 code lengths below (symbols 0..255, then EOS = 256) are the whole
 * table; the codes are derived once. huffman.test.ts checks the result against the appendix's
 * printed codes and the examples of Appendix C.4/C.6.
 *
 * The encoder is what the policy compiler needs (a method path's Huffman form is the exact bytes
 * an encoder puts on the wire: codes MSB first, padded with the most significant bits of EOS,
 * i.e. ones). The decoder is for tests and for the proxy's fallback diagnostics.
 */

/** Code length in bits of each symbol, 16 per row; the last entry is EOS. */
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0..15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16..31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //         ' ' .. '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //              '0' .. '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                '@' .. 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //             'P' .. '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                '`' .. 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            'p' .. 127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
  30, //                                                              EOS
];

export interface HuffmanCode {
  /** The code, right-aligned (as the appendix prints it "aligned to LSB"). */
  readonly code: number;
  /** Its length in bits, 5..30. */
  readonly bits: number;
}

/** The EOS symbol. */
export const HUFFMAN_EOS = 256;

function buildCodes(): readonly HuffmanCode[] {
  if (LENGTHS.length !== 257) throw new Error(`huffman: ${LENGTHS.length} code lengths, expected 257`);
  const order = LENGTHS.map((bits, symbol) => ({ bits, symbol })).sort((a, b) => a.bits - b.bits || a.symbol - b.symbol);
  const codes: HuffmanCode[] = new Array<HuffmanCode>(257);
  let code = 0;
  let bits = order[0]!.bits;
  for (const [i, e] of order.entries()) {
    if (i > 0) code = (code + 1) * 2 ** (e.bits - bits);
    bits = e.bits;
    codes[e.symbol] = Object.freeze({ code, bits });
  }
  return Object.freeze(codes);
}

/** The code of every symbol (0..255, then EOS), derived from the canonical lengths. */
export const HUFFMAN_CODES: readonly HuffmanCode[] = buildCodes();

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
}

/** Length in bytes of the Huffman form of `input`. */
export function huffmanLength(input: string | Uint8Array): number {
  let bits = 0;
  for (const b of toBytes(input)) bits += HUFFMAN_CODES[b]!.bits;
  return Math.ceil(bits / 8);
}

/** The Huffman form of `input` (RFC 7541 5.2): codes MSB first, the last byte padded with ones. */
export function huffmanEncode(input: string | Uint8Array): Buffer {
  const bytes = toBytes(input);
  const out = Buffer.alloc(huffmanLength(bytes));
  let acc = 0; // pending bits, right-aligned; never more than 7 + 30 bits, kept below 2^53
  let pending = 0;
  let o = 0;
  for (const b of bytes) {
    const { code, bits } = HUFFMAN_CODES[b]!;
    acc = acc * 2 ** bits + code;
    pending += bits;
    while (pending >= 8) {
      pending -= 8;
      out[o++] = Math.floor(acc / 2 ** pending) & 0xff;
      acc %= 2 ** pending;
    }
  }
  if (pending > 0) out[o++] = ((acc << (8 - pending)) | ((1 << (8 - pending)) - 1)) & 0xff;
  return out;
}

let decodeTable: Map<number, number> | undefined;

/**
 * Decodes a Huffman-coded string; throws RangeError on a code that is not in the table, on EOS
 * and on padding longer than 7 bits or not all ones (RFC 7541 5.2).
 */
export function huffmanDecode(input: Uint8Array): Buffer {
  decodeTable ??= new Map(HUFFMAN_CODES.map((c, symbol) => [c.bits * 2 ** 32 + c.code, symbol]));
  const out: number[] = [];
  let code = 0;
  let bits = 0;
  for (const byte of input) {
    for (let i = 7; i >= 0; i--) {
      code = code * 2 + ((byte >> i) & 1);
      bits++;
      const symbol = decodeTable.get(bits * 2 ** 32 + code);
      if (symbol === undefined) {
        if (bits > 30) throw new RangeError('huffman: no code matches the input');
        continue;
      }
      if (symbol === HUFFMAN_EOS) throw new RangeError('huffman: EOS inside a string');
      out.push(symbol);
      code = 0;
      bits = 0;
    }
  }
  if (bits > 7) throw new RangeError(`huffman: ${bits} bits of padding (at most 7)`);
  if (code !== 2 ** bits - 1) throw new RangeError('huffman: padding is not the prefix of EOS');
  return Buffer.from(out);
}

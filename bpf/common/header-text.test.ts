/**
 * Unit: the header parsers (header-text.ts) on C text of their own (every form they accept, the
 * forms they leave out, the errors), and headerReader on a file it writes beside a module URL.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { headerReader, parseByteArray, parseDefines, parseEnum, structNames } from './header-text.js';

const HEADER = `
#ifndef TOY_MAX_VIPS
#define TOY_MAX_VIPS 512
#endif
#define TOY_MAX_VIPS 7
#define TOY_HEX 0x1fU
#define TOY_PAREN (64U)
#define TOY_LONG 3UL
#define TOY_LONGLONG 0x10ULL /* sixteen */
#define TOY_EXPR (1 << 4)
#define TOY_NAME "toy"
#define toy_lower 9

enum toy_mode {
\tTOY_MODE_NONE = 0,
\tTOY_MODE_A = 1, /* pass: the first */
\tTOY_MODE_B = 0x0a,   /*   drop: spaced   */
\tTOY_MODE_IMPLICIT,
\tTOY_MODE_MAX = 11
};

enum toy_other {
\tTOY_OTHER_X = 5,
};

struct toy_key {
\t__u32 id;
};
struct other_thing {
\t__u8 b;
};
struct toy_val {
\t__u64 n;
};
\tstruct toy_nested {

static const __u8 toy_bytes[4] = { 0x3a, 'p', 12, 0xff, };
static const __u8 toy_empty[] = { };
`;

describe('parseEnum', () => {
  test('the entries with an explicit value, in order, with hex values and trimmed comments', () => {
    assert.deepEqual(parseEnum(HEADER, 'toy_mode'), [
      { name: 'TOY_MODE_NONE', value: 0, comment: '' },
      { name: 'TOY_MODE_A', value: 1, comment: 'pass: the first' },
      { name: 'TOY_MODE_B', value: 10, comment: 'drop: spaced' },
      { name: 'TOY_MODE_MAX', value: 11, comment: '' },
    ]);
  });

  test('stops at the enum’s own closing brace', () => {
    assert.deepEqual(parseEnum(HEADER, 'toy_other'), [{ name: 'TOY_OTHER_X', value: 5, comment: '' }]);
  });

  test('a missing or unclosed enum is an error naming it', () => {
    assert.throws(() => parseEnum(HEADER, 'toy_absent'), { name: 'RangeError', message: 'enum toy_absent: not found' });
    assert.throws(() => parseEnum('enum toy_open {\n\tA = 1,\n', 'toy_open'), { name: 'RangeError', message: "enum toy_open: no closing '};'" });
  });
});

describe('parseDefines', () => {
  test('integer defines in decimal or hex, with U/UL/ULL suffixes and parentheses; the first definition wins', () => {
    assert.deepEqual(
      [...parseDefines(HEADER)],
      [
        ['TOY_MAX_VIPS', 512],
        ['TOY_HEX', 31],
        ['TOY_PAREN', 64],
        ['TOY_LONG', 3],
        ['TOY_LONGLONG', 16],
      ],
    );
  });

  test('expressions, strings and lower-case names are left out', () => {
    const defines = parseDefines(HEADER);
    for (const name of ['TOY_EXPR', 'TOY_NAME', 'toy_lower']) assert.equal(defines.has(name), false, name);
  });
});

describe('parseByteArray', () => {
  test('numbers and character literals, a trailing comma allowed', () => {
    assert.deepEqual(parseByteArray(HEADER, 'toy_bytes'), Buffer.from([0x3a, 0x70, 12, 0xff]));
    assert.deepEqual(parseByteArray(HEADER, 'toy_empty'), Buffer.alloc(0));
  });

  test('a missing array is an error naming it', () => {
    assert.throws(() => parseByteArray(HEADER, 'toy_absent'), { name: 'RangeError', message: 'toy_absent: not found' });
  });
});

test('structNames: the structs defined at the start of a line, under the prefix, sorted', () => {
  assert.deepEqual(structNames(HEADER, 'toy_'), ['toy_key', 'toy_val']);
  assert.deepEqual(structNames(HEADER), ['other_thing', 'toy_key', 'toy_val']);
});

test('headerReader reads the files in the folder of the module URL it is given', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qdx-header-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'toy_kern_user.h'), HEADER);
  const read = headerReader(pathToFileURL(join(dir, 'header-text.ts')).href);
  assert.equal(read('toy_kern_user.h'), HEADER);
  assert.throws(() => read('absent.h'), { code: 'ENOENT' });
});

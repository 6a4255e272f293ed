/**
 * Durations and byte sizes written by people: `"90s"`, `"1m30s"`, `"500ms"`, `"64KiB"`, `"1.5MB"`.
 * Parsing is exact (decimal fractions are computed with integers, so `"0.1s"` is 100 ms, not
 * 100.00000000000001) and refuses anything that is not a whole number of the base unit.
 *
 * Durations are in milliseconds; a plain number is a number of milliseconds.
 * Byte sizes are in bytes; a plain number, or a number without a unit, is a number of bytes.
 */

/** Duration units, largest first, in milliseconds. */
const DURATION_UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const DURATION_UNIT_MS: ReadonlyMap<string, number> = new Map(DURATION_UNITS);
const DURATION_PART_RE = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/y;

/** Byte-size units in lower case: SI (powers of 1000) and IEC (powers of 1024). */
const BYTE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1e3],
  ['kb', 1e3],
  ['m', 1e6],
  ['mb', 1e6],
  ['g', 1e9],
  ['gb', 1e9],
  ['t', 1e12],
  ['tb', 1e12],
  ['ki', 2 ** 10],
  ['kib', 2 ** 10],
  ['mi', 2 ** 20],
  ['mib', 2 ** 20],
  ['gi', 2 ** 30],
  ['gib', 2 ** 30],
  ['ti', 2 ** 40],
  ['tib', 2 ** 40],
]);
const BYTE_SIZE_RE = /^(\d+(?:\.\d+)?) ?([A-Za-z]*)$/;

/** Units `formatByteSize` may choose, largest first. */
const BYTE_FORMAT_UNITS = [
  ['TiB', 2 ** 40],
  ['TB', 1e12],
  ['GiB', 2 ** 30],
  ['GB', 1e9],
  ['MiB', 2 ** 20],
  ['MB', 1e6],
  ['KiB', 2 ** 10],
  ['kB', 1e3],
] as const;

/**
 * `digits` (like `"1.25"`) times `multiplier`, exactly; undefined when the product is not a whole
 * number or is beyond Number.MAX_SAFE_INTEGER.
 */
function scaleExact(digits: string, multiplier: number): number | undefined {
  const [whole = '', fraction = ''] = digits.split('.');
  const numerator = BigInt(whole + fraction) * BigInt(multiplier);
  const denominator = 10n ** BigInt(fraction.length);
  if (numerator % denominator !== 0n) return undefined;
  const result = numerator / denominator;
  return result <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(result) : undefined;
}

function isWholeNonNegative(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Parses a duration into milliseconds. Accepts a whole number of milliseconds (`500`) or a string
 * of one or more `<number><unit>` parts with units `d`, `h`, `m`, `s`, `ms` from largest to
 * smallest, each at most once (`"90s"`, `"1m30s"`, `"1.5s"`, `"250ms"`). A string needs a unit,
 * except `"0"`. Returns undefined when the input is not such a duration or is not a whole number
 * of milliseconds.
 */
export function parseDuration(input: number | string): number | undefined {
  if (typeof input === 'number') return isWholeNonNegative(input) ? input : undefined;
  if (input === '0') return 0;
  if (input.length === 0) return undefined;
  let total = 0;
  let pos = 0;
  let lastUnit = Infinity;
  while (pos < input.length) {
    DURATION_PART_RE.lastIndex = pos;
    const m = DURATION_PART_RE.exec(input);
    if (m === null) return undefined;
    const [, digits = '', unit = ''] = m;
    const unitMs = DURATION_UNIT_MS.get(unit)!;
    if (unitMs >= lastUnit) return undefined; // units from largest to smallest, none repeated
    lastUnit = unitMs;
    const part = scaleExact(digits, unitMs);
    if (part === undefined) return undefined;
    total += part;
    pos = DURATION_PART_RE.lastIndex;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Formats milliseconds as the shortest compound duration that `parseDuration` reads back to the
 * same number: 90000 → `"1m30s"`, 1500 → `"1s500ms"`, 0 → `"0s"`.
 */
export function formatDuration(ms: number): string {
  if (!isWholeNonNegative(ms)) throw new RangeError(`formatDuration: expected a whole number of milliseconds >= 0, got ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of DURATION_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/**
 * Parses a byte size into bytes. Accepts a whole number of bytes (`65536`) or a string of a
 * number and an optional unit, case-insensitive, optionally separated by one space: `B`;
 * SI `k`/`kB`, `M`/`MB`, `G`/`GB`, `T`/`TB` (powers of 1000); IEC `Ki`/`KiB`, `Mi`/`MiB`,
 * `Gi`/`GiB`, `Ti`/`TiB` (powers of 1024). Fractions are allowed when the result is a whole number
 * of bytes (`"1.5KiB"` is 1536). Returns undefined for anything else.
 */
export function parseByteSize(input: number | string): number | undefined {
  if (typeof input === 'number') return isWholeNonNegative(input) ? input : undefined;
  const m = BYTE_SIZE_RE.exec(input);
  if (m === null) return undefined;
  const [, digits = '', unit = ''] = m;
  const multiplier = BYTE_UNITS.get(unit.toLowerCase());
  if (multiplier === undefined) return undefined;
  return scaleExact(digits, multiplier);
}

/**
 * Formats bytes with the largest unit that divides them exactly: 1536 → `"1536B"`,
 * 1048576 → `"1MiB"`, 2000 → `"2kB"`. `parseByteSize` reads it back to the same number.
 */
export function formatByteSize(bytes: number): string {
  if (!isWholeNonNegative(bytes)) throw new RangeError(`formatByteSize: expected a whole number of bytes >= 0, got ${bytes}`);
  if (bytes === 0) return '0B';
  for (const [unit, size] of BYTE_FORMAT_UNITS) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

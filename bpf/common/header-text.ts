/**
 * Reads enums, #defines, byte arrays and struct names out of the programs' C headers, so that
 * unit tests can compare the TypeScript tables (constants, reasons, codecs) with their one source
 * without a compiler. Handles the plain forms the headers use:
 *
 *   enum xlb_mode {
 *   	XLB_MODE_NONE = 0,
 *   	XLB_MODE_GUE = 0x3, /* a comment *\/
 *   };
 *   #ifndef XLB_MAX_VIPS
 *   #define XLB_MAX_VIPS (512U)
 *   #endif
 *   static const __u8 h2_name_path[5] = { ':', 'p', 'a', 't', 'h' };
 *
 * Each program's own `header-text.ts` binds `headerReader` to its folder and re-exports the
 * parsers. For the tests only: nothing in the built package imports it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One entry of a C enum with an explicit value. */
export interface EnumEntry {
  readonly name: string;
  readonly value: number;
  /** The trailing comment's text, without the comment markers ('' when none). */
  readonly comment: string;
}

/**
 * A reader of the files beside a module: `headerReader(import.meta.url)('xlb_kern_user.h')` is
 * the text of the header in the folder of the module that called it.
 */
export function headerReader(moduleUrl: string): (file: string) => string {
  const dir = new URL('.', moduleUrl);
  return (file) => readFileSync(fileURLToPath(new URL(file, dir)), 'utf8');
}

const INTEGER = String.raw`0x[0-9a-fA-F]+|\d+`;
const ENUM_ENTRY = new RegExp(String.raw`^\s*([A-Z][A-Z0-9_]*)\s*=\s*(${INTEGER})\s*,?\s*(?:\/\*\s*(.*?)\s*\*\/)?\s*$`, 'gm');
/** `#define NAME 12`, `(0x1fU)`, `64UL`, `1ULL`, with an optional trailing comment. */
const DEFINE = new RegExp(String.raw`^#define\s+([A-Z][A-Z0-9_]*)\s+\(?(${INTEGER})U?L{0,2}\)?\s*(?:\/\*.*\*\/)?\s*$`, 'gm');

/** The entries of `enum <name> { … };` in order (entries without `= value` are not listed). Throws when the enum is missing. */
export function parseEnum(text: string, name: string): EnumEntry[] {
  const start = text.indexOf(`enum ${name} {`);
  if (start < 0) throw new RangeError(`enum ${name}: not found`);
  const end = text.indexOf('};', start);
  if (end < 0) throw new RangeError(`enum ${name}: no closing '};'`);
  const out: EnumEntry[] = [];
  for (const m of text.slice(start, end).matchAll(ENUM_ENTRY)) {
    out.push({ name: m[1]!, value: Number(m[2]), comment: m[3] ?? '' });
  }
  return out;
}

/** Every `#define NAME <integer>` of the text, the first definition of each name (the default under `#ifndef`). */
export function parseDefines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(DEFINE)) {
    if (!out.has(m[1]!)) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The bytes of `static const __u8 <name>[…] = { … };` (numbers or 'c' characters). Throws when the array is missing. */
export function parseByteArray(text: string, name: string): Buffer {
  const m = new RegExp(String.raw`static const __u8 ${name}\[[^\]]*\] = \{([^}]*)\};`).exec(text);
  if (!m) throw new RangeError(`${name}: not found`);
  const items = m[1]!.split(',').map((t) => t.trim()).filter((t) => t !== '');
  return Buffer.from(items.map((t) => (t.startsWith("'") ? t.charCodeAt(1) : Number(t))));
}

/** The names of the structs defined at the start of a line (`struct <prefix>… {`), sorted. */
export function structNames(text: string, prefix = ''): string[] {
  return [...text.matchAll(/^struct (\w+) \{/gm)].map((m) => m[1]!).filter((n) => n.startsWith(prefix)).sort();
}

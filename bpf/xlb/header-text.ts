/**
 * Reads enums and #defines out of xlb's C headers, so that unit tests can compare the
 * TypeScript tables (constants.ts, drop-reasons.ts) with their source without a compiler.
 * Handles the plain forms the headers use: `NAME = 12, /* comment *\/` inside `enum name { … };`
 * and `#define NAME value` (decimal or hex, optional U suffix), possibly under `#ifndef NAME`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface EnumEntry {
  readonly name: string;
  readonly value: number;
  /** The trailing comment's text, without the comment markers. */
  readonly comment: string;
}

/** The text of a header in bpf/xlb (`xlb_kern_user.h`). */
export function headerText(file: string): string {
  return readFileSync(join(HERE, file), 'utf8');
}

/** The entries of `enum <name> { … };` in order. Throws when the enum is missing. */
export function parseEnum(text: string, name: string): EnumEntry[] {
  const start = text.indexOf(`enum ${name} {`);
  if (start < 0) throw new RangeError(`enum ${name}: not found`);
  const end = text.indexOf('};', start);
  const body = text.slice(start, end);
  const out: EnumEntry[] = [];
  for (const m of body.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*,?\s*(?:\/\*\s*(.*?)\s*\*\/)?\s*$/gm)) {
    out.push({ name: m[1]!, value: Number(m[2]), comment: m[3] ?? '' });
  }
  return out;
}

/** Every `#define NAME <integer>` of the text (the first definition of each name). */
export function parseDefines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#define\s+([A-Z][A-Z0-9_]*)\s+\(?(0x[0-9a-fA-F]+|\d+)U?L{0,2}\)?\s*(?:\/\*.*\*\/)?\s*$/gm)) {
    if (!out.has(m[1]!)) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

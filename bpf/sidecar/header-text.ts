/**
 * Reads enums, #defines and byte arrays out of the sidecar's C headers, so that unit tests can
 * compare the TypeScript tables with their source without a compiler. Private to the tests here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface EnumEntry {
  readonly name: string;
  readonly value: number;
  readonly comment: string;
}

export function headerText(file: string): string {
  return readFileSync(join(HERE, file), 'utf8');
}

/** The entries of `enum <name> { … };` in order. */
export function parseEnum(text: string, name: string): EnumEntry[] {
  const start = text.indexOf(`enum ${name} {`);
  if (start < 0) throw new RangeError(`enum ${name}: not found`);
  const body = text.slice(start, text.indexOf('};', start));
  const out: EnumEntry[] = [];
  for (const m of body.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*,?\s*(?:\/\*\s*(.*?)\s*\*\/)?\s*$/gm)) {
    out.push({ name: m[1]!, value: Number(m[2]), comment: m[3] ?? '' });
  }
  return out;
}

/** Every `#define NAME <integer>` of the text (the first definition of each name). */
export function parseDefines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#define\s+([A-Z][A-Z0-9_]*)\s+\(?(0x[0-9a-fA-F]+|\d+)U?\)?\s*(?:\/\*.*\*\/)?\s*$/gm)) {
    if (!out.has(m[1]!)) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The bytes of `static const __u8 <name>[…] = { … };` (hex numbers or 'c' characters). */
export function parseByteArray(text: string, name: string): Buffer {
  const m = new RegExp(`static const __u8 ${name}\\[[^\\]]*\\] = \\{([^}]*)\\};`).exec(text);
  if (!m) throw new RangeError(`${name}: not found`);
  return Buffer.from(
    m[1]!.split(',').map((t) => t.trim()).filter((t) => t !== '').map((t) => (t.startsWith("'") ? t.charCodeAt(1) : Number(t))),
  );
}

/**
 * A cheaper path for configuration files written as JSON (JSON is YAML 1.2; tools and the labs
 * write configurations that way, some with 100,000 routes). The YAML parser builds a node with
 * its position for every value: for a 3 MB file of 100,000 routes that is ~3 s and ~290 MiB at
 * its peak, against ~0.1 s and ~20 MiB for JSON.parse. Positions are only needed to word a
 * problem, so the caller parses the text as YAML again only then (`yaml-source.ts`).
 *
 * The path is taken only where JSON.parse and the YAML reader give the same data for sure;
 * anything else answers undefined and goes the YAML way, whose answer (data or error) is
 * unchanged:
 * - the text starts (after spaces and line breaks) with `{`, and JSON.parse accepts it (so no
 *   comments, no YAML-only syntax, no control characters in strings);
 * - outside strings, no tab (YAML is stricter than JSON about tabs);
 * - every key fits in one line with its `:` and has at most 1,024 characters (YAML's limit for
 *   implicit keys);
 * - no key appears twice in a mapping (JSON.parse keeps the last one, YAML refuses the file):
 *   the keys counted in the text equal the own keys of every object JSON.parse made.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;

/** YAML 1.2: an implicit key is at most 1,024 characters long. */
const MAX_KEY_CHARS = 1024;

/**
 * Counts the mapping keys of a JSON text (strings followed by `:`), or answers undefined when the
 * text has something that YAML may read otherwise (a tab outside strings, a key longer than
 * 1,024 characters or on another line than its colon, an unterminated string).
 */
function countKeys(text: string): number | undefined {
  let keys = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === TAB) return undefined;
    if (c !== QUOTE) {
      i++;
      continue;
    }
    const start = i;
    let end = -1;
    let from = i + 1;
    while (end < 0) {
      const q = text.indexOf('"', from);
      if (q < 0) return undefined;
      let b = q - 1;
      while (text.charCodeAt(b) === BACKSLASH) b--;
      if ((q - 1 - b) % 2 === 0) end = q; // not escaped: an even number of backslashes before it
      else from = q + 1;
    }
    i = end + 1;
    let newline = false;
    for (; i < n; i++) {
      const d = text.charCodeAt(i);
      if (d === LF || d === CR) newline = true;
      else if (d !== SPACE) break;
    }
    if (text.charCodeAt(i) === COLON) {
      if (newline || end - start - 1 > MAX_KEY_CHARS) return undefined;
      keys++;
    }
  }
  return keys;
}

/** The own keys of every object in `root` (iterative: nesting depth cannot overflow the stack). */
function ownKeys(root: unknown): number {
  let total = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push(x);
      continue;
    }
    const values = Object.values(v);
    total += values.length;
    for (const x of values) if (x !== null && typeof x === 'object') stack.push(x);
  }
  return total;
}

function startsWithBrace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === LF || c === CR) continue;
    return c === OPEN_BRACE;
  }
  return false;
}

/**
 * The data of a configuration text that is a JSON object the YAML reader would read the same
 * way; undefined when the text must go through the YAML reader (see the header).
 */
export function parseJsonText(text: string): { readonly data: unknown } | undefined {
  if (!startsWithBrace(text)) return undefined;
  const keys = countKeys(text);
  if (keys === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  // a `__proto__` key is an own property in both (JSON.parse, the YAML reader's toJS)
  return ownKeys(data) === keys ? { data } : undefined;
}

/**
 * Turns zod issues into configuration issues that a person can act on: each names the path of
 * the bad field and says what was expected and what was found,
 * `bgp.peers[1].holdTime: expected 0 or 3..65535, got 1`, plus where the value came from (a file
 * position, an environment variable, the defaults). Secret values are never printed.
 */
import type * as z from 'zod';
import { REDACTED } from './secret.js';
import { isSecretPath, knownKeysAt } from './schema-walk.js';
import type { Path, Schema } from './schema-walk.js';

/** Where a value came from. */
export type IssueSource =
  | { readonly kind: 'file'; readonly file: string; readonly line: number; readonly column: number }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'default' };

/** One problem of a configuration. */
export interface ConfigIssue {
  /** The path of the bad field (`bgp.peers[1].holdTime`), or the name of a bad variable. */
  readonly path: string;
  /** What was expected and what was found: `expected 0 or 3..65535, got 1`. */
  readonly message: string;
  /** Where the bad value came from, when known. */
  readonly source?: IssueSource;
}

/** Finds where the value at a path came from. */
export type Locate = (path: Path) => IssueSource | undefined;

const IDENTIFIER_RE = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_VALUE_CHARS = 60;

/** `bgp.peers[1].holdTime`; keys that are not identifiers are quoted: `services["web-1"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '<root>';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENTIFIER_RE.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** A short, unambiguous rendering of a found value: `1`, `"90x"`, `null`, `[1,2]`, `nothing`. */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** `(at /etc/netaccel/bgp.yaml:12:17)`, `(from NETACCEL_BGP_ANNOUNCER_LOG_LEVEL)`, `(from the defaults)`. */
export function describeSource(source: IssueSource): string {
  switch (source.kind) {
    case 'file':
      return `at ${source.file}:${source.line}:${source.column}`;
    case 'env':
      return `from ${source.variable}`;
    case 'default':
      return 'from the defaults';
  }
}

/** One line per issue: `path: message (source)`. */
export function issueLine(issue: ConfigIssue): string {
  return `${issue.path}: ${issue.message}${issue.source === undefined ? '' : ` (${describeSource(issue.source)})`}`;
}

/** The closest of `candidates` to `name` (same letters ignoring case, or at most 2 edits away). */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// What was expected, worded from the issue and the schema that raised it

type NumberCheckDef = { check?: string; value?: unknown; inclusive?: boolean; format?: string };

const INT_FORMATS: Readonly<Record<string, readonly [number, number] | undefined>> = {
  safeint: undefined,
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};

/** `an integer 1..65535`, `a number > 0`, `an integer >= 1` from a number schema's checks. */
function describeNumber(schema: z.core.$ZodType | undefined): string {
  const def = schema?._zod.def as (NumberCheckDef & { checks?: z.core.$ZodCheck[] }) | undefined;
  const checks = [def ?? {}, ...(def?.checks ?? []).map((c) => c._zod.def as NumberCheckDef)];
  let integer = false;
  let lo: { value: number; inclusive: boolean } | undefined;
  let hi: { value: number; inclusive: boolean } | undefined;
  for (const c of checks) {
    if (c.check === 'number_format' && c.format !== undefined && c.format in INT_FORMATS) {
      integer = true;
      const bounds = INT_FORMATS[c.format];
      if (bounds !== undefined) {
        lo ??= { value: bounds[0], inclusive: true };
        hi ??= { value: bounds[1], inclusive: true };
      }
    }
    if (c.check === 'greater_than' && typeof c.value === 'number' && (lo === undefined || c.value >= lo.value)) {
      lo = { value: c.value, inclusive: c.inclusive === true };
    }
    if (c.check === 'less_than' && typeof c.value === 'number' && (hi === undefined || c.value <= hi.value)) {
      hi = { value: c.value, inclusive: c.inclusive === true };
    }
  }
  const what = integer ? 'an integer' : 'a number';
  if (lo !== undefined && hi !== undefined && lo.inclusive && hi.inclusive) return `${what} ${lo.value}..${hi.value}`;
  const bounds = [
    lo === undefined ? undefined : `${lo.inclusive ? '>=' : '>'} ${lo.value}`,
    hi === undefined ? undefined : `${hi.inclusive ? '<=' : '<'} ${hi.value}`,
  ].filter((b) => b !== undefined);
  return bounds.length === 0 ? what : `${what} ${bounds.join(' and ')}`;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  set: 'a list',
  null: 'null',
  undefined: 'nothing',
  bigint: 'an integer',
  date: 'a date',
};

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;
}

function sizeBound(origin: string, n: number | bigint, relation: 'at least' | 'at most' | 'exactly'): string {
  if (origin === 'string') return `${relation} ${plural(n, 'character')}`;
  if (origin === 'array' || origin === 'set') return `${relation} ${plural(n, 'item')}`;
  if (origin === 'date') return `a date ${relation === 'at least' ? 'from' : 'until'} ${new Date(Number(n)).toISOString()}`;
  return `${relation} ${n}`;
}

function listOf(values: readonly unknown[]): string {
  return values.length === 1 ? renderValue(values[0]) : `one of ${values.map((v) => renderValue(v)).join(', ')}`;
}

/** The number schema that raised an issue (a check's issue names its schema separately). */
function numberSchemaOf(issue: z.core.$ZodRawIssue): z.core.$ZodType | undefined {
  for (const candidate of [issue.schema, issue.inst]) {
    if (candidate !== undefined && 'type' in candidate._zod.def && candidate._zod.def.type === 'number') {
      return candidate as z.core.$ZodType;
    }
  }
  return undefined;
}

/**
 * The zod error map used for every parse: words each issue as `expected <what>`. Messages that
 * a schema sets itself (the helpers in `fields.ts`, `.refine(…, 'expected …')`) take precedence.
 */
export const expectedErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number' || issue.expected === 'int') return `expected ${describeNumber(numberSchemaOf(issue))}`;
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'number' || issue.origin === 'int') return `expected ${describeNumber(numberSchemaOf(issue))}`;
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const relation = issue.exact === true ? 'exactly' : issue.code === 'too_small' ? 'at least' : 'at most';
      return `expected ${sizeBound(issue.origin, bound, relation)}`;
    }
    case 'invalid_value':
      return `expected ${listOf(issue.values)}`;
    case 'invalid_format':
      if (issue.format === 'regex' && issue.pattern !== undefined) return `expected a string matching ${issue.pattern}`;
      if (issue.format === 'starts_with') return `expected a string starting with ${renderValue(issue.prefix)}`;
      if (issue.format === 'ends_with') return `expected a string ending with ${renderValue(issue.suffix)}`;
      if (issue.format === 'includes') return `expected a string containing ${renderValue(issue.includes)}`;
      return `expected a valid ${issue.format}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_union': {
      if (issue.discriminator !== undefined && Array.isArray(issue.options)) return `expected ${listOf(issue.options)}`;
      const branches = issue.errors as z.core.$ZodIssue[][];
      const simple = branches.length > 0 && branches.every((b) => b.length === 1 && b[0]!.path.length === 0 && b[0]!.message.startsWith('expected '));
      if (simple) return `expected ${[...new Set(branches.map((b) => b[0]!.message.slice('expected '.length)))].join(' or ')}`;
      return `expected a value matching one of ${branches.length} alternatives`;
    }
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_key':
      return `expected a valid key (${(issue.issues as z.core.$ZodIssue[])[0]?.message ?? 'refused'})`;
    case 'invalid_element':
      return `expected a valid element (${(issue.issues as z.core.$ZodIssue[])[0]?.message ?? 'refused'})`;
    case 'custom':
    default:
      return 'expected a valid value';
  }
};

/** The value an issue is about: a discriminated union reports the whole object at the tag's path. */
function foundValue(iss: z.core.$ZodIssue): unknown {
  if (iss.code === 'invalid_union' && iss.discriminator !== undefined) {
    const input: unknown = iss.input;
    return input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[iss.discriminator] : input;
  }
  return iss.input;
}

/**
 * Configuration issues from zod's issues: unknown keys become one issue per field (with a hint
 * when a known field is close), every other issue gets `, got <value>` (or `got [redacted]` for
 * secrets), and each gets its source.
 */
export function issuesFromZod(zodIssues: readonly z.core.$ZodIssue[], schema: Schema, locate: Locate): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const push = (path: Path, message: string): void => {
    const source = locate(path);
    out.push(source === undefined ? { path: formatPath(path), message } : { path: formatPath(path), message, source });
  };
  for (const iss of zodIssues) {
    const path = iss.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of iss.keys) {
        const hint = closestName(key, known);
        push([...path, key], hint === undefined ? 'unknown field' : `unknown field (did you mean ${hint}?)`);
      }
      continue;
    }
    if (/\bgot\b/.test(iss.message)) {
      push(path, iss.message);
      continue;
    }
    const got = isSecretPath(schema, path) && iss.input !== undefined ? REDACTED : renderValue(foundValue(iss));
    push(path, `${iss.message}, got ${got}`);
  }
  return out;
}

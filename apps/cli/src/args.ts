/**
 * The command line of one command: options (`--name value`, `--name=value`, `-h`, booleans,
 * repeated options), positional arguments checked against the command's `args` (`<x>` required,
 * `[x]` optional, `…` any more), and usage problems worded for people: the option or argument,
 * what was expected, and the nearest known name ("did you mean --socket?").
 */
import type { OptionDef, OptionSpec } from './command.js';
import { NA_ERR_CLI_USAGE } from './errors.js';

export type ArgValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface ParsedArgs {
  values: ArgValues;
  positionals: string[];
}

/** Edit distance (insert, delete, substitute, swap of neighbours). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name nearest to `name` (a prefix of it, or within a third of its length in edits), if any. */
export function nearest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.startsWith(name) && name.length >= 2 ? 0.5 : editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** ` (did you mean X?)`, or nothing. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
}

/** The name of an option's value in usage lines: `<path>`, `<ms>`, else `<value>`. */
export function valueName(o: OptionDef): string {
  return `<${o.value ?? 'value'}>`;
}

function unknownOption(token: string, options: OptionSpec): Error {
  const name = token.replace(/^-+/, '').split('=')[0]!;
  const suggestion = nearest(name, Object.keys(options));
  return NA_ERR_CLI_USAGE(`unknown option ${token.split('=')[0]}${didYouMean(suggestion === undefined ? undefined : `--${suggestion}`)}`);
}

function setValue(values: ArgValues, name: string, o: OptionDef, v: string | boolean): void {
  if (o.multiple === true) {
    const prev = values[name];
    values[name] = [...(Array.isArray(prev) ? prev : []), v];
  } else {
    values[name] = v;
  }
}

/** A token that is an option (`-x`, `--x`), not a value such as `-1` or `-`. */
function isOptionToken(t: string): boolean {
  return t.startsWith('--') ? t.length > 2 : t.startsWith('-') && t.length > 1 && !/^-\d/.test(t);
}

/** Parses the options and positionals of one command; a usage problem is NA_ERR_CLI_USAGE. */
export function parseCommandArgs(argv: readonly string[], options: OptionSpec): ParsedArgs {
  const values: ArgValues = {};
  const positionals: string[] = [];
  const shorts = new Map(Object.entries(options).flatMap(([n, o]) => (o.short !== undefined ? [[o.short, n] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isOptionToken(t)) {
      positionals.push(t);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (t.startsWith('--')) {
      const eq = t.indexOf('=');
      name = eq < 0 ? t.slice(2) : t.slice(2, eq);
      inline = eq < 0 ? undefined : t.slice(eq + 1);
    } else {
      const long = t.length === 2 ? shorts.get(t[1]!) : undefined;
      if (long === undefined) throw unknownOption(t, options);
      name = long;
    }
    const o = Object.hasOwn(options, name) ? options[name] : undefined;
    if (o === undefined) throw unknownOption(t, options);
    if (o.type === 'boolean') {
      if (inline !== undefined) throw NA_ERR_CLI_USAGE(`--${name} takes no value (it is a switch), got --${name}=${inline}`);
      setValue(values, name, o, true);
      continue;
    }
    let v = inline;
    if (v === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw NA_ERR_CLI_USAGE(`--${name} needs a value: --${name} ${valueName(o)}`);
      }
      v = next;
      i++;
    }
    setValue(values, name, o, v);
  }
  for (const [name, o] of Object.entries(options)) {
    if (values[name] === undefined && o.default !== undefined) values[name] = Array.isArray(o.default) ? [...o.default] : o.default;
  }
  return { values, positionals };
}

/** The positional arguments a command's `args` describes: required names, how many optional, any more. */
export interface Arity {
  required: string[];
  optional: string[];
  rest: boolean;
}

export function arityOf(args: string | undefined): Arity {
  const arity: Arity = { required: [], optional: [], rest: false };
  for (const tok of (args ?? '').match(/<[^>]*>|\[[^\]]*\]|…|\.\.\./g) ?? []) {
    if (tok === '…' || tok === '...') arity.rest = true;
    else if (tok.startsWith('<')) arity.required.push(tok);
    else if (tok.includes('…') || tok.includes('...')) arity.rest = true;
    else arity.optional.push(tok);
  }
  return arity;
}

/** Refuses a missing or an extra positional argument; `what` is `lb drain`. */
export function checkArity(positionals: readonly string[], args: string | undefined, what: string): void {
  const a = arityOf(args);
  if (positionals.length < a.required.length) {
    const missing = a.required.slice(positionals.length);
    throw NA_ERR_CLI_USAGE(`missing argument${missing.length === 1 ? '' : 's'} ${missing.join(' ')} (usage: netaccel ${what} ${args})`);
  }
  const max = a.required.length + a.optional.length;
  if (!a.rest && positionals.length > max) {
    const extra = positionals.slice(max);
    const takes = max === 0 ? 'takes no arguments' : `takes ${args}`;
    throw NA_ERR_CLI_USAGE(`unexpected argument${extra.length === 1 ? '' : 's'} ${extra.map((x) => JSON.stringify(x)).join(' ')}: ${what} ${takes}`);
  }
}

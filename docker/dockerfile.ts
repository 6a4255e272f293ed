/**
 * A small Dockerfile reader for docker/compose.test.ts: enough of the syntax to check the
 * stages of the images without a Docker engine (none runs on the development machine). It
 * joins continuation lines, drops comments and parser directives, resolves `${ARG}` in FROM
 * from the global ARG defaults and splits instructions into their parts. It is not BuildKit:
 * heredocs, `ONBUILD` and escape directives are not supported (the images use none; an
 * instruction it does not know is returned as is, with its keyword).
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY … */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with one space. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  /** The `AS` name, or the stage's index as text when it has none. */
  readonly name: string;
  /** The base as written (`${RUNTIME_IMAGE}`, `deps`). */
  readonly from: string;
  /** The base with global ARG defaults substituted (`node:20-bookworm-slim`, `deps`). */
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** Global ARGs (before the first FROM) and their defaults. */
  readonly args: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
  /** The comment lines before the first instruction, without `#` (parser directives too). */
  readonly header: string;
}

/** Splits Dockerfile text into instructions (comments dropped, continuations joined). */
export function instructions(text: string): { list: Instruction[]; header: string } {
  const list: Instruction[] = [];
  const header: string[] = [];
  let current: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) {
      if (list.length === 0 && current === undefined) header.push(trimmed.replace(/^#\s?/, ''));
      return; // comments inside a continued instruction are dropped too, as Docker does
    }
    if (current === undefined && trimmed === '') return;
    const continued = /\\\s*$/.test(line);
    const part = continued ? line.replace(/\\\s*$/, '') : line;
    if (current === undefined) current = { parts: [], line: i + 1 };
    current.parts.push(part.trim());
    if (!continued) {
      const joined = current.parts.filter((p) => p !== '').join(' ');
      const m = /^(\S+)\s*(.*)$/.exec(joined);
      if (m) list.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: current.line });
      current = undefined;
    }
  });
  return { list, header: header.join('\n') };
}

/** `${NAME}` and `$NAME` replaced by `values` (unknown names stay as written). */
export function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a: string | undefined, b: string | undefined) => values.get(a ?? b ?? '') ?? all);
}

/** Parses a Dockerfile into global ARGs and stages. */
export function parseDockerfile(text: string): Dockerfile {
  const { list, header } = instructions(text);
  const args = new Map<string, string>();
  const stages: { name: string; from: string; base: string; instructions: Instruction[] }[] = [];
  for (const ins of list) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const from = words[0] ?? '';
      const asAt = words.findIndex((w) => w.toUpperCase() === 'AS');
      const name = asAt >= 0 ? (words[asAt + 1] ?? '') : String(stages.length);
      stages.push({ name, from, base: substitute(from, args), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const m = /^(\w+)(?:=(.*))?$/.exec(ins.args.trim());
        if (m) args.set(m[1]!, (m[2] ?? '').replace(/^"(.*)"$/, '$1'));
      }
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { args, stages, header };
}

/** The instructions of `stage` with `keyword`. */
export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

export interface CopyArgs {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly dest: string;
}

/** COPY/ADD arguments: `--from=` and the other flags, sources, destination. */
export function copyArgs(ins: Instruction): CopyArgs {
  const words = ins.args.split(/\s+/).filter((w) => w !== '');
  let from: string | undefined;
  const rest: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (!w.startsWith('--')) rest.push(w);
  }
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] ?? '' };
}

/** The JSON (exec) form of CMD / ENTRYPOINT, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const t = args.trim();
  if (!t.startsWith('[')) return undefined;
  const v: unknown = JSON.parse(t);
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

export interface Healthcheck {
  readonly none: boolean;
  readonly options: ReadonlyMap<string, string>;
  /** The exec form after CMD; undefined for NONE or a shell form. */
  readonly command: readonly string[] | undefined;
}

/** HEALTHCHECK [--opt=value …] CMD [...] | NONE */
export function healthcheck(ins: Instruction): Healthcheck {
  const options = new Map<string, string>();
  let rest = ins.args.trim();
  for (;;) {
    const m = /^--([\w-]+)=(\S+)\s*/.exec(rest);
    if (!m) break;
    options.set(m[1]!, m[2]!);
    rest = rest.slice(m[0].length);
  }
  if (/^NONE$/i.test(rest)) return { none: true, options, command: undefined };
  const cmd = /^CMD\s+(.*)$/i.exec(rest);
  return { none: false, options, command: cmd ? execForm(cmd[1]!) : undefined };
}

/** LABEL key="value" … pairs (quoted values only, as the images write them). */
export function labels(stage: Stage): Map<string, string> {
  const out = new Map<string, string>();
  for (const ins of all(stage, 'LABEL')) {
    for (const m of ins.args.matchAll(/([\w.-]+)="([^"]*)"/g)) out.set(m[1]!, m[2]!);
  }
  return out;
}

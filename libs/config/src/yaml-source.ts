/**
 * Reads a YAML 1.2 configuration file into plain data, keeping the positions of its nodes so that
 * a problem can name the line and column it came from. Syntax errors, duplicate keys, several
 * documents in one file and unresolved tags are refused with their line and column. Merge keys
 * (`<<: *peer-defaults`) are allowed; aliases are limited, so a small file cannot expand to
 * gigabytes. A text that is a JSON object goes a cheaper way when that gives the same data
 * (`json-text.ts`); its positions are then worked out only when a problem is reported.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { NA_ERR_CONFIG_FILE_NOT_FOUND, NA_ERR_CONFIG_PARSE, NA_ERR_CONFIG_READ } from './errors.js';
import type { IssueSource } from './format-issues.js';
import { parseJsonText } from './json-text.js';
import type { Path } from './schema-walk.js';

/** At most this many alias expansions per file. */
const MAX_ALIAS_COUNT = 100;

const parseOptions = (lineCounter: LineCounter) => ({ lineCounter, prettyErrors: false, uniqueKeys: true, merge: true, strict: true }) as const;

export interface YamlSyntaxError {
  /** 1-based; absent for problems found after parsing (too many aliases, a bad merge source). */
  readonly line?: number;
  readonly column?: number;
  readonly code: string;
  readonly message: string;
}

/** A parsed configuration text. */
export interface YamlSource {
  /** The file name used in messages. */
  readonly file: string;
  /** The data; an empty file (or only comments) gives an empty mapping. */
  readonly data: unknown;
  /** The position of the node at `path`, or of the deepest node on the way to it. */
  locate(path: Path): IssueSource | undefined;
}

function keyMatches(key: unknown, seg: string | number): boolean {
  return isScalar(key) && String(key.value) === String(seg);
}

/**
 * Parses `text` (named `file` in messages). Throws NA_ERR_CONFIG_PARSE listing every syntax error
 * with its line and column.
 */
export function parseYaml(text: string, file: string): YamlSource {
  const json = parseJsonText(text);
  if (json !== undefined) return { file, data: json.data, locate: lazyLocator(text, file) };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, parseOptions(lineCounter));
  const problems = [...doc.errors, ...doc.warnings].map((e): YamlSyntaxError => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return { line, column: col, code: e.code, message: e.message };
  });
  let data: unknown;
  if (problems.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      problems.push({ code: (err as { code?: string }).code ?? 'BAD_DATA', message: (err as Error).message });
    }
  }
  if (problems.length > 0) {
    const summary = problems.map((p) => (p.line === undefined ? p.message : `line ${p.line}, column ${p.column}: ${p.message}`)).join('; ');
    throw NA_ERR_CONFIG_PARSE.with({ details: { file, errors: problems } }, file, summary);
  }
  return {
    file,
    data: data ?? {},
    locate: (path) => position(doc, lineCounter, file, path),
  };
}

function position(doc: Document, lineCounter: LineCounter, file: string, path: Path): IssueSource | undefined {
  const offset = offsetOf(doc, path);
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { kind: 'file', file, line, column: col };
}

/**
 * `locate` for a text read by the JSON path: the YAML document (the same text, so the same
 * positions) is built on the first question only, i.e. when the configuration has a problem.
 */
function lazyLocator(text: string, file: string): YamlSource['locate'] {
  let parsed: { doc: Document; lineCounter: LineCounter } | undefined;
  return (path) => {
    if (parsed === undefined) {
      const lineCounter = new LineCounter();
      parsed = { doc: parseDocument(text, parseOptions(lineCounter)), lineCounter };
    }
    return position(parsed.doc, parsed.lineCounter, file, path);
  };
}

/** The start offset of the node at `path` (a mapping entry's key), or of the deepest one on the way. */
function offsetOf(doc: Document, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? (node as YamlNode).range?.[0] : undefined;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyMatches(p.key, seg));
      if (pair === undefined) break;
      offset = isNode(pair.key) ? ((pair.key as YamlNode).range?.[0] ?? offset) : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = isNode(node) ? ((node as YamlNode).range?.[0] ?? offset) : offset;
    } else {
      break;
    }
  }
  return offset;
}

/**
 * Reads and parses a configuration file. Throws NA_ERR_CONFIG_FILE_NOT_FOUND when it does not
 * exist, NA_ERR_CONFIG_READ when it cannot be read, NA_ERR_CONFIG_PARSE when it is not YAML.
 */
export async function readYamlFile(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw NA_ERR_CONFIG_FILE_NOT_FOUND.with({ cause: err, details: { file } }, file);
    throw NA_ERR_CONFIG_READ.with({ cause: err, details: { file, errno: code } }, file, (err as Error).message);
  }
  return parseYaml(text, file);
}

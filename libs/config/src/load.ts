/**
 * The loading pipeline: defaults ← YAML file ← environment, validated once against the schema,
 * every problem collected, the result deep-frozen.
 *
 *   parseConfig(def, { yaml, file, env })   synchronous, from text (tests, config from elsewhere)
 *   loadConfig(def, { file, env })          reads the file first
 */
import { NA_ERR_CONFIG_ENV, NA_ERR_CONFIG_INVALID } from './errors.js';
import type { ConfigDefinition, ConfigOf } from './define.js';
import { applyEnv } from './env.js';
import type { Env, EnvOverride } from './env.js';
import { expectedErrorMap, issueLine, issuesFromZod } from './format-issues.js';
import type { ConfigIssue, IssueSource } from './format-issues.js';
import { deepFreeze, getIn, isPlainObject, mergeTrees } from './object-tree.js';
import type { PlainObject } from './object-tree.js';
import { rememberSchema } from './redact.js';
import type { Path } from './schema-walk.js';
import { parseYaml, readYamlFile } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

/** At most this many problem lines in an error message; `details.issues` has them all. */
const MAX_MESSAGE_LINES = 50;

export interface ParseConfigOptions {
  /** The YAML text of the configuration; none: defaults and environment only. */
  readonly yaml?: string;
  /** The name of the text in messages (its file path). Default `<config>`. */
  readonly file?: string;
  /** The environment to take overrides from. Default `process.env`. */
  readonly env?: Env;
}

export interface LoadConfigOptions {
  /** The YAML file to read; none: defaults and environment only. */
  readonly file?: string;
  /** The environment to take overrides from. Default `process.env`. */
  readonly env?: Env;
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);
}

/** True when the file gives the value at `path`: it has the path, or a list or scalar above it. */
function fileGives(data: unknown, path: Path): boolean {
  for (let i = 1; i <= path.length; i++) {
    const step = getIn(data, path.slice(0, i));
    if (!step.found) return false;
    if (!isPlainObject(step.value)) return true;
  }
  return true;
}

/**
 * Where the value at a path came from: the deepest override at or above it, else the file, else
 * the defaults. For a missing value: what made the mapping that lacks it (an override inside it,
 * or the file).
 */
function locator(defaults: unknown, source: YamlSource | undefined, overrides: readonly EnvOverride[]) {
  const deepestOverride = (matches: (o: EnvOverride) => boolean): IssueSource | undefined => {
    let best: EnvOverride | undefined;
    for (const o of overrides) if (matches(o) && (best === undefined || o.path.length >= best.path.length)) best = o;
    return best === undefined ? undefined : { kind: 'env', variable: best.variable };
  };
  return (path: Path): IssueSource | undefined => {
    const above = deepestOverride((o) => startsWith(path, o.path));
    if (above !== undefined) return above;
    if (source !== undefined && fileGives(source.data, path)) return source.locate(path);
    if (getIn(defaults, path).found) return { kind: 'default' };
    if (path.length === 0) return undefined;
    const parent = path.slice(0, -1);
    const inside = deepestOverride((o) => startsWith(o.path, parent));
    if (inside !== undefined) return inside;
    return source !== undefined && fileGives(source.data, parent) && getIn(source.data, parent).found ? source.locate(parent) : undefined;
  };
}

function invalid(def: ConfigDefinition, file: string | undefined, envIssues: readonly ConfigIssue[], issues: readonly ConfigIssue[]): Error {
  const all = [...envIssues, ...issues];
  const lines = all.slice(0, MAX_MESSAGE_LINES).map(issueLine);
  if (all.length > MAX_MESSAGE_LINES) lines.push(`… and ${all.length - MAX_MESSAGE_LINES} more problems`);
  const details = { app: def.app, ...(file === undefined ? {} : { file }), issues: all };
  return (envIssues.length > 0 ? NA_ERR_CONFIG_ENV : NA_ERR_CONFIG_INVALID).with({ details }, lines.join('\n'));
}

/** Validates an already parsed source with the environment. */
function resolveConfig<D extends ConfigDefinition>(def: D, source: YamlSource | undefined, env: Env): ConfigOf<D> {
  const base = mergeTrees(def.defaults, source?.data ?? {}) as PlainObject;
  const applied = applyEnv(def.schema, def.envPrefix, env, base);
  const result = def.schema.safeParse(applied.data, { error: expectedErrorMap, reportInput: true });
  const locate = locator(def.defaults, source, applied.overrides);
  const issues = result.success ? [] : issuesFromZod(result.error.issues, def.schema, locate);
  if (applied.issues.length > 0 || !result.success) throw invalid(def, source?.file, applied.issues, issues);
  const config = deepFreeze(result.data) as ConfigOf<D>;
  if (config !== null && typeof config === 'object') rememberSchema(config, def.schema);
  return config;
}

/**
 * Builds the configuration from `yaml` text, the definition's defaults and the environment.
 * Throws NA_ERR_CONFIG_PARSE (not YAML), NA_ERR_CONFIG_ENV (an override names no field or cannot
 * be read; schema problems listed too) or NA_ERR_CONFIG_INVALID (schema problems), the last two
 * with every problem in `details.issues`.
 */
export function parseConfig<D extends ConfigDefinition>(def: D, options: ParseConfigOptions = {}): ConfigOf<D> {
  const source = options.yaml === undefined ? undefined : parseYaml(options.yaml, options.file ?? '<config>');
  return resolveConfig(def, source, options.env ?? process.env);
}

/**
 * Reads `file` (if given) and builds the configuration as `parseConfig` does; also throws
 * NA_ERR_CONFIG_FILE_NOT_FOUND and NA_ERR_CONFIG_READ.
 */
export async function loadConfig<D extends ConfigDefinition>(def: D, options: LoadConfigOptions = {}): Promise<ConfigOf<D>> {
  const source = options.file === undefined ? undefined : await readYamlFile(options.file);
  return resolveConfig(def, source, options.env ?? process.env);
}

/**
 * Names of everything a lab creates. Namespaces are `<prefix>-<runId>-<node>`, so a run owns
 * exactly the namespaces that carry its run id and stale ones can be recognised by name alone.
 * Interfaces are created directly inside their namespaces (`ip link add … netns …`), so they never
 * appear in the root namespace; their names only need to be valid and unique per node. Link ends
 * written without an interface name get the first free `eth<N>` of their node.
 */
import { randomBytes } from 'node:crypto';

export const DEFAULT_PREFIX = 'nalab';
export const RUN_ID_LENGTH = 6;
/** IFNAMSIZ - 1: the kernel's limit on interface names. */
export const IFNAME_MAX = 15;

const PREFIX_RE = /^[a-z][a-z0-9]{1,11}$/;
const RUN_ID_RE = /^[a-z0-9]{6}$/;
const NODE_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const IFNAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Why `prefix` cannot be a lab prefix, or undefined when it can. */
export function prefixProblem(prefix: string): string | undefined {
  return PREFIX_RE.test(prefix)
    ? undefined
    : `expected 2..12 characters a-z0-9 starting with a letter (no "-", it separates the name parts), got ${JSON.stringify(prefix)}`;
}

/** Why `name` cannot be a node name, or undefined when it can. */
export function nodeNameProblem(name: string): string | undefined {
  return NODE_RE.test(name)
    ? undefined
    : `node names are 1..32 characters a-z0-9_- starting with a letter, got ${JSON.stringify(name)}`;
}

/**
 * Why `name` cannot be an interface name, or undefined when it can: at most 15 characters
 * (IFNAMSIZ), letters, digits, `_` and `-` (no dots, so sysctl keys like
 * `net.ipv4.conf.eth0.rp_filter` stay unambiguous).
 */
export function ifNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > IFNAME_MAX) {
    return `interface names are 1..${IFNAME_MAX} characters, got ${JSON.stringify(name)} (${name.length})`;
  }
  if (!IFNAME_RE.test(name)) return `interface names use A-Za-z0-9_- and start with a letter, got ${JSON.stringify(name)}`;
  if (name === 'lo' || name === 'all' || name === 'default') return `${JSON.stringify(name)} is reserved`;
  return undefined;
}

/** The first `eth<N>` not in `taken`. */
export function nextIfName(taken: ReadonlySet<string>, base = 'eth'): string {
  for (let i = 0; ; i++) {
    const name = `${base}${i}`;
    if (!taken.has(name)) return name;
  }
}

/** A random run id: 6 characters of [a-z0-9] (36^6 ≈ 2·10^9; uniqueness is enforced by the registry). */
export function newRunId(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(RUN_ID_LENGTH);
  let id = '';
  for (let i = 0; i < RUN_ID_LENGTH; i++) id += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
  return id;
}

export function isRunId(text: string): boolean {
  return RUN_ID_RE.test(text);
}

/** `<prefix>-<runId>-<node>`: the namespace of one node of one run. */
export function nsName(prefix: string, runId: string, node: string): string {
  return `${prefix}-${runId}-${node}`;
}

/** The run id and node of a namespace named by `nsName` with this prefix; undefined for any other name. */
export function parseNsName(prefix: string, name: string): { runId: string; node: string } | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const rest = name.slice(prefix.length + 1);
  const runId = rest.slice(0, RUN_ID_LENGTH);
  const node = rest.slice(RUN_ID_LENGTH + 1);
  if (!isRunId(runId) || rest[RUN_ID_LENGTH] !== '-' || nodeNameProblem(node) !== undefined) return undefined;
  return { runId, node };
}

/** Folder name of a run's logs: `<prefix>-<runId>`. */
export function runDirName(prefix: string, runId: string): string {
  return `${prefix}-${runId}`;
}

/** The run id of a folder named by `runDirName` with this prefix, else undefined. */
export function parseRunDirName(prefix: string, name: string): string | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const runId = name.slice(prefix.length + 1);
  return isRunId(runId) ? runId : undefined;
}

/**
 * The policy compiler: a per-method policy (method path -> allow / deny) into the entries of the
 * `policy` map. Each method gets an id (its row in method_stats; 0 is "other") and two keys, the
 * plain and the Huffman form of its path, because with a dynamic table of size 0 those are the
 * only byte strings a :path literal can carry (README.md, "HPACK").
 */
import { encodeConfig, encodePathKey, encodePolicyValue } from './codec.js';
import { SIDECAR_ACTION, SIDECAR_BUILD_DEFAULTS, SIDECAR_MAX_PATH } from './constants.js';
import type { SidecarActionName } from './constants.js';
import { huffmanEncode } from './huffman.js';

export interface SidecarPolicy {
  /** Method path ('/pkg.Service/Method') -> what happens to its calls. */
  readonly methods: Readonly<Record<string, SidecarActionName>>;
  /** Paths not listed (method id 0). */
  readonly defaultAction: SidecarActionName;
}

export interface PolicyMapEntry {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly method: string;
  readonly form: 'plain' | 'huffman';
}

export interface CompiledPolicy {
  /** Method id (row of method_stats) by path; 0 is every other path. */
  readonly methodIds: ReadonlyMap<string, number>;
  /** Entries of the `policy` map: two per method. */
  readonly entries: readonly PolicyMapEntry[];
  /** The value of sidecar_cfg[0]. */
  readonly config: Buffer;
}

/** Method-path problems, each starting with the path of the bad field; empty when fine. */
export function policyProblems(policy: SidecarPolicy, maxMethods: number = SIDECAR_BUILD_DEFAULTS.SIDECAR_MAX_METHODS): string[] {
  const problems: string[] = [];
  if (policy.defaultAction !== 'allow' && policy.defaultAction !== 'deny') {
    problems.push(`policy.defaultAction: expected allow or deny, got ${JSON.stringify(policy.defaultAction)}`);
  }
  const paths = Object.keys(policy.methods);
  if (paths.length > maxMethods - 1) problems.push(`policy.methods: at most ${maxMethods - 1} methods, got ${paths.length}`);
  for (const path of paths) {
    const action = policy.methods[path];
    const where = `policy.methods[${JSON.stringify(path)}]`;
    if (!/^\/[^/\s]+\/[^/\s]+$/.test(path)) problems.push(`${where}: expected a gRPC method path /package.Service/Method`);
    else if (Buffer.byteLength(path) > SIDECAR_MAX_PATH) problems.push(`${where}: longer than ${SIDECAR_MAX_PATH} bytes`);
    if (action !== 'allow' && action !== 'deny') problems.push(`${where}: expected allow or deny, got ${JSON.stringify(action)}`);
  }
  return problems;
}

/**
 * Compiles `policy`; ids follow the sorted order of the paths (1, 2, …), so the same policy
 * always gets the same ids. Throws RangeError listing every problem.
 */
export function compilePolicy(policy: SidecarPolicy, maxMethods?: number): CompiledPolicy {
  const problems = policyProblems(policy, maxMethods);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const methodIds = new Map<string, number>();
  const entries: PolicyMapEntry[] = [];
  for (const [i, path] of Object.keys(policy.methods).sort().entries()) {
    const method = i + 1;
    methodIds.set(path, method);
    const value = encodePolicyValue({ method, action: policy.methods[path] === 'deny' ? SIDECAR_ACTION.DENY : SIDECAR_ACTION.ALLOW });
    entries.push({ key: encodePathKey(Buffer.from(path), false), value, method: path, form: 'plain' });
    const huff = huffmanEncode(path);
    if (huff.length <= SIDECAR_MAX_PATH) entries.push({ key: encodePathKey(huff, true), value, method: path, form: 'huffman' });
  }
  const config = encodeConfig(policy.defaultAction === 'deny' ? SIDECAR_ACTION.DENY : SIDECAR_ACTION.ALLOW);
  return { methodIds, entries, config };
}

/**
 * The kernel fast path as this app sees it. bpf/sidecar (sockops populating a sockhash, sk_msg /
 * sk_skb redirect, an sk_skb stream parser framing HTTP/2) is loaded and attached through
 * ebpf-loader; what the app needs of it is behind this interface, so the proxy runs the same
 * with or without it: the compiled policies go into its maps, and each client connection says
 * whether the kernel carries it and, if not, why. Until the binding
 * (`@netaccel/bpf-programs/sidecar`) and its loader calls are wired here, every connection stays
 * on the user-space path with the reason `kernel path not loaded`.
 */
import type { Action, CompiledPolicy } from './policy.js';

/** A client connection of a listener, as the kernel path identifies it (its 4-tuple). */
export interface ConnectionKey {
  readonly listener: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

export interface OffloadState {
  readonly offloaded: boolean;
  /** Why not, when not offloaded. */
  readonly reason: string;
}

export interface KernelPath {
  /** True once the programs are loaded and attached. */
  readonly loaded: boolean;
  /** Puts the listeners' policies into the kernel's maps (method path and service keys, exact strings). */
  applyPolicies(policies: readonly CompiledPolicy[]): Promise<void>;
  /** Whether the kernel carries this connection's bytes now. */
  state(conn: ConnectionKey): OffloadState;
  close(): Promise<void>;
}

export const KERNEL_PATH_NOT_LOADED = 'kernel path not loaded';

/** No kernel path: every connection is proxied in user space. */
export const userSpaceOnly: KernelPath = Object.freeze({
  loaded: false,
  applyPolicies: async () => {},
  state: () => ({ offloaded: false, reason: KERNEL_PATH_NOT_LOADED }),
  close: async () => {},
});

/**
 * A listener's policy in the kernel path's terms (`@netaccel/bpf-programs/sidecar`'s
 * `SidecarPolicy`: exact method paths and a default; it has no service rules). A service rule
 * whose action is the default's changes nothing and is left out; any other service rule cannot
 * be decided by the kernel for methods it does not list, so such a listener's connections stay
 * in user space, with the reason.
 */
export function kernelPolicyOf(p: CompiledPolicy): { policy: { methods: Record<string, Action>; defaultAction: Action } } | { reason: string } {
  const differing = [...p.services].filter(([, a]) => a !== p.defaultAction).map(([s]) => s);
  if (differing.length > 0) return { reason: `policy of listener ${p.listener} has service rules the kernel cannot match: ${differing.sort().join(', ')}` };
  return { policy: { methods: Object.fromEntries(p.methods), defaultAction: p.defaultAction } };
}

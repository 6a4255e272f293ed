/**
 * The kernel fast path as this app sees it. bpf/sidecar (sockops populating a sockhash, sk_msg /
 * sk_skb redirect, an sk_skb stream parser framing HTTP/2) is loaded and attached through
 * ebpf-loader; what the app needs of it is behind this interface, so the proxy runs the same
 * with or without it: the compiled policies go into its maps, and each client connection says
 * whether the kernel carries it and, if not, why. Without a kernel path (`userSpaceOnly`) every
 * connection stays on the user-space path with the reason `kernel path not loaded`; with one
 * (kernel.ts), `splice` lets the proxy pair client connections in the kernel (splice.ts).
 */
import type { ConnState, SockKey } from '@netaccel/bpf-programs/sidecar';
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

/** An address and port (a listener's, an upstream endpoint's). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * What the proxy's spliced connections (splice.ts) need of the kernel path. Writes answer at once
 * in process (`via: direct`) or once the loader did them (`via: loader`: a Promise); reads are
 * synchronous, of the maps themselves in process, of a mirror read in batches through the loader
 * (then `fresh` is there to read a socket again).
 */
/**
 * A call in flight in the kernel: its path ('other' when not in the policy), ms since its HEADERS,
 * whether its response HEADERS went out, and its grpc-timeout (ms) when it carried one.
 */
export interface InFlightCall {
  readonly path: string;
  readonly ageMs: number;
  readonly responded?: boolean;
  readonly timeoutMs?: number | undefined;
}

export interface SpliceKernel {
  /**
   * Puts the sockets of a listener's clients and of its upstream endpoints in the sockhash from
   * their next connection on (`offload_rules`, SPLICE mode); an empty `upstreams` removes them.
   */
  offload(listener: string, listen: HostPort, upstreams: readonly HostPort[]): void | Promise<void>;
  /** The listener's policy is not in the kernel, and why (undefined: it is). */
  refusal(listener: string): string | undefined;
  /** Pairs the client's socket with the upstream's accepted one (both as seen from themselves). */
  pair(clientSide: SockKey, upstreamSide: SockKey): void | Promise<void>;
  unpair(clientSide: SockKey, upstreamSide: SockKey): void | Promise<void>;
  /** The kernel's state of a socket of the sockhash (undefined: not in it, or closed). */
  conn(key: SockKey): ConnState | undefined;
  /**
   * Present when `conn` answers from a mirror (through the loader): resolves once the socket's
   * state was read again after the call (reads of one turn of the event loop are one batch).
   */
  readonly fresh?: (key: SockKey) => Promise<void>;
  /** The kernel stops judging a client socket the proxy terminates itself (marked handed over, NOT_PAIRED). */
  decline(clientSide: SockKey): void | Promise<void>;
  /** Whether the kernel carries a spliced connection (by the client's socket), or why not. */
  spliceState(clientSide: SockKey): OffloadState;
  /**
   * Asks the kernel to hand a socket to user space at a frame boundary of what it sends (splice.ts
   * `takeBack`): the caller then writes one trigger byte towards the socket, and nothing more
   * until `takeBackPending` is false. False (nothing asked) when the socket is not in the kernel.
   * Through the loader a Promise, resolved once the entry is in the kernel (the trigger byte must
   * not go before: one that finds no entry reaches the workload).
   */
  takeBack(key: SockKey): boolean | Promise<boolean>;
  takeBackPending(key: SockKey): boolean;
  /**
   * A call the kernel opened on a connection handed over since (its responses now go through the
   * proxy): removed from the kernel's requests in flight and from its request count, so the proxy
   * counts it once; its path ('other' when not in the policy) and ms since its HEADERS. Undefined
   * when the kernel has no such call. Optional: without it such a call is counted by neither side.
   */
  adoptStream?(clientSide: SockKey, stream: number): InFlightCall | undefined;
  /** The same call left in the kernel (for its deadline). */
  peekStream?(clientSide: SockKey, stream: number): InFlightCall | undefined;
  /**
   * The ids of the calls the kernel has in flight on the connection (read in one batch, in
   * process): the deadline watch looks at those rather than at every id opened since its last
   * look. Optional: without it (through the loader's mirror) every such id is looked at.
   */
  streamsInFlight?(clientSide: SockKey): number[];
  /**
   * Present when `adoptStream` / `peekStream` answer from a mirror (through the loader): resolves
   * once these calls of the connection were read again after the call (reads of one turn of the
   * event loop are one batch).
   */
  readonly freshStreams?: (clientSide: SockKey, ids: readonly number[]) => Promise<void>;
}

export interface KernelPath {
  /** True once the programs are loaded and attached. */
  readonly loaded: boolean;
  /** Puts the listeners' policies into the kernel's maps (method path and service keys, exact strings). */
  applyPolicies(policies: readonly CompiledPolicy[]): Promise<void>;
  /** Whether the kernel carries this connection's bytes now. */
  state(conn: ConnectionKey): OffloadState;
  /** Present when the proxy may splice connections in the kernel. */
  readonly splice?: SpliceKernel;
  /** Present when `state` and `splice.spliceState` answer from a mirror: reads it again (one batch). */
  readonly refresh?: () => Promise<void>;
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

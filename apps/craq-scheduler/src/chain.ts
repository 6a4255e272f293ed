/**
 * The chain's membership and its reconfigurations, as pure decisions: which nodes are in the
 * chain in which order, at which epoch, and the steps that take the data plane from one
 * configuration to the next (chain-manager.ts runs them through NodeDataPlane).
 *
 * A node fails (CRAQ / chain replication, van Renesse & Schneider): it leaves the chain, its
 * predecessor links to its successor, the epoch is bumped (messages of the old epoch are dropped
 * by every node). Head failed: the successor becomes head; its dirty versions were already
 * propagated, they commit as usual. Tail failed: the predecessor becomes tail and commits its
 * dirty versions (they are the latest writes; the clients get their answers from it). Middle
 * failed: the predecessor resends its dirty versions to its new successor (the lost node may
 * have dropped them); then, for every key still dirty at a surviving node (a resend the data
 * plane cannot do, or a lost PROPAGATE), `repair-dirty`: writes of that key held at the head, the
 * highest version any surviving node holds installed as the committed state on every node, and
 * written back to etcd. Committing a write that was never acknowledged is allowed (its client
 * timed out or got RETRY: the outcome of an unacknowledged write is unknown). Nothing committed is lost: a committed version is at the tail and at every
 * node before it.
 *
 * A node joins at the tail by state copy: writes are held (RETRY) and the chain drained, the
 * new node gets every key's committed value from the current tail, the epoch is bumped with it
 * as the tail, and writes resume.
 */
import type { ChainRole, Endpoint, NodeConfig } from '@netaccel/craq';

export interface Member {
  readonly name: string;
  readonly endpoint: Endpoint;
}

export interface ChainState {
  readonly epoch: number;
  /** Head first. */
  readonly members: readonly Member[];
  /** Taken out, most recent first. */
  readonly removed: readonly Member[];
  readonly lastChange: string;
}

export type Step =
  | { readonly kind: 'configure'; readonly node: string; readonly config: NodeConfig }
  | { readonly kind: 'resend-dirty'; readonly node: string }
  | { readonly kind: 'commit-dirty'; readonly node: string }
  | { readonly kind: 'repair-dirty'; readonly node: string }
  | { readonly kind: 'hold-writes'; readonly node: string }
  | { readonly kind: 'drain'; readonly node: string }
  | { readonly kind: 'wipe'; readonly node: string }
  | { readonly kind: 'copy'; readonly from: string; readonly to: string }
  | { readonly kind: 'resume-writes'; readonly node: string };

export interface Transition {
  readonly next: ChainState;
  /** In order. */
  readonly steps: readonly Step[];
}

export function roleAt(i: number, n: number): ChainRole {
  if (n === 1) return 'single';
  if (i === 0) return 'head';
  return i === n - 1 ? 'tail' : 'middle';
}

/** Every member's configuration at `epoch`. */
export function nodeConfigs(members: readonly Member[], epoch: number): Map<string, NodeConfig> {
  const out = new Map<string, NodeConfig>();
  const tail = members[members.length - 1];
  if (tail === undefined) return out;
  members.forEach((m, i) => {
    out.set(m.name, {
      epoch,
      role: roleAt(i, members.length),
      tail: tail.endpoint,
      ...(i > 0 ? { prev: members[i - 1]!.endpoint } : {}),
      ...(i < members.length - 1 ? { next: members[i + 1]!.endpoint } : {}),
    });
  });
  return out;
}

/** Configure steps, tail first, so that downstream nodes take the new epoch before upstream ones send in it. */
function configureAll(members: readonly Member[], epoch: number): Step[] {
  const configs = nodeConfigs(members, epoch);
  return [...members].reverse().map((m) => ({ kind: 'configure' as const, node: m.name, config: configs.get(m.name)! }));
}

/** The first configuration: the configured nodes in order at epoch 1. */
export function initialChain(members: readonly Member[]): Transition {
  const next: ChainState = { epoch: 1, members, removed: [], lastChange: `chain of ${members.length}: ${members.map((m) => m.name).join(' -> ')}, epoch 1` };
  return { next, steps: configureAll(members, 1) };
}

/** A node failed (or is removed): the chain without it, and the steps. Unknown names change nothing. */
export function removeMember(s: ChainState, name: string, why = 'failed'): Transition {
  const i = s.members.findIndex((m) => m.name === name);
  if (i < 0) return { next: s, steps: [] };
  const gone = s.members[i]!;
  const members = s.members.filter((_, j) => j !== i);
  const epoch = s.epoch + 1;
  const steps: Step[] = configureAll(members, epoch);
  const wasTail = i === s.members.length - 1;
  const pred = i > 0 ? s.members[i - 1] : undefined;
  const succ = s.members[i + 1];
  let how: string;
  if (members.length === 0) how = 'no node left';
  else if (wasTail) {
    steps.push({ kind: 'commit-dirty', node: pred!.name });
    how = `${pred!.name} is the tail`;
  } else if (i === 0) how = `${succ!.name} is the head`;
  else {
    steps.push({ kind: 'resend-dirty', node: pred!.name }, { kind: 'repair-dirty', node: members[0]!.name });
    how = `${pred!.name} -> ${succ!.name}`;
  }
  const next: ChainState = { epoch, members, removed: [gone, ...s.removed.filter((m) => m.name !== name)], lastChange: `node ${name} ${why}: ${how}, epoch ${epoch}` };
  return { next, steps };
}

/** A node joins at the tail by state copy. A member already in the chain changes nothing. */
export function joinMember(s: ChainState, node: Member): Transition {
  if (s.members.some((m) => m.name === node.name)) return { next: s, steps: [] };
  const epoch = s.epoch + 1;
  const members = [...s.members, node];
  const head = s.members[0];
  const tail = s.members[s.members.length - 1];
  const steps: Step[] = [{ kind: 'wipe', node: node.name }];
  if (head !== undefined && tail !== undefined) {
    steps.push({ kind: 'hold-writes', node: head.name }, { kind: 'drain', node: head.name }, { kind: 'copy', from: tail.name, to: node.name });
  }
  steps.push(...configureAll(members, epoch));
  steps.push({ kind: 'resume-writes', node: (head ?? node).name });
  const next: ChainState = {
    epoch,
    members,
    removed: s.removed.filter((m) => m.name !== node.name),
    lastChange: `node ${node.name} joined as the tail${tail === undefined ? '' : ` after ${tail.name}`} (state copied), epoch ${epoch}`,
  };
  return { next, steps };
}

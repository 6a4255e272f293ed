/**
 * A chain of user-space reference nodes on loopback, configured head to tail, for client tests
 * without a scheduler: `const chain = await ReferenceChain.start(3); await chain.place('/k', 'v');
 * view.apply(chain.placement())`. The scheduler's tests program the nodes themselves.
 */
import { craq } from '@netaccel/protocol';
import type { NodeConfig } from '../data-plane.js';
import type { ChainRole, Placement, PlacedKey } from '../placement.js';
import { ReferenceNode } from './reference-node.js';

export function roleAt(i: number, n: number): ChainRole {
  if (n === 1) return 'single';
  if (i === 0) return 'head';
  return i === n - 1 ? 'tail' : 'middle';
}

export class ReferenceChain {
  readonly nodes: ReferenceNode[];
  epoch = 1;
  readonly #placed = new Map<string, PlacedKey>();
  #placementEpoch = 1n;

  private constructor(nodes: ReferenceNode[]) {
    this.nodes = nodes;
  }

  static async start(n: number, opts: { maxDirty?: number } = {}): Promise<ReferenceChain> {
    const nodes: ReferenceNode[] = [];
    for (let i = 0; i < n; i++) nodes.push(await ReferenceNode.start({ name: `n${i + 1}`, ...opts }));
    const c = new ReferenceChain(nodes);
    await c.configure(c.nodes, 1);
    return c;
  }

  /** Configures `members` (in order) as the chain at `epoch`. */
  async configure(members: readonly ReferenceNode[], epoch: number): Promise<void> {
    this.epoch = epoch;
    const tail = members[members.length - 1]!.endpoint;
    await Promise.all(members.map((m, i) => {
      const cfg: NodeConfig = {
        epoch,
        role: roleAt(i, members.length),
        tail,
        ...(i > 0 ? { prev: members[i - 1]!.endpoint } : {}),
        ...(i < members.length - 1 ? { next: members[i + 1]!.endpoint } : {}),
      };
      return m.configure(cfg);
    }));
  }

  /** Installs a key clean at version 1 on every node and adds it to the placement. */
  async place(key: string, value: string | null): Promise<PlacedKey> {
    const { keyId, keyCheck } = craq.craqKey(key);
    const v = value === null ? null : Buffer.from(value);
    for (const n of this.nodes) await n.install({ keyId, keyCheck, version: 1n, value: v }, true);
    const p = { key, keyId, keyCheck };
    this.#placed.set(key, p);
    this.#placementEpoch++;
    return p;
  }

  /** The placement of the configured nodes (in `this.nodes` order). */
  placement(members: readonly ReferenceNode[] = this.nodes): Placement {
    return {
      epoch: this.#placementEpoch,
      chain: { epoch: this.epoch, nodes: members.map((m, i) => ({ name: m.name, address: m.endpoint.address, port: m.endpoint.port, role: roleAt(i, members.length), alive: true })) },
      keys: [...this.#placed.values()],
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}

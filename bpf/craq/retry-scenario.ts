/**
 * The CI failure of the CRAQ lab as a deterministic scenario (at-most-once WRITE/DELETE): a
 * write R taken by the head loses its PROPAGATE, a repair of the scheduler commits R's version
 * on every node, two other writes commit over it, then R's client retries with the same
 * request id. Run on the reference model (model.test.ts) and on three XDP nodes in lockstep with
 * it (at-most-once.bpf.test.ts). The repair here does to the maps what the scheduler's repair
 * does through NodeDataPlane.install (apps/craq-scheduler loader-node.ts): the highest version
 * held installed clean on every member, tail first, with the requests every member knows
 * (`requestsHeld`) added to each member's request ring (craq_key.reqs), which the install keeps.
 */
import { craq } from '@netaccel/protocol';
import { NO_PEER, placedKey, requestsHeld, withRequests } from './codec.js';
import type { CraqConfig, CraqKeyEntry, CraqRequestRecord } from './codec.js';
import { CLIENT, EPOCH, KEY, NODES, PORT, frame } from './fixtures.js';
import { l4Offset } from './frame.js';
import { craqStep } from './model.js';
import type { CraqNodeState } from './model.js';

/** One chain node as the scenario drives it (the model, the program, or both in lockstep). */
export interface ScenarioNode {
  setConfig(c: CraqConfig): void;
  run(frame: Uint8Array): { readonly verdict: string; readonly frame: Uint8Array };
  key(keyId: bigint): CraqKeyEntry | undefined;
  putKey(keyId: bigint, e: CraqKeyEntry): void;
  putRequest(reqId: bigint, keyId: bigint, version: bigint): void;
}

/** The reference model as a ScenarioNode. */
export class ModelNode implements ScenarioNode {
  state: CraqNodeState;

  constructor(config: CraqConfig, keys: ReadonlyMap<bigint, CraqKeyEntry>) {
    this.state = { config, keys };
  }

  setConfig(c: CraqConfig): void {
    this.state = { ...this.state, config: c };
  }

  run(f: Uint8Array): { verdict: string; frame: Uint8Array } {
    const step = craqStep(this.state, f);
    this.state = step.state;
    return step;
  }

  key(keyId: bigint): CraqKeyEntry | undefined {
    return this.state.keys.get(keyId);
  }

  putKey(keyId: bigint, e: CraqKeyEntry): void {
    this.state = { ...this.state, keys: new Map(this.state.keys).set(keyId, e) };
  }

  putRequest(reqId: bigint, keyId: bigint, version: bigint): void {
    const k = this.state.keys.get(keyId);
    if (k === undefined) throw new Error(`putRequest: key ${keyId} is not placed`);
    this.putKey(keyId, withRequests(k, [{ reqId, version }]));
  }
}

/** The configs of the chain `order` (indexes into NODES, head first) at `epoch`. */
export function chainOf(order: readonly number[], epoch: number): Map<number, CraqConfig> {
  const out = new Map<number, CraqConfig>();
  order.forEach((n, i) => {
    out.set(n, {
      enabled: true,
      netchain: false,
      head: i === 0,
      tail: i === order.length - 1,
      epoch,
      port: PORT,
      self: NODES[n]!,
      pred: i > 0 ? NODES[order[i - 1]!]! : NO_PEER,
      succ: i < order.length - 1 ? NODES[order[i + 1]!]! : NO_PEER,
      tail_: NODES[order[order.length - 1]!]!,
    });
  });
  return out;
}

const client = { mac: CLIENT.mac, ip: CLIENT.ip4, port: CLIENT.port };

/** A client WRITE of KEY with request id `reqId` to node `to`. */
export function writeFrame(to: number, reqId: bigint, value: string): Uint8Array {
  const m = { ...craq.craqWriteRequest({ key: 'x', reqId, value: new TextEncoder().encode(value) }), keyId: KEY.keyId, keyCheck: KEY.keyCheck };
  return frame(4, client, { mac: NODES[to]!.mac, ip: NODES[to]!.ip4, port: NODES[to]!.port }, craq.encodeCraq(m));
}

/**
 * Delivers `f` to node `at` and every frame it causes, by destination address, until one leaves
 * for the client (its message) or none is sent; `lose(hop)` drops the frame sent at that hop.
 */
export function deliver(nodes: readonly ScenarioNode[], at: number, f: Uint8Array, lose?: (hop: number) => boolean): craq.CraqMessage | undefined {
  for (let hop = 0; hop < 10; hop++) {
    const out = nodes[at]!.run(f);
    if (out.verdict !== 'XDP_TX' || lose?.(hop) === true) return undefined;
    const dst = out.frame.subarray(30, 34).join('.');
    const next = NODES.findIndex((n) => n.ip4 === dst);
    if (next < 0) return craq.decodeCraq(out.frame.subarray(l4Offset(4) + 8));
    at = next;
    f = out.frame;
  }
  throw new Error('a frame looped in the chain');
}

/**
 * The scheduler's repair of KEY over `members` (head first): the highest version any holds is
 * installed clean on every member, tail first, keeping each member's own request records, and,
 * unless `copyRequests` is false, the requests any member knows up to it are added on every member.
 */
export function repair(nodes: readonly ScenarioNode[], members: readonly number[], copyRequests = true): bigint {
  let top: { version: bigint; entry: CraqKeyEntry } | undefined;
  const records: CraqRequestRecord[] = [];
  for (const m of members) {
    const e = nodes[m]!.key(KEY.keyId);
    if (e === undefined) continue;
    records.push(...requestsHeld(e));
    for (let v = e.lastVersion; v >= e.cleanVersion; v--) {
      const s = e.slots[Number(v % BigInt(e.slots.length))];
      if (s === undefined || s.version !== v) continue;
      if (top === undefined || v > top.version) top = { version: v, entry: e };
      break;
    }
  }
  if (top === undefined) throw new Error('no member holds the key');
  const s = top.entry.slots[Number(top.version % BigInt(top.entry.slots.length))]!;
  const installed = placedKey(KEY.keyCheck, top.version, s.value, { tombstone: s.tombstone });
  const upTo = top.version;
  for (const m of [...members].reverse()) {
    // as NodeDataPlane.install: the member's own request ring is kept, the copied records added
    const own = nodes[m]!.key(KEY.keyId)?.requests ?? [];
    nodes[m]!.putKey(KEY.keyId, withRequests({ ...installed, requests: own.filter((r) => r.version <= upTo) }, copyRequests ? records.filter((r) => r.version <= upTo) : []));
  }
  return top.version;
}

export interface RetryOutcome {
  /** R's version (the one the head gave it). */
  readonly original: bigint;
  /** The replies to the two writes committed after the repair. */
  readonly writes: readonly (craq.CraqMessage | undefined)[];
  /** The reply to R's retry. */
  readonly retry: craq.CraqMessage | undefined;
  /** The retrying head's key entry before and after the retry. */
  readonly before: CraqKeyEntry;
  readonly after: CraqKeyEntry;
}

export const R_ID = 0x5eed_0000_0000_0001n;

/**
 * The scenario on a chain NODES[0] → NODES[1] → NODES[2] (epoch EPOCH, nodes configured here):
 *   'same-head' (the CI failure): R at the head, its PROPAGATE lost; the middle fails: chain
 *               n0 → n2 at epoch + 1, the reconfiguration's repair; two writes; R again at n0.
 *   'new-head': R at the head, its PROPAGATE lost; the lost-message repair (same chain); two
 *               writes; the head fails: chain n1 → n2 at epoch + 1; R again at n1, which knows R
 *               only from the repair's copy.
 */
export function retryAfterRepair(nodes: readonly ScenarioNode[], variant: 'same-head' | 'new-head', copyRequests = true): RetryOutcome {
  for (const [n, c] of chainOf([0, 1, 2], EPOCH)) nodes[n]!.setConfig(c);
  const first = deliver(nodes, 0, writeFrame(0, R_ID, 'r-value'), (hop) => hop === 0);
  if (first !== undefined) throw new Error('R was answered although its PROPAGATE was lost');
  const original = nodes[0]!.key(KEY.keyId)!.lastVersion;
  let head = 0;
  if (variant === 'same-head') {
    for (const [n, c] of chainOf([0, 2], EPOCH + 1)) nodes[n]!.setConfig(c);
    repair(nodes, [0, 2], copyRequests);
  } else {
    repair(nodes, [0, 1, 2], copyRequests);
  }
  const writes = [deliver(nodes, 0, writeFrame(0, R_ID + 1n, 'a-value')), deliver(nodes, 0, writeFrame(0, R_ID + 2n, 'b-value'))];
  if (variant === 'new-head') {
    for (const [n, c] of chainOf([1, 2], EPOCH + 1)) nodes[n]!.setConfig(c);
    head = 1;
  }
  const before = nodes[head]!.key(KEY.keyId)!;
  const retry = deliver(nodes, head, writeFrame(head, R_ID, 'r-value'));
  return { original, writes, retry, before, after: nodes[head]!.key(KEY.keyId)! };
}

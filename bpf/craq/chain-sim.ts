/**
 * A simulated chain for the linearizability tests: three nodes (the model, or the XDP program
 * through BPF_PROG_TEST_RUN), three clients, and a network that delivers frames in any order
 * and loses some, driven by a fast-check schedule.
 */
import fc from 'fast-check';
import { craq, formatIPv4 } from '@netaccel/protocol';
import { CLIENT, KEY, NODES, VALUE, chainConfig, frame, worldKeys } from './fixtures.js';
import { l4Offset } from './frame.js';
import type { RegisterOp } from './linearizability.js';
import { ModelNode, repair } from './retry-scenario.js';
import type { ScenarioNode } from './retry-scenario.js';

const { CraqOp, CraqStatus } = craq;

export const INIT = new TextDecoder().decode(VALUE);
const CLIENTS = 3;

interface InFlight {
  readonly to: number | 'client';
  readonly bytes: Uint8Array;
}

export type Action =
  | { kind: 'issue'; client: number; op: 'read' | 'write' | 'delete'; node: number }
  | { kind: 'retry'; client: number; node: number }
  | { kind: 'repair' }
  | { kind: 'deliver'; pick: number }
  | { kind: 'lose'; pick: number };

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('issue' as const), client: fc.integer({ min: 0, max: CLIENTS - 1 }), op: fc.constantFrom('read' as const, 'read' as const, 'write' as const, 'delete' as const), node: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lose' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), client: fc.integer({ min: 0, max: CLIENTS - 1 }), node: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repair' as const) }) },
);

/**
 * One node's handling of a frame: the verdict and the frame it sends (for XDP_TX); `repair`, the
 * scheduler's repair of the key (retry-scenario.ts `repair`: the highest version held committed
 * on every node with the requests held), at any point of a schedule.
 */
export type NodeStep = ((node: number, frame: Uint8Array) => { readonly verdict: string; readonly frame: Uint8Array }) & { readonly repair?: () => void };

/** A chain of ScenarioNodes (the model, or the program in lockstep with it) as a NodeStep with repairs. */
export function scenarioChain(nodes: readonly ScenarioNode[]): NodeStep {
  return Object.assign((i: number, f: Uint8Array) => nodes[i]!.run(f), { repair: () => void repair(nodes, [0, 1, 2]) });
}

/** The model chain as a NodeStep. */
export function modelChain(netchain: boolean): NodeStep {
  return scenarioChain((['head', 'middle', 'tail'] as const).map((role) => new ModelNode(chainConfig(role, { netchain }), worldKeys())));
}

/**
 * Runs a schedule: clients issue operations (one outstanding each) and retry an outstanding
 * write or delete (the same request id and value, to any node, as the client library does
 * after a timeout), in-flight frames are delivered in the order the schedule picks or lost,
 * then the rest is delivered. Returns the history (refused operations removed, unanswered
 * writes pending, unanswered reads dropped; a retried write refused at its last attempt is
 * pending: an earlier attempt may have been applied).
 */
export function simulate(actions: readonly Action[], step: NodeStep): { ops: RegisterOp[]; completed: number } {
  const net: InFlight[] = [];
  const ops: (RegisterOp & { client: number; reqId: bigint; sent: Uint8Array; attempts: number })[] = [];
  const busy = new Map<number, number>(); // client -> index in ops
  let reqId = 1000n;
  let t = 0;
  let completed = 0;
  const route = (out: Uint8Array): void => {
    const dst = formatIPv4(out, 30);
    const to = NODES.findIndex((p) => p.ip4 === dst);
    net.push({ to: to < 0 ? 'client' : to, bytes: out });
  };
  const all = [...actions, ...Array.from({ length: 60 }, (_, i): Action => ({ kind: 'deliver', pick: i }))];
  for (const a of all) {
    t++;
    if (a.kind === 'repair') {
      step.repair?.();
      continue;
    }
    if (a.kind === 'retry') {
      const i = busy.get(a.client);
      const op = i === undefined ? undefined : ops[i];
      if (op === undefined || op.kind !== 'write') continue;
      const payload = op.sent.subarray(l4Offset(4) + 8);
      const from = { mac: CLIENT.mac, ip: CLIENT.ip4, port: CLIENT.port + a.client };
      const to = { mac: NODES[a.node]!.mac, ip: NODES[a.node]!.ip4, port: NODES[a.node]!.port };
      net.push({ to: a.node, bytes: frame(4, from, to, payload) });
      ops[i!] = { ...op, attempts: op.attempts + 1 };
      continue;
    }
    if (a.kind === 'issue') {
      if (busy.has(a.client)) continue;
      const id = reqId++;
      const value = `c${a.client}-${id}`;
      const base = a.op === 'read' ? craq.craqReadRequest({ key: 'k', reqId: id }) : a.op === 'write' ? craq.craqWriteRequest({ key: 'k', reqId: id, value: new TextEncoder().encode(value) }) : craq.craqDeleteRequest({ key: 'k', reqId: id });
      const msg = { ...base, keyId: KEY.keyId, keyCheck: KEY.keyCheck };
      const from = { mac: CLIENT.mac, ip: CLIENT.ip4, port: CLIENT.port + a.client };
      const to = { mac: NODES[a.node]!.mac, ip: NODES[a.node]!.ip4, port: NODES[a.node]!.port };
      const sent = frame(4, from, to, craq.encodeCraq(msg));
      net.push({ to: a.node, bytes: sent });
      busy.set(a.client, ops.length);
      ops.push({ kind: a.op === 'read' ? 'read' : 'write', value: a.op === 'write' ? value : undefined, invoke: t, client: a.client, reqId: id, sent, attempts: 1 });
      continue;
    }
    if (net.length === 0) continue;
    const [f] = net.splice(a.pick % net.length, 1);
    if (a.kind === 'lose' || !f) continue;
    if (f.to === 'client') {
      const port = (f.bytes[l4Offset(4) + 2]! << 8) | f.bytes[l4Offset(4) + 3]!;
      const reply = craq.decodeCraq(f.bytes.subarray(l4Offset(4) + 8));
      const client = port - CLIENT.port;
      const i = busy.get(client);
      if (i === undefined || ops[i]!.reqId !== reply.reqId) continue;
      busy.delete(client);
      const op = ops[i]!;
      if (reply.status === CraqStatus.NOT_HEAD || reply.status === CraqStatus.RETRY) {
        if (op.attempts === 1) ops.splice(i, 1, { ...op, response: -1 }); // no effect: removed below
        continue; // else pending: an earlier attempt may have been applied
      }
      completed++;
      const value = op.kind === 'read' ? (reply.status === CraqStatus.OK ? new TextDecoder().decode(reply.value) : undefined) : op.value;
      if (reply.op !== CraqOp.READ_REPLY && reply.op !== CraqOp.WRITE_REPLY && reply.op !== CraqOp.DELETE_REPLY) throw new Error(`a client got op ${reply.op}`);
      ops.splice(i, 1, { ...op, value, response: t });
      continue;
    }
    const out = step(f.to, f.bytes);
    if (out.verdict === 'XDP_TX') route(out.frame);
  }
  // a refused operation (NOT_HEAD, RETRY) had no effect; a write never answered is pending
  const history = ops.filter((o) => o.response !== -1).map(({ kind, value, invoke, response }) => ({ kind, value, invoke, ...(response !== undefined && response >= 0 ? { response } : {}) }));
  const pendingReads = history.filter((o) => o.kind === 'read' && o.response === undefined);
  return { ops: history.filter((o) => !pendingReads.includes(o)), completed };
}


/** The harness of the single-step unit tests: one replica, a MemoryTransport, messages as bytes. */
import { paxos } from '@netaccel/protocol';
import { KvStateMachine, encodeKvOp } from '../kv.js';
import type { ReplicaOptions } from '../options.js';
import { PaxosReplica } from '../replica.js';
import type { Peer } from '../transport.js';
import { MemoryTransport } from './memory-transport.js';

const { PaxosType } = paxos;
export const PEERS: Peer[] = [7001, 7002, 7003].map((port) => ({ address: '127.0.0.1', port }));
export const CLIENT: Peer = { address: '127.0.0.1', port: 9999 };
export const SLOW = { heartbeatMs: 60_000, viewChangeTimeoutMs: 120_000, retransmitMs: 60_000 } as const;
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function single(self: number, t: { onTestFinished(fn: () => unknown): void }, extra: Partial<ReplicaOptions> = {}) {
  const transport = new MemoryTransport(PEERS[self]!);
  const kv = new KvStateMachine();
  const replica = await PaxosReplica.start({ replicas: PEERS, self, stateMachine: kv, transport, ...SLOW, ...extra });
  t.onTestFinished(() => replica.close());
  const from = async (sender: number | Peer, m: paxos.PaxosMessage): Promise<void> => {
    transport.deliver(paxos.encodePaxos(m), typeof sender === 'number' ? PEERS[sender]! : sender);
    await turn();
  };
  const sent = (): Array<{ to: number | 'client'; m: paxos.PaxosMessage }> =>
    transport.take().map((s) => ({ to: PEERS.findIndex((p) => p.port === s.to.port) === -1 ? 'client' : PEERS.findIndex((p) => p.port === s.to.port), m: s.message }));
  return { replica, kv, transport, from, sent };
}

export const put = (key: string, value: string, requestId: bigint, clientId = 5n): paxos.ClientRequest => ({ clientId, requestId, payload: encodeKvOp({ kind: 'put', key, value }) });
export const prepare = (op: bigint, commit: bigint, requests: paxos.ClientRequest[], view = 0): paxos.PrepareMessage => ({ type: PaxosType.Prepare, sender: view % 3, view, op, commit, requests });
export const body = (requests: paxos.ClientRequest[]): Buffer => paxos.encodeEntry(requests);


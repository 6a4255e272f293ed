/**
 * The Paxos service of libs/rpc (netaccel.paxos.v1.Paxos) over a replica's status: what a host
 * serves beside the replica (the lab's replica runner on its own socket, craq-scheduler beside its
 * Craq service) and what `netaccel paxos status` reads. The conversion both ways is here, so
 * that the host and the CLI agree on one shape.
 */
import { PaxosService, paxosV1, rpcService } from '@netaccel/rpc';
import type { ServiceRegistration } from '@netaccel/rpc';
import type { PaxosStatus } from './status.js';

/** The status as the RPC's message. */
export function statusToProto(s: PaxosStatus): paxosV1.ReplicaStatus {
  return paxosV1.ReplicaStatus.create({
    self: s.self,
    n: s.n,
    view: s.view,
    status: s.status,
    leader: s.leader,
    isLeader: s.isLeader,
    lastNormalView: s.lastNormalView,
    lastOp: s.lastOp,
    commit: s.commit,
    executed: s.executed,
    clients: s.clients,
    replicas: s.replicas.map((r) => paxosV1.ReplicaAddress.create({ address: r.address, port: r.port })),
    counters: Object.fromEntries(Object.entries(s.counters).map(([k, v]) => [k, BigInt(v)])),
    ...(s.offloads !== undefined
      ? {
          offloads: paxosV1.Offloads.create({
            bits: s.offloads.bits,
            broadcast: s.offloads.broadcast,
            fastAck: s.offloads.fastAck,
            quorum: s.offloads.quorum,
            stats: { ...s.offloads.stats },
            reasons: s.offloads.reasons.map((r) => paxosV1.OffloadReason.create(r)),
          }),
        }
      : {}),
    service: s.service,
    uptimeMs: BigInt(Math.round(s.uptimeMs)),
  });
}

/**
 * `rpcService(PaxosService, …)` reading `read()` at every call; a closed replica (statusSource's
 * read throws NA_ERR_PAXOS_CLOSED) answers UNAVAILABLE with that code.
 */
export function paxosStatusService(read: () => PaxosStatus): ServiceRegistration<typeof PaxosService> {
  return rpcService(PaxosService, { getStatus: () => statusToProto(read()) });
}

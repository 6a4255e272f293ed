/**
 * The Paxos scenario's lab: replicas r0…r<n-1> and a client node `c` on one switched segment
 * (segment.ts), one replica group on one UDP port (the Electrode configuration's rule).
 */
import type { LabSpec } from '@netaccel/netlab';
import { switchPort, switchedSegment } from '../topologies/segment.js';

/** Namespace prefix of the scenario's runs (`npl-<run>-<node>`). */
export const PAXOS_LAB_PREFIX = 'npl';
/** The replicas' UDP port (wire format v1's default). */
export const PAXOS_LAB_PORT = 7470;
export const PAXOS_CLIENT_NODE = 'c';

export const replicaNode = (i: number): string => `r${i}`;
export const replicaAddr = (i: number): string => `10.83.0.${i + 1}`;
export const PAXOS_CLIENT_ADDR = '10.83.0.100';

/** The switch ports facing the replicas (they get a pass-all XDP program: NAPI for XDP_TX). */
export const replicaPorts = (n: number): string[] => Array.from({ length: n }, (_, i) => switchPort(replicaNode(i)));

export function paxosTopology(n: number): LabSpec {
  const members = [
    ...Array.from({ length: n }, (_, i) => ({ node: replicaNode(i), addr: `${replicaAddr(i)}/24` })),
    { node: PAXOS_CLIENT_NODE, addr: `${PAXOS_CLIENT_ADDR}/24` },
  ];
  const nodes: Record<string, object> = { sw: {} };
  for (const mem of members) nodes[mem.node] = {};
  return { name: `paxos-${n}`, nodes, ...switchedSegment({ members }) };
}

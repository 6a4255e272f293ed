/**
 * The CRAQ scenario's lab: on one switched segment (segment.ts), the chain nodes n1 → n2 → n3
 * (XDP, one ebpf-loader each), three etcd members e1..e3 (one per namespace: a real three-member
 * cluster over the segment), the scheduler node `s` (craq-scheduler and redis-server) and the
 * client node `c`.
 */
import type { LabSpec } from '@netaccel/netlab';
import { switchPort, switchedSegment } from '../topologies/segment.js';

/** Namespace prefix of the scenario's runs (`ncl-<run>-<node>`); also its pin roots' prefix. */
export const CRAQ_LAB_PREFIX = 'ncl';
export const CRAQ_LAB_PORT = 7480;
export const CHAIN_NODES = ['n1', 'n2', 'n3'] as const;
export const ETCD_NODES = ['e1', 'e2', 'e3'] as const;
export const SCHEDULER_NODE = 's';
export const CRAQ_CLIENT_NODE = 'c';
/** The prefix of the workload's etcd keys (the scheduler places only keys under it). */
export const CRAQ_KEY_PREFIX = '/ncl/';

const ADDR: Readonly<Record<string, string>> = { n1: '10.87.0.1', n2: '10.87.0.2', n3: '10.87.0.3', e1: '10.87.0.11', e2: '10.87.0.12', e3: '10.87.0.13', s: '10.87.0.20', c: '10.87.0.100' };

export const craqAddr = (node: string): string => ADDR[node]!;
export const etcdClientUrl = (node: string): string => `http://${craqAddr(node)}:2379`;
export const etcdPeerUrl = (node: string): string => `http://${craqAddr(node)}:2380`;
export const REDIS_PORT = 6379;

/** The switch ports facing the chain nodes (a pass-all XDP program on each: NAPI for XDP_TX). */
export const chainPorts = (): string[] => CHAIN_NODES.map((n) => switchPort(n));

export function craqTopology(): LabSpec {
  const members = Object.keys(ADDR).map((node) => ({ node, addr: `${craqAddr(node)}/24` }));
  const nodes: Record<string, object> = { sw: {} };
  for (const m of members) nodes[m.node] = {};
  return { name: 'craq', nodes, ...switchedSegment({ members }) };
}

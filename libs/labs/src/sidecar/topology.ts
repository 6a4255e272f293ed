/**
 * The sidecar scenario's lab: two namespaces joined by one veth pair, the client pod `c` and the
 * server pod `s`. The server workload listens on the server pod's loopback only, and the
 * sidecar (sidecar-offload, its inbound listener on the pod's address) is the one way in: every
 * call of the client goes through it, as in a mesh's inbound sidecar.
 */
import type { LabSpec } from '@netaccel/netlab';

/** Namespace prefix of the scenario's runs (`scl-<run>-<node>`); also its cgroup's prefix. */
export const SIDECAR_LAB_PREFIX = 'scl';
export const SIDECAR_CLIENT_NODE = 'c';
export const SIDECAR_SERVER_NODE = 's';
export const SIDECAR_CLIENT_ADDR = '10.89.0.10';
export const SIDECAR_SERVER_ADDR = '10.89.0.20';
/** The sidecar's inbound listener (on the server pod's address). */
export const SIDECAR_INBOUND_PORT = 15006;
/**
 * The sidecar's listener in front of etcd, on the server pod's every address: a listener of its
 * own, so that the workload's listener routes to one cluster (what the daemon needs to splice its
 * connections in the kernel), and on the wildcard address, which the daemon does not splice: the
 * etcd key counting reads the messages in user space.
 */
export const SIDECAR_ETCD_PORT = 12379;
/** The server workload (loopback of the server pod). */
export const WORKLOAD_PORT = 50051;
/** The sidecar's telemetry (/metrics, /v1/status), loopback of the server pod. */
export const SIDECAR_TELEMETRY = '127.0.0.1:9190';
/** etcd and Redis for the key counting, loopback of the server pod. */
export const ETCD_PORT = 2379;
export const REDIS_PORT = 6379;

export function sidecarTopology(): LabSpec {
  return {
    name: 'sidecar',
    nodes: { [SIDECAR_CLIENT_NODE]: {}, [SIDECAR_SERVER_NODE]: {} },
    links: [{ a: `${SIDECAR_CLIENT_NODE}:eth0`, b: `${SIDECAR_SERVER_NODE}:eth0`, aAddr: `${SIDECAR_CLIENT_ADDR}/24`, bAddr: `${SIDECAR_SERVER_ADDR}/24` }],
  };
}

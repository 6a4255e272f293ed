// @netaccel/paxos/testing: what tests and benchmarks of the replica use (not for production).
export type { ClusterOptions } from './cluster.js';
export { TEST_TIMING, TestCluster } from './cluster.js';
export type { FakeOffloadStats } from './fake-offload.js';
export { FAKE_OFFLOAD, FakeOffload } from './fake-offload.js';
export type { SentDatagram } from './memory-transport.js';
export { MemoryTransport } from './memory-transport.js';
export type { WorkloadOptions, WorkloadResult } from './workload.js';
export { runKvClient } from './workload.js';

// @netaccel/netlab: declarative network-namespace topologies, processes inside them, and
// guaranteed teardown. See README.md.

// labs
export { Lab, createLab, withLab } from './lab.js';
export type { ExecOptions, ExecResult, LabState, LabTimings } from './lab.js';
export { LAB_DEFAULTS, resolveLabOptions } from './options.js';
export type { LabOptions, ResolvedLabOptions } from './options.js';

// specs
export { validateSpec } from './spec.js';
export type {
  AddrList,
  BridgeSpec,
  Endpoint,
  Iface,
  IfaceKind,
  LabSpec,
  LinkSpec,
  Nexthop,
  NexthopSpec,
  NodeSpec,
  Route,
  RouteSpec,
  RouteType,
  SysctlValue,
  TopoBridge,
  TopoLink,
  TopoNode,
  Topology,
} from './spec-types.js';
export type { Cidr, IpFamily } from './addr.js';
export { planUp, routeLine } from './plan.js';
export type { UpPlan } from './plan.js';

// processes and probes
export { LabProcess } from './process.js';
export type { ExitInfo, SpawnOptions } from './process.js';
export type { ReadyCheck } from './ready.js';
export type { IfCounters, LinkInfo, PingOptions, PingResult, RouteInfo } from './probes.js';
export { WAIT_DEFAULTS, sleep, waitFor } from './wait.js';
export type { WaitForOptions } from './wait.js';

// etcd and Redis on loopback, free ports (tests and benchmarks outside namespaces)
export { TestEtcd, TestRedis, freePort } from './loopback-services.js';

// naming, ownership and teardown
export { DEFAULT_PREFIX, nsName, parseNsName } from './names.js';
export { cleanStale, keptRuns, liveTeardowns, removeRun } from './teardown.js';
export type { CleanStaleOptions, CleanStaleReport, RemovedRun, RemoveRunOptions } from './teardown.js';
export { findStale, procfs, readRecords } from './registry.js';
export type { ProcTable, RecordEntry, RunRecord, StaleRun } from './registry.js';
export { NETNS_DIR, listNetns } from './netns.js';
export type { SysfsView } from './netns.js';

// configuration of routing daemons
export { birdReflectorClientConfig, gobgpReflectorConfig } from './routers.js';
export type { BirdReflectorClientOptions, GobgpReflectorOptions } from './routers.js';

// errors
export {
  NA_ERR_NETLAB_BAD_STATE,
  NA_ERR_NETLAB_DOWN_FAILED,
  NA_ERR_NETLAB_EXEC_FAILED,
  NA_ERR_NETLAB_EXEC_TIMEOUT,
  NA_ERR_NETLAB_IP_FAILED,
  NA_ERR_NETLAB_NOT_ROOT,
  NA_ERR_NETLAB_NO_ADDR,
  NA_ERR_NETLAB_OPTIONS_INVALID,
  NA_ERR_NETLAB_PROC_EXITED,
  NA_ERR_NETLAB_PROC_NAME_TAKEN,
  NA_ERR_NETLAB_READY_TIMEOUT,
  NA_ERR_NETLAB_REGISTRY_FAILED,
  NA_ERR_NETLAB_SPAWN_FAILED,
  NA_ERR_NETLAB_SPEC_INVALID,
  NA_ERR_NETLAB_UNKNOWN_IFACE,
  NA_ERR_NETLAB_UNKNOWN_NODE,
  NA_ERR_NETLAB_UP_FAILED,
  NA_ERR_NETLAB_WAIT_TIMEOUT,
  netlabErrors,
} from './errors.js';

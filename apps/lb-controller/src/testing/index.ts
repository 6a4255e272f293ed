// @netaccel/app-lb-controller/testing: what tests, benchmarks and the packaging checks drive
// lb-controller with in one process: the fakes (a loader daemon in a temporary home, a real etcd
// on loopback, a fake Kubernetes API) and the control-plane pieces they wire together (desired
// state, Maglev tables, map access, the reconciler, the etcd source, the configuration schema).
// Not an API for other apps: they talk to lb-controller over gRPC.

// --- fakes ------------------------------------------------------------------------------------
export { TestLoader } from '@netaccel/dataplane/testing';
export { TestEtcd, freePort } from '@netaccel/netlab';
export { FakeKube } from './fake-kube.js';

// --- control-plane pieces ---------------------------------------------------------------------
export type { LbControllerConfig } from '../config.js';
export { lbControllerConfig } from '../config.js';
export type { DesiredState, ServiceSpec } from '../desired-state.js';
export { mergeServices, parseService, parseState } from '../desired-state.js';
export { MAGLEV_DEFAULT_SIZE, buildMaglevTable } from '../maglev.js';
export type { DataPlane } from '../data-plane.js';
export { XlbDataPlane } from '../data-plane.js';
export { Reconciler } from '../reconciler.js';
export { EtcdSource } from '../sources/etcd-source.js';

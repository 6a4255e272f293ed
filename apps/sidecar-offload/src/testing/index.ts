// @netaccel/app-sidecar-offload/testing: what tests and benchmarks drive the sidecar with: the
// proxy started in-process from YAML, a raw-bytes gRPC echo service in all four kinds with its
// client, and the configuration schema (the packaging checks). Not an API for other apps: they
// talk to the sidecar over gRPC.
export { sidecarConfig } from '../config.js';
export { SidecarProxy } from '../sidecar.js';
export type { SidecarOptions } from '../sidecar.js';
export { startTestSidecar } from './sidecar.js';
export type { TestSidecar } from './sidecar.js';
export { EchoDefinition, echoClient, startEchoServer, streamMessage, streamRequest, unaryCall } from './echo.js';
export type { EchoClient, EchoServer } from './echo.js';
export { grpcFrame, ownClient, pumpMessages, serverStreamOutcome, startPumpingUpstream, startRawUpstream, writtenWhenHeld } from './grpc-peers.js';
export type { Pump, RawUpstream, TestCleanup } from './grpc-peers.js';
export { freePort, startEtcd, startRedis } from './daemons.js';
export type { TestProcess } from './daemons.js';

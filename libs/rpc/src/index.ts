// @netaccel/rpc: protocol buffers of the netaccel daemons, their generated types and grpc-js
// service definitions, and the server/client helpers every daemon and the CLI use.

// --- generated code: one namespace per proto package, plus the service definitions and clients
import * as announcerV1 from './generated/netaccel/announcer/v1/announcer.js';
import * as balancerV1 from './generated/netaccel/balancer/v1/balancer.js';
import * as craqV1 from './generated/netaccel/craq/v1/craq.js';
import * as healthV1 from './generated/grpc/health/v1/health.js';
import * as loaderV1 from './generated/netaccel/loader/v1/loader.js';
import * as paxosV1 from './generated/netaccel/paxos/v1/paxos.js';
import * as sidecarV1 from './generated/netaccel/sidecar/v1/sidecar.js';

export { announcerV1, balancerV1, craqV1, healthV1, loaderV1, paxosV1, sidecarV1 };
export { AnnouncerClient, AnnouncerService } from './generated/netaccel/announcer/v1/announcer.js';
export { BalancerClient, BalancerService } from './generated/netaccel/balancer/v1/balancer.js';
export { CraqClient, CraqService } from './generated/netaccel/craq/v1/craq.js';
export { HealthCheckResponse_ServingStatus, HealthClient, HealthService } from './generated/grpc/health/v1/health.js';
export { LoaderClient, LoaderService } from './generated/netaccel/loader/v1/loader.js';
export { PaxosClient, PaxosService } from './generated/netaccel/paxos/v1/paxos.js';
export { SidecarClient, SidecarService } from './generated/netaccel/sidecar/v1/sidecar.js';

// --- server
export { createRpcServer } from './server.js';
export type { RpcServer, ShutdownOptions, ShutdownResult } from './server.js';
export { rpcService, serviceNameOf } from './handlers.js';
export type {
  AnyServiceRegistration,
  CallContext,
  MethodDefinitionLike,
  MethodHandler,
  OnCall,
  RequestOf,
  ResponseOf,
  RpcCallInfo,
  ServerStreamHandler,
  ServiceDefinitionLike,
  ServiceHandlers,
  ServiceRegistration,
  UnaryHandler,
} from './handlers.js';
export { StreamQueue } from './stream-queue.js';
export type { StreamQueueOptions } from './stream-queue.js';
export { OVERALL_HEALTH } from './health.js';
export type { HealthReporter, HealthStatus } from './health.js';

// --- client
export { createRpcClient } from './client.js';
export type { CallOptions, ClientMethod, RpcClient, RpcClientControl, RpcStream, ServiceClientConstructorLike } from './client.js';

// --- options, addresses, TLS, logging
export { CLIENT_DEFAULTS, GRPC_DEFAULTS, SERVER_DEFAULTS } from './options.js';
export type { RpcClientOptions, RpcServerOptions } from './options.js';
export { MAX_UNIX_PATH_BYTES, parseAddress } from './address.js';
export type { ParseAddressOptions, RpcAddress, TcpAddress, UnixAddress } from './address.js';
export type { ClientTlsOptions, ServerTlsOptions } from './tls.js';

// --- errors and status codes
export { ERROR_CODE_METADATA, ERROR_DETAILS_METADATA, RpcError, STATUS_OF_KIND, isRpcError, kindOfStatus, statusName, statusOfKind } from './status.js';
export type { CallSite, RpcErrorInfo } from './status.js';
export {
  NA_ERR_RPC_BAD_ADDRESS,
  NA_ERR_RPC_BIND_FAILED,
  NA_ERR_RPC_CALL_FAILED,
  NA_ERR_RPC_CANCELLED,
  NA_ERR_RPC_DEADLINE_EXCEEDED,
  NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE,
  NA_ERR_RPC_INTERNAL,
  NA_ERR_RPC_INVALID_OPTIONS,
  NA_ERR_RPC_SHUTTING_DOWN,
  NA_ERR_RPC_SOCKET_IN_USE,
  NA_ERR_RPC_SOCKET_PATH_TAKEN,
  NA_ERR_RPC_SOCKET_PERMISSIONS,
  NA_ERR_RPC_STREAM_OVERFLOW,
  NA_ERR_RPC_TLS_FILE,
  NA_ERR_RPC_TLS_REQUIRED,
  NA_ERR_RPC_UNAVAILABLE,
  NA_ERR_RPC_UNKNOWN_GROUP,
  rpcErrors,
} from './errors.js';

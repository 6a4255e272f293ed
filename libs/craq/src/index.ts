// @netaccel/craq: the NetCRAQ client (placed keys over the CRAQ UDP protocol, etcd3 for the rest),
// its placement view, heat reports to Redis, and the data-plane interface the scheduler programs.

// --- the client, and the etcd3 shape (switch with one import)
export { CraqClient } from './client.js';
export type { ClientCounters, CraqClientOptions, ServedBy } from './client.js';
export { CraqDelete, CraqGet, CraqPut, Etcd3 } from './etcd3-shape.js';
export type { CraqOptions, Etcd3Options } from './etcd3-shape.js';
export { CraqTransport } from './transport.js';
export type { TransportStats } from './transport.js';

// --- placement
export { PlacementView, headOf, staticPlacementSource, tailOf } from './placement.js';
export type { ChainNode, ChainRole, ChainView, Placement, PlacedKey, PlacementSource, ReadNodeChoice } from './placement.js';
export { chainFromProto, grpcPlacementSource, placementFromProto } from './grpc-placement.js';

// --- the placement marker in etcd (the scheduler writes it, the client's etcd path checks it)
export { PLACED_MARKER_PREFIX, getIfUnplaced, placedMarkerKey, writeIfUnplaced } from './marker.js';
export type { MarkerGuarded } from './marker.js';

// --- heat (Redis sorted sets)
export { HEAT_PREFIX, HeatReporter, heatBucketKey, readHeat } from './heat.js';
export type { HeatReporterOptions, ReadHeatOptions } from './heat.js';

// --- the data plane of one chain node (bpf/craq through the loader, or the reference node)
export type { CommittedValue, Endpoint, KeyCounters, KeyState, NodeConfig, NodeDataPlane, RequestRecord } from './data-plane.js';

// --- errors
export {
  NA_ERR_CRAQCLIENT_BAD_REQUEST,
  NA_ERR_CRAQCLIENT_CLOSED,
  NA_ERR_CRAQCLIENT_NO_NODES,
  NA_ERR_CRAQCLIENT_OPTIONS_INVALID,
  NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE,
  NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED,
  NA_ERR_CRAQCLIENT_TIMEOUT,
  NA_ERR_CRAQCLIENT_VALUE_TOO_LARGE,
  craqClientErrors,
} from './errors.js';

/**
 * The placement from craq-scheduler's gRPC `Craq.GetPlacement` (libs/rpc
 * proto/netaccel/craq/v1/craq.proto), converted to the client's own types.
 */
import { CraqClient, craqV1, createRpcClient } from '@netaccel/rpc';
import type { RpcClientOptions } from '@netaccel/rpc';
import type { ChainNode, ChainRole, ChainView, Placement, PlacementSource } from './placement.js';

const ROLES: Readonly<Record<number, ChainRole>> = {
  [craqV1.ChainRole.CHAIN_ROLE_HEAD]: 'head',
  [craqV1.ChainRole.CHAIN_ROLE_MIDDLE]: 'middle',
  [craqV1.ChainRole.CHAIN_ROLE_TAIL]: 'tail',
  [craqV1.ChainRole.CHAIN_ROLE_SINGLE]: 'single',
};

/** The client's chain view of the proto's ChainState. */
export function chainFromProto(c: craqV1.ChainState | undefined): ChainView {
  const nodes: ChainNode[] = (c?.nodes ?? []).map((n) => ({ name: n.name, address: n.address, port: n.port, role: ROLES[n.role] ?? 'middle', alive: n.alive }));
  return { epoch: c?.epoch ?? 0, nodes };
}

/** The client's placement of the proto's Placement. */
export function placementFromProto(p: craqV1.Placement): Placement {
  return {
    epoch: p.placementEpoch,
    chain: chainFromProto(p.chain),
    keys: p.keys.map((k) => ({ key: k.key, keyId: k.keyId, keyCheck: k.keyCheck })),
  };
}

/**
 * Reconnect backoff of the placement channel. grpc-js's default starts at 1 s and grows by 1.6
 * per failed attempt up to 120 s: a client started while the scheduler was not serving yet (the
 * CRAQ lab starts its clients first; the scheduler took 10 s to come up under load) kept a dead
 * channel for the next backoff step (~10 s after five failures), its view without the keys placed
 * meanwhile, while their placement markers sent it away from etcd: its operations gave up after
 * `markerWaitMs` (5 s, "placed in etcd (marker) but not in the placement view") — the lab's
 * client errors. Bounded here to about a few refresh intervals, so a view is at most ~1 s behind
 * a scheduler that (re)starts. A caller's grpcOptions override these.
 */
export const PLACEMENT_CHANNEL_OPTIONS = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 100, // ms
  'grpc.max_reconnect_backoff_ms': 1000, // ms
});

/** The client options of the placement channel: the caller's, over PLACEMENT_CHANNEL_OPTIONS. */
export function placementClientOptions(options: RpcClientOptions): RpcClientOptions {
  return { ...options, grpcOptions: { ...PLACEMENT_CHANNEL_OPTIONS, ...options.grpcOptions } };
}

/** A PlacementSource over the scheduler's socket (`unix:///run/netaccel/craq-scheduler.sock`). */
export function grpcPlacementSource(options: RpcClientOptions): PlacementSource {
  const client = createRpcClient(CraqClient, placementClientOptions(options));
  return {
    fetch: async (signal) => placementFromProto(await client.getPlacement(craqV1.GetPlacementRequest.create(), signal === undefined ? {} : { signal })),
    close: () => client.close(),
  };
}

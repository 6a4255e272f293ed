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

/** A PlacementSource over the scheduler's socket (`unix:///run/netaccel/craq-scheduler.sock`). */
export function grpcPlacementSource(options: RpcClientOptions): PlacementSource {
  const client = createRpcClient(CraqClient, options);
  return {
    fetch: async (signal) => placementFromProto(await client.getPlacement(craqV1.GetPlacementRequest.create(), signal === undefined ? {} : { signal })),
    close: () => client.close(),
  };
}

/**
 * The workloads' gRPC service, `lab.Inventory`, on @grpc/grpc-js with raw-bytes messages (no
 * protobuf: the sizes are fixed, so the bytes every side counts are known exactly):
 *
 *   /lab.Inventory/Get     unary: 32 B request, 256 B reply
 *   /lab.Inventory/List    server stream: 8 B request, 8 replies of 512 B
 *   /lab.Inventory/Delete  unary: 32 B request, 16 B reply (the method the policy denies)
 *
 * And the two etcd KV methods the sidecar counts keys of, encoded by hand (the key is field 1).
 */
import type * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;
const method = (path: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

export const INVENTORY = {
  get: method('/lab.Inventory/Get', false),
  list: method('/lab.Inventory/List', true),
  delete: method('/lab.Inventory/Delete', false),
} as const satisfies grpc.ServiceDefinition;

export type InventoryMethod = keyof typeof INVENTORY;
export const INVENTORY_METHODS = Object.keys(INVENTORY) as InventoryMethod[];
export const methodPath = (m: InventoryMethod): string => INVENTORY[m].path;

/** The method the scenario's policy denies. */
export const DENIED_METHOD: InventoryMethod = 'delete';

/** Message sizes of each method (payload bytes, without the 5-byte gRPC prefix). */
export const SIZES: Readonly<Record<InventoryMethod, { readonly request: number; readonly response: number; readonly responses: number }>> = {
  get: { request: 32, response: 256, responses: 1 },
  list: { request: 8, response: 512, responses: 8 },
  delete: { request: 32, response: 16, responses: 1 },
};

export const ETCD = {
  range: method('/etcdserverpb.KV/Range', false),
  put: method('/etcdserverpb.KV/Put', false),
} as const satisfies grpc.ServiceDefinition;

/** A protobuf length-delimited field. */
function field(no: number, value: Buffer): Buffer {
  const len: number[] = [];
  let n = value.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(no << 3) | 2, ...len]), value]);
}

/** etcdserverpb.RangeRequest { key } and PutRequest { key, value }. */
export const rangeRequest = (key: string): Buffer => field(1, Buffer.from(key));
export const putRequest = (key: string, value: string): Buffer => Buffer.concat([field(1, Buffer.from(key)), field(2, Buffer.from(value))]);

/** The i-th call of a client loop: every 10th a Delete, 3 in 10 a List, the rest Get. */
export function methodOfCall(i: number): InventoryMethod {
  const r = i % 10;
  return r === 0 ? 'delete' : r <= 3 ? 'list' : 'get';
}

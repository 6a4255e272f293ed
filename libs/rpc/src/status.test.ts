import { test } from 'vitest';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { defineError } from '@netaccel/errors';
import type { ErrorKind } from '@netaccel/errors';
import {
  ERROR_CODE_METADATA,
  ERROR_DETAILS_METADATA,
  RpcError,
  STATUS_OF_KIND,
  callName,
  kindOfStatus,
  remoteErrorOf,
  splitPath,
  statusName,
  toServerFailure,
} from './status.js';
import { toRpcError } from './client.js';
import { KINDS } from './test/fixtures.js';

const site = { service: 'netaccel.loader.v1.Loader', method: 'MapLookup' };

test('every kind has a status, no two kinds share one, and the reverse gives the kind back', () => {
  assert.deepEqual(Object.keys(STATUS_OF_KIND).sort(), [...KINDS].sort());
  assert.equal(new Set(Object.values(STATUS_OF_KIND)).size, KINDS.length);
  for (const k of KINDS) assert.equal(kindOfStatus(STATUS_OF_KIND[k]), k);
  assert.ok(Object.isFrozen(STATUS_OF_KIND));
});

test('statuses no kind produces map to the nearest kind', () => {
  const expected: [status, ErrorKind][] = [
    [status.CANCELLED, 'aborted'],
    [status.UNKNOWN, 'internal'],
    [status.OUT_OF_RANGE, 'invalid-argument'],
    [status.UNIMPLEMENTED, 'failed-precondition'],
    [status.UNAUTHENTICATED, 'permission-denied'],
    [status.DATA_LOSS, 'internal'],
  ];
  for (const [code, kind] of expected) assert.equal(kindOfStatus(code), kind, statusName(code));
  assert.equal(statusName(status.NOT_FOUND), 'NOT_FOUND');
  assert.equal(statusName(99 as status), 'STATUS_99');
});

test('toServerFailure: a NetaccelError keeps code, message and details; anything else is a generic INTERNAL', () => {
  const NA_ERR_DEMO_GONE = defineError('NA_ERR_DEMO_GONE', 'map %s is gone', 'not-found');
  const f = toServerFailure(NA_ERR_DEMO_GONE.with({ details: { map: 'm1', bytes: 2n ** 64n } }, 'm1'), site);
  assert.equal(f.error.code, status.NOT_FOUND);
  assert.equal(f.error.details, 'map m1 is gone');
  assert.equal(f.naCode, 'NA_ERR_DEMO_GONE');
  assert.equal(f.unexpected, false);
  assert.deepEqual(f.error.metadata.get(ERROR_CODE_METADATA), ['NA_ERR_DEMO_GONE']);
  const details = f.error.metadata.get(ERROR_DETAILS_METADATA)[0];
  assert.ok(Buffer.isBuffer(details));
  assert.deepEqual(JSON.parse(details.toString()), { map: 'm1', bytes: '18446744073709551616' });

  const huge = toServerFailure(NA_ERR_DEMO_GONE.with({ details: { log: 'x'.repeat(10_000) } }, 'm1'), site);
  assert.deepEqual(huge.error.metadata.get(ERROR_DETAILS_METADATA), [], 'oversized details stay in the log');

  const bug = toServerFailure(new RangeError('index 7 out of range'), site);
  assert.equal(bug.error.code, status.INTERNAL);
  assert.equal(bug.unexpected, true);
  assert.equal(bug.naCode, 'NA_ERR_RPC_INTERNAL');
  assert.doesNotMatch(bug.error.details, /index 7/);
  assert.equal(toServerFailure('a string', site).error.code, status.INTERNAL);
});

function serviceError(code: status, details: string, md?: Metadata): ServiceError {
  return Object.assign(new Error(`${code} ${statusName(code)}: ${details}`), { code, details, metadata: md ?? new Metadata() });
}

test('toRpcError: remote codes win; UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED and others get NA_ERR_RPC codes', () => {
  const md = new Metadata();
  md.set(ERROR_CODE_METADATA, 'NA_ERR_LOADER_MAP_NOT_FOUND');
  md.set(ERROR_DETAILS_METADATA, Buffer.from('{"mapId":"m"}'));
  const remote = toRpcError(serviceError(status.NOT_FOUND, 'no map m', md), site, '/run/netaccel/loader.sock', 5000);
  assert.ok(remote instanceof RpcError);
  assert.deepEqual(
    { code: remote.code, kind: remote.kind, message: remote.message, details: remote.details, remote: remote.remote, grpc: remote.grpcCodeName },
    { code: 'NA_ERR_LOADER_MAP_NOT_FOUND', kind: 'not-found', message: 'no map m', details: { mapId: 'm' }, remote: true, grpc: 'NOT_FOUND' },
  );

  const down = toRpcError(serviceError(status.UNAVAILABLE, 'No connection established'), site, '/run/x.sock', 5000);
  assert.equal(down.code, 'NA_ERR_RPC_UNAVAILABLE');
  assert.equal(down.message, 'Loader.MapLookup: cannot reach /run/x.sock (is the daemon running?): No connection established');
  assert.equal(down.remote, false);

  const slow = toRpcError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), site, '/run/x.sock', 250);
  assert.equal(slow.message, 'Loader.MapLookup: deadline of 250 ms exceeded; no answer from /run/x.sock');
  assert.equal(toRpcError(serviceError(status.CANCELLED, 'Cancelled on client'), site, 't', 1).code, 'NA_ERR_RPC_CANCELLED');

  const unimpl = toRpcError(serviceError(status.UNIMPLEMENTED, 'Method not found'), site, 't', 1);
  assert.equal(unimpl.code, 'NA_ERR_RPC_CALL_FAILED');
  assert.equal(unimpl.kind, 'failed-precondition');
  assert.equal(unimpl.message, 'Loader.MapLookup: UNIMPLEMENTED from t: Method not found');

  const junk = new Metadata();
  junk.set(ERROR_CODE_METADATA, 'not a code');
  assert.equal(remoteErrorOf(serviceError(status.INTERNAL, 'x', junk)), undefined, 'a malformed code is ignored');

  assert.deepEqual(JSON.parse(JSON.stringify(down)), {
    name: 'RpcError', code: 'NA_ERR_RPC_UNAVAILABLE', kind: 'unavailable', message: down.message, details: { target: '/run/x.sock' },
    grpcCode: 'UNAVAILABLE', service: site.service, method: site.method, target: '/run/x.sock', remote: false,
  });
});

test('method paths split into service and method; messages use the short form', () => {
  assert.deepEqual(splitPath('/netaccel.loader.v1.Loader/MapDump'), { service: 'netaccel.loader.v1.Loader', method: 'MapDump' });
  assert.equal(callName(splitPath('/grpc.health.v1.Health/Check')), 'Health.Check');
});

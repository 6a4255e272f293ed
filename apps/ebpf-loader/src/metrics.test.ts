import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { RpcCallInfo } from '@netaccel/rpc';
import { createMetrics, parseExposition } from '@netaccel/telemetry';
import type { Loader } from './loader.js';
import { registerLoaderMetrics } from './metrics.js';

/** What the metrics read of a loader: its records (none here) and whether stats are on. */
const EMPTY_LOADER = { reg: { objects: new Map(), attachments: new Map() }, statsEnabled: false, report: { dangling: [] } } as unknown as Loader;

function call(method: string, codeName: string, durationMs: number, side: 'server' | 'client' = 'server'): RpcCallInfo {
  return { side, service: 'netaccel.loader.v1.Loader', method, type: 'unary', code: codeName === 'OK' ? 0 : 5, codeName, errorCode: undefined, durationMs };
}

test('the onCall hook counts calls by method and code and times them by method (label sets made once, counted every time)', async () => {
  const metrics = createMetrics({ app: 'ebpf-loader', processMetrics: false });
  const onCall = registerLoaderMetrics(metrics, EMPTY_LOADER);
  onCall(call('MapUpdate', 'OK', 0.4));
  onCall(call('MapUpdate', 'OK', 2));
  onCall(call('MapUpdate', 'NOT_FOUND', 0.2));
  onCall(call('TestRun', 'OK', 0.3));
  onCall(call('MapUpdate', 'OK', 1, 'client')); // a client's call is not the loader's
  const families = parseExposition(await metrics.text());
  const value = (name: string, labels: Record<string, string>) => {
    const f = families.find((x) => x.samples.some((s) => s.name === name));
    return f?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  };
  assert.equal(value('netaccel_loader_rpc_requests_total', { method: 'MapUpdate', code: 'OK' }), 2);
  assert.equal(value('netaccel_loader_rpc_requests_total', { method: 'MapUpdate', code: 'NOT_FOUND' }), 1);
  assert.equal(value('netaccel_loader_rpc_requests_total', { method: 'TestRun', code: 'OK' }), 1);
  assert.equal(value('netaccel_loader_rpc_request_duration_seconds_count', { method: 'MapUpdate' }), 3);
  assert.ok(Math.abs(value('netaccel_loader_rpc_request_duration_seconds_sum', { method: 'MapUpdate' })! - 0.0026) < 1e-12);
  assert.equal(value('netaccel_loader_rpc_request_duration_seconds_bucket', { method: 'MapUpdate', le: '0.0005' }), 2);
});

import assert from 'node:assert/strict';
import { test } from 'vitest';
import { PLACEMENT_CHANNEL_OPTIONS, placementClientOptions } from './grpc-placement.js';

test('the placement channel reconnects within a second, not after grpc-js growing backoff (a client started before its scheduler); a caller may override', () => {
  const o = placementClientOptions({ address: 'unix:///run/netaccel/craq-scheduler.sock', deadlineMs: 2000 });
  assert.equal(o.address, 'unix:///run/netaccel/craq-scheduler.sock');
  assert.equal(o.deadlineMs, 2000);
  assert.deepEqual({ ...o.grpcOptions }, { ...PLACEMENT_CHANNEL_OPTIONS });
  assert.ok(PLACEMENT_CHANNEL_OPTIONS['grpc.max_reconnect_backoff_ms'] <= 1000, 'a view is at most ~1 s behind a scheduler that comes up');
  const mine = placementClientOptions({ address: 'unix:///x.sock', grpcOptions: { 'grpc.max_reconnect_backoff_ms': 5000, 'grpc.enable_channelz': 1 } });
  assert.equal(mine.grpcOptions?.['grpc.max_reconnect_backoff_ms'], 5000);
  assert.equal(mine.grpcOptions?.['grpc.initial_reconnect_backoff_ms'], 100);
  assert.equal(mine.grpcOptions?.['grpc.enable_channelz'], 1);
});

/**
 * CallStats: the per-method records, the Prometheus series (bound once per method) and the access
 * lines (a pino child per method) say what each call was, including calls beyond `maxMethods`
 * (the `other` series, the line naming the real method) and a listener whose direction changes.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { childLogger, createLogCapture, createLogger, createMetrics, parseExposition } from '@netaccel/telemetry';
import type { CallRecord } from './stats.js';
import { CallStats, OTHER_METHOD } from './stats.js';

function setup(maxMethods: number) {
  const capture = createLogCapture();
  const log = createLogger({ name: 'sidecar-offload', pretty: false, destination: capture.stream });
  const metrics = createMetrics({ app: 'sidecar-offload', processMetrics: false });
  const stats = new CallStats(metrics, childLogger(log, 'access'), { maxMethods, accessLog: true });
  const sample = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
    const samples = parseExposition(await metrics.text()).flatMap((f) => f.samples);
    return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  };
  return { capture, stats, sample };
}

const call = (over: Partial<CallRecord>): CallRecord => ({
  listener: 'out',
  direction: 'outbound',
  method: '/a.S/M',
  remote: '127.0.0.1:5000',
  upstream: '127.0.0.1:6000',
  grpcStatus: 0,
  grpcMessage: '',
  durationMs: 1.2345678,
  requestBytes: 10,
  responseBytes: 20,
  requestMessages: 1,
  responseMessages: 2,
  requestId: undefined,
  ...over,
});

test('series per method and status, summed over calls; one access line per call with its own fields', async () => {
  const { capture, stats, sample } = setup(10);
  stats.record(call({ requestId: 'r1' }));
  stats.record(call({ grpcStatus: 14, grpcMessage: 'gone', durationMs: 700, requestBytes: 1, responseBytes: 0, responseMessages: 0 }));
  stats.record(call({ method: '/a.S/N', listener: 'in', direction: 'inbound' }));

  assert.equal(await sample('netaccel_sidecar_calls_total', { listener: 'out', method: '/a.S/M', code: 'OK' }), 1);
  assert.equal(await sample('netaccel_sidecar_calls_total', { listener: 'out', method: '/a.S/M', code: 'UNAVAILABLE' }), 1);
  assert.equal(await sample('netaccel_sidecar_calls_total', { listener: 'in', method: '/a.S/N', code: 'OK' }), 1);
  assert.equal(await sample('netaccel_sidecar_message_bytes_total', { listener: 'out', method: '/a.S/M', direction: 'request' }), 11);
  assert.equal(await sample('netaccel_sidecar_message_bytes_total', { listener: 'out', method: '/a.S/M', direction: 'response' }), 20);
  assert.equal(await sample('netaccel_sidecar_messages_total', { listener: 'out', method: '/a.S/M', direction: 'response' }), 2);
  assert.equal(await sample('netaccel_sidecar_call_duration_seconds_count', { listener: 'out', method: '/a.S/M' }), 2);
  assert.equal(await sample('netaccel_sidecar_call_duration_seconds_bucket', { listener: 'out', method: '/a.S/M', le: '0.0025' }), 1);
  assert.equal(await sample('netaccel_sidecar_call_duration_seconds_bucket', { listener: 'out', method: '/a.S/M', le: '1' }), 2);

  const m = stats.methods('out')[0]!;
  assert.deepEqual([m.calls, [...m.statuses], m.requestBytes, m.buckets.reduce((a, b) => a + b, 0)], [2, [[0, 1], [14, 1]], 11, 2]);

  const lines = capture.find({ msg: 'grpc call' });
  assert.equal(lines.length, 3);
  const [first, second, third] = lines;
  assert.deepEqual(
    { ...first, time: undefined, pid: undefined, hostname: undefined },
    {
      level: 'info',
      time: undefined,
      pid: undefined,
      hostname: undefined,
      app: 'sidecar-offload',
      component: 'access',
      listener: 'out',
      direction: 'outbound',
      method: '/a.S/M',
      remote: '127.0.0.1:5000',
      upstream: '127.0.0.1:6000',
      grpcStatus: 0,
      grpcCode: 'OK',
      durationMs: 1.235,
      requestBytes: 10,
      responseBytes: 20,
      requestMessages: 1,
      responseMessages: 2,
      requestId: 'r1',
      msg: 'grpc call',
    },
  );
  assert.deepEqual([second!.grpcCode, second!.grpcMessage, second!.requestId, second!.method], ['UNAVAILABLE', 'gone', undefined, '/a.S/M']);
  assert.deepEqual([third!.listener, third!.direction, third!.method], ['in', 'inbound', '/a.S/N']);
});

test('beyond maxMethods: the other series, each access line naming its own method; a changed direction is logged as it is', async () => {
  const { capture, stats, sample } = setup(2);
  for (const method of ['/a.S/A', '/a.S/B', '/a.S/C', '/a.S/D', '/a.S/C']) stats.record(call({ method }));
  stats.record(call({ method: '/a.S/A', direction: 'inbound' }));

  assert.equal(await sample('netaccel_sidecar_calls_total', { method: '/a.S/A', code: 'OK' }), 2);
  assert.equal(await sample('netaccel_sidecar_calls_total', { method: OTHER_METHOD, code: 'OK' }), 3);
  assert.equal(await sample('netaccel_sidecar_calls_total', { method: '/a.S/C' }), undefined);
  assert.deepEqual(
    stats.methods('out').map((m) => [m.method, m.calls]),
    [
      ['/a.S/A', 2],
      ['/a.S/B', 1],
      [OTHER_METHOD, 3],
    ],
  );
  const lines = capture.find({ msg: 'grpc call' });
  assert.deepEqual(
    lines.map((l) => [l.method, l.direction]),
    [
      ['/a.S/A', 'outbound'],
      ['/a.S/B', 'outbound'],
      ['/a.S/C', 'outbound'],
      ['/a.S/D', 'outbound'],
      ['/a.S/C', 'outbound'],
      ['/a.S/A', 'inbound'],
    ],
  );
});

import assert from 'node:assert/strict';
import { test } from 'vitest';
import { createMetrics, createLogger } from '@netaccel/telemetry';
import { parseConfig } from '@netaccel/config';
import { sidecarConfig } from './config.js';
import { EtcdHeat, heatOpOf } from './etcd-heat.js';
import type { HeatStore } from './etcd-heat.js';
import { GrpcFramer, formatGrpcTimeout, parseGrpcTimeout, protobufBytesField } from './grpc-wire.js';
import { kernelPolicyOf } from './offload.js';
import { compilePolicy, compileRoutes, decide, matchRoute, serviceOf } from './policy.js';

function frame(payload: Buffer, compressed = false): Buffer {
  const p = Buffer.alloc(5);
  p[0] = compressed ? 1 : 0;
  p.writeUInt32BE(payload.length, 1);
  return Buffer.concat([p, payload]);
}

/** An etcd RangeRequest / PutRequest: key = 1 (bytes), then range_end = 2 or value = 2 (bytes), limit = 3 (varint). */
function etcdRequest(key: Buffer, second: Buffer, limit = 0): Buffer {
  const len = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const parts = [Buffer.from([0x0a]), len(key.length), key, Buffer.from([0x12]), len(second.length), second];
  if (limit > 0) parts.push(Buffer.from([0x18]), len(limit));
  return Buffer.concat(parts);
}

test('the framer finds every message wherever the chunks split them (every split point of a 3-message stream)', () => {
  const msgs = [Buffer.from('first message'), Buffer.alloc(0), Buffer.alloc(300, 7)];
  const wire = Buffer.concat(msgs.map((m) => frame(m)));
  for (let a = 0; a <= wire.length; a++) {
    for (const b of [a, Math.min(wire.length, a + 1), Math.min(wire.length, a + 6), wire.length]) {
      const seen: Buffer[] = [];
      const f = new GrpcFramer(1000, (m) => seen.push(m.head));
      f.push(wire.subarray(0, a));
      f.push(wire.subarray(a, b));
      f.push(wire.subarray(b));
      assert.deepEqual(seen, msgs, `split at ${a}, ${b}`);
      assert.equal(f.messages, 3);
      assert.equal(f.bytes, 313);
      assert.equal(f.partial, false);
    }
  }
  const f = new GrpcFramer(4);
  f.push(frame(Buffer.alloc(100)).subarray(0, 50));
  assert.equal(f.partial, true, 'a truncated message');
  assert.equal(f.messages, 0);
});

test('a counting-only framer (no capture, no callback) counts the same at every split, byte by byte too; a length over 2^31 is read whole', () => {
  const msgs = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 3), Buffer.from('tail')];
  const wire = Buffer.concat(msgs.map((m) => frame(m)));
  for (const step of [1, 2, 3, 4, 5, 6, 7, 4096, wire.length]) {
    const f = new GrpcFramer();
    for (let off = 0; off < wire.length; off += step) f.push(wire.subarray(off, off + step));
    assert.deepEqual([f.messages, f.bytes, f.partial], [4, 70_005, false], `chunks of ${step}`);
  }
  for (const split of [1, 2, 3, 4, 5]) {
    let length = -1;
    let compressed = false;
    const f = new GrpcFramer(0, (m) => ((length = m.length), (compressed = m.compressed)));
    const prefix = Buffer.from([0x01, 0x80, 0x00, 0x00, 0x02]);
    f.push(prefix.subarray(0, split));
    f.push(prefix.subarray(split));
    assert.deepEqual([f.partial, f.messages, length], [true, 0, -1], `prefix split at ${split}`);
    f.push(Buffer.alloc(10));
    assert.equal(f.bytes, 10);
    const g = new GrpcFramer(0, (m) => ((length = m.length), (compressed = m.compressed)));
    g.push(Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00]));
    assert.deepEqual([length, compressed], [0, true]);
  }
  const big = new GrpcFramer();
  big.push(Buffer.from([0x00, 0x80, 0x00]));
  big.push(Buffer.from([0x00, 0x02, 0xaa]));
  assert.deepEqual([big.bytes, big.partial, big.messages], [1, true, 0], '2^31 + 2 bytes announced: one seen, the message goes on');
});

test('the framer keeps only the first `capture` bytes of a big message', () => {
  let head: Buffer | undefined;
  const f = new GrpcFramer(16, (m) => (head = m.head));
  const big = Buffer.alloc(1 << 20, 1);
  big.write('0123456789abcdefXYZ');
  const wire = frame(big);
  for (let off = 0; off < wire.length; off += 1000) f.push(wire.subarray(off, off + 1000));
  assert.equal(head!.toString(), '0123456789abcdef');
  assert.equal(f.bytes, big.length);
});

test('protobuf field 1 of etcd requests: keys with long values and limits, multi-byte lengths, truncated heads', () => {
  const key = Buffer.from('/registry/pods/default/web-0');
  assert.deepEqual(protobufBytesField(etcdRequest(key, Buffer.from('/registry/pods0'), 10), 1), key);
  const long = Buffer.alloc(300, 0x61);
  const put = etcdRequest(long, Buffer.alloc(100_000));
  assert.deepEqual(protobufBytesField(put, 1), long, 'a two-byte length');
  assert.deepEqual(protobufBytesField(put.subarray(0, 303), 1), long, 'the head holds exactly the key');
  assert.equal(protobufBytesField(put.subarray(0, 200), 1), undefined, 'the key runs past the head');
  // key after another field: limit (3, varint) first
  const later = Buffer.concat([Buffer.from([0x18, 0x05]), Buffer.from([0x0a, 0x02]), Buffer.from('ab')]);
  assert.deepEqual(protobufBytesField(later, 1), Buffer.from('ab'));
  assert.equal(protobufBytesField(Buffer.from([0x18]), 1), undefined, 'a truncated varint');
  assert.equal(protobufBytesField(Buffer.alloc(0), 1), undefined, 'an empty key is absent in proto3');
});

test('grpc-timeout: every unit parsed, malformed values ignored, formatting round-trips', () => {
  assert.deepEqual(['1H', '2M', '3S', '400m', '5000u', '6000000n'].map(parseGrpcTimeout), [3_600_000, 120_000, 3000, 400, 5, 6]);
  assert.deepEqual(['', '1', '123456789m', '1.5S', '-1S', '1s'].map(parseGrpcTimeout), [undefined, undefined, undefined, undefined, undefined, undefined]);
  assert.equal(formatGrpcTimeout(250.2), '251m');
  assert.equal(parseGrpcTimeout(formatGrpcTimeout(3_600_000 * 30)), 3_600_000 * 30);
  assert.equal(formatGrpcTimeout(0), '1m');
});

test('policy: method rules win over service rules, which win over the default; routes match in order', () => {
  const p = compilePolicy('l', {
    default: 'deny',
    rules: [
      { service: 'a.Svc', action: 'allow' },
      { method: '/a.Svc/Drop', action: 'deny' },
      { method: '/b.Svc/Only', action: 'allow' },
    ],
  });
  assert.deepEqual(['/a.Svc/Get', '/a.Svc/Drop', '/b.Svc/Only', '/b.Svc/Other', '/bad', '/a.Svc/x/y'].map((m) => decide(p, m)), [
    { action: 'allow', by: 'service' },
    { action: 'deny', by: 'method' },
    { action: 'allow', by: 'method' },
    { action: 'deny', by: 'default' },
    { action: 'deny', by: 'default' },
    { action: 'deny', by: 'default' },
  ]);
  assert.equal(serviceOf('/etcdserverpb.KV/Range'), 'etcdserverpb.KV');
  const routes = compileRoutes(
    [
      { method: '/a.Svc/Slow', cluster: 'slow', timeout: 100 },
      { service: 'a.Svc', cluster: 'a' },
      { prefix: '/', cluster: 'rest', maxTimeout: 50 },
    ],
    { timeout: 30_000, maxTimeout: 300_000 },
  );
  assert.deepEqual(['/a.Svc/Slow', '/a.Svc/Get', '/z.Z/Q'].map((m) => matchRoute(routes, m)?.cluster), ['slow', 'a', 'rest']);
  assert.deepEqual([routes[0]!.timeoutMs, routes[2]!.timeoutMs, routes[2]!.maxTimeoutMs], [100, 50, 50], 'the default is capped too');
});

test('configuration: refused whole with field paths', () => {
  assert.throws(
    () =>
      parseConfig(sidecarConfig, {
        env: {},
        yaml: `
sidecar:
  listeners:
    - { name: a, direction: inbound, listen: '127.0.0.1:1', routes: [{ prefix: /, service: x.Y, cluster: c }], policy: { rules: [{ method: 'nope', action: deny }] } }
  clusters: [{ name: c, endpoints: [] }]
`,
      }),
    (err: Error) =>
      /sidecar\.listeners\[0\]\.routes\[0\]: expected exactly one of method, service, prefix, got service, prefix/.test(err.message) &&
      /sidecar\.listeners\[0\]\.policy\.rules\[0\]\.method: expected a method path/.test(err.message) &&
      /sidecar\.clusters\[0\]\.endpoints/.test(err.message),
  );
});

test('etcd heat: counts batched per key, flushed as ZINCRBY, kept when the store fails, bounded by maxPendingKeys', async () => {
  const cfg = parseConfig(sidecarConfig, { env: {}, yaml: 'etcdHeat: { enabled: true, maxPendingKeys: 3 }' }).etcdHeat;
  const written: { set: string; member: string; by: number }[] = [];
  let fail = true;
  const store: HeatStore = {
    zincrby: async (entries) => {
      if (fail) throw new Error('redis down');
      written.push(...entries.map((e) => ({ set: e.set, member: e.member.toString('latin1'), by: e.by })));
    },
    close: async () => {},
  };
  const heat = new EtcdHeat(cfg, store, createMetrics({ app: 'sidecar-offload' }), createLogger({ name: 't', level: 'silent' }));
  const msg = (key: string) => ({ head: etcdRequest(Buffer.from(key, 'latin1'), Buffer.from('v')), length: 100, compressed: false });
  assert.equal(heatOpOf('/etcdserverpb.KV/Range'), 'reads');
  assert.equal(heatOpOf('/etcdserverpb.KV/DeleteRange'), undefined);
  heat.message('reads', msg('a'));
  heat.message('reads', msg('a'));
  heat.message('writes', msg('\xff\x00binary'));
  heat.message('reads', { ...msg('z'), compressed: true });
  await heat.flush();
  assert.equal(heat.pendingKeys, 2, 'kept after the failed flush');
  heat.message('reads', msg('b'));
  heat.message('reads', msg('c'));
  heat.message('reads', msg('d')); // a fourth distinct read key: over maxPendingKeys, dropped
  heat.message('reads', msg('a'));
  fail = false;
  await heat.flush();
  assert.deepEqual(
    written.sort((x, y) => (x.set + x.member).localeCompare(y.set + y.member)),
    [
      { set: 'netaccel:craq:heat:reads', member: 'a', by: 3 },
      { set: 'netaccel:craq:heat:reads', member: 'b', by: 1 },
      { set: 'netaccel:craq:heat:reads', member: 'c', by: 1 },
      { set: 'netaccel:craq:heat:writes', member: '\xff\x00binary', by: 1 },
    ],
  );
  assert.equal(heat.pendingKeys, 0);
  await heat.close();
});

test('the kernel path gets exact method paths and the default; a service rule that differs from the default keeps the listener in user space', () => {
  const plain = compilePolicy('out', { default: 'allow', rules: [{ method: '/a.S/M', action: 'deny' }, { service: 'b.S', action: 'allow' }] });
  assert.deepEqual(kernelPolicyOf(plain), { policy: { methods: { '/a.S/M': 'deny' }, defaultAction: 'allow' } });
  const svc = compilePolicy('in', { default: 'allow', rules: [{ service: 'b.S', action: 'deny' }] });
  assert.deepEqual(kernelPolicyOf(svc), { reason: 'policy of listener in has service rules the kernel cannot match: b.S' });
});

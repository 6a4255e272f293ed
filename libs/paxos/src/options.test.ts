import { test } from 'vitest';
import assert from 'node:assert/strict';
import { PaxosClient } from './client.js';
import { KvStateMachine } from './kv.js';
import { resolveReplicaOptions } from './options.js';
import type { ReplicaOptions } from './options.js';
import { udpTransport } from './transport.js';

const base: ReplicaOptions = {
  replicas: [1, 2, 3].map((i) => ({ address: '127.0.0.1', port: 7000 + i })),
  self: 0,
  stateMachine: new KvStateMachine(),
};

test('defaults are filled in, f derived, the result frozen', () => {
  const o = resolveReplicaOptions(base);
  assert.equal(o.n, 3);
  assert.equal(o.f, 1);
  assert.equal(o.start, 'fresh');
  assert.equal(o.heartbeatMs, 50);
  assert.equal(o.checkpointEvery, 4096);
  assert.equal(o.logRetain, 1024);
  assert.equal(o.clientRetainOps, 1 << 20);
  assert.equal(o.maxClients, 4096);
  assert.deepEqual([o.retransmitMs, o.retransmitMaxMs], [60, 1000]);
  assert.equal(resolveReplicaOptions({ ...base, retransmitMs: 5000 }).retransmitMaxMs, 5000, 'by default at least retransmitMs');
  assert.equal(resolveReplicaOptions({ ...base, logRetain: 0, checkpointEvery: 1 }).logRetain, 0);
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.replicas));
});

test('bad options are refused with the path of the field', () => {
  const cases: Array<[Partial<ReplicaOptions>, RegExp]> = [
    [{ replicas: base.replicas.slice(0, 2) }, /replicas: expected an odd number of replicas 1\.\.31/],
    [{ replicas: [{ address: '127.0.0.1', port: 1 }, { address: '::1', port: 2 }, { address: '127.0.0.1', port: 3 }] }, /replicas\[1\]\.address: expected IPv4 like replicas\[0\]/],
    [{ replicas: [{ address: 'localhost', port: 1 }] }, /replicas\[0\]\.address: expected an IPv4 or IPv6 address/],
    [{ replicas: [{ address: '127.0.0.1', port: 0 }] }, /replicas\[0\]\.port: expected 1\.\.65535, got 0/],
    [{ self: 3 }, /self: expected 0\.\.2, got 3/],
    [{ heartbeatMs: 0 }, /heartbeatMs: expected an integer 1\.\.60000, got 0/],
    [{ retransmitMs: 100, retransmitMaxMs: 50 }, /retransmitMaxMs: expected at least retransmitMs \(100\), got 50/],
    [{ heartbeatMs: 100, viewChangeTimeoutMs: 100 }, /viewChangeTimeoutMs: expected more than heartbeatMs \(100\), got 100/],
    [{ start: 'warm' as 'fresh' }, /start: expected 'fresh' or 'recover'/],
    [{ stateMachine: {} as KvStateMachine }, /stateMachine: expected an object with apply/],
    [{ stateMachine: { apply: () => ({ ok: true, result: Buffer.alloc(0) }) } as unknown as KvStateMachine }, /stateMachine: expected an object with apply\(op\), snapshot\(\) and restore\(bytes\)/],
    [{ checkpointEvery: 0 }, /checkpointEvery: expected an integer 1\.\.16777216, got 0/],
    [{ checkpointEvery: 1.5 }, /checkpointEvery: expected an integer/],
    [{ logRetain: -1 }, /logRetain: expected an integer 0\.\.16777216, got -1/],
    [{ clientRetainOps: 0 }, /clientRetainOps: expected an integer 1\.\.1099511627776, got 0/],
    [{ maxClients: 0 }, /maxClients: expected an integer 1\.\.16777216, got 0/],
    [{ maxClients: 2.5 }, /maxClients: expected an integer/],
  ];
  for (const [patch, re] of cases) assert.throws(() => resolveReplicaOptions({ ...base, ...patch }), (err: unknown) => (err as { code?: string }).code === 'NA_ERR_PAXOS_INVALID_OPTIONS' && re.test((err as Error).message), re.source);
});

test('client: an operation too large is refused; no answer ends in NA_ERR_PAXOS_TIMEOUT; closed is closed', async (t) => {
  const silent = await udpTransport({ address: '127.0.0.1', port: 0 }); // a "replica" that never answers
  t.onTestFinished(() => silent.close());
  const c = await PaxosClient.create({ replicas: [silent.local], retryMs: 10, timeoutMs: 60 });
  t.onTestFinished(() => c.close());
  await assert.rejects(c.invoke(Buffer.alloc(2000)), /op: 2000 bytes exceed the largest operation, 1332/);
  let requests = 0;
  silent.onMessage(() => requests++);
  await assert.rejects(c.invoke(Buffer.from('x')), (err: unknown) => (err as { code?: string }).code === 'NA_ERR_PAXOS_TIMEOUT');
  assert.ok(requests >= 2, `the request was re-sent (${requests})`);
  await c.close();
  await assert.rejects(c.invoke(Buffer.from('x')), /is closed/);
  await assert.rejects(PaxosClient.create({ replicas: [] }), /replicas: expected at least one replica/);
});

// The client against a chain of three user-space REFERENCE nodes (@netaccel/craq/testing: the
// protocol's state machine from the codec, not the XDP node) on loopback and a real etcd.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { craq } from '@netaccel/protocol';
import { CraqClient } from './client.js';
import type { ServedBy } from './client.js';
import { Etcd3 } from './etcd3-shape.js';
import { PlacementView, staticPlacementSource } from './placement.js';
import type { Placement } from './placement.js';
import { EtcdAndChain } from './testing/etcd-and-chain.js';
import type { RigClientOptions } from './testing/etcd-and-chain.js';

describe('CraqClient: placed keys through the chain, the rest through etcd', () => {
  let rig: EtcdAndChain;
  beforeAll(async () => {
    rig = await EtcdAndChain.start(3);
  });
  afterAll(() => rig?.close());

  function client(placement: () => Placement, opts: RigClientOptions = {}): CraqClient {
    return rig.client(placement(), placement, { timeoutMs: 100, attempts: 3, backoffMs: 5, ...opts });
  }

  test('put at the head, committed by the tail, read at every node; not-placed keys in etcd', async (t) => {
    await rig.chain.place('/ncc/a', 'v1');
    const c = client(() => rig.chain.placement(), { readFrom: 'round-robin' });
    t.onTestFinished(() => c.close());
    await c.put('/ncc/a', 'v2');
    assert.equal(c.lastServedBy.via, 'chain');
    assert.deepEqual(c.lastServedBy, { via: 'chain', node: 'n1', version: 2n, attempts: 1 }, 'sent to the head, committed at version 2');
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      assert.equal((await c.get('/ncc/a'))?.toString(), 'v2');
      const by: ServedBy = c.lastServedBy;
      assert.equal(by.via, 'chain');
      if (by.via === 'chain') seen.add(by.node);
    }
    assert.deepEqual([...seen].sort(), ['n1', 'n2', 'n3'], 'round robin reads every node');
    for (const n of rig.chain.nodes) assert.equal((await n.get(craq.craqKeyId('/ncc/a')))?.dirty, 0, `${n.name} clean after the ACK`);
    assert.equal(await rig.real.get('/ncc/a').string(), null, 'the chain write is not in etcd by itself (the scheduler writes it back)');

    await c.put('/ncc/plain', 'e1');
    assert.equal(c.lastServedBy.via, 'etcd');
    assert.equal(await rig.real.get('/ncc/plain').string(), 'e1');
    assert.equal((await c.get('/ncc/plain'))?.toString(), 'e1');
    await c.delete('/ncc/plain');
    assert.equal(await c.get('/ncc/plain'), null);
    assert.deepEqual({ ...c.counters }, { chainReads: 3, chainWrites: 1, etcdReads: 2, etcdWrites: 2, retries: 0, notPlaced: 0, markerRetries: 0 });
  });

  test('delete commits a tombstone: NOT_FOUND at every node', async (t) => {
    await rig.chain.place('/ncc/d', 'x');
    const c = client(() => rig.chain.placement(), { readFrom: 'tail' });
    t.onTestFinished(() => c.close());
    await c.delete('/ncc/d');
    assert.equal(await c.get('/ncc/d'), null);
    assert.equal(c.lastServedBy.via, 'chain');
    const head = await rig.chain.nodes[0]!.get(craq.craqKeyId('/ncc/d'));
    assert.equal(head?.value, null);
    assert.equal(head?.version, 2n);
  });

  test('NOT_PLACED: the key goes to etcd and stays there until the next refresh', async (t) => {
    const placement = rig.chain.placement();
    const ghost = { key: '/ncc/ghost', ...craq.craqKey('/ncc/ghost') };
    const c = client(() => ({ ...placement, keys: [...placement.keys, ghost] }));
    t.onTestFinished(() => c.close());
    await rig.real.put('/ncc/ghost').value('from-etcd');
    assert.equal((await c.get('/ncc/ghost'))?.toString(), 'from-etcd');
    assert.equal(c.lastServedBy.via, 'etcd');
    assert.equal(c.counters.notPlaced, 1);
    assert.equal(c.view.lookup('/ncc/ghost'), undefined, 'marked not placed');
    await c.put('/ncc/ghost', 'again');
    assert.equal(c.counters.notPlaced, 1, 'no second trip to the chain');
    assert.equal(await rig.real.get('/ncc/ghost').string(), 'again');
  });

  test('a write the chain may have applied (no reply) whose key then leaves the chain: OUTCOME_UNKNOWN, not written to etcd a second time', async (t) => {
    const { keyId } = await rig.chain.place('/ncc/u', 'u1');
    const c = client(() => rig.chain.placement(), { attempts: 3, timeoutMs: 100 });
    const middle = rig.chain.nodes[1]!;
    t.onTestFinished(() => {
      middle.loseIncoming = undefined;
      return c.close();
    });
    // the head applies the write; its PROPAGATE is lost and, meanwhile, the key is evicted
    middle.loseIncoming = (m) => {
      if (m.op !== craq.CraqOp.PROPAGATE || m.keyId !== keyId) return false;
      for (const n of rig.chain.nodes) void n.remove(keyId);
      return true;
    };
    await assert.rejects(c.put('/ncc/u', 'once'), (e: Error & { code?: string }) => e.code === 'NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN' && /put \/ncc\/u: outcome unknown: 1 attempt/.test(e.message));
    assert.equal(await rig.real.get('/ncc/u').string(), null, 'not sent to etcd');
    assert.equal(c.counters.etcdWrites, 0);
    // a write the chain refused outright (NOT_PLACED at the first attempt) was applied nowhere: etcd takes it
    await c.put('/ncc/u', 'twice-safe');
    assert.equal(await rig.real.get('/ncc/u').string(), 'twice-safe');
    await rig.real.delete().key('/ncc/u');
  });

  test('NOT_HEAD: a view with the wrong head is refreshed and the write retried at the head', async (t) => {
    await rig.chain.place('/ncc/h', 'h1');
    let fetched = 0;
    const right = (): Placement => {
      fetched++;
      return rig.chain.placement();
    };
    const c = rig.client(rig.chain.placement([...rig.chain.nodes].reverse()), right, { timeoutMs: 100, attempts: 3, backoffMs: 1 });
    t.onTestFinished(() => c.close());
    await c.put('/ncc/h', 'h2');
    assert.equal(fetched, 1, 'refreshed once');
    assert.deepEqual(c.lastServedBy, { via: 'chain', node: 'n1', version: 2n, attempts: 2 }, 'first to n3 (NOT_HEAD), then to the head');
  });

  test('RETRY while the key is not writable, then the write goes through; exhausted retries are an error', async (t) => {
    const { keyId } = await rig.chain.place('/ncc/r', 'r1');
    const c = client(() => rig.chain.placement(), { attempts: 4, backoffMs: 20 });
    t.onTestFinished(() => c.close());
    await rig.chain.nodes[0]!.setWritable(keyId, false);
    await assert.rejects(c.put('/ncc/r', 'no'), { code: 'NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED' });
    const retriesBefore = c.counters.retries;
    const writing = c.put('/ncc/r', 'r2');
    setTimeout(() => void rig.chain.nodes[0]!.setWritable(keyId, true), 5);
    await writing;
    assert.ok(c.counters.retries > retriesBefore, 'it retried');
    assert.equal((await c.get('/ncc/r'))?.toString(), 'r2');
  });

  test('a node that does not answer: reads move to the next node; writes time out', async (t) => {
    await rig.chain.place('/ncc/t', 't1');
    const c = client(() => rig.chain.placement(), { readFrom: 'nearest', nearestNode: 'n2', attempts: 2, timeoutMs: 80 });
    t.onTestFinished(() => {
      rig.chain.nodes[1]!.paused = false;
      rig.chain.nodes[0]!.paused = false;
      return c.close();
    });
    rig.chain.nodes[1]!.paused = true;
    assert.equal((await c.get('/ncc/t'))?.toString(), 't1');
    assert.equal(c.lastServedBy.via === 'chain' && c.lastServedBy.attempts, 2, 'second attempt at another node');
    rig.chain.nodes[0]!.paused = true;
    await assert.rejects(c.put('/ncc/t', 'lost'), { code: 'NA_ERR_CRAQCLIENT_TIMEOUT' });
  });

  test('a dirty key: the head answers the committed version (version query to the tail) until the write commits', async (t) => {
    const { keyId } = await rig.chain.place('/ncc/dirty', 'old');
    const c = client(() => rig.chain.placement(), { readFrom: 'head', attempts: 1, timeoutMs: 100 });
    t.onTestFinished(() => {
      rig.chain.nodes[2]!.paused = false;
      return c.close();
    });
    rig.chain.nodes[2]!.paused = true; // the tail drops the PROPAGATE
    await assert.rejects(c.put('/ncc/dirty', 'new'), { code: 'NA_ERR_CRAQCLIENT_TIMEOUT' });
    assert.equal((await rig.chain.nodes[0]!.get(keyId))?.dirty, 1, 'version 2 dirty at the head');
    rig.chain.nodes[2]!.paused = false;
    assert.equal((await c.get('/ncc/dirty'))?.toString(), 'old', 'not committed: the old value');
    assert.deepEqual(c.lastServedBy, { via: 'chain', node: 'n1', version: 1n, attempts: 1 });
    assert.equal(await rig.chain.nodes[0]!.resendDirty(), 1);
    for (let i = 0; i < 100 && (await rig.chain.nodes[0]!.get(keyId))?.dirty !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await c.get('/ncc/dirty'))?.toString(), 'new', 'committed after the resend');
  });

  test('the etcd3 shape: get().string/json/number/exists, put().value, delete().key', async (t) => {
    await rig.chain.place('/ncc/shape', '{"a":1}');
    const client = new Etcd3({ hosts: rig.etcd.clientUrl, craq: { scheduler: staticPlacementSource(() => rig.chain.placement()), timeoutMs: 100 } });
    t.onTestFinished(() => client.close());
    await client.view.refresh();
    assert.deepEqual(await client.get('/ncc/shape').json(), { a: 1 });
    assert.equal(await client.get('/ncc/shape'), '{"a":1}', 'awaited: the string');
    await client.put('/ncc/shape').value(42);
    assert.equal(await client.get('/ncc/shape').number(), 42);
    assert.equal(client.craq.lastServedBy.via, 'chain');
    await client.delete().key('/ncc/shape');
    assert.equal(await client.get('/ncc/shape').exists(), false);
    await client.put('/ncc/other').value('o');
    assert.equal(await client.get('/ncc/other').string(), 'o');
    assert.equal(client.craq.lastServedBy.via, 'etcd');
    assert.deepEqual(await client.getAll().prefix('/ncc/').keys(), ['/ncc/ghost', '/ncc/other'], 'ranges are etcd3 own');
  });

  test('bad options are refused with the field', () => {
    const view = new PlacementView(staticPlacementSource(() => rig.chain.placement()));
    assert.throws(() => new CraqClient({ view, etcd: rig.real, attempts: 0 }), { code: 'NA_ERR_CRAQCLIENT_OPTIONS_INVALID', message: /attempts/ });
    assert.throws(() => new CraqClient({ view, etcd: rig.real, readFrom: 'closest' as 'head' }), { code: 'NA_ERR_CRAQCLIENT_OPTIONS_INVALID', message: /readFrom/ });
  });
});

// The placement marker against a real etcd and reference nodes: a client whose placement view
// lags a placement cannot write or read the key in etcd behind the chain's back (the stale read
// the CRAQ lab found: an etcd write c0-728 installed late, the chain still answering c0-685).
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { craq } from '@netaccel/protocol';
import type { CraqClient } from './client.js';
import { getIfUnplaced, placedMarkerKey, writeIfUnplaced } from './marker.js';
import type { Placement } from './placement.js';
import { EtcdAndChain } from './testing/etcd-and-chain.js';

describe('placement marker', () => {
  let rig: EtcdAndChain;
  beforeAll(async () => {
    rig = await EtcdAndChain.start(3);
  });
  afterAll(() => rig?.close());

  /** A client whose view is `lagging` (the key not placed) until it refreshes, then what `now` says. */
  function laggingClient(lagging: Placement, now: () => Placement, markerWaitMs = 5000): CraqClient {
    return rig.client(lagging, now, { timeoutMs: 200, attempts: 3, backoffMs: 1, maxBackoffMs: 20, markerWaitMs });
  }

  test('the guarded etcd path: done without a marker, refused with one', async () => {
    const done = await writeIfUnplaced(rig.real, '/ncl/m/a', Buffer.from('x'));
    assert.deepEqual(done, { placed: false, result: BigInt((await rig.real.get('/ncl/m/a').exec()).kvs[0]!.mod_revision) });
    await rig.real.put(placedMarkerKey('/ncl/m/a')).value('1');
    assert.deepEqual(await writeIfUnplaced(rig.real, '/ncl/m/a', Buffer.from('y')), { placed: true });
    assert.deepEqual(await writeIfUnplaced(rig.real, '/ncl/m/a', null), { placed: true });
    assert.deepEqual(await getIfUnplaced(rig.real, '/ncl/m/a'), { placed: true });
    assert.equal(await rig.real.get('/ncl/m/a').string(), 'x', 'nothing written while the marker exists');
    await rig.real.delete().key(placedMarkerKey('/ncl/m/a'));
    assert.deepEqual(await getIfUnplaced(rig.real, '/ncl/m/a'), { placed: false, result: Buffer.from('x') });
  });

  test('a lagging client writing a key being placed: refused by etcd, refreshes, writes through the chain; no stale read follows', async (t) => {
    const key = '/ncl/m/hot';
    await rig.real.put(key).value('c0-685');
    const before = rig.chain.placement(); // the client's view: the key is not placed
    // the scheduler places the key: marker + value read in one etcd txn, the chain loaded with that value
    const marked = await rig.real.if(placedMarkerKey(key), 'Create', '==', 0).then(rig.real.put(placedMarkerKey(key)).value('2'), rig.real.get(key)).commit();
    assert.equal(marked.responses[1]?.response_range.kvs[0]?.value.toString(), 'c0-685');
    await rig.chain.place(key, 'c0-685');
    const writer = laggingClient(before, () => rig.chain.placement());
    const reader = laggingClient(before, () => rig.chain.placement());
    t.onTestFinished(async () => {
      await writer.close();
      await reader.close();
    });
    assert.equal(writer.view.lookup(key), undefined, 'the writer still believes the key is not placed');

    await writer.put(key, 'c0-728');
    assert.equal(writer.counters.markerRetries, 1, 'etcd refused the write once');
    assert.equal(writer.lastServedBy.via, 'chain', 'then it went to the head');
    assert.equal(await rig.real.get(key).string(), 'c0-685', 'etcd was not written behind the chain');
    for (const n of rig.chain.nodes) {
      const s = await n.get(craq.craqKeyId(key));
      assert.equal(Buffer.from(s?.value ?? []).toString(), 'c0-728', `${n.name} has the write`);
    }
    assert.equal((await reader.get(key))?.toString(), 'c0-728', 'a lagging reader is refused by etcd too and reads the chain');
    assert.equal(reader.lastServedBy.via, 'chain');
    assert.equal(reader.counters.markerRetries, 1);
  });

  test('a view that does not catch up (placement source lagging): the marker sends the client to the chain by the key\'s hashes', async (t) => {
    const key = '/ncl/m/nolist';
    await rig.real.put(key).value('old');
    const stale = rig.chain.placement();
    await rig.real.put(placedMarkerKey(key)).value('3');
    await rig.chain.place(key, 'old');
    const c = laggingClient(stale, () => stale);
    t.onTestFinished(() => c.close());
    await c.put(key, 'new');
    assert.equal(c.lastServedBy.via, 'chain');
    assert.equal(await rig.real.get(key).string(), 'old', 'not written in etcd');
    assert.equal((await c.get(key))?.toString(), 'new');
    assert.equal(c.lastServedBy.via, 'chain');
    assert.equal(c.view.lookup(key), undefined, 'the view still does not list it');
  });

  test('the marker never goes away: the client gives up after markerWaitMs with a clear error', async (t) => {
    const key = '/ncl/m/stuck';
    await rig.real.put(placedMarkerKey(key)).value('9');
    const c = laggingClient(rig.chain.placement(), () => rig.chain.placement(), 100);
    t.onTestFinished(() => c.close());
    await assert.rejects(c.put(key, 'v'), { code: 'NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED' });
    assert.ok(c.counters.markerRetries >= 2, String(c.counters.markerRetries));
    assert.equal(await rig.real.get(key).string(), null);
  });
});

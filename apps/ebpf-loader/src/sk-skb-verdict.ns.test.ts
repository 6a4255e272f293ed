/**
 * Root layer: the verdict-only sockmap attach (`sk-skb-verdict`, BPF_SK_SKB_VERDICT: the sk_skb
 * verdict runs skb by skb, no stream parser) and MapLookupBatch, on a real loader process (a
 * netlab node of prefix `svl`, the host's bpffs, a pin root of its own). A socket this test puts
 * in the fixture's sockmap receives what its peer sends through the verdict (the program's run
 * count grows); the map holds one sk_skb verdict, so the stream verdict is refused while the skb
 * one is there (and the other way round), naming the holder; a restarted loader adopts the
 * attachment. Teardown removes the lab, the pins and the home folder whatever happened.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { BpfMap } from '@netaccel/bpf';
import { createLab } from '@netaccel/netlab';
import type { LabProcess } from '@netaccel/netlab';
import { loaderV1 } from '@netaccel/rpc';
import { AS_TEST, connect, load, logLines, makeHome, removeHome, startLoader, u32 } from './testing/index.js';
import type { Loader, LoaderHome } from './testing/index.js';

const { AttachMode } = loaderV1;

const lab = createLab({ name: 'svl-verdict', nodes: { h: {} }, links: [] }, { prefix: 'svl' });

function fdOf(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor on the socket');
  return fd;
}

describe('the verdict-only sockmap attach through a real loader', () => {
  let home: LoaderHome;
  let loader: LabProcess;
  let c: Loader;
  let fixture: loaderV1.ObjectInfo;
  const progId = (name: string) => fixture.programs.find((p) => p.name === name)!.id;
  const mapId = (name: string) => fixture.maps.find((m) => m.name === name)!.id;
  const point = (mode: loaderV1.AttachMode) => loaderV1.AttachPoint.create({ mode, target: { $case: 'sockmapId', value: mapId('sock_map') } });

  beforeAll(async () => {
    home = makeHome('svl-verdict');
    await lab.up();
    loader = await startLoader(lab, 'h', home);
    c = connect(home);
    fixture = await load(c, 'loader-fixture.bpf.o');
  });

  afterAll(async () => {
    c?.close();
    await lab.down();
    removeHome(home);
  });

  test('sk-skb-verdict: attached without a parser, bytes to a socket of the map pass through the verdict; the stream verdict is refused beside it', async (t) => {
    const a = await c.attach(loaderV1.AttachRequest.create({ programId: progId('skb_verdict'), point: point(AttachMode.ATTACH_MODE_SK_SKB_VERDICT) }), { metadata: AS_TEST });
    t.onTestFinished(async () => {
      await c.detach(loaderV1.DetachRequest.create({ linkId: a.point!.linkId }), { metadata: AS_TEST }).catch(() => undefined);
    });
    assert.equal(a.point?.mode, AttachMode.ATTACH_MODE_SK_SKB_VERDICT);
    const listed = (await c.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: fixture.id }))).programs.find((p) => p.name === 'skb_verdict');
    assert.deepEqual(listed?.attachPoints.map((p) => [p.linkId, p.mode, p.target?.value]), [[a.point!.linkId, AttachMode.ATTACH_MODE_SK_SKB_VERDICT, mapId('sock_map')]]);

    // the map refuses a second sk_skb verdict, whichever way it is asked
    await assert.rejects(
      c.attach(loaderV1.AttachRequest.create({ programId: progId('skb_verdict'), point: point(AttachMode.ATTACH_MODE_SK_SKB_STREAM_VERDICT) }), { metadata: AS_TEST }),
      (e: Error) => /NA_ERR_LOADER_HOOK_TAKEN|is taken by/.test(e.message) && e.message.includes('sk-skb-verdict') && e.message.includes(`program ${progId('skb_verdict')}`),
    );

    // a socket of the map: what its peer sends arrives through the verdict (SK_PASS), skb by skb
    const runs = async () => (await c.programStats(loaderV1.ProgramStatsRequest.create({ programId: progId('skb_verdict') }))).stats[0]!.runCount;
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = createConnection({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    t.onTestFinished(() => void client.destroy());
    await once(client, 'connect');
    const [peer] = await accepted;
    t.onTestFinished(() => void peer.destroy());
    const map = BpfMap.openPinned(fixture.maps.find((m) => m.name === 'sock_map')!.pinPath);
    t.onTestFinished(() => map.close());
    map.update(u32(0), u32(fdOf(peer)));
    const before = await runs();
    const got: Buffer[] = [];
    peer.on('data', (d: Buffer) => got.push(d));
    for (let i = 0; i < 5; i++) client.write(Buffer.alloc(1000, i));
    const deadline = Date.now() + 5000;
    while (Buffer.concat(got).length < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(Buffer.concat(got), Buffer.concat(Array.from({ length: 5 }, (_, i) => Buffer.alloc(1000, i))), 'every byte, in order');
    assert.ok((await runs()) > before, 'the verdict ran for them');
  });

  test('once the skb verdict is detached the stream verdict attaches, and then the skb verdict is refused beside it', async (t) => {
    const s = await c.attach(loaderV1.AttachRequest.create({ programId: progId('skb_verdict'), point: point(AttachMode.ATTACH_MODE_SK_SKB_STREAM_VERDICT) }), { metadata: AS_TEST });
    t.onTestFinished(async () => {
      await c.detach(loaderV1.DetachRequest.create({ linkId: s.point!.linkId }), { metadata: AS_TEST }).catch(() => undefined);
    });
    await assert.rejects(
      c.attach(loaderV1.AttachRequest.create({ programId: progId('skb_verdict'), point: point(AttachMode.ATTACH_MODE_SK_SKB_VERDICT) }), { metadata: AS_TEST }),
      (e: Error) => e.message.includes('sk-skb-stream-verdict') && e.message.includes('is taken by'),
    );
  });

  test('a restarted loader adopts a verdict-only attachment', async (t) => {
    const a = await c.attach(loaderV1.AttachRequest.create({ programId: progId('skb_verdict'), point: point(AttachMode.ATTACH_MODE_SK_SKB_VERDICT) }), { metadata: AS_TEST });
    t.onTestFinished(async () => {
      await c.detach(loaderV1.DetachRequest.create({ linkId: a.point!.linkId }), { metadata: AS_TEST }).catch(() => undefined);
    });
    await loader.stop();
    loader = await startLoader(lab, 'h', home, 'loader-2');
    const adopted = logLines(loader).find((l) => l.msg === 'adopted pinned objects and attachments');
    assert.deepEqual([adopted?.attachments, adopted?.dangling], [1, 0]);
    const listed = (await c.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: fixture.id }))).programs.find((p) => p.name === 'skb_verdict');
    assert.deepEqual(listed?.attachPoints.map((p) => [p.linkId, p.mode]), [[a.point!.linkId, AttachMode.ATTACH_MODE_SK_SKB_VERDICT]]);
  });

  test('MapLookupBatch refuses a key of the wrong size and more keys than it takes, naming the field', async () => {
    await assert.rejects(c.mapLookupBatch(loaderV1.MapLookupBatchRequest.create({ mapId: mapId('tc_hits'), keys: [u32(0), Buffer.alloc(3)] })), /keys\[1\]: expected 4 bytes/);
    await assert.rejects(c.mapLookupBatch(loaderV1.MapLookupBatchRequest.create({ mapId: mapId('tc_hits'), keys: Array.from({ length: 4097 }, () => u32(0)) })), /keys: expected at most 4096 keys, got 4097/);
    const r = await c.mapLookupBatch(loaderV1.MapLookupBatchRequest.create({ mapId: mapId('tc_hits'), keys: [u32(2), u32(0)] }));
    assert.deepEqual(r.entries.map((e) => e.key.readUInt32LE(0)), [2, 0], 'in the order asked');
  });
});

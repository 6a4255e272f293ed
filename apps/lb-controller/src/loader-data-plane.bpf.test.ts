/**
 * BPF layer: the production data plane — @netaccel/dataplane's LoaderDataPlane through the real ebpf-loader daemon
 * (apps/ebpf-loader/src/main.ts, started as a process with its own pin root, state folder and
 * socket) — programmed by the reconciler; forwarding checked with the loader's TestRun.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '@netaccel/bpf';
import { XLB_BALANCER } from '@netaccel/bpf-programs/xlb';
import { objectPath } from '@netaccel/bpf-programs/xlb/testing';
import { LoaderDataPlane, NA_ERR_DATAPLANE_INVALID, NA_ERR_DATAPLANE_OBJECT, NA_ERR_DATAPLANE_OP } from '@netaccel/dataplane';
import { buildPacket, tcpSyn } from '@netaccel/protocol';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';
import { XlbDataPlane } from './data-plane.js';
import { parseState } from './desired-state.js';
import { Reconciler } from './reconciler.js';
import { TestLoader } from '@netaccel/dataplane/testing';
import { countingMaps } from './testing/counting-maps.js';
import { FileAdoptionStore } from './adoption.js';

let loader: TestLoader;
beforeAll(async () => {
  loader = await TestLoader.start();
});
afterAll(async () => {
  await loader?.stop(['lb-controller-test']);
});

test('LoaderDataPlane: the reconciler programs xlb.bpf.o through the ebpf-loader daemon (tables packed); packets follow the table', async () => {
  const maps = await LoaderDataPlane.open(XLB_BALANCER, { address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test' });
  const dp = new XlbDataPlane(maps);
  try {
    assert.equal(dp.info.maglevSize, 65537);
    const rec = new Reconciler({ dataPlane: dp, config: { localMac: '02:00:00:00:01:00' } });
    await rec.init();
    const bs = [1, 2, 3, 4].map((i) => `{ address: 10.1.0.${i}, mac: "02:00:00:00:10:0${i}" }`).join(', ');
    rec.setDesired(parseState(`services: [{ vip: 10.0.0.1, port: 80, mode: l2dsr, healthCheck: { type: none }, backends: [${bs}] }]`, 'test'));
    await rec.settled();
    assert.equal(rec.lastError, undefined, String(rec.lastError));
    assert.deepEqual((await dp.readVips()).map((v) => v.key.address), ['10.0.0.1']);
    assert.equal((await dp.validBackends()).length, 4);

    const client = createRpcClient(LoaderClient, { address: loader.socket });
    try {
      const seen = new Set<string>();
      for (let sport = 20000; sport < 20064; sport++) {
        const pkt = Buffer.from(buildPacket(tcpSyn({ src: '192.0.2.10', dst: '10.0.0.1', sport, dport: 80, eth: { src: '02:00:00:00:00:fe', dst: '02:00:00:00:01:00' } })));
        const r = await client.testRun(loaderV1.TestRunRequest.create({ programId: `${maps.objectId}/xlb_xdp`, dataIn: pkt }));
        assert.equal(r.retval, 3, 'XDP_TX');
        seen.add(r.dataOut.subarray(0, 6).toString('hex'));
      }
      assert.deepEqual([...seen].sort(), ['020000001001', '020000001002', '020000001003', '020000001004']);
    } finally {
      client.close();
    }
    // a change goes into the spare slot and flips, through the loader as well
    rec.setDesired(parseState(`services: [{ vip: 10.0.0.1, port: 80, mode: l2dsr, healthCheck: { type: none }, backends: [{ address: 10.1.0.9, mac: "02:00:00:00:10:09" }] }]`, 'test'));
    await rec.settled();
    assert.equal(rec.lastError, undefined);
    assert.equal((await dp.readVips())[0]!.meta.activeSlot, 1);
    const s = await dp.readStats('vip_stats', rec.services.get('10.0.0.1:80/tcp')!.vipIndex);
    assert.equal(s.newFlows, 64n);
  } finally {
    await dp.close();
  }
});

test('LoaderDataPlane: typed globals reach the object (the loader encodes them from BTF), a table is one packed call, refusals come before any write', async (t) => {
  const globals = { gue_port: 6081, ct_udp_timeout_ms: 12_345 };
  const maps = await LoaderDataPlane.open(XLB_BALANCER, { address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test', globals });
  t.onTestFinished(() => maps.close());
  const again = await LoaderDataPlane.open(XLB_BALANCER, { address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test', globals });
  t.onTestFinished(() => again.close());
  assert.equal(again.objectId, maps.objectId, 'the same typed globals are the same object');
  const client = createRpcClient(LoaderClient, { address: loader.socket });
  t.onTestFinished(() => client.close());
  // the loaded object's .rodata holds the values in the variables' C layout
  const { maps: infos } = await client.listMaps(loaderV1.ListMapsRequest.create({ objectId: maps.objectId }));
  const rodata = infos.find((m) => m.name.endsWith('.rodata'))!;
  const bytes = (await client.mapLookup(loaderV1.MapLookupRequest.create({ mapId: rodata.id, key: Buffer.alloc(4) }))).entry!.value;
  const vars = new Map(Btf.fromFile(objectPath('balancer')).datasecVariables('.rodata').map((v) => [v.name, v.offset]));
  assert.equal(bytes.readUInt16LE(vars.get('gue_port')!), 6081, 'gue_port as the C __u16, little-endian');
  assert.equal(bytes.readUInt32LE(vars.get('ct_udp_timeout_ms')!), 12_345);

  const g = maps.geometry('maglev_tables');
  const n = 65_537;
  const keys = Buffer.alloc(4 * n);
  const values = Buffer.alloc(4 * n);
  for (let i = 0; i < n; i++) {
    keys.writeUInt32LE(i, 4 * i);
    values.writeUInt32LE(i % 13, 4 * i);
  }
  await maps.updatePacked('maglev_tables', n, keys, values);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  for (const i of [0, 12, 65_536]) assert.equal((await maps.lookup('maglev_tables', u32(i)))!.readUInt32LE(), i % 13);
  assert.equal(g.keySize, 4);

  await assert.rejects(maps.updatePacked('maglev_tables', 2, Buffer.alloc(8), Buffer.alloc(4)), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e));
  assert.equal(await maps.lookup('vips', Buffer.alloc(maps.geometry('vips').keySize)), undefined, 'an absent key');
  await maps.delete('vips', Buffer.alloc(maps.geometry('vips').keySize));
  await assert.rejects(
    LoaderDataPlane.open(XLB_BALANCER, { address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test', globals: { gue_port: 70_000 } }),
    (e: unknown) => NA_ERR_DATAPLANE_OP.is(e) && /typedGlobals\.gue_port: expected 0\.\.65535, got 70000/.test(e.message),
  );
  await assert.rejects(
    LoaderDataPlane.open({ name: 'xlb', program: 'xlb_xdp', maps: ['nope'] }, { address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test', globals }),
    (e: unknown) => NA_ERR_DATAPLANE_OBJECT.is(e) && /has no map nope/.test(e.message),
  );
});

test('a controller restarted against the maps the loader keeps pinned adopts them: the run-time config is its one write, packets go where they went', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-adopt-loader-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const adoption = new FileAdoptionStore(join(dir, 'adoption.json'));
  // its own object (other globals than the tests above), kept by the loader between the two controllers
  const open = async (writes: string[]) => {
    const maps = await LoaderDataPlane.open(XLB_BALANCER, { address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test', globals: { gue_port: 6090 } });
    return { maps, dp: new XlbDataPlane(countingMaps(maps, writes)) };
  };
  const bs = (first: number) => [0, 1, 2, 3].map((j) => `{ address: 10.1.0.${first + j}, mac: "02:00:00:00:10:0${first + j}" }`).join(', ');
  const state = () => parseState(`services: [{ vip: 10.0.0.1, port: 80, mode: l2dsr, healthCheck: { type: none }, backends: [${bs(1)}] }, { vip: 10.0.0.2, port: 80, mode: l2dsr, healthCheck: { type: none }, backends: [${bs(5)}] }]`, 'test');
  const client = createRpcClient(LoaderClient, { address: loader.socket });
  t.onTestFinished(() => client.close());
  const macsFor = async (objectId: string, vip: string): Promise<string[]> => {
    const seen = new Set<string>();
    for (let sport = 30000; sport < 30032; sport++) {
      const pkt = Buffer.from(buildPacket(tcpSyn({ src: '192.0.2.10', dst: vip, sport, dport: 80, eth: { src: '02:00:00:00:00:fe', dst: '02:00:00:00:01:00' } })));
      const r = await client.testRun(loaderV1.TestRunRequest.create({ programId: `${objectId}/xlb_xdp`, dataIn: pkt }));
      assert.equal(r.retval, 3, 'XDP_TX');
      seen.add(r.dataOut.subarray(0, 6).toString('hex'));
    }
    return [...seen].sort();
  };

  const first = await open([]);
  const r1 = new Reconciler({ dataPlane: first.dp, config: { localMac: '02:00:00:00:01:00' }, adoption, sweepDelayMs: 0 });
  await r1.init();
  r1.setDesired(state());
  await r1.settled();
  assert.equal(r1.lastError, undefined, String(r1.lastError));
  const before = [await macsFor(first.maps.objectId, '10.0.0.1'), await macsFor(first.maps.objectId, '10.0.0.2')];
  await first.maps.close();

  const writes: string[] = [];
  const second = await open(writes);
  t.onTestFinished(() => second.maps.close());
  assert.equal(second.maps.objectId, first.maps.objectId, 'the loader kept the object and its pinned maps');
  const r2 = new Reconciler({ dataPlane: second.dp, config: { localMac: '02:00:00:00:01:00' }, adoption, sweepDelayMs: 0 });
  await r2.init();
  r2.setDesired(state());
  await r2.settled();
  assert.equal(r2.lastError, undefined, String(r2.lastError));
  assert.deepEqual(writes, ['update xlb_config'], 'no table, backend record, VIP or stats row written');
  assert.deepEqual([await macsFor(second.maps.objectId, '10.0.0.1'), await macsFor(second.maps.objectId, '10.0.0.2')], before);
  assert.deepEqual(before[0], ['020000001001', '020000001002', '020000001003', '020000001004']);
});

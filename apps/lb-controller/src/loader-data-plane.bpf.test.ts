/**
 * BPF layer: the production data plane — LoaderMaps through the real ebpf-loader daemon
 * (apps/ebpf-loader/src/main.ts, started as a process with its own pin root, state folder and
 * socket) — programmed by the reconciler; forwarding checked with the loader's TestRun.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { buildPacket, tcpSyn } from '@netaccel/protocol';
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';
import { XlbDataPlane } from './data-plane.js';
import { parseState } from './desired-state.js';
import { LoaderMaps } from './loader-maps.js';
import { Reconciler } from './reconciler.js';
import { TestLoader } from './testing/loader.js';

let loader: TestLoader;
beforeAll(async () => {
  loader = await TestLoader.start();
});
afterAll(async () => {
  await loader?.stop(['lb-controller-test']);
});

test('LoaderMaps: the reconciler programs xlb.bpf.o through the ebpf-loader daemon; packets follow the table', async () => {
  const maps = await LoaderMaps.open({ address: loader.socket, objectPath: 'xlb/xlb.bpf.o', owner: 'lb-controller-test' });
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

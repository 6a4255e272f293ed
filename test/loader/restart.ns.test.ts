/**
 * End to end: a loader crash never detaches a program, and a restarted loader adopts what it left.
 *
 * Two namespaces (client, server) joined by a veth; the loader runs as a real process in `server`
 * (with the host's bpffs, pins under a pin root of this test) and attaches the selftest XDP program
 * natively to server:eth0, its drop port set to DROP_PORT. A client streams UDP to a pass port and
 * to the drop port (one datagram each per millisecond) while the loader is killed with SIGKILL and
 * started again — ten times in a row. Every time: every pass-port datagram sent arrives (zero
 * lost), no drop-port datagram arrives (the program was attached at every instant), the program's
 * drop counter grows by exactly what was sent to the drop port, the interface's XDP program id
 * never changes, and the new loader reports the same program, kernel id and attachment.
 * Then: a graceful restart, and a record whose interface vanished reported as dangling.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createLab } from '@netaccel/netlab';
import type { LabProcess } from '@netaccel/netlab';
import { loaderV1 } from '@netaccel/rpc';
import {
  AS_TEST, connect, ifacePoint, lastJson, load, logLines, makeHome, perCpuPackets, removeHome, senderScript, sinkScript, sleep, startLoader, u16, u32,
} from '@netaccel/app-ebpf-loader/testing';
import type { Loader, LoaderHome, StateData } from '@netaccel/app-ebpf-loader/testing';

const SERVER_IP = '10.77.0.2';
const PASS_PORT = 7300;
const DROP_PORT = 7301;
const RUNS = 10;
const XDP_DROP = 1;

const lab = createLab({
  name: 'loader-restart',
  nodes: { client: {}, server: {} },
  links: [
    { a: 'client:eth0', b: 'server:eth0', aAddr: '10.77.0.1/24', bAddr: `${SERVER_IP}/24` },
    { a: 'client:eth1', b: 'server:eth1', aAddr: '10.78.0.1/24', bAddr: '10.78.0.2/24' },
  ],
});

/** The id of the XDP program on server:eth0 as iproute2 sees it (0 for none). */
async function xdpIdOnServer(ifname = 'eth0'): Promise<number> {
  const links = await lab.ipJson<{ ifname: string; xdp?: unknown }[]>('server', ['link', 'show', 'dev', ifname]);
  const m = /"id":(\d+)/.exec(JSON.stringify(links[0]?.xdp ?? {}));
  return m ? Number(m[1]) : 0;
}

describe('loader restarts with traffic flowing', () => {
  let home: LoaderHome;
  let loader: LabProcess;
  let c: Loader;
  let programId = '';
  let kernelId = 0;
  let linkId = '';
  let verdictStats = '';

  beforeAll(async () => {
    home = makeHome('restart');
    await lab.up();
    loader = await startLoader(lab, 'server', home, 'loader-0');
    c = connect(home);
  });

  afterAll(async () => {
    c?.close();
    await lab.down();
    removeHome(home);
  });

  const dropCount = async (): Promise<bigint> =>
    perCpuPackets((await c.mapLookup(loaderV1.MapLookupRequest.create({ mapId: verdictStats, key: u32(XDP_DROP) }))).entry);

  test('the selftest is loaded with its drop port and attached natively to server:eth0', async () => {
    const obj = await load(c, 'selftest.bpf.o', { drop_udp_port: u16(DROP_PORT) });
    programId = obj.programs[0]!.id;
    kernelId = obj.programs[0]!.kernelId;
    verdictStats = obj.maps.find((m) => m.name === 'verdict_stats')!.id;
    const r = await c.attach(loaderV1.AttachRequest.create({ programId, point: ifacePoint(loaderV1.AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth0') }), { metadata: AS_TEST });
    linkId = r.point!.linkId;
    assert.match(linkId, /^l-[0-9a-f]{8}$/);
    assert.equal(r.point!.pinPath, `${home.pinRoot}/links/${linkId}`);
    assert.equal(await xdpIdOnServer(), kernelId);
    await lab.ping('client', SERVER_IP, { count: 1, timeoutMs: 1000 }); // ARP both ways before counting
  });

  test(`SIGKILL and restart with a UDP stream flowing, ${RUNS} times in a row: zero datagrams lost`, async () => {
    const results: { run: number; sent: number; received: number; dropSent: number; dropArrived: number; dropCounted: number; restartMs: number }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const sink = await lab.spawn('server', [process.execPath, '-e', sinkScript(PASS_PORT, DROP_PORT)], { name: `sink-${run}`, ready: { udp: `0.0.0.0:${DROP_PORT}` } });
      const dropsBefore = await dropCount();
      const ids = new Set<number>();
      let polling = true;
      const poller = (async () => {
        while (polling) {
          ids.add(await xdpIdOnServer());
          await sleep(25);
        }
      })();
      const sender = await lab.spawn('client', [process.execPath, '-e', senderScript(SERVER_IP, PASS_PORT, DROP_PORT)], { name: `sender-${run}`, ready: { log: /sending/ } });
      await sleep(300);

      c.close();
      loader.kill('SIGKILL');
      const exit = await loader.wait({ timeoutMs: 5000 });
      assert.equal(exit.signal, 'SIGKILL');
      await sleep(200); // traffic flows with no loader at all
      const t0 = Date.now();
      loader = await startLoader(lab, 'server', home, `loader-${run}`);
      const restartMs = Date.now() - t0;
      c = connect(home);
      const adopted = logLines(loader).find((l) => l.msg === 'adopted pinned objects and attachments');
      assert.deepEqual([adopted?.objects, adopted?.attachments, adopted?.dangling], [1, 1, 0], 'the new loader adopted the object and the attachment');
      const [prog] = (await c.listPrograms(loaderV1.ListProgramsRequest.create())).programs;
      assert.deepEqual([prog?.id, prog?.kernelId, prog?.attachPoints.map((p) => p.linkId)], [programId, kernelId, [linkId]]);
      await sleep(300);

      await sender.stop();
      const sent = lastJson<{ sentPass: number; sentDrop: number; errors: number }>(sender);
      await sleep(300);
      await sink.stop();
      const got = lastJson<{ pass: number; dup: number; drop: number }>(sink);
      polling = false;
      await poller;
      const dropCounted = Number((await dropCount()) - dropsBefore);
      results.push({ run, sent: sent.sentPass, received: got.pass, dropSent: sent.sentDrop, dropArrived: got.drop, dropCounted, restartMs });
      console.log(`run ${run}: sent ${sent.sentPass}, received ${got.pass}, lost ${sent.sentPass - got.pass}; drop port: sent ${sent.sentDrop}, arrived ${got.drop}, dropped by XDP ${dropCounted}; loader back in ${restartMs} ms`);

      assert.equal(sent.errors, 0, 'the sender had no send errors');
      assert.ok(sent.sentPass > 500, `a real stream (${sent.sentPass} datagrams)`);
      assert.equal(got.pass, sent.sentPass, `run ${run}: every pass-port datagram arrived`);
      assert.equal(got.drop, 0, `run ${run}: no drop-port datagram got through: the program was attached throughout`);
      assert.equal(dropCounted, sent.sentDrop, `run ${run}: XDP dropped exactly what was sent to the drop port`);
      assert.deepEqual([...ids], [kernelId], `run ${run}: server:eth0 ran the same XDP program at every poll`);
    }
    console.log(`loader restart runs: ${JSON.stringify(results)}`);
    assert.equal(results.length, RUNS);
  });

  test('a graceful stop (SIGTERM) leaves the program attached and the restarted loader adopts it', async () => {
    c.close();
    const exit = await loader.stop();
    assert.equal(exit?.code, 0);
    assert.equal(await xdpIdOnServer(), kernelId, 'still attached with no loader running');
    loader = await startLoader(lab, 'server', home, 'loader-graceful');
    c = connect(home);
    const [prog] = (await c.listPrograms(loaderV1.ListProgramsRequest.create())).programs;
    assert.deepEqual(prog?.attachPoints.map((p) => p.linkId), [linkId]);
  });

  test('changes a crash interrupted (pending records) are settled at start: a complete one adopted, a partial one undone', async () => {
    c.close();
    await loader.stop();
    const state = JSON.parse(readFileSync(home.stateFile, 'utf8')) as StateData;
    const xdp = state.attachments.find((a) => a.linkId === linkId)!;
    xdp.status = 'pending'; // the loader died after attaching and pinning, before recording it active
    const ghost = 'ghost-000000000000';
    const pinDir = `${home.pinRoot}/objects/${ghost}`;
    mkdirSync(`${pinDir}/progs`, { recursive: true });
    execFileSync('bpftool', ['prog', 'pin', 'id', String(kernelId), `${pinDir}/progs/p`]); // died half-way through pinning
    state.objects.push({
      ...state.objects[0]!, id: ghost, pinDir, status: 'pending',
      programs: [{ ...state.objects[0]!.programs[0]!, name: 'p' }], maps: [{ ...state.objects[0]!.maps[0]!, name: 'm' }],
    });
    state.attachments.push({ ...xdp, linkId: 'l-0000dead', programId: `${ghost}/p`, pinPath: `${home.pinRoot}/links/l-0000dead` });
    writeFileSync(home.stateFile, JSON.stringify(state));

    loader = await startLoader(lab, 'server', home, 'loader-pending');
    c = connect(home);
    const adopted = logLines(loader).find((l) => l.msg === 'adopted pinned objects and attachments');
    assert.deepEqual(adopted?.settled, [linkId], 'the complete attachment was adopted');
    const dropped = logLines(loader).filter((l) => l.msg === 'dangling record dropped').map((l) => [l.kind, l.id]);
    assert.deepEqual(dropped, [['object', ghost], ['attachment', 'l-0000dead']]);
    assert.ok(!existsSync(pinDir), 'the half-pinned object was removed');
    const after = JSON.parse(readFileSync(home.stateFile, 'utf8')) as StateData;
    assert.deepEqual(after.attachments.map((a) => [a.linkId, a.status]), [[linkId, 'active']]);
    assert.ok(!after.objects.some((o) => o.id === ghost));
    assert.equal(await xdpIdOnServer(), kernelId);
  });

  test('an attachment whose interface vanished while the loader was down is reported as dangling and dropped', async () => {
    const fixture = await load(c, 'loader-fixture.bpf.o');
    const tc = fixture.programs.find((p) => p.name === 'tc_count')!;
    const r = await c.attach(loaderV1.AttachRequest.create({ programId: tc.id, point: ifacePoint(loaderV1.AttachMode.ATTACH_MODE_TC_INGRESS, 'eth1', 5) }), { metadata: AS_TEST });
    const tcLink = r.point!.linkId;
    c.close();
    await loader.stop();
    await lab.exec('server', ['ip', 'link', 'del', 'eth1']);
    loader = await startLoader(lab, 'server', home, 'loader-dangling');
    c = connect(home);
    const adopted = logLines(loader).find((l) => l.msg === 'adopted pinned objects and attachments');
    assert.deepEqual([adopted?.objects, adopted?.attachments, adopted?.dangling], [2, 1, 1]);
    const warn = logLines(loader).find((l) => l.msg === 'dangling record dropped');
    assert.equal(warn?.id, tcLink);
    assert.match(String(warn?.reason), /interface eth1 \(index \d+\) is gone/);
    const programs = (await c.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: fixture.id }))).programs;
    assert.deepEqual(programs.flatMap((p) => p.attachPoints), [], 'the dangling attachment is gone from the records');
    assert.equal(await xdpIdOnServer(), kernelId, 'the XDP attachment is untouched');
  });
});

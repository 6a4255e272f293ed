/**
 * End to end: the Loader API against a real loader process in the `server` namespace of a
 * two-namespace lab. Objects are loaded once per (sha256, globals) and pinned; map writes through
 * the API change what an attached XDP program does to real UDP traffic (and the counters read back
 * as typed views decoded with the object's BTF); TC, sockmap and cgroup attachments; test runs
 * with the selftest fixtures; run counts, metrics, the audit trail, the socket's mode and group;
 * unload refused while attached and forced. Teardown removes the lab, the pins, the cgroup and
 * the home folder whatever happened.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Btf, cgroup2Root, mapBtfTypes, structCodecs } from '@netaccel/bpf';
import { createLab } from '@netaccel/netlab';
import type { LabProcess } from '@netaccel/netlab';
import { loaderV1 } from '@netaccel/rpc';
import { PROM_CLIENT_LINT_EXCEPTIONS, lintExposition, parseExposition } from '@netaccel/telemetry';
import { XDP_VERDICT, selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import {
  AS_TEST, burstScript, connect, ifacePoint, lastJson, load, logLines, logLinesWhen, makeHome, metricValue, pinTree, removeHome, sinkScript,
  startLoader, telemetryGet, u16, u32,
} from '@netaccel/app-ebpf-loader/testing';
import type { Loader, LoaderHome } from '@netaccel/app-ebpf-loader/testing';

const SERVER_IP = '10.79.0.2';
const OPEN_PORT = 7400;
const BLOCK_PORT = 7401;
const { AttachMode } = loaderV1;

const lab = createLab({
  name: 'loader-api',
  nodes: { client: {}, server: {} },
  links: [
    { a: 'client:eth0', b: 'server:eth0', aAddr: '10.79.0.1/24', bAddr: `${SERVER_IP}/24` },
    { a: 'client:eth1', b: 'server:eth1', aAddr: '10.80.0.1/24', bAddr: '10.80.0.2/24' },
  ],
});

/** What arrives on the server of `count` datagrams to each port. */
async function through(count: number): Promise<{ open: number; blocked: number }> {
  const sink = await lab.spawn('server', [process.execPath, '-e', sinkScript(OPEN_PORT, BLOCK_PORT)], { name: 'sink', ready: { udp: `0.0.0.0:${BLOCK_PORT}` } });
  await lab.exec('client', [process.execPath, '-e', burstScript(SERVER_IP, [OPEN_PORT, BLOCK_PORT], count)]);
  await new Promise((r) => setTimeout(r, 200));
  await sink.stop();
  const got = lastJson<{ pass: number; drop: number }>(sink);
  return { open: got.pass, blocked: got.drop };
}

describe('the Loader API on a real loader', () => {
  let home: LoaderHome;
  let loader: LabProcess;
  let c: Loader;
  let fixture: loaderV1.ObjectInfo;
  let cgroup = '';
  const progId = (name: string) => fixture.programs.find((p) => p.name === name)!.id;
  const mapId = (name: string) => fixture.maps.find((m) => m.name === name)!.id;

  beforeAll(async () => {
    home = makeHome('api', { socketGroup: 'adm' });
    await lab.up();
    loader = await startLoader(lab, 'server', home);
    c = connect(home);
  });

  afterAll(async () => {
    c?.close();
    await lab.down();
    removeHome(home);
    if (cgroup !== '' && existsSync(cgroup)) rmdirSync(cgroup);
  });

  test('the socket is 0660 with the configured group', () => {
    const st = statSync(home.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, 4, 'group adm');
  });

  test('an object is loaded once per sha256 and globals, pinned, and described', async () => {
    fixture = await load(c, 'loader-fixture.bpf.o');
    assert.match(fixture.id, /^loader-fixture-[0-9a-f]{12}$/);
    assert.equal(fixture.path, join(home.objectDir, 'loader-fixture.bpf.o'));
    const { createHash } = await import('node:crypto');
    assert.equal(fixture.sha256, createHash('sha256').update(readFileSync(fixture.path)).digest('hex'));
    assert.deepEqual(fixture.programs.map((p) => [p.name, p.typeName, p.section]).sort(), [
      ['egress_count', 'cgroup_skb', 'cgroup_skb/egress'], ['msg_verdict', 'sk_msg', 'sk_msg'], ['port_filter', 'xdp', 'xdp'],
      ['skb_verdict', 'sk_skb', 'sk_skb/stream_verdict'], ['sockops_count', 'sock_ops', 'sockops'], ['tc_count', 'sched_cls', 'tc'],
    ]);
    for (const p of fixture.programs) assert.ok(existsSync(p.pinPath), `${p.pinPath} is pinned`);
    for (const m of fixture.maps) assert.ok(existsSync(m.pinPath), `${m.pinPath} is pinned`);
    assert.equal(fixture.pinPath, `${home.pinRoot}/objects/${fixture.id}`);

    const again = await c.loadObject(loaderV1.LoadObjectRequest.create({ path: 'loader-fixture.bpf.o', expectedSha256: fixture.sha256 }));
    assert.deepEqual([again.alreadyLoaded, again.object?.id], [true, fixture.id]);
    const a = await load(c, 'selftest.bpf.o', { drop_udp_port: u16(53) });
    const b = await load(c, `${home.objectDir}/selftest.bpf.o`, { drop_udp_port: u16(54) });
    assert.notEqual(a.id, b.id, 'other globals make another object');
    const typed = await c.loadObject(loaderV1.LoadObjectRequest.create({
      path: 'selftest.bpf.o', owner: 'loader-test', typedGlobals: { drop_udp_port: loaderV1.GlobalValue.create({ value: { $case: 'unsigned', value: 53n } }) },
    }), { metadata: AS_TEST });
    assert.deepEqual([typed.alreadyLoaded, typed.object?.id], [true, a.id], 'a typed global is encoded from the BTF: the same value is the same object as its bytes');
    assert.equal(a.sha256, b.sha256);
    const objects = (await c.listObjects(loaderV1.ListObjectsRequest.create({ owner: 'loader-test' }))).objects;
    assert.deepEqual(objects.map((o) => o.id).sort(), [a.id, b.id, fixture.id].sort());
    await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: b.id }), { metadata: AS_TEST });
    assert.ok(!existsSync(b.pinPath), 'unload removes the pins');
    // Map sizes are set before load, part of the identity, and the kernel map has them.
    const sized = await c.loadObject(loaderV1.LoadObjectRequest.create({ path: 'selftest.bpf.o', owner: 'loader-test', globals: { drop_udp_port: u16(53) }, mapSizes: { verdict_stats: 16 } }), { metadata: AS_TEST });
    assert.equal(sized.alreadyLoaded, false);
    assert.notEqual(sized.object?.id, a.id, 'other map sizes make another object');
    assert.equal(sized.object?.maps.find((m) => m.name === 'verdict_stats')?.maxEntries, 16);
    const resized = await c.loadObject(loaderV1.LoadObjectRequest.create({ path: 'selftest.bpf.o', owner: 'loader-test', globals: { drop_udp_port: u16(53) }, mapSizes: { verdict_stats: 16 } }), { metadata: AS_TEST });
    assert.deepEqual([resized.alreadyLoaded, resized.object?.id], [true, sized.object?.id]);
    await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: sized.object!.id }), { metadata: AS_TEST });
  });

  test('test runs through the API answer as the selftest fixtures say', async () => {
    const [selftest] = (await c.listObjects(loaderV1.ListObjectsRequest.create())).objects.filter((o) => o.path.endsWith('selftest.bpf.o'));
    for (const f of selftestFixtures(53)) {
      const r = await c.testRun(loaderV1.TestRunRequest.create({ programId: selftest!.programs[0]!.id, dataIn: f.packet, repeat: f.repeat }));
      assert.equal(r.retval, XDP_VERDICT[f.verdict], f.name);
      assert.deepEqual(r.dataOut, f.output, f.name);
    }
  });

  test('map writes through the API change what the attached XDP program does to real traffic; typed views decode with the BTF', async () => {
    const r = await c.attach(loaderV1.AttachRequest.create({ programId: progId('port_filter'), point: ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth0') }), { metadata: AS_TEST });
    assert.equal(r.point?.target?.$case, 'iface');
    assert.deepEqual(await through(40), { open: 40, blocked: 40 }, 'nothing is blocked yet');

    await c.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId: mapId('blocked_ports'), entry: { key: u16(BLOCK_PORT), value: u32(7), perCpuValues: [] } }), { metadata: AS_TEST });
    assert.deepEqual(await through(40), { open: 40, blocked: 0 }, 'the blocked port is dropped in XDP');

    const btf = Btf.fromFile(fixture.path);
    const valueCodec = structCodecs.codecFor(btf, mapBtfTypes(btf, 'filter_stats').value!);
    const dropped = await c.mapLookup(loaderV1.MapLookupRequest.create({ mapId: mapId('filter_stats'), key: u32(1) }));
    const view = valueCodec.decode(dropped.entry!.value) as Record<string, unknown>;
    assert.deepEqual([view.packets, view.last_port, view.verdict], [40n, BLOCK_PORT, 1]);
    assert.equal(view.bytes, 40n * BigInt(14 + 20 + 8 + 16));

    await c.mapDelete(loaderV1.MapDeleteRequest.create({ mapId: mapId('blocked_ports'), key: u16(BLOCK_PORT) }), { metadata: AS_TEST });
    assert.deepEqual(await through(20), { open: 20, blocked: 20 }, 'unblocked again');
  });

  test('batch updates and limited, resumable dumps', async () => {
    const entries = Array.from({ length: 100 }, (_, i) => loaderV1.MapEntry.create({ key: u16(20000 + i), value: u32(i) }));
    const r = await c.mapUpdateBatch(loaderV1.MapUpdateBatchRequest.create({ mapId: mapId('blocked_ports'), entries }), { metadata: AS_TEST });
    assert.equal(r.updated, 100);
    const first: Buffer[] = [];
    for await (const e of c.mapDump(loaderV1.MapDumpRequest.create({ mapId: mapId('blocked_ports'), limit: 30 }))) first.push(e.key);
    assert.equal(first.length, 30);
    const rest: Buffer[] = [];
    for await (const e of c.mapDump(loaderV1.MapDumpRequest.create({ mapId: mapId('blocked_ports'), startAfter: first.at(-1)! }))) rest.push(e.key);
    const all = [...first, ...rest].map((k) => k.readUInt16LE()).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => 20000 + i));
    const noexist = await c.mapUpdateBatch(loaderV1.MapUpdateBatchRequest.create({
      mapId: mapId('blocked_ports'), entries: [loaderV1.MapEntry.create({ key: u16(30000), value: u32(1) })], flag: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_NOEXIST,
    }));
    assert.equal(noexist.updated, 1);
    const metrics = await telemetryGet(home, '/metrics');
    assert.equal(metricValue(metrics.body, 'netaccel_loader_map_entries', { map: mapId('blocked_ports') }), 101);
  });

  test('packed batch updates: a table as two byte strings in one call; sizes and flags checked before anything is written', async () => {
    const n = 800; // blocked_ports holds 1024; 101 are taken by the test before
    const keys = Buffer.alloc(2 * n);
    const values = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) {
      keys.writeUInt16LE(40000 + i, 2 * i);
      values.writeUInt32LE(i * 3, 4 * i);
    }
    const batch = (packed: loaderV1.PackedEntries, extra: Partial<loaderV1.MapUpdateBatchRequest> = {}) =>
      c.mapUpdateBatch(loaderV1.MapUpdateBatchRequest.create({ mapId: mapId('blocked_ports'), packed, ...extra }), { metadata: AS_TEST });
    const kinds = async (p: Promise<unknown>, code: string, message: RegExp) => {
      await assert.rejects(p, (e: unknown) => (e as { code?: string }).code === code && message.test((e as Error).message));
    };
    await kinds(batch({ count: n, keys: keys.subarray(1), values }), 'NA_ERR_LOADER_INVALID_REQUEST', /^packed\.keys: expected 800 keys of 2 bytes \(1600 bytes\) for map .*blocked_ports, got 1599 bytes$/);
    await kinds(batch({ count: n, keys, values: values.subarray(4) }), 'NA_ERR_LOADER_INVALID_REQUEST', /^packed\.values: expected 3200 bytes for 800 values of map .*blocked_ports, got 3196$/);
    await kinds(batch({ count: n, keys, values }, { flag: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_NOEXIST }), 'NA_ERR_LOADER_INVALID_REQUEST', /^flag: packed entries are written with ANY only/);
    await kinds(batch({ count: 1, keys: u16(1), values: u32(1) }, { entries: [loaderV1.MapEntry.create({ key: u16(2), value: u32(2) })] }), 'NA_ERR_LOADER_INVALID_REQUEST', /^packed: give entries or packed, not both$/);
    const lookupPort = async (port: number) => {
      try {
        return (await c.mapLookup(loaderV1.MapLookupRequest.create({ mapId: mapId('blocked_ports'), key: u16(port) }))).entry!.value.readUInt32LE();
      } catch {
        return undefined;
      }
    };
    assert.equal(await lookupPort(40000), undefined, 'refused requests wrote nothing');

    const r = await batch({ count: n, keys, values });
    assert.equal(r.updated, n);
    for (const i of [0, 1, 400, n - 1]) assert.equal(await lookupPort(40000 + i), i * 3, `entry ${i}`);
    const packed = (l: Record<string, unknown>): boolean => l.component === 'audit' && l.action === 'map-update-batch' && l.packed === true && l.entries === n;
    const lines = (await logLinesWhen(loader, (ls) => ls.some(packed), 'the packed batch\'s audit line')).filter((l) => l.component === 'audit' && l.action === 'map-update-batch' && l.packed === true);
    assert.equal(lines.at(-1)?.entries, n, 'the audit line counts the packed entries');
    for (let i = 0; i < n; i++) await c.mapDelete(loaderV1.MapDeleteRequest.create({ mapId: mapId('blocked_ports'), key: u16(40000 + i) }), { metadata: AS_TEST });
  });

  test('TC ingress filters: the loader picks free priorities, the program counts real traffic, detach removes only it', async () => {
    const tc = progId('tc_count');
    const a = await c.attach(loaderV1.AttachRequest.create({ programId: tc, point: ifacePoint(AttachMode.ATTACH_MODE_TC_INGRESS, 'eth1') }), { metadata: AS_TEST });
    const b = await c.attach(loaderV1.AttachRequest.create({ programId: tc, point: ifacePoint(AttachMode.ATTACH_MODE_TC_INGRESS, 'eth1') }), { metadata: AS_TEST });
    assert.deepEqual([a.point?.priority, b.point?.priority], [1, 2]);
    const shown = (await lab.exec('server', ['tc', 'filter', 'show', 'dev', 'eth1', 'ingress'])).stdout;
    assert.match(shown, /pref 1 bpf .*handle 0x1 tc_count/s);
    assert.match(shown, /pref 2 bpf .*handle 0x1 tc_count/s);
    const hits = async () => (await c.mapLookup(loaderV1.MapLookupRequest.create({ mapId: mapId('tc_hits'), key: u32(0) }))).entry!.value.readBigUInt64LE(0);
    const before = await hits();
    await lab.exec('client', [process.execPath, '-e', burstScript('10.80.0.2', [9], 25)]);
    await new Promise((r) => setTimeout(r, 100));
    // tc_count answers TC_ACT_OK, which ends the chain: the priority-1 filter sees every datagram.
    assert.ok((await hits()) - before >= 25n, 'the first filter ran for each of the 25 datagrams');
    await c.detach(loaderV1.DetachRequest.create({ linkId: a.point!.linkId }), { metadata: AS_TEST });
    const left = (await lab.exec('server', ['tc', 'filter', 'show', 'dev', 'eth1', 'ingress'])).stdout;
    assert.doesNotMatch(left, /pref 1 bpf/);
    assert.match(left, /pref 2 bpf/);
    await c.detach(loaderV1.DetachRequest.create({ linkId: b.point!.linkId }), { metadata: AS_TEST });
  });

  test('sk_skb and sk_msg programs on the object\'s sockmap', async () => {
    const point = (mode: loaderV1.AttachMode) => loaderV1.AttachPoint.create({ mode, target: { $case: 'sockmapId', value: mapId('sock_map') } });
    const v = await c.attach(loaderV1.AttachRequest.create({ programId: progId('skb_verdict'), point: point(AttachMode.ATTACH_MODE_SK_SKB_STREAM_VERDICT) }), { metadata: AS_TEST });
    const m = await c.attach(loaderV1.AttachRequest.create({ programId: progId('msg_verdict'), point: point(AttachMode.ATTACH_MODE_SK_MSG_VERDICT) }), { metadata: AS_TEST });
    const listed = (await c.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: fixture.id }))).programs;
    assert.deepEqual(listed.find((p) => p.name === 'skb_verdict')?.attachPoints.map((p) => [p.linkId, p.target?.value]), [[v.point!.linkId, mapId('sock_map')]]);
    const shown = (await lab.exec('server', ['bpftool', '-j', 'prog', 'show', 'pinned', `${fixture.pinPath}/progs/msg_verdict`], { sysfs: 'host' })).stdout;
    assert.equal((JSON.parse(shown) as { type: string }).type, 'sk_msg');
    await c.detach(loaderV1.DetachRequest.create({ linkId: v.point!.linkId }), { metadata: AS_TEST });
    await c.detach(loaderV1.DetachRequest.create({ linkId: m.point!.linkId }), { metadata: AS_TEST });
  });

  test('a sock_ops program on a cgroup runs for the TCP connections of a process in it', async () => {
    cgroup = join(cgroup2Root(), `netaccel-test-${process.pid}-loader`);
    mkdirSync(cgroup);
    const r = await c.attach(loaderV1.AttachRequest.create({
      programId: progId('sockops_count'),
      point: loaderV1.AttachPoint.create({ mode: AttachMode.ATTACH_MODE_SOCKOPS, target: { $case: 'cgroupPath', value: cgroup } }),
    }), { metadata: AS_TEST });
    assert.ok(existsSync(r.point!.pinPath), 'the cgroup link is pinned');
    const hits = async () => (await c.mapLookup(loaderV1.MapLookupRequest.create({ mapId: mapId('tc_hits'), key: u32(1) }))).entry!.value.readBigUInt64LE(0);
    const before = await hits();
    const server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const client = `const s = require('node:net').connect(${port}, '127.0.0.1', () => s.end()); s.on('close', () => process.exit(0)); setTimeout(() => process.exit(3), 5000);`;
      const child = spawn('sh', ['-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec ${process.execPath} -e "${client}"`], { stdio: 'ignore' });
      assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 0);
    } finally {
      server.close();
    }
    assert.ok((await hits()) > before, 'sock_ops ran');
    await c.detach(loaderV1.DetachRequest.create({ linkId: r.point!.linkId }), { metadata: AS_TEST });
    assert.ok(!existsSync(r.point!.pinPath), 'detach unpins the link');
  });

  test('run counts, metrics and status come from the kernel and the records', async () => {
    const programs = (await c.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: fixture.id }))).programs;
    const filter = programs.find((p) => p.name === 'port_filter')!;
    assert.equal(filter.statsEnabled, true);
    assert.ok(filter.runCount >= 200n, `port_filter ran ${filter.runCount} times`);
    const stats = await c.programStats(loaderV1.ProgramStatsRequest.create({ programId: filter.id }));
    assert.ok(stats.stats[0]!.runCount >= filter.runCount && stats.stats[0]!.runTimeNs > 0n);

    const metrics = (await telemetryGet(home, '/metrics')).body;
    assert.ok((metricValue(metrics, 'netaccel_loader_program_runs_total', { program: filter.id }) ?? 0) >= 200);
    assert.match(metrics, new RegExp(`netaccel_build_info\\{app="ebpf-loader",version="\\d+\\.\\d+\\.\\d+"`));
    // the exposition as Prometheus reads it, and promtool's lint rules
    assert.deepEqual(lintExposition(parseExposition(metrics), { except: PROM_CLIENT_LINT_EXCEPTIONS }), []);
    assert.ok((metricValue(metrics, 'netaccel_loader_rpc_requests_total', { method: 'Attach', code: 'OK' }) ?? 0) >= 5);
    assert.ok((metricValue(metrics, 'netaccel_loader_rpc_request_duration_seconds_count', { method: 'MapLookup' }) ?? 0) >= 3);
    assert.equal(metricValue(metrics, 'netaccel_loader_attachments', { mode: 'xdp-native' }), 1);
    const status = JSON.parse((await telemetryGet(home, '/v1/status')).body) as { attachments: { mode: string; target: unknown }[]; statsEnabled: boolean };
    assert.deepEqual(status.attachments.map((a) => a.mode), ['xdp-native']);
    assert.equal((await telemetryGet(home, '/readyz')).status, 200);
  });

  test('every change is an audit line: who, what, the object hash, the outcome', async () => {
    const audit = logLines(loader).filter((l) => l.component === 'audit');
    const attach = audit.find((l) => l.action === 'attach' && l.programId === progId('port_filter'));
    assert.deepEqual(attach?.who, { user: 'loader-test(uid 0)', peer: attach?.who && (attach.who as { peer: string }).peer, verified: false });
    assert.equal(attach?.objectSha256, fixture.sha256);
    assert.equal(attach?.outcome, 'ok');
    assert.equal(attach?.mode, 'xdp-native');
    const update = audit.find((l) => l.action === 'map-update');
    assert.deepEqual([update?.mapId, update?.key, update?.objectSha256], [mapId('blocked_ports'), u16(BLOCK_PORT).toString('hex'), fixture.sha256]);
    assert.ok(audit.some((l) => l.action === 'load-object' && l.objectId === fixture.id && l.alreadyLoaded === false));
    assert.ok(audit.some((l) => l.action === 'map-update-batch' && l.updated === 100));
  });

  test('unload is refused while attached, forced it detaches first; nothing of the object is left', async () => {
    await assert.rejects(
      c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: fixture.id })),
      (e: Error & { code?: string }) => e.code === 'NA_ERR_LOADER_OBJECT_IN_USE' && /^object loader-fixture-[0-9a-f]+ has attachments \(l-[0-9a-f]{8}: xdp-native\): detach them first or unload with force$/.test(e.message),
    );
    const r = await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: fixture.id, force: true }), { metadata: AS_TEST });
    assert.equal(r.detachedLinkIds.length, 1);
    const links = await lab.ipJson<{ xdp?: unknown }[]>('server', ['link', 'show', 'dev', 'eth0']);
    assert.equal(links[0]?.xdp, undefined, 'eth0 has no XDP program any more');
    assert.ok(!pinTree(home).some((p) => p.includes(fixture.id) || p.includes('/links/l-')), 'no pin of it is left');
    assert.ok(!readFileSync(home.stateFile, 'utf8').includes(fixture.id));
  });
});

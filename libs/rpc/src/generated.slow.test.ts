// The generated code: messages round-trip through the wire format and JSON, the service
// definitions carry the contract's paths, and `gen:check` tells a current tree from a stale one.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AttachMode,
  AttachRequest,
  LoadObjectRequest,
  LoaderService,
  ProgramInfo,
  ProgramType,
} from './generated/netaccel/loader/v1/loader.js';
import { AnnounceRequest, AnnouncerService, PeerEvent, PeerState } from './generated/netaccel/announcer/v1/announcer.js';
import { BalancerService, ForwardingMode, GetStatsResponse } from './generated/netaccel/balancer/v1/balancer.js';
import { HealthService } from './generated/grpc/health/v1/health.js';
import { tempDir } from './test/fixtures.js';

const libRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const genScript = join(libRoot, 'scripts', 'gen.mjs');

test('messages round-trip: oneof, map, bytes, 64-bit counters, optional scalars, timestamps', () => {
  const attach = AttachRequest.create({
    programId: 'obj1/xlb',
    point: { mode: AttachMode.ATTACH_MODE_TC_INGRESS, target: { $case: 'iface', value: { name: 'eth0', ifindex: 2 } }, priority: 10 },
    replace: true,
  });
  const attachBack = AttachRequest.decode(AttachRequest.encode(attach).finish());
  assert.deepEqual(attachBack, attach);
  assert.equal(attachBack.point?.target?.$case, 'iface');

  const load = LoadObjectRequest.create({ path: 'xlb.bpf.o', owner: 'lb-controller', globals: { MAX_VIPS: Buffer.from([0, 4, 0, 0]) } });
  assert.deepEqual(LoadObjectRequest.decode(LoadObjectRequest.encode(load).finish()), load);

  const big = 2n ** 60n + 7n; // beyond Number.MAX_SAFE_INTEGER: why forceLong=bigint
  const prog = ProgramInfo.create({ id: 'obj1/xlb', type: ProgramType.PROGRAM_TYPE_XDP, runCount: big, runTimeNs: big * 3n });
  const progBack = ProgramInfo.decode(ProgramInfo.encode(prog).finish());
  assert.equal(progBack.runCount, big);
  assert.equal(progBack.runTimeNs, big * 3n);
  assert.deepEqual(ProgramInfo.fromJSON(ProgramInfo.toJSON(prog)), prog);

  const withMed = AnnounceRequest.create({ route: { prefix: '198.51.100.10/32', med: 0, communities: [{ asn: 65000, value: 100 }] } });
  const noMed = AnnounceRequest.create({ route: { prefix: '198.51.100.10/32' } });
  assert.equal(AnnounceRequest.decode(AnnounceRequest.encode(withMed).finish()).route?.med, 0, 'MED 0 is sent');
  assert.equal(AnnounceRequest.decode(AnnounceRequest.encode(noMed).finish()).route?.med, undefined, 'no MED stays absent');

  const at = new Date('2026-11-21T12:00:00.123Z');
  const ev = PeerEvent.create({ peer: { address: '192.0.2.1', asn: 65001, state: PeerState.PEER_STATE_ESTABLISHED }, at, reason: 'received OPEN' });
  assert.deepEqual(PeerEvent.decode(PeerEvent.encode(ev).finish()).at, at);

  const stats = GetStatsResponse.create({
    vips: [{ serviceId: '198.51.100.10:443/tcp', counters: { packets: 10n, bytes: 1500n, newFlows: 1n, drops: [{ reason: 'no_backend', packets: 2n }] } }],
  });
  assert.deepEqual(GetStatsResponse.decode(GetStatsResponse.encode(stats).finish()), stats);
  assert.equal(ForwardingMode.FORWARDING_MODE_GUE, 3);
});

test('service definitions carry the contract: paths, streaming flags', () => {
  assert.equal(LoaderService.loadObject.path, '/netaccel.loader.v1.Loader/LoadObject');
  assert.equal(LoaderService.mapDump.responseStream, true);
  assert.equal(LoaderService.mapUpdateBatch.responseStream, false);
  assert.deepEqual(Object.keys(LoaderService), [
    'loadObject', 'unloadObject', 'listObjects', 'listPrograms', 'attach', 'detach', 'listMaps', 'mapLookup',
    'mapLookupBatch', 'mapUpdate', 'mapDelete', 'mapDump', 'mapUpdateBatch', 'testRun', 'programStats', 'watchRingBuffer',
  ]);
  assert.equal(LoaderService.mapLookupBatch.responseStream, false);
  assert.equal(LoaderService.watchRingBuffer.responseStream, true);
  assert.deepEqual(Object.keys(AnnouncerService), ['announce', 'withdraw', 'listPeers', 'listRoutes', 'watchPeers']);
  assert.equal(AnnouncerService.watchPeers.responseStream, true);
  assert.deepEqual(Object.keys(BalancerService), ['listServices', 'listBackends', 'drain', 'getStats']);
  assert.deepEqual(Object.keys(HealthService), ['check', 'list', 'watch']);
  assert.equal(HealthService.watch.path, '/grpc.health.v1.Health/Watch');
});

function genCheck(root?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [genScript, '--check', ...(root === undefined ? [] : ['--root', root])], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function copyTree(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  await cp(join(libRoot, 'proto'), join(dir, 'proto'), { recursive: true });
  await cp(join(libRoot, 'src', 'generated'), join(dir, 'src', 'generated'), { recursive: true });
  return { root: dir, cleanup };
}

test('gen:check passes on the committed output', () => {
  const r = genCheck();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /src\/generated is current/);
});

test('gen:check fails, naming the file, when a generated file is edited, missing or extra (in a copy)', async () => {
  const { root, cleanup } = await copyTree();
  try {
    assert.equal(genCheck(root).status, 0, 'the untouched copy is current');

    const loader = join(root, 'src', 'generated', 'netaccel', 'loader', 'v1', 'loader.ts');
    await appendFile(loader, '// edited by hand\n');
    let r = genCheck(root);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is stale/);
    assert.match(r.stderr, /modified: netaccel\/loader\/v1\/loader\.ts/);
    assert.match(r.stderr, /npm run gen -w @netaccel\/rpc/);

    await rm(join(root, 'src', 'generated', 'netaccel', 'balancer'), { recursive: true });
    await writeFile(join(root, 'src', 'generated', 'stray.ts'), 'export {};\n');
    r = genCheck(root);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing: {2}netaccel\/balancer\/v1\/balancer\.ts/);
    assert.match(r.stderr, /extra: {4}stray\.ts/);
  } finally {
    await cleanup();
  }
});

test('gen:check fails when a .proto changed and the code was not regenerated (in a copy)', async () => {
  const { root, cleanup } = await copyTree();
  try {
    const proto = join(root, 'proto', 'netaccel', 'balancer', 'v1', 'balancer.proto');
    const text = await readFile(proto, 'utf8');
    await writeFile(proto, text.replace('message DrainResponse {', 'message DrainResponse {\n  string note = 2;'));
    const r = genCheck(root);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /modified: netaccel\/balancer\/v1\/balancer\.ts/);
  } finally {
    await cleanup();
  }
});

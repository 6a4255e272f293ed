/**
 * End to end: `netaccel bpf …` (apps/cli) against a real loader in the `server` namespace of a lab:
 * load, attach, programs (table and --json with interface, mode, object hash and run count),
 * objects, maps, map writes and reads (dash and two-word forms, raw and --typed through the
 * object's BTF), dumps, test runs, stats, detach, unload — and the exit codes and messages of
 * usage errors and of errors from the loader. The CLI's calls appear in the loader's audit lines
 * with the user it sends.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createLab } from '@netaccel/netlab';
import type { LabProcess } from '@netaccel/netlab';
import { groups, runCliCaptured } from '@netaccel/app-cli/testing';
import { selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import { encodeBackend, encodeVipKey } from '@netaccel/bpf-programs/xlb';
import { objectPath } from '@netaccel/bpf-programs/xlb/testing';
import { burstScript, logLinesWhen, makeHome, removeHome, startLoader } from '@netaccel/app-ebpf-loader/testing';
import type { LoaderHome } from '@netaccel/app-ebpf-loader/testing';

const lab = createLab({
  name: 'loader-cli',
  nodes: { client: {}, server: {} },
  links: [{ a: 'client:eth0', b: 'server:eth0', aAddr: '10.83.0.1/24', bAddr: '10.83.0.2/24' }],
});

describe('netaccel bpf against a real loader', () => {
  let home: LoaderHome;
  let loader: LabProcess;

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    return runCliCaptured([...argv, '--socket', home.socket], groups);
  }
  async function json<T>(...argv: string[]): Promise<T> {
    const r = await cli(...argv, '--json');
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as T;
  }

  beforeAll(async () => {
    home = makeHome('cli');
    await lab.up();
    loader = await startLoader(lab, 'server', home);
  });

  afterAll(async () => {
    await lab.down();
    removeHome(home);
  });

  let selftest = '';
  let fixture = '';
  let link = '';

  test('load, attach, and programs --json lists every program with interface, attach mode, object hash and run count', async () => {
    const s = await json<{ alreadyLoaded: boolean; object: { id: string; sha256: string; programs: { id: string }[] } }>('bpf', 'load', 'selftest.bpf.o', '--global', 'drop_udp_port=u16:7601');
    assert.equal(s.alreadyLoaded, false);
    selftest = s.object.id;
    const f = await json<{ object: { id: string; sha256: string } }>('bpf', 'load', 'loader-fixture.bpf.o', '--owner', 'cli-test');
    fixture = f.object.id;
    const a = await json<{ linkId: string; mode: string; target: string; pinPath: string }>('bpf', 'attach', `${fixture}/port_filter`, 'xdp-native', 'eth0');
    assert.deepEqual([a.mode, a.target], ['xdp-native', 'eth0']);
    link = a.linkId;
    await lab.exec('client', [process.execPath, '-e', burstScript('10.83.0.2', [9], 30)]);

    const { programs } = await json<{ programs: { id: string; type: string; objectSha256: string; runCount: string; attachments: { linkId: string; mode: string; interface?: string; ifindex?: number }[] }[] }>('bpf', 'programs');
    assert.equal(programs.length, 7, 'the selftest program and the six of the fixture');
    const filter = programs.find((p) => p.id === `${fixture}/port_filter`)!;
    assert.equal(filter.objectSha256, f.object.sha256);
    assert.deepEqual(filter.attachments.map((x) => [x.linkId, x.mode, x.interface]), [[link, 'xdp-native', 'eth0']]);
    assert.ok(Number(filter.attachments[0]!.ifindex) > 0);
    assert.ok(BigInt(filter.runCount) >= 30n, `run count ${filter.runCount}`);
    assert.ok(programs.every((p) => /^[0-9a-f]{64}$/.test(p.objectSha256) && /^\d+$/.test(p.runCount)));

    const table = await cli('bpf', 'programs');
    assert.equal(table.code, 0, table.err);
    assert.match(table.out.split('\n')[0]!, /^ID\s+TYPE\s+KERNEL ID\s+ATTACHED\s+OBJECT SHA256\s+RUNS\s+AVG NS$/);
    assert.match(table.out, new RegExp(`${fixture}/port_filter\\s+xdp\\s+\\d+\\s+xdp-native eth0 \\(${link}\\)\\s+${f.object.sha256.slice(0, 12)}`));
  });

  test('objects, maps, map writes and reads in both forms, raw and typed', async () => {
    const { objects } = await json<{ objects: { id: string; owner: string }[] }>('bpf', 'objects', '--owner', 'cli-test');
    assert.deepEqual(objects.map((o) => o.id), [fixture]);
    const maps = await json<{ maps: { id: string; typeName: string }[] }>('bpf', 'maps', '--object', fixture);
    assert.ok(maps.maps.some((m) => m.id === `${fixture}/blocked_ports` && m.typeName === 'hash'));

    const blocked = `${fixture}/blocked_ports`;
    assert.equal((await cli('bpf', 'map-put', blocked, 'u16:9', 'u32:7')).code, 0);
    const got = await json<{ key: string; value: string }>('bpf', 'map', 'get', blocked, 'u16:9');
    assert.deepEqual(got, { key: '0900', value: '07000000' });
    const typed = await json<{ key: number; value: number }>('bpf', 'map-get', blocked, 'u16:9', '--typed');
    assert.deepEqual(typed, { key: 9, value: 7 });
    assert.equal((await cli('bpf', 'map', 'put', blocked, 'u16:9', 'u32:8', '--flag', 'noexist')).code, 1, 'noexist on a present key fails');

    const stats = `${fixture}/filter_stats`;
    assert.equal((await cli('bpf', 'map-put', stats, 'u32:1', '{"packets":5,"last_port":80,"verdict":1}', '--typed')).code, 0);
    const dumped = (await json<{ entries: { key: number; value: { packets: string; bytes: string; last_port: number; verdict: number } }[] }>('bpf', 'map-dump', stats, '--typed')).entries;
    assert.deepEqual(dumped[1], { key: 1, value: { packets: '5', bytes: '0', last_port: 80, verdict: 1, flags: 0, reserved: 0 } });
    assert.ok(Number(dumped[0]!.value.packets) >= 30, 'the pass counter of the traffic, typed');
    const perCpu = await json<{ key: number; perCpuValues: { packets: string }[] }>('bpf', 'map-get', `${selftest}/verdict_stats`, 'u32:1', '--typed');
    assert.ok(Array.isArray(perCpu.perCpuValues) && perCpu.perCpuValues.length >= 1 && 'bytes' in perCpu.perCpuValues[0]!);
    const limited = (await json<{ entries: unknown[] }>('bpf', 'map', 'dump', stats, '--limit', '1')).entries;
    assert.equal(limited.length, 1);
    assert.equal((await cli('bpf', 'map-delete', blocked, 'u16:9')).code, 0);
    const missing = await cli('bpf', 'map-get', blocked, 'u16:9');
    assert.equal(missing.code, 1);
    assert.equal(missing.err, `netaccel bpf map-get: map ${blocked} has no key 0x0900 [NA_ERR_LOADER_KEY_NOT_FOUND]\n`);
  });

  test('--typed shows a netaccel program\'s structs with their registered codecs (addresses as text) and takes the same JSON', async () => {
    copyFileSync(objectPath('balancer'), join(home.objectDir, 'xlb.bpf.o'));
    const x = await json<{ object: { id: string } }>('bpf', 'load', 'xlb.bpf.o', '--owner', 'cli-test-xlb');
    const xlb = x.object.id;
    const backend = { address: '10.1.0.7', mac: '02:00:00:00:10:07', port: 8080, flags: 1, nexthop: 0 };
    assert.equal((await cli('bpf', 'map-put', `${xlb}/backends`, 'u32:7', JSON.stringify(backend), '--typed')).code, 0);
    const got = await json<{ key: number; value: unknown }>('bpf', 'map-get', `${xlb}/backends`, 'u32:7', '--typed');
    assert.deepEqual(got, { key: 7, value: backend });
    const raw = await json<{ value: string }>('bpf', 'map-get', `${xlb}/backends`, 'u32:7');
    assert.equal(raw.value, encodeBackend(backend).toString('hex'), 'the registered codec wrote the C layout');
    const key = encodeVipKey({ address: '2001:db8::10', port: 443, protocol: 'tcp' });
    const meta = { vipIndex: 2, flags: 0, tableSize: 1009, activeSlot: 1, mode: 'nat' };
    assert.equal((await cli('bpf', 'map-put', `${xlb}/vips`, `0x${key.toString('hex')}`, JSON.stringify(meta), '--typed')).code, 0);
    const vips = (await json<{ entries: { key: unknown; value: unknown }[] }>('bpf', 'map-dump', `${xlb}/vips`, '--typed')).entries;
    assert.deepEqual(vips, [{ key: { address: '2001:db8::10', port: 443, protocol: 'tcp' }, value: meta }]);
    const bad = await cli('bpf', 'map-put', `${xlb}/backends`, 'u32:8', JSON.stringify({ ...backend, address: 'nope' }), '--typed');
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /--typed: a value of map backends: backend\.address: .*nope.* \[NA_ERR_CLI_USAGE\]\n$/);
    assert.equal((await cli('bpf', 'unload', xlb)).code, 0);
  });

  test('test-run and stats', async () => {
    const drop = selftestFixtures(7601)[0]!;
    const r = await json<{ retval: number; dataOut: string }>('bpf', 'test-run', `${selftest}/selftest_xdp`, '--data', `0x${drop.packet.toString('hex')}`);
    assert.deepEqual([r.retval, r.dataOut], [1, drop.output.toString('hex')]);
    const s = await json<{ stats: { programId: string; runCount: string }[]; statsEnabled: boolean }>('bpf', 'stats', `${selftest}/selftest_xdp`);
    assert.equal(s.statsEnabled, true);
    assert.ok(BigInt(s.stats[0]!.runCount) >= 1n);
  });

  test('usage errors exit 2; loader errors exit 1 with the message and the code', async () => {
    const mode = await cli('bpf', 'attach', `${fixture}/port_filter`, 'xdp-turbo', 'eth0');
    assert.equal(mode.code, 2);
    assert.match(mode.err, /<mode>: expected one of xdp-native, xdp-generic, tc-ingress, .*got "xdp-turbo" \[NA_ERR_CLI_USAGE\]/);
    assert.equal((await cli('bpf', 'map-get', `${fixture}/blocked_ports`, 'zz')).code, 2);
    assert.equal((await cli('bpf', 'map', 'frob', 'x')).code, 2);
    assert.equal((await cli('bpf', 'detach')).code, 2);
    const taken = await cli('bpf', 'attach', `${selftest}/selftest_xdp`, 'xdp-native', 'eth0');
    assert.equal(taken.code, 1);
    assert.match(taken.err, new RegExp(`interface eth0 \\(XDP\\) is taken by program ${fixture}/port_filter \\(kernel id \\d+, attachment ${link}\\)`));
    const outside = await cli('bpf', 'load', '../loader.yaml', '--json');
    assert.equal(outside.code, 1);
    assert.equal((JSON.parse(outside.err) as { error: { code: string } }).error.code, 'NA_ERR_LOADER_PATH_OUTSIDE');
  });

  test('detach and unload; the audit lines carry the user the CLI sent', async () => {
    assert.equal((await cli('bpf', 'detach', link)).code, 0);
    const u = await json<{ detachedLinkIds: string[] }>('bpf', 'unload', fixture);
    assert.deepEqual(u.detachedLinkIds, []);
    assert.equal((await cli('bpf', 'unload', selftest)).code, 0);
    assert.deepEqual(await json<{ programs: unknown[] }>('bpf', 'programs'), { programs: [] });
    const audit = (await logLinesWhen(loader, (ls) => ls.filter((l) => l.component === 'audit' && l.action === 'unload-object' && l.outcome === 'ok').length >= 3, 'the audit lines of the three unloads')).filter((l) => l.component === 'audit');
    const me = `${userInfo().username}(uid ${process.getuid!()})`;
    assert.ok(audit.length >= 8);
    assert.ok(audit.every((l) => (l.who as { user: string }).user === me), `every audit line names ${me}`);
    assert.ok(audit.some((l) => l.action === 'detach' && l.linkId === link && l.outcome === 'ok'));
  });
});

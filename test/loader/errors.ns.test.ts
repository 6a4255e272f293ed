/**
 * End to end: every bad request gets a precise error — its NA_ERR code, its gRPC status, a message
 * a person can act on — and leaves nothing behind: the state file, the pins under the pin root
 * and the kernel's hooks are exactly as they were before the request.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab } from '@netaccel/netlab';
import { isRpcError, loaderV1 } from '@netaccel/rpc';
import type { RpcError } from '@netaccel/rpc';
import { AS_TEST, SELFTEST, connect, ifacePoint, load, makeHome, pinTree, removeHome, startLoader, stateText, u16, u32 } from '@netaccel/app-ebpf-loader/testing';
import type { Loader, LoaderHome } from '@netaccel/app-ebpf-loader/testing';

const { AttachMode } = loaderV1;
/** gRPC status codes (grpc/status.h). */
const Status = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9 } as const;
type Status = (typeof Status)[keyof typeof Status];

const lab = createLab({
  name: 'loader-errors',
  nodes: { client: {}, server: {} },
  links: [
    { a: 'client:eth0', b: 'server:eth0', aAddr: '10.81.0.1/24', bAddr: '10.81.0.2/24' },
    { a: 'client:eth1', b: 'server:eth1', aAddr: '10.82.0.1/24', bAddr: '10.82.0.2/24' },
  ],
});

describe('bad requests: precise errors, no partial state', () => {
  let home: LoaderHome;
  let c: Loader;
  let selftest: loaderV1.ObjectInfo;
  let fixture: loaderV1.ObjectInfo;
  let xdpLink = '';

  const xdpOn = async (ifname: string): Promise<number> => {
    const links = await lab.ipJson<{ xdp?: unknown }[]>('server', ['link', 'show', 'dev', ifname]);
    const m = /"id":(\d+)/.exec(JSON.stringify(links[0]?.xdp ?? {}));
    return m ? Number(m[1]) : 0;
  };
  const snapshot = async () => ({ state: stateText(home), pins: pinTree(home), eth0: await xdpOn('eth0'), eth1: await xdpOn('eth1') });

  /** Runs `call`, expects it to fail with `code` / `grpc` / `message`, and checks nothing changed. */
  async function refused(call: () => Promise<unknown>, code: string, grpc: Status, message: string | RegExp): Promise<RpcError> {
    const before = await snapshot();
    let caught: unknown;
    try {
      await call();
    } catch (err) {
      caught = err;
    }
    assert.ok(isRpcError(caught), `expected an RpcError, got ${String(caught)}`);
    assert.equal(caught.code, code, caught.message);
    assert.equal(caught.grpcCode, grpc, `${code}: gRPC status`);
    if (typeof message === 'string') assert.equal(caught.message, message);
    else assert.match(caught.message, message);
    assert.deepEqual(await snapshot(), before, `${code}: the state file, the pins and the hooks are as they were`);
    return caught;
  }

  beforeAll(async () => {
    home = makeHome('errors');
    symlinkSync(home.config, join(home.objectDir, 'escape.bpf.o'));
    symlinkSync(SELFTEST, join(home.objectDir, 'elsewhere.bpf.o'));
    writeFileSync(join(home.objectDir, 'junk.bpf.o'), 'this is not an ELF object\n');
    await lab.up();
    await startLoader(lab, 'server', home);
    c = connect(home);
    selftest = await load(c, 'selftest.bpf.o', { drop_udp_port: u16(53) });
    fixture = await load(c, 'loader-fixture.bpf.o');
    const r = await c.attach(loaderV1.AttachRequest.create({ programId: selftest.programs[0]!.id, point: ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth0') }), { metadata: AS_TEST });
    xdpLink = r.point!.linkId;
  });

  afterAll(async () => {
    c?.close();
    await lab.down();
    removeHome(home);
  });

  const loadReq = (path: string, extra: Partial<loaderV1.LoadObjectRequest> = {}) => () => c.loadObject(loaderV1.LoadObjectRequest.create({ path, ...extra }), { metadata: AS_TEST });
  const attachReq = (programId: string, point: loaderV1.AttachPoint, replace = false) => () =>
    c.attach(loaderV1.AttachRequest.create({ programId, point, replace }), { metadata: AS_TEST });
  const prog = (o: loaderV1.ObjectInfo, name: string) => o.programs.find((p) => p.name === name)!.id;
  const map = (o: loaderV1.ObjectInfo, name: string) => o.maps.find((m) => m.name === name)!.id;

  test('unknown object file', async () => {
    await refused(loadReq('missing.bpf.o'), 'NA_ERR_LOADER_OBJECT_NOT_FOUND', Status.NOT_FOUND, `no object file missing.bpf.o in ${home.objectDir}`);
    await refused(loadReq(''), 'NA_ERR_LOADER_INVALID_REQUEST', Status.INVALID_ARGUMENT, `path: expected the path of an object file in ${home.objectDir}, got ""`);
  });

  test('objects outside the allowed directory, symlinks resolved first', async () => {
    await refused(loadReq('../loader.yaml'), 'NA_ERR_LOADER_PATH_OUTSIDE', Status.PERMISSION_DENIED, `path ../loader.yaml: resolves to ${home.config}, outside the object directory ${home.objectDir}`);
    await refused(loadReq(SELFTEST), 'NA_ERR_LOADER_PATH_OUTSIDE', Status.PERMISSION_DENIED, `path ${SELFTEST}: resolves to ${SELFTEST}, outside the object directory ${home.objectDir}`);
    await refused(loadReq('escape.bpf.o'), 'NA_ERR_LOADER_PATH_OUTSIDE', Status.PERMISSION_DENIED, `path escape.bpf.o: resolves to ${home.config}, outside the object directory ${home.objectDir}`);
    await refused(loadReq('elsewhere.bpf.o'), 'NA_ERR_LOADER_PATH_OUTSIDE', Status.PERMISSION_DENIED, /^path elsewhere\.bpf\.o: resolves to .*bpf\/build\/selftest\/selftest\.bpf\.o, outside/);
  });

  test('a verifier rejection answers the verifier\'s log', async () => {
    const err = await refused(loadReq('verifier-reject.bpf.o'), 'NA_ERR_LOADER_VERIFIER', Status.FAILED_PRECONDITION, /^the verifier rejected program reject_unchecked of verifier-reject: \S/);
    assert.equal(err.details.program, 'reject_unchecked');
    assert.match(String(err.details.log), /invalid access to packet/);
    const reason = err.message.slice('the verifier rejected program reject_unchecked of verifier-reject: '.length);
    assert.ok(String(err.details.log).split('\n').includes(reason), `the message ends with the log's reason line (${reason})`);
    assert.match(String(err.details.log), /processed \d+ insns/);
    assert.equal(typeof err.details.logBytes, 'number');
  });

  test('not an object, a sha256 that does not match, globals and map sizes that do not fit', async () => {
    await refused(loadReq('junk.bpf.o'), 'NA_ERR_BPF_OPEN', Status.INVALID_ARGUMENT, /^cannot open BPF object <buffer of 26 bytes>: /);
    await refused(loadReq('selftest.bpf.o', { expectedSha256: 'ab'.repeat(32) }), 'NA_ERR_LOADER_SHA256_MISMATCH', Status.FAILED_PRECONDITION,
      `object selftest.bpf.o: sha256 is ${selftest.sha256}, the request expected ${'ab'.repeat(32)}`);
    await refused(loadReq('selftest.bpf.o', { expectedSha256: 'xyz' }), 'NA_ERR_LOADER_INVALID_REQUEST', Status.INVALID_ARGUMENT, 'expectedSha256: expected 64 hex digits, got "xyz"');
    await refused(loadReq('selftest.bpf.o', { globals: { nope: u16(1) } }), 'NA_ERR_LOADER_GLOBAL', Status.INVALID_ARGUMENT, 'globals.nope: no such global in selftest (it has drop_udp_port)');
    await refused(loadReq('selftest.bpf.o', { globals: { drop_udp_port: u32(1) } }), 'NA_ERR_LOADER_GLOBAL', Status.INVALID_ARGUMENT, 'globals.drop_udp_port: expected 2 bytes (const volatile __u16), got 4');
    const typed = (value: loaderV1.GlobalValue['value']) => ({ typedGlobals: { drop_udp_port: loaderV1.GlobalValue.create({ value }) } });
    await refused(loadReq('selftest.bpf.o', typed({ $case: 'unsigned', value: 70000n })), 'NA_ERR_LOADER_GLOBAL', Status.INVALID_ARGUMENT, 'typedGlobals.drop_udp_port: expected 0..65535, got 70000');
    await refused(loadReq('selftest.bpf.o', typed({ $case: 'signed', value: -1n })), 'NA_ERR_LOADER_GLOBAL', Status.INVALID_ARGUMENT, 'typedGlobals.drop_udp_port: expected 0..65535, got -1');
    await refused(loadReq('selftest.bpf.o', typed(undefined)), 'NA_ERR_LOADER_INVALID_REQUEST', Status.INVALID_ARGUMENT, 'typedGlobals.drop_udp_port: give unsigned, signed, boolean or raw');
    await refused(loadReq('selftest.bpf.o', { ...typed({ $case: 'unsigned', value: 53n }), globals: { drop_udp_port: u16(53) } }), 'NA_ERR_LOADER_INVALID_REQUEST', Status.INVALID_ARGUMENT,
      'typedGlobals.drop_udp_port: also given in globals; give each global once');
    await refused(loadReq('selftest.bpf.o', { typedGlobals: { nope: loaderV1.GlobalValue.create({ value: { $case: 'unsigned', value: 1n } }) } }), 'NA_ERR_LOADER_GLOBAL', Status.INVALID_ARGUMENT,
      'typedGlobals.nope: no such global in selftest (it has drop_udp_port)');
    await refused(loadReq('selftest.bpf.o', { mapSizes: { nope: 4 } }), 'NA_ERR_LOADER_MAP_SIZE', Status.INVALID_ARGUMENT, 'mapSizes.nope: no such map in selftest (it has verdict_stats)');
    await refused(loadReq('selftest.bpf.o', { mapSizes: { verdict_stats: 0 } }), 'NA_ERR_LOADER_MAP_SIZE', Status.INVALID_ARGUMENT, 'mapSizes.verdict_stats: expected 1..4294967295 entries, got 0');
  });

  test('wrong key and value sizes, absent keys, update flags, indexes out of range', async () => {
    const stats = map(selftest, 'verdict_stats');
    const blocked = map(fixture, 'blocked_ports');
    await c.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId: blocked, entry: { key: u16(99), value: u32(1), perCpuValues: [] } }), { metadata: AS_TEST });
    const lookup = (mapId: string, key: Buffer) => () => c.mapLookup(loaderV1.MapLookupRequest.create({ mapId, key }));
    const update = (mapId: string, entry: loaderV1.MapEntry, flag = loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_ANY) => () =>
      c.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId, entry, flag }), { metadata: AS_TEST });
    await refused(lookup(stats, Buffer.alloc(3)), 'NA_ERR_BPF_KEY_SIZE', Status.INVALID_ARGUMENT, 'map verdict_stats: key has 3 bytes, expected 4');
    await refused(update(blocked, loaderV1.MapEntry.create({ key: u16(5), value: Buffer.alloc(8) })), 'NA_ERR_BPF_VALUE_SIZE', Status.INVALID_ARGUMENT, 'map blocked_ports: value has 8 bytes, expected 4');
    await refused(update(stats, loaderV1.MapEntry.create({ key: u32(1), value: Buffer.alloc(8) })), 'NA_ERR_BPF_VALUE_SIZE', Status.INVALID_ARGUMENT, 'map verdict_stats: value has 8 bytes, expected 16');
    await refused(update(stats, loaderV1.MapEntry.create({ key: u32(1), perCpuValues: [Buffer.alloc(16)] })), 'NA_ERR_BPF_VALUE_SIZE', Status.INVALID_ARGUMENT, /^map verdict_stats: value has 16 bytes, expected \d+$/);
    await refused(lookup(blocked, u16(4242)), 'NA_ERR_LOADER_KEY_NOT_FOUND', Status.NOT_FOUND, `map ${blocked} has no key 0x9210`);
    await refused(() => c.mapDelete(loaderV1.MapDeleteRequest.create({ mapId: blocked, key: u16(4242) })), 'NA_ERR_LOADER_KEY_NOT_FOUND', Status.NOT_FOUND, `map ${blocked} has no key 0x9210`);
    await refused(update(blocked, loaderV1.MapEntry.create({ key: u16(99), value: u32(2) }), loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_NOEXIST), 'NA_ERR_BPF_EXISTS', Status.ALREADY_EXISTS, 'map blocked_ports: the key exists already');
    await refused(update(blocked, loaderV1.MapEntry.create({ key: u16(98), value: u32(2) }), loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_EXIST), 'NA_ERR_BPF_NOT_FOUND', Status.NOT_FOUND, 'map blocked_ports: key not found');
    await refused(update(map(fixture, 'filter_stats'), loaderV1.MapEntry.create({ key: u32(5), value: Buffer.alloc(24) })), 'NA_ERR_BPF_INVALID', Status.INVALID_ARGUMENT, 'map filter_stats: index out of range 0..1');
    await refused(lookup('nope/none', u32(0)), 'NA_ERR_LOADER_MAP_NOT_FOUND', Status.NOT_FOUND, /^no map nope\/none \(the loader has selftest-[0-9a-f]+\/verdict_stats, /);
    const got = await c.mapLookup(loaderV1.MapLookupRequest.create({ mapId: blocked, key: u16(99) }));
    assert.equal(got.entry!.value.readUInt32LE(0), 1, 'the refused NOEXIST did not change the value');
  });

  test('a missing interface', async () => {
    const p = selftest.programs[0]!.id;
    await refused(attachReq(p, ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'nope0')), 'NA_ERR_LOADER_NO_IFACE', Status.NOT_FOUND, 'no network interface nope0 in the loader\'s network namespace');
    const byIndex = loaderV1.AttachPoint.create({ mode: AttachMode.ATTACH_MODE_TC_INGRESS, target: { $case: 'iface', value: loaderV1.Interface.create({ ifindex: 9999 }) } });
    await refused(attachReq(prog(fixture, 'tc_count'), byIndex), 'NA_ERR_LOADER_NO_IFACE', Status.NOT_FOUND, 'no network interface with index 9999 in the loader\'s network namespace');
    const none = loaderV1.AttachPoint.create({ mode: AttachMode.ATTACH_MODE_TC_INGRESS });
    await refused(attachReq(prog(fixture, 'tc_count'), none), 'NA_ERR_LOADER_BAD_ATTACH', Status.INVALID_ARGUMENT, 'point.iface: ATTACH_MODE_TC_INGRESS needs an interface (name or ifindex)');
  });

  test('an interface taken by one of ours: refused naming it; replace swaps atomically and keeps the attachment', async () => {
    const other = await load(c, 'selftest.bpf.o', { drop_udp_port: u16(54) });
    const taken = `interface eth0 (XDP) is taken by program ${selftest.programs[0]!.id} (kernel id ${selftest.programs[0]!.kernelId}, attachment ${xdpLink}): detach it first or attach with replace`;
    await refused(attachReq(other.programs[0]!.id, ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth0')), 'NA_ERR_LOADER_HOOK_TAKEN', Status.ALREADY_EXISTS, taken);
    await refused(attachReq(prog(fixture, 'port_filter'), ifacePoint(AttachMode.ATTACH_MODE_XDP_GENERIC, 'eth0')), 'NA_ERR_LOADER_HOOK_TAKEN', Status.ALREADY_EXISTS, taken);
    await refused(attachReq(other.programs[0]!.id, ifacePoint(AttachMode.ATTACH_MODE_XDP_GENERIC, 'eth0'), true), 'NA_ERR_LOADER_BAD_ATTACH', Status.INVALID_ARGUMENT,
      `replace: eth0 has xdp-native (attachment ${xdpLink}), the request asks for xdp-generic; detach it to change the mode`);
    const r = await c.attach(loaderV1.AttachRequest.create({ programId: other.programs[0]!.id, point: ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth0'), replace: true }), { metadata: AS_TEST });
    assert.equal(r.point!.linkId, xdpLink, 'the same attachment, another program');
    assert.equal(await xdpOn('eth0'), other.programs[0]!.kernelId);
    await c.attach(loaderV1.AttachRequest.create({ programId: selftest.programs[0]!.id, point: ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth0'), replace: true }), { metadata: AS_TEST });
    assert.equal(await xdpOn('eth0'), selftest.programs[0]!.kernelId);
    await c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: other.id }), { metadata: AS_TEST });
  });

  test('an interface taken by a program the loader does not manage: refused naming it, also with replace', async () => {
    // bpftool, not iproute2 (which would create /sys/fs/bpf/{tc,ip,xdp} for its own pins).
    const pin = `${home.pinRoot}-foreign`;
    await lab.exec('server', ['bpftool', 'prog', 'load', SELFTEST, pin], { sysfs: 'host' });
    await lab.exec('server', ['bpftool', 'net', 'attach', 'xdpgeneric', 'pinned', pin, 'dev', 'eth1'], { sysfs: 'host' });
    rmSync(pin, { force: true }); // netlink keeps it attached
    try {
      const foreign = await xdpOn('eth1');
      assert.ok(foreign > 0);
      const msg = `interface eth1 (XDP) is taken by program selftest_xdp (kernel id ${foreign}, xdp), not managed by the loader: detach it first or attach with replace`;
      await refused(attachReq(prog(fixture, 'port_filter'), ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth1')), 'NA_ERR_LOADER_HOOK_TAKEN', Status.ALREADY_EXISTS, msg);
      await refused(attachReq(prog(fixture, 'port_filter'), ifacePoint(AttachMode.ATTACH_MODE_XDP_GENERIC, 'eth1'), true), 'NA_ERR_LOADER_HOOK_TAKEN', Status.ALREADY_EXISTS, msg);
    } finally {
      await lab.exec('server', ['bpftool', 'net', 'detach', 'xdpgeneric', 'dev', 'eth1'], { sysfs: 'host' });
    }
  });

  test('a tc priority taken: refused naming the program there', async () => {
    const tc = prog(fixture, 'tc_count');
    const first = await c.attach(loaderV1.AttachRequest.create({ programId: tc, point: ifacePoint(AttachMode.ATTACH_MODE_TC_EGRESS, 'eth1', 3) }), { metadata: AS_TEST });
    await refused(attachReq(tc, ifacePoint(AttachMode.ATTACH_MODE_TC_EGRESS, 'eth1', 3)), 'NA_ERR_LOADER_HOOK_TAKEN', Status.ALREADY_EXISTS,
      `tc egress priority 3 of eth1 is taken by program ${tc} (kernel id ${fixture.programs.find((p) => p.name === 'tc_count')!.kernelId}, attachment ${first.point!.linkId}): detach it first or attach with replace`);
    await c.detach(loaderV1.DetachRequest.create({ linkId: first.point!.linkId }), { metadata: AS_TEST });
  });

  test('programs that do not fit the hook, unknown ids and modes, targets of the wrong kind', async () => {
    const tc = prog(fixture, 'tc_count');
    await refused(attachReq(tc, ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth1')), 'NA_ERR_LOADER_BAD_ATTACH', Status.INVALID_ARGUMENT, `program ${tc} is sched_cls; ATTACH_MODE_XDP_NATIVE needs a xdp program`);
    await refused(attachReq('none/none', ifacePoint(AttachMode.ATTACH_MODE_XDP_NATIVE, 'eth1')), 'NA_ERR_LOADER_PROGRAM_NOT_FOUND', Status.NOT_FOUND, /^no program none\/none \(the loader has /);
    await refused(attachReq(tc, loaderV1.AttachPoint.create({ target: { $case: 'iface', value: loaderV1.Interface.create({ name: 'eth1' }) } })), 'NA_ERR_LOADER_INVALID_REQUEST', Status.INVALID_ARGUMENT,
      /^point\.mode: expected one of ATTACH_MODE_XDP_NATIVE, ATTACH_MODE_XDP_GENERIC, .*, got ATTACH_MODE_UNSPECIFIED$/);
    const onMap = (mapId: string) => loaderV1.AttachPoint.create({ mode: AttachMode.ATTACH_MODE_SK_MSG_VERDICT, target: { $case: 'sockmapId', value: mapId } });
    await refused(attachReq(prog(fixture, 'msg_verdict'), onMap(map(fixture, 'blocked_ports'))), 'NA_ERR_LOADER_BAD_ATTACH', Status.INVALID_ARGUMENT,
      `point.sockmapId: map ${map(fixture, 'blocked_ports')} is a hash; ATTACH_MODE_SK_MSG_VERDICT needs a sockmap or sockhash`);
    const cg = (path: string) => loaderV1.AttachPoint.create({ mode: AttachMode.ATTACH_MODE_SOCKOPS, target: { $case: 'cgroupPath', value: path } });
    await refused(attachReq(prog(fixture, 'sockops_count'), cg('netaccel-no-such-cgroup')), 'NA_ERR_LOADER_NO_CGROUP', Status.NOT_FOUND, 'no cgroup netaccel-no-such-cgroup');
    await refused(attachReq(prog(fixture, 'sockops_count'), cg('/tmp')), 'NA_ERR_LOADER_BAD_ATTACH', Status.INVALID_ARGUMENT, /^point\.cgroup: \/tmp is not inside a cgroup2 mount/);
    await refused(() => c.detach(loaderV1.DetachRequest.create({ linkId: 'l-00000000' })), 'NA_ERR_LOADER_LINK_NOT_FOUND', Status.NOT_FOUND, 'no attachment l-00000000');
    await refused(() => c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: 'nope' })), 'NA_ERR_LOADER_OBJECT_NOT_FOUND', Status.NOT_FOUND, /^no object nope \(the loader has /);
    await refused(() => c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId: selftest.id })), 'NA_ERR_LOADER_OBJECT_IN_USE', Status.FAILED_PRECONDITION,
      `object ${selftest.id} has attachments (${xdpLink}: xdp-native): detach them first or unload with force`);
  });
});

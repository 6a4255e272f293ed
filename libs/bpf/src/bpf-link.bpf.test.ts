/**
 * BPF layer: bpf_link attachments. XDP links on a veth pair whose peer lives in a namespace made
 * for this test (`nalk-<pid>`): BUSY against netlink XDP and against another link, pin, atomic
 * update, detach — and the guarantee the loader is built on: a pinned link made by a process that
 * is then killed with SIGKILL keeps its program attached and acting on real traffic. cgroup links
 * on a cgroup made for this test: a sock_ops link and a classic connect4 attachment count the TCP
 * connections of a process moved into the cgroup. Everything (namespace, veth, pins, cgroup,
 * temporary folder) is removed in `after`.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// the veth helper alone: the labs index loads @netaccel/bpf's build, which would bind libbpf a
// second time beside these sources (koffi refuses duplicate struct names)
import { vethToNamespace } from '@netaccel/labs/veth';
import type { VethToNamespace } from '@netaccel/labs/veth';
import { BpfLink, attachCgroupLink, attachXdpLink, decodeLinkInfo } from './bpf-link.js';
import { cgroup2Root, cgroupId } from './cgroup.js';
import { NA_ERR_BPF_BUSY, NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID } from './errors.js';
import { attachXdp, queryXdp } from './link.js';
import { BpfObject } from './object.js';
import { attachCgroup, detachCgroup, queryCgroup } from './prog-attach.js';

const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));
const SOURCE = fileURLToPath(new URL('../fixtures/attach-kinds.bpf.c', import.meta.url));
const INDEX = pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href;
const NS = `nalk-${process.pid}`;
const HOST_IF = `nalk${process.pid}h`;
const PEER_IF = `nalk${process.pid}p`;
const SUBNET = `10.${100 + ((process.pid >> 8) & 0x7f)}.${(process.pid + 2) & 0xff}`;
const HOST_IP = `${SUBNET}.1`;
const PEER_IP = `${SUBNET}.2`;
const PIN_DIR = `/sys/fs/bpf/netaccel-test-${process.pid}-link`;
const DROP_PORT = 7101;
const PASS_PORT = 7102;
const HIT = { SOCKOPS: 2, CONNECT4: 4 } as const;

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // teardown of something that may not exist
  }
}

function selftest(dropPort: number): BpfObject {
  const obj = BpfObject.openFile(SELFTEST);
  obj.setGlobal('drop_udp_port', dropPort);
  return obj.load();
}

/** Datagrams the host receives on each port while the namespace sends `count` to each. */
async function udpThrough(count: number): Promise<Record<number, number>> {
  const received: Record<number, number> = { [DROP_PORT]: 0, [PASS_PORT]: 0 };
  const sockets = await Promise.all([DROP_PORT, PASS_PORT].map((port) => new Promise<ReturnType<typeof createSocket>>((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', () => received[port]!++);
    s.once('error', reject);
    s.bind(port, HOST_IP, () => resolve(s));
  })));
  try {
    sh('ip', 'netns', 'exec', NS, process.execPath, '-e', [
      "const s = require('node:dgram').createSocket('udp4'); let n = 0;",
      `for (let i = 0; i < ${count}; i++) for (const p of [${DROP_PORT}, ${PASS_PORT}]) s.send(Buffer.from('x'), p, ${JSON.stringify(HOST_IP)}, () => { if (++n === ${2 * count}) s.close(); });`,
    ].join('\n'));
    const deadline = Date.now() + 3000;
    while (received[PASS_PORT]! < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    return received;
  } finally {
    for (const s of sockets) s.close();
  }
}

/** The veth pair, its peer in NS (@netaccel/labs); removed in afterAll. */
let veth: VethToNamespace | undefined;

describe(`XDP links on ${HOST_IF} (peer in netns ${NS})`, () => {
  beforeAll(() => {
    veth = vethToNamespace({ ns: NS, hostIf: HOST_IF, peerIf: PEER_IF, hostAddr: `${HOST_IP}/24`, peerAddr: `${PEER_IP}/24` });
  });

  afterAll(() => {
    rmSync(PIN_DIR, { recursive: true, force: true });
    assert.ok(veth === undefined || veth.remove(), `netns ${NS} is gone`);
  });

  test('link attach, BUSY against netlink XDP and another link, pin, atomic update, detach', () => {
    const a = selftest(DROP_PORT);
    const b = selftest(PASS_PORT);
    try {
      const pa = a.program('selftest_xdp');
      const pb = b.program('selftest_xdp');
      const link = attachXdpLink(HOST_IF, pa, { mode: 'native' });
      const info = link.info();
      const ifindex = queryXdp(HOST_IF).ifindex;
      assert.deepEqual([info.typeName, info.programId, info.ifindex], ['xdp', pa.info().id, ifindex]);
      assert.deepEqual([queryXdp(HOST_IF).mode, queryXdp(HOST_IF).programId], ['native', pa.info().id]);
      assert.throws(() => attachXdpLink(HOST_IF, pb), (e: unknown) => NA_ERR_BPF_BUSY.is(e) && e.details.attachedProgramId === pa.info().id);
      assert.throws(() => attachXdp(HOST_IF, pb), (e: unknown) => NA_ERR_BPF_BUSY.is(e), 'netlink cannot take the hook from a link');
      assert.throws(() => attachXdpLink(HOST_IF, pb, { mode: 'offload' }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^mode: expected native or generic/.test(e.message));

      const path = `${PIN_DIR}/xdp-${HOST_IF}`;
      link.pin(path);
      link.close();
      const pinned = BpfLink.openPinned(path);
      try {
        assert.equal(pinned.info().id, info.id);
        pinned.update(pb, { expected: pa });
        assert.equal(queryXdp(HOST_IF).programId, pb.info().id, 'swapped in place');
        assert.throws(() => pinned.update(pa, { expected: pa }), (e: unknown) => NA_ERR_BPF_HOOK_BUSY.is(e) && e.details.op === 'bpf_link_update');
        pinned.detach();
        assert.equal(queryXdp(HOST_IF).mode, 'none');
        assert.equal(pinned.info().programId, pb.info().id, 'a detached link still names its program');
        pinned.detach();
      } finally {
        pinned.close();
        rmSync(path, { force: true });
      }
      assert.throws(() => BpfLink.openPinned(SELFTEST), (e: unknown) => e instanceof Error);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a pinned link outlives the process that made it: SIGKILL does not detach, traffic is still filtered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netaccel-bpf-link-'));
    const path = `${PIN_DIR}/killed-${HOST_IF}`;
    try {
      const script = join(dir, 'child.ts');
      writeFileSync(script, [
        `import { BpfObject, attachXdpLink } from ${JSON.stringify(INDEX)};`,
        `const obj = BpfObject.openFile(${JSON.stringify(SELFTEST)});`,
        `obj.setGlobal('drop_udp_port', ${DROP_PORT});`,
        'obj.load();',
        `const link = attachXdpLink(${JSON.stringify(HOST_IF)}, obj.program('selftest_xdp'), { mode: 'native' });`,
        `link.pin(${JSON.stringify(path)});`,
        "process.stdout.write(`ready ${link.info().programId}\\n`);",
        'setInterval(() => undefined, 1000);',
      ].join('\n'));
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const programId = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /ready (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`child exited with ${code} before it was ready`)));
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      assert.equal(queryXdp(HOST_IF).programId, programId, 'still attached after the SIGKILL');
      const received = await udpThrough(20);
      assert.deepEqual(received, { [DROP_PORT]: 0, [PASS_PORT]: 20 }, 'the orphaned program still drops and passes');
      const link = BpfLink.openPinned(path);
      try {
        assert.equal(link.info().programId, programId);
        link.detach();
      } finally {
        link.close();
      }
      assert.equal(queryXdp(HOST_IF).mode, 'none');
    } finally {
      rmSync(path, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cgroup links and classic cgroup attachments', () => {
  let dir = '';
  let object = '';
  let cgroup = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netaccel-bpf-cgroup-'));
    object = join(dir, 'attach-kinds.bpf.o');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-I/usr/include/x86_64-linux-gnu', '-c', SOURCE, '-o', object]);
    cgroup = join(cgroup2Root(), `netaccel-test-${process.pid}`);
    mkdirSync(cgroup);
  });

  afterAll(() => {
    quietly(() => rmdirSync(cgroup));
    rmSync(dir, { recursive: true, force: true });
  });

  test('sock_ops (link) and connect4 (BPF_PROG_ATTACH) run for a process in the cgroup; query and detach', async () => {
    const obj = BpfObject.openFile(object).load();
    const server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const sockops = obj.program('count_sockops');
      const connect4 = obj.program('count_connect4');
      const link = attachCgroupLink(cgroup, sockops, 'cgroup_sock_ops');
      attachCgroup(cgroup, connect4, 'cgroup_inet4_connect');
      const info = link.info();
      assert.deepEqual([info.typeName, info.programId, info.cgroupId, info.attachType], ['cgroup', sockops.info().id, cgroupId(cgroup), 3]);
      assert.deepEqual(queryCgroup(cgroup, 'cgroup_sock_ops').programIds, [sockops.info().id]);
      assert.deepEqual(queryCgroup(cgroup, 'cgroup_inet4_connect').programIds, [connect4.info().id]);
      assert.throws(() => attachCgroupLink(cgroup, connect4, 'cgroup_sock_ops'), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'attachType: cgroup_sock_ops needs a sock_ops program, count_connect4 is cgroup_sock_addr');

      const key = (k: number) => Buffer.from([k, 0, 0, 0]);
      const count = (k: number) => obj.map('hits').lookup(key(k))!.readBigUInt64LE(0);
      const before = { sockops: count(HIT.SOCKOPS), connect4: count(HIT.CONNECT4) };
      const port = (server.address() as AddressInfo).port;
      // The client runs in a child moved into the cgroup; the server answers from this process, so
      // the child is awaited asynchronously.
      const client = `const s = require('node:net').connect(${port}, '127.0.0.1', () => s.end()); s.on('close', () => process.exit(0)); setTimeout(() => process.exit(3), 5000);`;
      const child = spawn('sh', ['-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec ${process.execPath} -e "${client}"`], { stdio: 'ignore' });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 0, 'the client connected and closed');
      assert.ok(count(HIT.SOCKOPS) > before.sockops, 'sock_ops ran for the connection');
      assert.equal(count(HIT.CONNECT4) - before.connect4, 1n, 'connect4 ran once');

      link.detach();
      link.close();
      assert.deepEqual(queryCgroup(cgroup, 'cgroup_sock_ops').programIds, []);
      assert.equal(detachCgroup(cgroup, connect4, 'cgroup_inet4_connect'), true);
      assert.equal(detachCgroup(cgroup, connect4, 'cgroup_inet4_connect'), false);
      assert.throws(() => attachCgroupLink('/tmp', sockops, 'cgroup_sock_ops'), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /is not inside a cgroup2 mount/.test(e.message));
    } finally {
      server.close();
      obj.close();
    }
  });

  test('decodeLinkInfo reads the xdp and cgroup members of struct bpf_link_info', () => {
    const buf = Buffer.alloc(128);
    buf.writeUInt32LE(6, 0);
    buf.writeUInt32LE(41, 4);
    buf.writeUInt32LE(77, 8);
    buf.writeUInt32LE(12, 16);
    assert.deepEqual(decodeLinkInfo(buf), { type: 6, id: 41, programId: 77, ifindex: 12, cgroupId: undefined, attachType: undefined, mapId: undefined });
    buf.writeUInt32LE(3, 0);
    buf.writeBigUInt64LE(123456789n, 16);
    buf.writeUInt32LE(3, 24);
    assert.deepEqual(decodeLinkInfo(buf), { type: 3, id: 41, programId: 77, ifindex: undefined, cgroupId: 123456789n, attachType: 3, mapId: undefined });
  });
});

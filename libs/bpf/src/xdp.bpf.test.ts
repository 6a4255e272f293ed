/**
 * BPF layer: XDP attachment on a veth pair whose peer lives in a network namespace made for this
 * test (`nabpf-<pid>`): native and generic attach, NA_ERR_BPF_BUSY, atomic replace, detach that
 * only removes our program, real UDP traffic from the namespace changing the counters — and a
 * 1,000-cycle open/load/test-run/attach/detach/close run that must leave no descriptor behind.
 * The namespace and the veth are deleted in `after`, whatever happened.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// the veth helper alone: the labs index loads @netaccel/bpf's build, which would bind libbpf a
// second time beside these sources (koffi refuses duplicate struct names)
import { vethToNamespace } from '@netaccel/labs/veth';
import type { VethToNamespace } from '@netaccel/labs/veth';
import { XDP_VERDICT, decodeSelftestCounter, selftestFixtures } from '@netaccel/bpf-programs/selftest/testing';
import { NA_ERR_BPF_BUSY, NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_NO_IFACE } from './errors.js';
import { attachXdp, detachXdp, queryXdp, resolveIface, xdpProgramId } from './link.js';
import { BpfObject } from './object.js';

const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));
const NS = `nabpf-${process.pid}`;
const HOST_IF = `nab${process.pid}h`;
const PEER_IF = `nab${process.pid}p`;
const SUBNET = `10.${100 + ((process.pid >> 8) & 0x7f)}.${process.pid & 0xff}`;
const HOST_IP = `${SUBNET}.1`;
const PEER_IP = `${SUBNET}.2`;
const DROP_PORT = 7777;
const PASS_PORT = 7778;
const DATAGRAMS = 20;
const PAYLOAD = 'netaccel xdp test datagram';

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

function openSelftest(dropPort: number): BpfObject {
  const obj = BpfObject.openFile(SELFTEST);
  obj.setGlobal('drop_udp_port', dropPort);
  return obj.load();
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function counted(obj: BpfObject, verdict: number): { packets: bigint; bytes: bigint } {
  return obj
    .map('verdict_stats')
    .lookupPerCpu(u32(verdict))!
    .map((b) => decodeSelftestCounter(b))
    .reduce((a, c) => ({ packets: a.packets + c.packets, bytes: a.bytes + c.bytes }));
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The veth pair, its peer in NS (@netaccel/labs); removed in afterAll. */
let veth: VethToNamespace | undefined;

describe(`XDP on ${HOST_IF} (peer ${PEER_IF} in netns ${NS})`, () => {
  beforeAll(() => {
    veth = vethToNamespace({ ns: NS, hostIf: HOST_IF, peerIf: PEER_IF, hostAddr: `${HOST_IP}/24`, peerAddr: `${PEER_IP}/24`, loopbackUp: true });
  });

  afterAll(() => {
    quietly(() => detachXdp(HOST_IF, { mode: 'native' }));
    quietly(() => detachXdp(HOST_IF, { mode: 'generic' }));
    assert.ok(veth === undefined || veth.remove(), `netns ${NS} is gone`);
  });

  test('interfaces are resolved by name or index; a missing one is NO_IFACE', () => {
    const obj = openSelftest(DROP_PORT);
    try {
      const prog = obj.program('selftest_xdp');
      assert.throws(() => attachXdp('nabpf-nonexist', prog), (e: unknown) => NA_ERR_BPF_NO_IFACE.is(e) && e.message === 'no network interface nabpf-nonexist');
      assert.throws(() => attachXdp(0x7ffffff0, prog), (e: unknown) => NA_ERR_BPF_NO_IFACE.is(e));
      assert.throws(() => attachXdp(0, prog), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^iface: expected/.test(e.message));
      assert.throws(() => attachXdp(HOST_IF, prog, { mode: 'turbo' as 'native' }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^mode: expected native, generic or offload/.test(e.message));
      assert.throws(() => queryXdp('nabpf-nonexist'), (e: unknown) => NA_ERR_BPF_NO_IFACE.is(e));
      const ifindex = queryXdp(HOST_IF).ifindex;
      assert.deepEqual(resolveIface({ name: HOST_IF }), { ifindex, name: HOST_IF });
      assert.deepEqual(resolveIface({ ifindex }), { ifindex, name: HOST_IF }, 'the name of an index');
      assert.deepEqual(resolveIface({ name: HOST_IF, ifindex }), { ifindex, name: HOST_IF });
      assert.throws(() => resolveIface({ name: 'lo', ifindex }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === `iface: name lo is interface 1, but ifindex ${ifindex} is ${HOST_IF}`);
      assert.throws(() => resolveIface({ ifindex: 0x7ffffff0 }), (e: unknown) => NA_ERR_BPF_NO_IFACE.is(e));
      assert.throws(() => resolveIface({}), (e: unknown) => NA_ERR_BPF_INVALID.is(e));
      assert.equal(queryXdp(HOST_IF).mode, 'none');
    } finally {
      obj.close();
    }
  });

  test('attach native, refuse a second program (BUSY), count real UDP traffic, replace, detach', async () => {
    const first = openSelftest(DROP_PORT);
    const second = openSelftest(DROP_PORT);
    const sockets: Socket[] = [];
    try {
      const p1 = first.program('selftest_xdp');
      const p2 = second.program('selftest_xdp');
      const a1 = attachXdp(HOST_IF, p1, { mode: 'native' });
      const id1 = p1.info().id;
      assert.equal(a1.programId, id1);
      assert.deepEqual({ ...queryXdp(HOST_IF), ifindex: 0 }, { ifindex: 0, mode: 'native', programId: id1, nativeProgramId: id1, genericProgramId: 0, offloadProgramId: 0 });
      assert.equal(xdpProgramId(HOST_IF, 'native'), id1);
      assert.ok(sh('ip', 'link', 'show', HOST_IF).includes(`prog/xdp id ${id1}`), 'iproute2 sees it too');

      assert.throws(() => attachXdp(HOST_IF, p2), (e: unknown) => NA_ERR_BPF_BUSY.is(e) && e.details.attachedProgramId === id1 && e.message.includes(`(id ${id1})`));
      assert.throws(() => attachXdp(HOST_IF, p2, { mode: 'generic' }), (e: unknown) => NA_ERR_BPF_BUSY.is(e), 'native and generic cannot both be active');

      // Real traffic: datagrams from the namespace to the drop port die in XDP, the others arrive.
      const received = { [DROP_PORT]: 0, [PASS_PORT]: 0 };
      for (const port of [DROP_PORT, PASS_PORT] as const) {
        const s = createSocket('udp4');
        sockets.push(s);
        s.on('message', () => received[port]++);
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(port, HOST_IP, () => resolve());
        });
      }
      const dropBefore = counted(first, XDP_VERDICT.DROP);
      const passBefore = counted(first, XDP_VERDICT.PASS);
      const sender = [
        "const s = require('node:dgram').createSocket('udp4');",
        `const m = Buffer.from(${JSON.stringify(PAYLOAD)});`,
        'let n = 0;',
        `for (let i = 0; i < ${DATAGRAMS}; i++) for (const p of [${DROP_PORT}, ${PASS_PORT}]) s.send(m, p, ${JSON.stringify(HOST_IP)}, () => { if (++n === ${2 * DATAGRAMS}) s.close(); });`,
      ].join('\n');
      sh('ip', 'netns', 'exec', NS, process.execPath, '-e', sender);
      const deadline = Date.now() + 5000;
      while (received[PASS_PORT] < DATAGRAMS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100)); // a late drop-port datagram would show now

      assert.equal(received[PASS_PORT], DATAGRAMS, 'every pass-port datagram arrived');
      assert.equal(received[DROP_PORT], 0, 'no drop-port datagram arrived');
      const frame = 14 + 20 + 8 + PAYLOAD.length;
      const dropAfter = counted(first, XDP_VERDICT.DROP);
      assert.deepEqual(
        { packets: dropAfter.packets - dropBefore.packets, bytes: dropAfter.bytes - dropBefore.bytes },
        { packets: BigInt(DATAGRAMS), bytes: BigInt(DATAGRAMS * frame) },
      );
      assert.ok(counted(first, XDP_VERDICT.PASS).packets - passBefore.packets >= BigInt(DATAGRAMS), 'pass-port datagrams (and ARP) were passed');

      // Atomic replace: only when the expected program is the attached one.
      const a2 = attachXdp(HOST_IF, p2, { replace: p1 });
      const id2 = p2.info().id;
      assert.equal(queryXdp(HOST_IF).programId, id2);
      assert.throws(() => attachXdp(HOST_IF, p1, { replace: p1 }), (e: unknown) => NA_ERR_BPF_BUSY.is(e) && e.details.attachedProgramId === id2);
      assert.equal(a1.detach(), false, 'a1 is no longer attached: detach must not remove a2');
      assert.equal(queryXdp(HOST_IF).programId, id2);
      assert.equal(a2.detach(), true);
      assert.equal(a2.detach(), false, 'idempotent');
      assert.equal(queryXdp(HOST_IF).mode, 'none');
    } finally {
      for (const s of sockets) s.close();
      first.close();
      second.close();
    }
  });

  test('generic mode attaches and detaches too', () => {
    const obj = openSelftest(DROP_PORT);
    try {
      const a = attachXdp(HOST_IF, obj.program('selftest_xdp'), { mode: 'generic' });
      const q = queryXdp(HOST_IF);
      assert.deepEqual([q.mode, q.genericProgramId, q.nativeProgramId], ['generic', a.programId, 0]);
      assert.equal(xdpProgramId(HOST_IF, 'generic'), a.programId);
      assert.equal(xdpProgramId(HOST_IF, 'native'), 0);
      assert.equal(a.detach(), true);
      assert.equal(queryXdp(HOST_IF).mode, 'none');
    } finally {
      obj.close();
    }
  });

  test('an attached program outlives its closed object until detached', () => {
    const obj = openSelftest(DROP_PORT);
    const a = attachXdp(HOST_IF, obj.program('selftest_xdp'));
    obj.close();
    assert.equal(queryXdp(HOST_IF).programId, a.programId, 'the kernel keeps it attached');
    assert.equal(a.detach(), true, 'detach finds it by id');
    assert.equal(queryXdp(HOST_IF).mode, 'none');
  });

  test('1,000 cycles of open/load/test-run/attach/detach/close leave no descriptor open', () => {
    const drop = selftestFixtures(DROP_PORT)[0]!;
    const image = readFileSync(SELFTEST);
    const cycle = (i: number): void => {
      const obj = i % 2 === 0 ? BpfObject.openFile(SELFTEST) : BpfObject.openBuffer(image);
      try {
        obj.setGlobal('drop_udp_port', DROP_PORT);
        obj.load();
        const prog = obj.program('selftest_xdp');
        assert.equal(prog.testRun({ data: drop.packet }).retval, XDP_VERDICT.DROP);
        const a = attachXdp(HOST_IF, prog, { mode: i % 3 === 0 ? 'generic' : 'native' });
        assert.equal(a.detach(), true);
      } finally {
        obj.close();
      }
      assert.throws(() => BpfObject.openFile('/nonexistent.bpf.o'), (e: unknown) => NA_ERR_BPF_NOT_FOUND.is(e));
    };
    cycle(0); // warm-up: libbpf and koffi open what they keep for the process
    const fdsBefore = openFds();
    for (let i = 1; i <= 1000; i++) cycle(i);
    assert.equal(openFds(), fdsBefore);
    assert.equal(queryXdp(HOST_IF).mode, 'none');
  });
});

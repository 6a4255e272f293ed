/**
 * BPF layer: TC clsact filters on a veth pair whose peer lives in a namespace made for this test
 * (`natc-<pid>`): ingress and egress programs counting real UDP traffic, explicit and
 * kernel-chosen priority/handle, a taken (priority, handle) refused with NA_ERR_BPF_HOOK_BUSY
 * naming the program there, atomic replace, detach that removes only the expected program, and a
 * filter that outlives its closed object. The fixture is compiled into a temporary folder;
 * namespace, veth and folder go in `after`, whatever happened.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// the veth helper alone: the labs index loads @netaccel/bpf's build, which would bind libbpf a
// second time beside these sources (koffi refuses duplicate struct names)
import { vethToNamespace } from '@netaccel/labs/veth';
import type { VethToNamespace } from '@netaccel/labs/veth';
import { NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID, NA_ERR_BPF_NO_IFACE } from './errors.js';
import { BpfObject } from './object.js';
import { attachTc, destroyClsact, detachTc, queryTc } from './tc.js';

const SOURCE = fileURLToPath(new URL('../fixtures/attach-kinds.bpf.c', import.meta.url));
const NS = `natc-${process.pid}`;
const HOST_IF = `natc${process.pid}h`;
const PEER_IF = `natc${process.pid}p`;
const SUBNET = `10.${100 + ((process.pid >> 8) & 0x7f)}.${(process.pid + 1) & 0xff}`;
const HOST_IP = `${SUBNET}.1`;
const PEER_IP = `${SUBNET}.2`;
const HIT = { TC_INGRESS: 0, TC_EGRESS: 1 } as const;

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

function hits(obj: BpfObject, which: number): bigint {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(which);
  return obj.map('hits').lookup(key)!.readBigUInt64LE(0);
}

/** Sends `count` UDP datagrams from the namespace to the host (ingress of HOST_IF). */
function sendFromPeer(count: number): void {
  sh('ip', 'netns', 'exec', NS, process.execPath, '-e', [
    "const s = require('node:dgram').createSocket('udp4'); let n = 0;",
    `for (let i = 0; i < ${count}; i++) s.send(Buffer.from('tc'), 9, ${JSON.stringify(HOST_IP)}, () => { if (++n === ${count}) s.close(); });`,
  ].join('\n'));
}

/** Sends `count` UDP datagrams from the host to the peer (egress of HOST_IF). */
function sendFromHost(count: number): void {
  sh(process.execPath, '-e', [
    "const s = require('node:dgram').createSocket('udp4'); let n = 0;",
    `for (let i = 0; i < ${count}; i++) s.send(Buffer.from('tc'), 9, ${JSON.stringify(PEER_IP)}, () => { if (++n === ${count}) s.close(); });`,
  ].join('\n'));
}

async function until(what: string, fn: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The veth pair, its peer in NS (@netaccel/labs); removed in afterAll. */
let veth: VethToNamespace | undefined;

describe(`TC on ${HOST_IF} (peer in netns ${NS})`, () => {
  let dir = '';
  let object = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netaccel-bpf-tc-'));
    object = join(dir, 'attach-kinds.bpf.o');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-I/usr/include/x86_64-linux-gnu', '-c', SOURCE, '-o', object]);
    veth = vethToNamespace({ ns: NS, hostIf: HOST_IF, peerIf: PEER_IF, hostAddr: `${HOST_IP}/24`, peerAddr: `${PEER_IP}/24` });
  });

  afterAll(() => {
    quietly(() => destroyClsact(HOST_IF));
    rmSync(dir, { recursive: true, force: true });
    assert.ok(veth === undefined || veth.remove(), `netns ${NS} is gone`);
  });

  test('ingress and egress filters count real traffic; the kernel sees them where we put them', async () => {
    const obj = BpfObject.openFile(object).load();
    try {
      const ingress = attachTc(HOST_IF, obj.program('count_tc_ingress'), { direction: 'ingress', priority: 10, handle: 1 });
      const egress = attachTc(HOST_IF, obj.program('count_tc_egress'), { direction: 'egress', priority: 10, handle: 1 });
      assert.deepEqual([ingress.priority, ingress.handle, ingress.direction], [10, 1, 'ingress']);
      assert.equal(ingress.programId, obj.program('count_tc_ingress').info().id);
      assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: 10, handle: 1 }), ingress.programId);
      assert.equal(queryTc(HOST_IF, { direction: 'egress', priority: 10, handle: 1 }), egress.programId);
      assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: 11, handle: 1 }), 0, 'no filter there');
      const shown = sh('tc', 'filter', 'show', 'dev', HOST_IF, 'ingress');
      assert.match(shown, new RegExp(`pref 10 bpf .*handle 0x1 count_tc_ingres:\\[${ingress.programId}\\] direct-action .*id ${ingress.programId}`, 's'));

      const in0 = hits(obj, HIT.TC_INGRESS);
      const out0 = hits(obj, HIT.TC_EGRESS);
      sendFromPeer(25);
      sendFromHost(15);
      await until('the ingress counter', () => hits(obj, HIT.TC_INGRESS) - in0 >= 25n);
      await until('the egress counter', () => hits(obj, HIT.TC_EGRESS) - out0 >= 15n);

      assert.equal(ingress.detach(), true);
      assert.equal(ingress.detach(), false, 'idempotent');
      assert.equal(egress.detach(), true);
      assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: 10, handle: 1 }), 0);
    } finally {
      obj.close();
    }
  });

  test('a taken (priority, handle) is refused naming its program; replace swaps atomically; other priorities coexist', () => {
    const obj = BpfObject.openFile(object).load();
    try {
      const a = obj.program('count_tc_ingress');
      const b = obj.program('count_tc_egress');
      const first = attachTc(HOST_IF, a, { priority: 20, handle: 7 });
      assert.throws(
        () => attachTc(HOST_IF, b, { priority: 20, handle: 7 }),
        (e: unknown) => NA_ERR_BPF_HOOK_BUSY.is(e) && e.details.attachedProgramId === first.programId &&
          e.message === `tc ingress filter priority 20 handle 7 of ${HOST_IF} is taken by program id ${first.programId}: detach it first or replace it`,
      );
      const other = attachTc(HOST_IF, b, { priority: 21, handle: 7 });
      assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: 21, handle: 7 }), other.programId);

      const replaced = attachTc(HOST_IF, b, { priority: 20, handle: 7, replace: true });
      assert.equal(replaced.programId, b.info().id);
      assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: 20, handle: 7 }), b.info().id);
      assert.equal(first.detach(), false, 'the first program is no longer there: its detach must not remove the new one');
      assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: 20, handle: 7 }), b.info().id);
      assert.equal(detachTc(HOST_IF, { direction: 'ingress', priority: 20, handle: 7, expectedProgramId: a.info().id }), false);
      assert.equal(detachTc(HOST_IF, { direction: 'ingress', priority: 20, handle: 7 }), true);
      assert.equal(other.detach(), true);
      assert.throws(() => attachTc(HOST_IF, a, { replace: true }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^replace: needs the priority and handle/.test(e.message));
    } finally {
      obj.close();
    }
  });

  test('priority and handle 0 let the kernel choose; the filter outlives its closed object', () => {
    const obj = BpfObject.openFile(object).load();
    const a = attachTc(HOST_IF, obj.program('count_tc_ingress'), {});
    obj.close();
    assert.ok(a.priority >= 1 && a.priority <= 0xffff, `priority ${a.priority}`);
    assert.ok(a.handle >= 1, `handle ${a.handle}`);
    assert.equal(queryTc(HOST_IF, { direction: 'ingress', priority: a.priority, handle: a.handle }), a.programId, 'still attached after close');
    assert.equal(a.detach(), true);
  });

  test('bad input: missing interface, a program that is not sched_cls, out-of-range priority', () => {
    const obj = BpfObject.openFile(object).load();
    try {
      const tcProg = obj.program('count_tc_ingress');
      assert.throws(() => attachTc('natc-nonexist', tcProg), (e: unknown) => NA_ERR_BPF_NO_IFACE.is(e) && e.message === 'no network interface natc-nonexist');
      assert.throws(
        () => attachTc(HOST_IF, obj.program('pass_xdp')),
        (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'program: tc needs a sched_cls program, pass_xdp is xdp',
      );
      assert.throws(() => attachTc(HOST_IF, tcProg, { priority: 70000 }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'priority: expected an integer 0..65535, got 70000');
      assert.throws(() => attachTc(HOST_IF, tcProg, { direction: 'sideways' as 'ingress' }), (e: unknown) => NA_ERR_BPF_INVALID.is(e) && /^direction: expected ingress or egress/.test(e.message));
      assert.equal(detachTc('natc-nonexist', { direction: 'ingress', priority: 1, handle: 1 }), false, 'a gone interface has no filters');
    } finally {
      obj.close();
    }
  });
});

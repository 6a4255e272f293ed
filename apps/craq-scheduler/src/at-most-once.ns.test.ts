/**
 * Namespace layer: a write executed at most once across a lost PROPAGATE, the scheduler's repair
 * and a retry with the same request id (the CRAQ lab's CI failure), on real links. A chain of
 * three bpf/craq XDP nodes (namespaces n1 → n2 → n3, native XDP on each eth0, a bridge on sw) and
 * a client namespace c; the nodes' maps are reached in this process (InProcessDataPlane) through
 * the scheduler's LoaderNode, and the chain manager runs its lost-message scan. An nft rule on the
 * bridge port of n1 drops W's PROPAGATE: W is not answered; the scan commits W's version on every
 * node (with W's request recorded everywhere); a read sees W; two writes commit over it; W's
 * retry (same req_id) at the head is answered OK with W's version and applies nothing; after the
 * head fails, the retry at the new head n2 (which never saw W's PROPAGATE) is answered the same.
 * The key's history is linearizable. Prefix cqd; everything is removed even when an assertion fails.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { isLinearizable } from '@netaccel/bpf-programs/craq/testing';
import type { RegisterOp } from '@netaccel/bpf-programs/craq/testing';
import { withLab } from '@netaccel/netlab';
import type { Lab } from '@netaccel/netlab';
import { craq } from '@netaccel/protocol';
import { createLogger } from '@netaccel/telemetry';
import { ChainManager } from './chain-manager.js';
import type { LoaderNode } from './loader-node.js';
import { Mutex } from './mutex.js';
import { closeXdpChain, openXdpChain, removeStalePins, until, xdpChainAddresses, xdpChainSpec } from './testing/xdp-chain.js';
import type { XdpChain } from './testing/xdp-chain.js';

const PORT = craq.CRAQ_DEFAULT_PORT;
const IP = xdpChainAddresses('10.98.0');
const KEY = '/cqd/once/key';
const K = craq.craqKey(KEY);
const W_ID = 0x00c0ffee_00000001n;
const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

const spec = xdpChainSpec('once', IP);
/** Sends one request (hex, its req_id kept) from namespace c and prints the reply (hex) or nothing after timeoutMs. */
const CLIENT = `
const dgram = require('node:dgram');
const [hex, to, timeoutMs] = [process.argv[1], process.argv[2], Number(process.argv[3])];
const s = dgram.createSocket('udp4');
s.bind(0, () => {
  const buf = Buffer.from(hex, 'hex');
  const invoke = Date.now();
  const timer = setTimeout(() => { s.close(); console.log(JSON.stringify({ invoke })); }, timeoutMs);
  s.on('message', (m) => {
    if (!m.subarray(8, 16).equals(buf.subarray(8, 16))) return;
    clearTimeout(timer); s.close(); console.log(JSON.stringify({ invoke, response: Date.now(), hex: m.toString('hex') }));
  });
  s.send(buf, ${PORT}, to);
});
`;

interface Sent {
  readonly invoke: number;
  readonly response?: number;
  readonly reply?: craq.CraqMessage;
}

async function send(lab: Lab, to: string, msg: craq.CraqMessage, timeoutMs = 2000): Promise<Sent> {
  const r = await lab.exec('c', ['node', '-e', CLIENT, Buffer.from(craq.encodeCraq(msg)).toString('hex'), to, String(timeoutMs)], { timeoutMs: 30_000 });
  const o = JSON.parse(r.stdout) as { invoke: number; response?: number; hex?: string };
  return { invoke: o.invoke, ...(o.response !== undefined ? { response: o.response } : {}), ...(o.hex !== undefined ? { reply: craq.decodeCraq(Buffer.from(o.hex, 'hex')) } : {}) };
}

const enc = (v: string): Uint8Array => new TextEncoder().encode(v);
const text = (v: Uint8Array | null | undefined): string => new TextDecoder().decode(v ?? new Uint8Array(0));
const writeMsg = (reqId: bigint, v: string): craq.CraqMessage => craq.craqWriteRequest({ key: KEY, reqId, value: enc(v) });
const readMsg = (reqId: bigint): craq.CraqMessage => craq.craqReadRequest({ key: KEY, reqId });

test('a write whose PROPAGATE was lost, committed by the repair and overwritten twice, is answered OK with its version on retry (same head, then a new head) and never applied again; the history is linearizable', { timeout: 120_000 }, async () => {
  removeStalePins('cqd');
  const chain: XdpChain = { nodes: [], planes: [], pins: [] };
  let cm: ChainManager | undefined;
  try {
    await withLab(spec, async (lab) => {
      const { nodes } = await openXdpChain(lab, { prefix: 'cqd', ip: IP, log }, chain);
      const [n1, n2, n3] = nodes as [LoaderNode, LoaderNode, LoaderNode];
      cm = new ChainManager({
        nodes, mutex: new Mutex(), log, probe: () => Promise.resolve(true), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 3, drainTimeoutMs: 1000,
        placedKeyIds: () => [K.keyId], writable: () => true, onTail: () => undefined, lostMessageMs: 500,
      });
      await cm.init();
      for (const n of [n3, n2, n1]) await n.install({ keyId: K.keyId, keyCheck: K.keyCheck, version: 1n, value: enc('v0') }, true);
      cm.start();
      const history: RegisterOp[] = [];
      const read = async (at: string, id: bigint): Promise<string> => {
        const r = await send(lab, at, readMsg(id));
        assert.equal(r.reply?.status, craq.CraqStatus.OK, `read at ${at} answered`);
        history.push({ kind: 'read', value: text(r.reply?.value), invoke: r.invoke, response: r.response! });
        return text(r.reply?.value);
      };

      // W's PROPAGATE dropped entering the bridge from n1: the head holds W dirty, nobody answers
      await lab.exec('sw', ['nft', `add table netdev cqd; add chain netdev cqd p1 { type filter hook ingress device p1 priority 0 ; } ; add rule netdev cqd p1 udp dport ${PORT} @th,88,8 ${craq.CraqOp.PROPAGATE} counter drop`]);
      const w = await send(lab, IP.n1, writeMsg(W_ID, 'w'), 150);
      const listed = await lab.exec('sw', ['nft', 'list table netdev cqd']);
      await lab.exec('sw', ['nft', 'delete table netdev cqd']);
      assert.equal(/counter packets (\d+)/.exec(listed.stdout)?.[1], '1', 'the rule dropped W\'s PROPAGATE');
      assert.equal(w.reply, undefined, 'W is not answered');

      // the lost-message scan commits W's version on every node; a read sees W
      await until('the head clean again', async () => (await n1.get(K.keyId))?.dirty === 0);
      assert.equal(cm.lostMessages.writes, 1, 'one lost-PROPAGATE repair');
      assert.equal(await read(IP.n3, 1n), 'w');

      // two writes commit over it
      const x = await send(lab, IP.n1, writeMsg(W_ID + 1n, 'x'));
      const y = await send(lab, IP.n1, writeMsg(W_ID + 2n, 'y'));
      assert.deepEqual([x.reply?.status, x.reply?.version, y.reply?.status, y.reply?.version], [craq.CraqStatus.OK, 3n, craq.CraqStatus.OK, 4n]);
      history.push({ kind: 'write', value: 'x', invoke: x.invoke, response: x.response! }, { kind: 'write', value: 'y', invoke: y.invoke, response: y.response! });

      // W retried at the head with its request id: answered with W's version, nothing applied
      const again = await send(lab, IP.n1, writeMsg(W_ID, 'w'));
      assert.deepEqual([again.reply?.op, again.reply?.status, again.reply?.version], [craq.CraqOp.WRITE_REPLY, craq.CraqStatus.OK, 2n], 'the retry is answered with W\'s version');
      for (const n of nodes) assert.deepEqual([n.name, (await n.get(K.keyId))?.version], [n.name, 4n], 'no new version');
      for (const at of [IP.n1, IP.n2, IP.n3]) assert.equal(await read(at, 2n), 'y');

      // the head fails: n2 is head and knows W only from the repair's copy
      await cm.fail('n1');
      assert.deepEqual(cm.state.members.map((m) => m.name), ['n2', 'n3']);
      const atNewHead = await send(lab, IP.n2, writeMsg(W_ID, 'w'));
      assert.deepEqual([atNewHead.reply?.status, atNewHead.reply?.version], [craq.CraqStatus.OK, 2n], 'the new head answers W\'s retry with W\'s version');
      history.push({ kind: 'write', value: 'w', invoke: w.invoke, response: atNewHead.response! });
      for (const at of [IP.n2, IP.n3]) assert.equal(await read(at, 3n), 'y', `read at ${at}: nothing applied again`);
      assert.ok(isLinearizable(history, 'v0'), `not linearizable: ${JSON.stringify(history)}`);
    }, { prefix: 'cqd' });
  } finally {
    cm?.close();
    await closeXdpChain(chain);
  }
});

/**
 * Namespace layer: lost chain messages repaired in bounded time, with real loss. A chain of three
 * bpf/craq XDP nodes (namespaces n1 → n2 → n3, native XDP on each eth0, one bridge on sw) and a
 * client namespace c; each node's maps are reached in this process (InProcessDataPlane) through
 * the scheduler's own LoaderNode code, and the chain manager runs its lost-message scan on its
 * timer (no node fails, no probe misses). Loss is an nft rule on the bridge port a chain frame
 * enters by (netdev ingress, matching the NetCRAQ op byte): four PROPAGATEs n1 → n2 dropped (the
 * head answers RETRY: dirty full), then two ACKs n2 → n1 dropped (the tail committed). After each,
 * writes succeed again, every node holds the same committed version, every acknowledged write is
 * among the commits (tail's ring buffer + repairs), and the key's history is linearizable.
 * Prefix crt; the lab and the pins are removed even when an assertion fails.
 */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { CraqCommitReader } from '@netaccel/bpf-programs/craq';
import { isLinearizable } from '@netaccel/bpf-programs/craq/testing';
import type { RegisterOp } from '@netaccel/bpf-programs/craq/testing';
import type { CommittedValue } from '@netaccel/craq';
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
const IP = xdpChainAddresses('10.93.0');
const KEY = '/crt/lost/key';
const K = craq.craqKey(KEY);
const AFTER_MS = 1000; // chain.lostMessageAfter in this test (the lost writes are sent well within it)
const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

const spec = xdpChainSpec('lost', IP);
/**
 * Runs the ops in order from the client namespace: each sent with a fresh req_id and answered or
 * timed out; `untilOk` resends (every 100 ms) until OK or `attempts` run out. Prints every
 * attempt with its invocation and response times (ms, this host's clock).
 */
const CLIENT = `
const dgram = require('node:dgram');
const ops = JSON.parse(process.argv[1]);
const s = dgram.createSocket('udp4');
const out = [];
let id = BigInt(process.argv[2]);
function once(op) {
  return new Promise((resolve) => {
    const buf = Buffer.from(op.hex, 'hex');
    buf.writeBigUInt64BE(id++, 8);
    const rid = buf.subarray(8, 16).toString('hex');
    const invoke = Date.now();
    const timer = setTimeout(() => { s.removeAllListeners('message'); resolve({ invoke }); }, op.timeoutMs);
    s.on('message', (m) => {
      if (m.subarray(8, 16).toString('hex') !== rid) return;
      clearTimeout(timer); s.removeAllListeners('message'); resolve({ invoke, response: Date.now(), hex: m.toString('hex') });
    });
    s.send(buf, ${PORT}, op.to);
  });
}
s.bind(0, async () => {
  for (const [i, op] of ops.entries()) {
    for (let a = 0; a < (op.attempts ?? 1); a++) {
      const r = await once(op);
      out.push({ op: i, ...r });
      if (!op.untilOk || (r.hex && Buffer.from(r.hex, 'hex')[4] === 0)) break;
      await new Promise((t) => setTimeout(t, 100));
    }
  }
  s.close();
  console.log(JSON.stringify(out));
});
`;

interface Op {
  readonly to: string;
  readonly msg: craq.CraqMessage;
  readonly timeoutMs: number;
  readonly untilOk?: boolean;
  readonly attempts?: number;
}

interface Attempt {
  readonly op: Op;
  readonly invoke: number;
  readonly response?: number;
  readonly reply?: craq.CraqMessage;
}

let nextReq = 1000;

async function run(lab: Lab, ops: Op[]): Promise<Attempt[]> {
  const wire = ops.map((o) => ({ to: o.to, hex: Buffer.from(craq.encodeCraq(o.msg)).toString('hex'), timeoutMs: o.timeoutMs, untilOk: o.untilOk ?? false, attempts: o.attempts ?? 1 }));
  const r = await lab.exec('c', ['node', '-e', CLIENT, JSON.stringify(wire), String(nextReq)], { timeoutMs: 60_000 });
  nextReq += 10_000;
  return (JSON.parse(r.stdout) as { op: number; invoke: number; response?: number; hex?: string }[]).map((a) => ({
    op: ops[a.op]!,
    invoke: a.invoke,
    ...(a.response !== undefined ? { response: a.response } : {}),
    ...(a.hex !== undefined ? { reply: craq.decodeCraq(Buffer.from(a.hex, 'hex')) } : {}),
  }));
}

const write = (v: string, timeoutMs: number, more: Partial<Op> = {}): Op => ({ to: IP.n1, msg: craq.craqWriteRequest({ key: KEY, reqId: 1n, value: new TextEncoder().encode(v) }), timeoutMs, ...more });
const read = (to: string): Op => ({ to, msg: craq.craqReadRequest({ key: KEY, reqId: 1n }), timeoutMs: 2000 });
const text = (v: Uint8Array | null | undefined): string => new TextDecoder().decode(v ?? new Uint8Array(0));

/** Drops NetCRAQ frames of `op` entering the bridge at sw's `port` (netdev ingress: after the veth's XDP, before the bridge). */
async function lose(lab: Lab, port: string, op: number): Promise<void> {
  await lab.exec('sw', ['nft', `add table netdev crt; add chain netdev crt ${port} { type filter hook ingress device ${port} priority 0 ; } ; add rule netdev crt ${port} udp dport ${PORT} @th,88,8 ${op} counter drop`]);
}

/** Removes the rule; returns how many frames it dropped. */
async function heal(lab: Lab): Promise<number> {
  const listed = await lab.exec('sw', ['nft', 'list table netdev crt']);
  await lab.exec('sw', ['nft', 'delete table netdev crt']);
  const m = /counter packets (\d+)/.exec(listed.stdout);
  return Number(m?.[1] ?? -1);
}

test('lost PROPAGATEs and lost ACKs on real links: writes succeed again after the bound, nothing committed is lost, the history is linearizable', { timeout: 120_000 }, async () => {
  removeStalePins('crt');
  const chain: XdpChain = { nodes: [], planes: [], pins: [] };
  let cm: ChainManager | undefined;
  let commits: CraqCommitReader | undefined;
  try {
    await withLab(spec, async (lab) => {
      const { nodes, planes } = await openXdpChain(lab, { prefix: 'crt', ip: IP, log }, chain);
      const [n1, n2, n3] = nodes as [LoaderNode, LoaderNode, LoaderNode];
      commits = new CraqCommitReader(planes[2]!.object.map('craq_commits').fd);
      const repaired: CommittedValue[] = [];
      cm = new ChainManager({
        nodes, mutex: new Mutex(), log, probe: () => Promise.resolve(true), probeIntervalMs: 1000, probeTimeoutMs: 100, multiplier: 3, drainTimeoutMs: 1000,
        placedKeyIds: () => [K.keyId], writable: () => true, onTail: () => undefined, onRepair: (c) => repaired.push(c), lostMessageMs: AFTER_MS,
      });
      await cm.init();
      for (const n of [n3, n2, n1]) await n.install({ keyId: K.keyId, keyCheck: K.keyCheck, version: 1n, value: new TextEncoder().encode('v0') }, true);
      cm.start();

      // 1. four PROPAGATEs lost between n1 and n2: the head is dirty full and answers RETRY
      await lose(lab, 'p1', craq.CraqOp.PROPAGATE);
      const lostWrites = await run(lab, [write('a1', 50), write('a2', 50), write('a3', 50), write('a4', 50), write('a5', 2000)]);
      assert.equal(await heal(lab), 4, 'the rule dropped four PROPAGATEs');
      assert.deepEqual(lostWrites.slice(0, 4).map((a) => a.reply), [undefined, undefined, undefined, undefined], 'the four writes are not answered');
      // a5 is refused (dirty full) unless the scan repaired the key first (a slow client)
      assert.ok(lostWrites[4]!.reply?.status === craq.CraqStatus.RETRY || cm.lostMessages.writes > 0, `a5: RETRY while the head is dirty full, got ${JSON.stringify(lostWrites[4]!.reply?.status)}`);
      const afterLoss = await run(lab, [write('b1', 500, { untilOk: true, attempts: 200 }), read(IP.n1), read(IP.n2), read(IP.n3)]);
      const b1 = afterLoss.find((a) => text(a.op.msg.value) === 'b1' && a.reply?.status === craq.CraqStatus.OK);
      assert.ok(b1, 'a write of the key succeeds again, without a reconfiguration');
      assert.ok(cm.lostMessages.writes >= 1, 'lost-PROPAGATE repairs');
      assert.deepEqual(repaired.map((c) => [c.version, text(c.value)]).at(-1), [5n, 'a4'], 'the highest held version (a4) committed and handed to etcd');
      const repairedBefore = repaired.length;
      assert.equal(b1.reply?.version, 6n);
      for (const r of afterLoss.slice(-3)) assert.equal(text(r.reply?.value), 'b1', `read at ${r.op.to}`);

      // 2. two ACKs lost between n2 and n1: the tail committed, the head stays dirty until the scan
      await lose(lab, 'p2', craq.CraqOp.ACK);
      const lostAcks = await run(lab, [write('c1', 100), write('c2', 100)]);
      assert.equal(await heal(lab), 2, 'the rule dropped two ACKs');
      assert.deepEqual(lostAcks.map((a) => a.reply), [undefined, undefined]);
      await until('the head clean again', async () => (await n1.get(K.keyId))?.dirty === 0);
      assert.equal(cm.lostMessages.acks, 1, 'one lost-ACK repair');
      assert.equal(repaired.length, repairedBefore, 'a lost ACK is not written back again (the tail committed it)');
      const finalOps = await run(lab, [read(IP.n1), read(IP.n2), read(IP.n3), write('d1', 500, { untilOk: true, attempts: 200 }), read(IP.n3)]);
      for (const r of finalOps.slice(0, 3)) assert.equal(text(r.reply?.value), 'c2', `read at ${r.op.to}: the tail's committed c2`);

      // nothing committed lost: every acknowledged write is a commit (tail ring buffer or repair), and every node holds the last one
      const committed = new Map<bigint, string>();
      for (const c of commits.drain()) if (c.keyId === K.keyId) committed.set(c.version, c.tombstone ? '' : text(c.value));
      for (const c of repaired) committed.set(c.version, text(c.value));
      const all = [...lostWrites, ...afterLoss, ...lostAcks, ...finalOps];
      for (const a of all) {
        if (a.op.msg.op === craq.CraqOp.WRITE && a.reply?.status === craq.CraqStatus.OK) assert.equal(committed.get(a.reply.version), text(a.op.msg.value), `acknowledged ${text(a.op.msg.value)} at version ${a.reply.version} is committed`);
      }
      const top = [...committed.keys()].reduce((a, b) => (b > a ? b : a), 0n);
      for (const n of nodes) {
        const s = await n.get(K.keyId);
        assert.deepEqual([n.name, s?.version, text(s?.value), s?.dirty], [n.name, top, committed.get(top), 0]);
      }

      // linearizability of the key's history: unanswered writes are pending, RETRY ones never took effect
      const history: RegisterOp[] = [];
      for (const a of all) {
        if (a.op.msg.op === craq.CraqOp.READ) {
          assert.equal(a.reply?.status, craq.CraqStatus.OK, `read at ${a.op.to} answered`);
          history.push({ kind: 'read', value: text(a.reply?.value), invoke: a.invoke, response: a.response! });
        } else if (a.reply === undefined) history.push({ kind: 'write', value: text(a.op.msg.value), invoke: a.invoke });
        else if (a.reply.status === craq.CraqStatus.OK) history.push({ kind: 'write', value: text(a.op.msg.value), invoke: a.invoke, response: a.response! });
        else assert.equal(a.reply.status, craq.CraqStatus.RETRY, `${text(a.op.msg.value)}: OK, RETRY or no answer`);
      }
      assert.ok(history.length <= 30, `${history.length} operations (the checker takes 30)`);
      assert.ok(isLinearizable(history, 'v0'), `not linearizable: ${JSON.stringify(history)}`);
    }, { prefix: 'crt' });
  } finally {
    cm?.close();
    commits?.close();
    await closeXdpChain(chain);
  }
});

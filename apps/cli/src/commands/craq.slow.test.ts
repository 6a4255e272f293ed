// `netaccel craq ...` against a Craq service served here (the scheduler's placement of a chain of
// three user-space REFERENCE nodes from @netaccel/craq/testing — not the XDP node) and a real etcd.
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { ReferenceChain, TestEtcd } from '@netaccel/craq/testing';
import { CraqService, craqV1, createRpcServer, rpcService } from '@netaccel/rpc';
import type { RpcServer } from '@netaccel/rpc';
import { runCliCaptured } from '../capture.js';
import { craqGroup } from './craq.js';

describe('netaccel craq chain | keys | get | put', () => {
  let etcd: TestEtcd;
  let real: Etcd3;
  let chain: ReferenceChain;
  let server: RpcServer;
  let dir: string;
  let socket: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ncc-cli-'));
    socket = join(dir, 'craq-scheduler.sock');
    etcd = await TestEtcd.start();
    real = new Etcd3({ hosts: etcd.clientUrl });
    chain = await ReferenceChain.start(3);
    await chain.place('/ncc/cli', 'v1');
    const chainState = (): craqV1.ChainState => {
      const p = chain.placement();
      return craqV1.ChainState.create({
        epoch: p.chain.epoch,
        nodes: p.chain.nodes.map((n, i) => craqV1.ChainNode.create({ name: n.name, address: n.address, port: n.port, role: [craqV1.ChainRole.CHAIN_ROLE_HEAD, craqV1.ChainRole.CHAIN_ROLE_MIDDLE, craqV1.ChainRole.CHAIN_ROLE_TAIL][i]!, alive: true })),
        removed: [craqV1.ChainNode.create({ name: 'n9', address: '127.0.0.9', port: 7480, missedProbes: 3 })],
        lastChange: 'node n9 failed (3 probes missed): n2 -> n3, epoch 1',
      });
    };
    server = await createRpcServer({
      address: socket,
      services: [
        rpcService(CraqService, {
          getPlacement: () => craqV1.Placement.create({ placementEpoch: 2n, chain: chainState(), keys: chain.placement().keys.map((k) => craqV1.PlacedKey.create(k)) }),
          getChain: () => chainState(),
          listKeys: (req) =>
            craqV1.ListKeysResponse.create({
              keys: [
                craqV1.KeyStats.create({ key: '/ncc/cli', placed: true, score: 42, reportedReads: 40n, dataPlaneReads: 2n, dataPlaneWrites: 1n, sizeBytes: 75, version: 3n }),
                ...(req.placedOnly ? [] : [craqV1.KeyStats.create({ key: '/ncc/cold', score: 1, reportedReads: 1n, sizeBytes: 80 })]),
              ],
              budgetBytes: 1024n,
              usedBytes: 75n,
            }),
          getKeyStats: () => craqV1.KeyStats.create(),
          pin: () => craqV1.PinResponse.create(),
          unpin: () => craqV1.UnpinResponse.create(),
        }),
      ],
    });
  });

  afterAll(async () => {
    await server?.shutdown({ timeoutMs: 100 });
    real?.close();
    await chain?.close();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (...argv: string[]) => runCliCaptured([...argv, '--socket', socket], [craqGroup]);

  test('chain: nodes head to tail with roles, the removed node, the last change', async () => {
    const c = await run('craq', 'chain');
    assert.equal(c.code, 0, c.err);
    const lines = c.out.trimEnd().split('\n');
    assert.match(lines[0]!, /^NODE\s+ADDRESS\s+ROLE\s+STATE\s+MISSED$/);
    assert.match(lines[1]!, /^n1\s+127\.0\.0\.1:\d+\s+head\s+up\s+0$/);
    assert.match(lines[3]!, /^n3\s+127\.0\.0\.1:\d+\s+tail\s+up\s+0$/);
    assert.match(lines[4]!, /^n9\s+127\.0\.0\.9:7480\s+-\s+removed\s+3$/);
    assert.equal(lines[5], 'epoch 1: node n9 failed (3 probes missed): n2 -> n3, epoch 1');
    const j = JSON.parse((await run('craq', 'chain', '--json')).out) as { epoch: number; nodes: { name: string; role: string }[]; removed: string[] };
    assert.deepEqual(j.nodes.map((n) => [n.name, n.role]), [['n1', 'head'], ['n2', 'middle'], ['n3', 'tail']]);
    assert.deepEqual(j.removed, ['n9']);
  });

  test('keys: by heat, placed or not; --placed; a bad --limit is a usage error', async () => {
    const k = await run('craq', 'keys');
    assert.equal(k.code, 0, k.err);
    assert.match(k.out, /^KEY\s+PLACED\s+SCORE\s+REPORTED\s+CHAIN READS\s+WRITES\s+BYTES\s+VERSION\n\/ncc\/cli\s+yes\s+42\s+40\s+2\s+1\s+75\s+3\n\/ncc\/cold\s+no\s+1\s+1\s+0\s+0\s+80\s+-\n$/);
    const p = JSON.parse((await run('craq', 'keys', '--placed', '--json')).out) as { keys: { key: string; version: string }[]; budgetBytes: number };
    assert.deepEqual(p.keys.map((x) => [x.key, x.version]), [['/ncc/cli', '3']]);
    assert.equal(p.budgetBytes, 1024);
    const bad = await run('craq', 'keys', '--limit', 'lots');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--limit: expected an integer/);
  });

  test('get and put: a placed key through the chain, another through etcd', async () => {
    const e = ['--etcd', etcd.clientUrl];
    const g = await run('craq', 'get', '/ncc/cli', ...e);
    assert.equal(g.code, 0, g.err);
    assert.equal(g.out, 'v1\n');
    const p = await run('craq', 'put', '/ncc/cli', 'v2', ...e);
    assert.equal(p.out, 'wrote /ncc/cli through chain (sent to n1, version 2)\n');
    const j = JSON.parse((await run('craq', 'get', '/ncc/cli', '--read-from', 'tail', '--json', ...e)).out) as { value: string; via: string; node: string; version: string };
    assert.deepEqual(j, { key: '/ncc/cli', value: 'v2', via: 'chain', node: 'n3', version: '2' });
    assert.equal(await real.get('/ncc/cli').string(), null, 'a chain write (the scheduler writes it back)');
    assert.equal((await run('craq', 'put', '/ncc/plain', 'p1', ...e)).out, 'wrote /ncc/plain through etcd\n');
    assert.equal(await real.get('/ncc/plain').string(), 'p1');
    assert.equal((await run('craq', 'get', '/ncc/plain', ...e)).out, 'p1\n');
    assert.equal((await run('craq', 'get', '/ncc/none', ...e)).out, '(not found)\n');
  });

  test('usage errors and a scheduler that is not running', async () => {
    const a = await run('craq', 'get');
    assert.equal(a.code, 2);
    assert.match(a.err, /missing argument <key>/);
    const b = await run('craq', 'put', '/ncc/x');
    assert.equal(b.code, 2);
    assert.match(b.err, /missing argument <value>/);
    const c = await run('craq', 'get', '/ncc/x', '--read-from', 'closest');
    assert.equal(c.code, 2);
    const missing = join(dir, 'missing.sock');
    const d = await runCliCaptured(['craq', 'get', '/ncc/x', '--socket', missing, '--timeout', '1000', '--etcd', etcd.clientUrl], [craqGroup]);
    assert.equal(d.code, 1);
    assert.match(d.err, /no such socket: .*missing\.sock \(given by --socket\); check the path \(craq-scheduler's default socket is \/run\/netaccel\/craq-scheduler\.sock\)/);
    const e = await runCliCaptured(['craq', 'chain', '--socket', missing, '--timeout', '1000'], [craqGroup]);
    assert.match(e.err, /\[NA_ERR_CLI_SOCKET_MISSING\]/);
  });
});

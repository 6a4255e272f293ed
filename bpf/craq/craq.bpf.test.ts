/**
 * BPF layer: every fixture (fixtures.ts) through the XDP program with BPF_PROG_TEST_RUN and
 * through the reference model (model.ts): the same verdict, the same output frame byte for
 * byte, the same reason or action counted, the same key state afterwards and the same commits
 * in craq_commits; and the behaviour the fixture expects.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { craq } from '@netaccel/protocol';
import { CraqNodeObject } from './craq-harness.js';
import type { CraqCommitReader } from './commits.js';
import { CLIENT, KEY, KEY_EMPTY, KEY_TOMB, KEY_UNKNOWN, NODES, craqFixtures } from './fixtures.js';
import type { CraqFixture } from './fixtures.js';
import { l4Offset } from './frame.js';
import { craqStep } from './model.js';

let node: CraqNodeObject;
let commits: CraqCommitReader;

beforeAll(() => {
  node = CraqNodeObject.load();
  commits = node.commitReader();
});
afterAll(() => {
  commits?.close();
  node?.close();
});

const ALL_KEYS = [KEY, KEY_TOMB, KEY_EMPTY, KEY_UNKNOWN].map((k) => k.keyId);

function delta<K>(after: Map<K, bigint>, before: Map<K, bigint>): Map<K, bigint> {
  const out = new Map<K, bigint>();
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0n)) out.set(k, v - (before.get(k) ?? 0n));
  return out;
}

/** The destination address of `out` and the address of the expected target, as text. */
function destination(fx: CraqFixture, out: Uint8Array, to: NonNullable<CraqFixture['expect']['to']>): [string, string] {
  const fam = out[12] === 0x08 ? 4 : 6;
  const addr = (b: Uint8Array, off: number): string => (fam === 4 ? b.subarray(off, off + 4).join('.') : Buffer.from(b.subarray(off, off + 16)).toString('hex'));
  const ipOf = (p: { ip4: string; ip6: string }): string => (fam === 4 ? p.ip4 : ipv6Hex(p.ip6));
  const cfg = fx.state.config;
  const target = { client: ipOf(CLIENT), pred: ipOf(cfg.pred), succ: ipOf(cfg.succ), tail: ipOf(cfg.tail_), sender: addr(fx.frame, fam === 4 ? 26 : 22) }[to];
  return [addr(out, fam === 4 ? 30 : 38), target];
}

function ipv6Hex(text: string): string {
  const [a = '', b = ''] = text.split('::');
  const left = a ? a.split(':') : [];
  const right = b ? b.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

describe('NetCRAQ node: XDP program vs reference model', () => {
  test('the fixtures cover every role and the chain addresses are distinct', () => {
    const roles = new Set(craqFixtures().map((f) => f.role));
    assert.deepEqual([...roles].sort(), ['head', 'middle', 'single', 'tail']);
    assert.equal(new Set(NODES.map((n) => n.ip4)).size, 3);
  });

  for (const fx of craqFixtures()) {
    test(fx.name, () => {
      for (const id of ALL_KEYS) node.deleteKey(id);
      node.setConfig(fx.state.config);
      for (const [id, k] of fx.state.keys) node.putKey(id, k);
      commits.drain();
      const reasons0 = node.reasons();
      const stats0 = node.stats();

      const model = craqStep(fx.state, fx.frame);
      const run = node.run(fx.frame);

      assert.equal(model.verdict, fx.expect.verdict, 'model verdict');
      assert.equal(run.verdict, fx.expect.verdict, 'program verdict');
      assert.equal(model.reason, fx.expect.reason, 'model reason');
      assert.equal(model.stat, fx.expect.stat, 'model action');
      assert.equal(Buffer.from(run.data).toString('hex'), Buffer.from(model.frame).toString('hex'), 'output frame');

      const reasons = delta(node.reasons(), reasons0);
      const stats = delta(node.stats(), stats0);
      assert.deepEqual(reasons, fx.expect.reason ? new Map([[fx.expect.reason, 1n]]) : new Map(), 'craq_reasons');
      assert.deepEqual(stats, fx.expect.stat ? new Map([[fx.expect.stat, 1n]]) : new Map(), 'craq_stats');

      for (const id of ALL_KEYS) assert.deepEqual(node.key(id), model.state.keys.get(id), `key ${id} after`);
      const got = commits.drain();
      assert.deepEqual(got, model.commits, 'commits');
      assert.equal(got.length, fx.expect.commits ?? 0);

      if (fx.expect.op !== undefined) {
        const out = craq.decodeCraq(model.frame.subarray(l4Offset(model.frame[12] === 0x08 ? 4 : 6) + 8));
        assert.equal(out.op, fx.expect.op, 'output op');
        if (fx.expect.status !== undefined) assert.equal(out.status, fx.expect.status, 'output status');
      }
      if (fx.expect.to !== undefined) assert.equal(...destination(fx, model.frame, fx.expect.to), 'output destination');
    });
  }
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import {
  IFNAME_MAX, ifNameProblem, isRunId, newRunId, nextIfName, nodeNameProblem, nsName, parseNsName, parseRunDirName, prefixProblem, runDirName,
} from './names.js';

test('run ids are 6 characters of [a-z0-9] and differ between calls', () => {
  const ids = new Set(Array.from({ length: 2000 }, () => newRunId()));
  assert.ok(ids.size >= 1999, `only ${ids.size} distinct ids of 2000`);
  for (const id of ids) assert.ok(isRunId(id), id);
  assert.equal(newRunId(() => Buffer.from([0, 1, 25, 26, 35, 36])), 'abz09a');
});

test('namespace names carry prefix, run id and node, and parse back', () => {
  const ns = nsName('nalab', 'k3x9q2', 'lb-1');
  assert.equal(ns, 'nalab-k3x9q2-lb-1');
  assert.deepEqual(parseNsName('nalab', ns), { runId: 'k3x9q2', node: 'lb-1' });
  // names of other prefixes or shapes are never claimed
  assert.equal(parseNsName('nalab', 'nalabx-k3x9q2-lb1'), undefined);
  assert.equal(parseNsName('nalab', 'nalab-k3x9q-lb1'), undefined);
  assert.equal(parseNsName('nalab', 'nalab-k3x9q2'), undefined);
  assert.equal(parseNsName('nalab', 'nalab-K3X9Q2-lb1'), undefined);
  assert.equal(parseNsName('nalab', 'cni-1234-5678'), undefined);
  assert.equal(parseRunDirName('nalab', runDirName('nalab', 'k3x9q2')), 'k3x9q2');
  assert.equal(parseRunDirName('nalab', 'nalab-k3x9q2-x'), undefined);
});

test('prefixes cannot contain the separator', () => {
  assert.equal(prefixProblem('nalab'), undefined);
  assert.match(prefixProblem('na-lab') ?? '', /no "-"/);
  assert.match(prefixProblem('x') ?? '', /2\.\.12/);
  assert.match(prefixProblem('averyveryverylongprefix') ?? '', /2\.\.12/);
});

test('interface names are at most 15 characters of a safe alphabet', () => {
  assert.equal(ifNameProblem('eth0'), undefined);
  assert.equal(ifNameProblem('a'.repeat(IFNAME_MAX)), undefined);
  assert.match(ifNameProblem('a'.repeat(IFNAME_MAX + 1)) ?? '', /1\.\.15 characters/);
  assert.match(ifNameProblem('eth0.100') ?? '', /A-Za-z0-9_-/);
  assert.match(ifNameProblem('0eth') ?? '', /start with a letter/);
  assert.match(ifNameProblem('lo') ?? '', /reserved/);
  assert.match(ifNameProblem('') ?? '', /1\.\.15/);
});

test('generated interface names are the first free eth<N>, valid and unique', () => {
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const name = nextIfName(taken);
    assert.equal(ifNameProblem(name), undefined);
    assert.ok(name.length <= IFNAME_MAX);
    assert.ok(!taken.has(name));
    taken.add(name);
  }
  assert.equal(nextIfName(new Set(['eth0', 'eth2'])), 'eth1');
});

test('node names', () => {
  assert.equal(nodeNameProblem('router'), undefined);
  assert.equal(nodeNameProblem('backend_1-a'), undefined);
  assert.match(nodeNameProblem('Router') ?? '', /a-z0-9_-/);
  assert.match(nodeNameProblem('a'.repeat(33)) ?? '', /1\.\.32/);
});

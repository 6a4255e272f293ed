import assert from 'node:assert/strict';
import { test } from 'vitest';
import { initialChain, joinMember, nodeConfigs, removeMember } from './chain.js';
import type { Member, Step } from './chain.js';

const m = (name: string, port: number): Member => ({ name, endpoint: { address: '127.0.0.1', port } });
const A = m('a', 1), B = m('b', 2), C = m('c', 3), D = m('d', 4);
const kinds = (steps: readonly Step[]): string[] => steps.map((s) => (s.kind === 'configure' ? `configure ${s.node} ${s.config.role}@${s.config.epoch}` : s.kind === 'copy' ? `copy ${s.from}->${s.to}` : `${s.kind} ${s.node}`));

test('initial chain: roles, neighbours, the tail everyone asks; configured tail first', () => {
  const t = initialChain([A, B, C]);
  assert.equal(t.next.epoch, 1);
  assert.deepEqual(kinds(t.steps), ['configure c tail@1', 'configure b middle@1', 'configure a head@1']);
  const cfg = nodeConfigs([A, B, C], 1);
  assert.deepEqual(cfg.get('a'), { epoch: 1, role: 'head', tail: C.endpoint, next: B.endpoint });
  assert.deepEqual(cfg.get('b'), { epoch: 1, role: 'middle', tail: C.endpoint, prev: A.endpoint, next: C.endpoint });
  assert.deepEqual(cfg.get('c'), { epoch: 1, role: 'tail', tail: C.endpoint, prev: B.endpoint });
  assert.deepEqual(nodeConfigs([A], 1).get('a'), { epoch: 1, role: 'single', tail: A.endpoint });
});

test('middle fails: predecessor linked to successor, epoch bumped, predecessor resends its dirty versions', () => {
  const t = removeMember(initialChain([A, B, C]).next, 'b');
  assert.deepEqual(t.next.members.map((x) => x.name), ['a', 'c']);
  assert.equal(t.next.epoch, 2);
  assert.deepEqual(kinds(t.steps), ['configure c tail@2', 'configure a head@2', 'resend-dirty a', 'repair-dirty a']);
  const cfgA = t.steps.find((s) => s.kind === 'configure' && s.node === 'a');
  assert.deepEqual(cfgA?.kind === 'configure' && cfgA.config.next, C.endpoint);
  assert.equal(t.next.lastChange, 'node b failed: a -> c, epoch 2');
  assert.deepEqual(t.next.removed.map((x) => x.name), ['b']);
});

test('tail fails: the predecessor becomes tail and commits its dirty versions', () => {
  const t = removeMember(initialChain([A, B, C]).next, 'c');
  assert.deepEqual(kinds(t.steps), ['configure b tail@2', 'configure a head@2', 'commit-dirty b']);
  const cfgA = t.steps.find((s) => s.kind === 'configure' && s.node === 'a');
  assert.deepEqual(cfgA?.kind === 'configure' && cfgA.config.tail, B.endpoint, 'version queries go to the new tail');
});

test('head fails: the successor becomes head; down to one node, then none', () => {
  const t = removeMember(initialChain([A, B, C]).next, 'a');
  assert.deepEqual(kinds(t.steps), ['configure c tail@2', 'configure b head@2']);
  assert.equal(t.next.lastChange, 'node a failed: b is the head, epoch 2');
  const one = removeMember(t.next, 'c');
  assert.deepEqual(kinds(one.steps), ['configure b single@3', 'commit-dirty b']);
  const none = removeMember(one.next, 'b');
  assert.deepEqual(none.next.members, []);
  assert.deepEqual(none.steps, []);
  assert.equal(removeMember(none.next, 'zz').next, none.next, 'an unknown node changes nothing');
});

test('join: wiped, writes held and drained, state copied from the tail, configured as the new tail, writes resumed', () => {
  const s = removeMember(initialChain([A, B, C]).next, 'b').next;
  const t = joinMember(s, B);
  assert.deepEqual(t.next.members.map((x) => x.name), ['a', 'c', 'b']);
  assert.equal(t.next.epoch, 3);
  assert.deepEqual(kinds(t.steps), ['wipe b', 'hold-writes a', 'drain a', 'copy c->b', 'configure b tail@3', 'configure c middle@3', 'configure a head@3', 'resume-writes a']);
  assert.deepEqual(t.next.removed, [], 'no longer removed');
  assert.equal(joinMember(t.next, D).next.members.length, 4);
  assert.deepEqual(joinMember(t.next, B).steps, [], 'a member joins once');
});

import assert from 'node:assert/strict';
import { test } from 'vitest';
import { PlacementView, headOf, staticPlacementSource, tailOf } from './placement.js';
import type { Placement } from './placement.js';

const node = (name: string, role: 'head' | 'middle' | 'tail') => ({ name, address: '127.0.0.1', port: 7480, role, alive: true });
const P = (epoch: bigint, keys: string[]): Placement => ({
  epoch,
  chain: { epoch: 3, nodes: [node('a', 'head'), node('b', 'middle'), node('c', 'tail')] },
  keys: keys.map((key, i) => ({ key, keyId: BigInt(i + 1), keyCheck: i })),
});

test('placement view: lookup, NOT_PLACED marks until the next refresh, older answers ignored', async () => {
  let next = P(2n, ['/a', '/b']);
  const view = new PlacementView(staticPlacementSource(() => next));
  assert.equal(view.lookup('/a'), undefined, 'empty before the first refresh');
  await view.refresh();
  assert.equal(view.lookup('/a')?.keyId, 1n);
  assert.equal(headOf(view.chain)?.name, 'a');
  assert.equal(tailOf(view.chain)?.name, 'c');
  view.markNotPlaced('/a');
  assert.equal(view.lookup('/a'), undefined);
  assert.equal(view.lookup('/b')?.keyId, 2n);
  view.apply(P(1n, ['/z']));
  assert.equal(view.lookup('/z'), undefined, 'an older placement epoch does not replace a newer one');
  next = P(3n, ['/a']);
  await view.refresh();
  assert.equal(view.lookup('/a')?.keyId, 1n, 'the refresh clears the mark');
  assert.equal(view.lookup('/b'), undefined, 'evicted');
});

test('placement view: a failed refresh keeps the view and says why', async () => {
  let fail = false;
  const view = new PlacementView({ fetch: () => (fail ? Promise.reject(new Error('scheduler down')) : Promise.resolve(P(1n, ['/a']))) });
  await view.refresh();
  fail = true;
  await assert.rejects(view.refresh(), { code: 'NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE', message: /scheduler down/ });
  assert.equal(view.lookup('/a')?.keyId, 1n);
});

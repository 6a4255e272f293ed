import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_ADDRESS } from '../errors.js';
import { formatMac, isMac, parseMac } from './mac.js';

test('MAC addresses', () => {
  assert.equal(formatMac(parseMac('AA-BB-CC-0D-EE-FF')), 'aa:bb:cc:0d:ee:ff');
  assert.deepEqual([...parseMac('02:00:00:00:00:01')], [2, 0, 0, 0, 0, 1]);
  for (const bad of ['aa:bb:cc:dd:ee', 'aa:bb-cc:dd:ee:ff', 'aabb.ccdd.eeff', 'gg:00:00:00:00:00', 'a:b:c:d:e:f']) {
    assert.throws(() => parseMac(bad), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e), bad);
    assert.equal(isMac(bad), false, bad);
  }
});

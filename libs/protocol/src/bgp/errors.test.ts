import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isNetaccelError } from '@netaccel/errors';
import { registryTests } from '@netaccel/errors/testing';
import { isKnownNotification } from './constants.js';
import { BgpNotificationError, NA_ERR_BGP_INVALID_ORIGIN, NOTIFICATION_OF, bgpError, bgpErrors, isBgpNotificationError } from './errors.js';

const README = readFileSync(new URL('./README.md', import.meta.url), 'utf8');

registryTests(bgpErrors, new URL('./README.md', import.meta.url), { area: 'BGP' });

test('the README table gives each code the NOTIFICATION it maps to, and marks local codes', () => {
  const rows = new Map<string, string>();
  for (const m of README.matchAll(/^\| `(NA_ERR_BGP_[A-Z0-9_]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
  assert.deepEqual([...rows.keys()].sort(), Object.keys(bgpErrors).sort());
  for (const code of Object.keys(bgpErrors)) {
    const pair = NOTIFICATION_OF.get(code);
    if (pair === undefined) assert.equal(rows.get(code), '— (local)', code);
    else {
      assert.equal(rows.get(code), `${pair[0]}/${pair[1]}`, code);
      assert.ok(isKnownNotification(pair[0], pair[1]), code);
    }
  }
});

test('a BgpNotificationError carries the NOTIFICATION fields, the action and the attribute type', () => {
  const err = bgpError(NA_ERR_BGP_INVALID_ORIGIN, { data: Uint8Array.of(0x40, 1, 1, 7), action: 'treat-as-withdraw', attributeType: 1 }, 'UPDATE ORIGIN', 7);
  assert.ok(err instanceof BgpNotificationError && isBgpNotificationError(err) && isNetaccelError(err));
  assert.ok(NA_ERR_BGP_INVALID_ORIGIN.is(err));
  assert.equal(err.message, 'UPDATE ORIGIN: value 7 is not IGP (0), EGP (1) or INCOMPLETE (2)');
  assert.deepEqual(err.notification, { code: 3, subcode: 6, data: Buffer.from([0x40, 1, 1, 7]) });
  assert.equal(err.action, 'treat-as-withdraw');
  assert.equal(err.attributeType, 1);
  assert.deepEqual(err.toJSON().details, { code: 3, subcode: 6, data: '40010107', action: 'treat-as-withdraw', attributeType: 1 });
  assert.throws(() => bgpError(bgpErrors.NA_ERR_BGP_INVALID_MESSAGE, {}), /not a peer error with a NOTIFICATION/);
});

/**
 * The active role step by step (checks driven by hand): active only after the takeover finished
 * and while the lease is held — false at once when it runs out, stand-down at the next check; a
 * takeover that fails is tried again; a lease lost during the takeover means no activity.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createLogger } from '@netaccel/telemetry';
import { ActiveRole } from './active-role.js';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

test('active after the takeover and while the lease is held; stands down when it runs out; a failed takeover is tried again', async () => {
  let lease = false;
  const events: string[] = [];
  let fail = 1;
  let release: (() => void) | undefined;
  const role = new ActiveRole({
    leaseHeld: () => lease,
    takeOver: async () => {
      events.push('takeover');
      if (fail > 0) {
        fail--;
        throw new Error('etcd down');
      }
      await new Promise<void>((r) => (release = r));
    },
    standDown: () => events.push('stand down'),
    checkMs: 1000,
    log,
    onChange: (a) => events.push(a ? 'active' : 'inactive'),
  });
  await role.check();
  assert.equal(role.active, false, 'no lease: not active');
  lease = true;
  await role.check();
  assert.deepEqual(events, ['takeover'], 'the first takeover failed');
  assert.equal(role.active, false);
  const second = role.check();
  await new Promise((r) => setImmediate(r));
  assert.equal(role.active, false, 'not active while the takeover runs');
  assert.equal(role.check(), second, 'a check in progress is joined');
  release!();
  await second;
  assert.equal(role.active, true);
  assert.deepEqual([role.takeovers, events], [1, ['takeover', 'takeover', 'active']]);
  lease = false;
  assert.equal(role.active, false, 'false as soon as the lease runs out, before any check');
  await role.check();
  assert.deepEqual(events.slice(-2), ['stand down', 'inactive']);
  assert.equal(role.standDowns, 1);

  // the lease lost while taking over: stood down, not active
  lease = true;
  const third = role.check();
  await new Promise((r) => setImmediate(r));
  lease = false;
  release!();
  await third;
  assert.equal(role.active, false);
  assert.deepEqual(events.slice(-2), ['takeover', 'stand down']);
  assert.equal(role.takeovers, 1);
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_NETLAB_WAIT_TIMEOUT } from './errors.js';
import { sleep, waitFor, within } from './wait.js';

test('waitFor returns the first truthy value', async () => {
  let n = 0;
  const value = await waitFor(() => (++n >= 3 ? { n } : undefined), { intervalMs: 1 });
  assert.deepEqual(value, { n: 3 });
});

test('waitFor treats throws as "not yet" and reports the last error on timeout', async () => {
  const started = performance.now();
  await assert.rejects(
    waitFor(() => {
      throw new Error('route missing');
    }, { timeoutMs: 60, intervalMs: 5, what: 'route 10.9.0.0/24 in router' }),
    (err: unknown) => {
      assert.ok(NA_ERR_NETLAB_WAIT_TIMEOUT.is(err));
      assert.equal(err.message, 'timed out after 60 ms waiting for route 10.9.0.0/24 in router; last error: route missing');
      assert.equal((err.cause as Error).message, 'route missing');
      return true;
    },
  );
  assert.ok(performance.now() - started >= 55);
});

test('waitFor reports the last value and asks a function for the description at the end', async () => {
  let state = 'down';
  setTimeout(() => (state = 'still down'), 5);
  await assert.rejects(waitFor(async () => false, { timeoutMs: 30, intervalMs: 5, what: () => `link (${state})` }), /waiting for link \(still down\); last value: false$/);
});

test('within resolves undefined on timeout and does not keep the process alive', async () => {
  assert.equal(await within(sleep(50).then(() => 'late'), 5), undefined);
  assert.equal(await within(Promise.resolve('now'), 1000), 'now');
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_NETLAB_OPTIONS_INVALID } from './errors.js';
import { silentLogger } from '@netaccel/errors';
import { LAB_DEFAULTS, resolveLabOptions } from './options.js';

test('defaults fill every option and the result is frozen', () => {
  const o = resolveLabOptions();
  assert.ok(Object.isFrozen(o));
  assert.equal(o.prefix, 'nalab');
  assert.equal(o.stateDir, '/run/netaccel-netlab');
  assert.equal(o.killGraceMs, LAB_DEFAULTS.killGraceMs);
  assert.equal(o.log, silentLogger);
  assert.ok(o.logDir.startsWith('/'));
});

test('bad options name the option', () => {
  const bad = (opts: object, re: RegExp): void =>
    assert.throws(() => resolveLabOptions(opts), (e: unknown) => NA_ERR_NETLAB_OPTIONS_INVALID.is(e) && re.test(e.message));
  bad({ prefix: 'na-lab' }, /^options\.prefix: .*no "-"/);
  bad({ stateDir: 'relative' }, /^options\.stateDir: expected an absolute path/);
  bad({ logDir: '/tmp/with space' }, /^options\.logDir: expected an absolute path without spaces/);
  bad({ killGraceMs: -1 }, /^options\.killGraceMs: expected a whole number 0\.\.60000/);
  bad({ readyTimeout: 5 }, /^options\.readyTimeout: unknown field/);
  bad({ log: {} }, /^options\.log: expected a pino-like logger/);
});

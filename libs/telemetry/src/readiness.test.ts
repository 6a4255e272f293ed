import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { defineError } from '@netaccel/errors';
import { createLogCapture } from './log-capture.js';
import { createLogger } from './logger.js';
import { Readiness } from './readiness.js';

const E_MAPS = defineError('NA_ERR_TESTREADY_MAPS_MISSING', 'map %s is not pinned', 'unavailable');

describe('Readiness', () => {
  it('is ready with no checks', async () => {
    assert.deepEqual(await new Readiness().run(), { ready: true, checks: [] });
  });

  it('passes on true, nothing or { ready: true } and fails on false, { ready: false } or a throw', async () => {
    const r = new Readiness();
    r.add('true', () => true);
    r.add('void', () => undefined);
    r.add('object', async () => ({ ready: true }));
    r.add('false', () => false);
    r.add('reason', () => ({ ready: false, message: '0 of 2 peers established' }));
    r.add('throws', () => {
      throw E_MAPS('lb_vips');
    });
    r.add('rejects', () => Promise.reject(new Error('socket closed')));
    const report = await r.run();
    assert.equal(report.ready, false);
    const byName = Object.fromEntries(report.checks.map(({ durationMs: _d, ...c }) => [c.name, c]));
    assert.deepEqual(byName, {
      true: { name: 'true', ready: true },
      void: { name: 'void', ready: true },
      object: { name: 'object', ready: true },
      false: { name: 'false', ready: false, message: 'not ready' },
      reason: { name: 'reason', ready: false, message: '0 of 2 peers established' },
      throws: { name: 'throws', ready: false, message: 'map lb_vips is not pinned', code: 'NA_ERR_TESTREADY_MAPS_MISSING' },
      rejects: { name: 'rejects', ready: false, message: 'socket closed' },
    });
    assert.deepEqual(
      report.checks.map((c) => c.name),
      ['true', 'void', 'object', 'false', 'reason', 'throws', 'rejects'],
    );
  });

  it('times out a check that hangs, aborts its signal and still answers', async () => {
    const r = new Readiness({ defaultTimeoutMs: 1_000 });
    let aborted: unknown;
    r.add('hangs', (signal) => {
      signal.addEventListener('abort', () => (aborted = signal.reason));
      return new Promise<boolean>(() => undefined);
    }, { timeoutMs: 30 });
    r.add('fast', () => true);
    const started = performance.now();
    const report = await r.run();
    assert.ok(performance.now() - started < 900, 'the per-check timeout applies, not the default');
    const hung = report.checks.find((c) => c.name === 'hangs');
    assert.equal(hung?.ready, false);
    assert.equal(hung?.code, 'NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT');
    assert.equal(hung?.message, 'readiness check hangs did not answer within 30 ms');
    assert.equal((aborted as { code?: string }).code, 'NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT');
  });

  it('adds and removes checks at runtime', async () => {
    const r = new Readiness();
    const remove = r.add('a', () => false);
    assert.equal((await r.run()).ready, false);
    remove();
    assert.equal((await r.run()).ready, true);
    r.add('a', () => true);
    remove(); // a stale remover does not remove the new check of the same name
    assert.deepEqual(r.names(), ['a']);
    assert.equal(r.remove('a'), true);
    assert.equal(r.remove('a'), false);
    assert.equal(r.has('a'), false);
  });

  it('refuses a duplicate name and bad checks', () => {
    const r = new Readiness();
    r.add('a', () => true);
    assert.throws(() => r.add('a', () => true), { code: 'NA_ERR_TELEMETRY_READINESS_CHECK_DUPLICATE' });
    assert.throws(() => r.add('', () => true), { code: 'NA_ERR_TELEMETRY_OPTIONS_INVALID', message: /^readiness\.name: / });
    assert.throws(() => r.add('b', 'yes' as never), { message: 'readiness.b: expected a function, got "yes"' });
    assert.throws(() => r.add('b', () => true, { timeoutMs: 0 }), {
      message: 'readiness.b.timeoutMs: expected an integer in 1..60000, got 0',
    });
    assert.throws(() => new Readiness({ defaultTimeoutMs: -1 }), { message: /^defaultTimeoutMs: / });
  });

  it('logs when readiness changes, not on every probe', async () => {
    const capture = createLogCapture();
    const r = new Readiness({ log: createLogger({ name: 't', destination: capture.stream }) });
    let ok = true;
    r.add('dep', () => ok || { ready: false, message: 'down' });
    await r.run();
    await r.run();
    ok = false;
    await r.run();
    await r.run();
    ok = true;
    await r.run();
    const records = capture.records();
    assert.deepEqual(
      records.map((x) => [x.level, x.msg]),
      [
        ['info', 'ready'],
        ['warn', 'not ready'],
        ['info', 'ready'],
      ],
    );
    assert.deepEqual(records[1]?.failing, [{ name: 'dep', message: 'down' }]);
  });
});

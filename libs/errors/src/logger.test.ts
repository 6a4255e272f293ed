import { test } from 'vitest';
import assert from 'node:assert/strict';
import { isLogger, silentLogger } from './logger.js';
import type { Logger } from './logger.js';

test('silentLogger is a Logger that writes nothing and whose children are itself', () => {
  assert.ok(isLogger(silentLogger));
  assert.equal(silentLogger.child({ component: 'x' }), silentLogger);
  assert.equal(silentLogger.isLevelEnabled('error'), false);
  silentLogger.error({ err: new Error('x') }, 'nothing happens');
});

test('isLogger wants every method', () => {
  const lines: string[] = [];
  const log: Logger = { ...silentLogger, info: (_o, msg) => void lines.push(msg) };
  assert.ok(isLogger(log));
  log.info({}, 'one');
  assert.deepEqual(lines, ['one']);
  assert.equal(isLogger({ info() {}, warn() {} }), false);
  assert.equal(isLogger(null), false);
  assert.equal(isLogger('log'), false);
});

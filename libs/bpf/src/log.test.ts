import { test } from 'vitest';
import assert from 'node:assert/strict';
import { cleanLibbpfText, deliverLibbpfMessage, setLibbpfLogger, wantsLevel, withLibbpfLog } from './log.js';
import { silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';

interface Line { level: string; obj: object; msg: string }

function recorder(debug = true): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    ...silentLogger,
    lines,
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    isLevelEnabled: (level) => level !== 'debug' || debug,
  };
}

test('messages lose the libbpf prefix and the trailing newline', () => {
  assert.equal(cleanLibbpfText("libbpf: prog 'x': failed to load: -13\n"), "prog 'x': failed to load: -13");
  assert.equal(cleanLibbpfText('plain\n\n'), 'plain');
});

test('inside a scope messages go to its logger, pino style, and warn/info are kept', () => {
  const outer = recorder();
  setLibbpfLogger(outer);
  try {
    const scoped = recorder();
    const { value, messages } = withLibbpfLog(scoped, () => {
      deliverLibbpfMessage(0, 'libbpf: something is wrong\n');
      deliverLibbpfMessage(1, 'libbpf: fyi\n');
      deliverLibbpfMessage(2, 'libbpf: details\n');
      return 42;
    });
    assert.equal(value, 42);
    assert.deepEqual(messages, [{ level: 'warn', text: 'something is wrong' }, { level: 'info', text: 'fyi' }]);
    assert.deepEqual(scoped.lines, [
      { level: 'warn', obj: { component: 'libbpf' }, msg: 'something is wrong' },
      { level: 'info', obj: { component: 'libbpf' }, msg: 'fyi' },
      { level: 'debug', obj: { component: 'libbpf' }, msg: 'details' },
    ]);
    assert.deepEqual(outer.lines, []);
    deliverLibbpfMessage(0, 'libbpf: outside\n');
    assert.deepEqual(outer.lines, [{ level: 'warn', obj: { component: 'libbpf' }, msg: 'outside' }]);
  } finally {
    setLibbpfLogger(null);
  }
});

test('nested scopes see only their own messages and the stack unwinds on throw', () => {
  const a = recorder();
  const b = recorder();
  const outer = withLibbpfLog(a, () => {
    deliverLibbpfMessage(0, 'one');
    const inner = withLibbpfLog(b, () => deliverLibbpfMessage(0, 'two'));
    deliverLibbpfMessage(0, 'three');
    return inner.messages;
  });
  assert.deepEqual(outer.value, [{ level: 'warn', text: 'two' }]);
  assert.deepEqual(outer.messages.map((m) => m.text), ['one', 'three']);
  assert.throws(() => withLibbpfLog(a, () => { throw new Error('boom'); }), /boom/);
  const c = recorder();
  setLibbpfLogger(c);
  try {
    deliverLibbpfMessage(0, 'after');
    assert.equal(c.lines.length, 1, 'the throwing scope was popped');
  } finally {
    setLibbpfLogger(null);
  }
});

test('debug lines are formatted only for a logger that wants them', () => {
  assert.equal(wantsLevel(2), false, 'silent default logger');
  assert.equal(wantsLevel(0), true, 'warnings are always kept');
  withLibbpfLog(recorder(false), () => assert.equal(wantsLevel(2), false));
  withLibbpfLog(recorder(true), () => assert.equal(wantsLevel(2), true));
  const everything: Logger = { ...silentLogger, isLevelEnabled: () => true };
  withLibbpfLog(everything, () => assert.equal(wantsLevel(2), true));
});

test('a logger that throws does not break delivery', () => {
  const bad: Logger = { ...silentLogger, debug: () => { throw new Error('x'); }, info: () => { throw new Error('x'); }, warn: () => { throw new Error('x'); } };
  const { messages } = withLibbpfLog(bad, () => deliverLibbpfMessage(0, 'kept'));
  assert.deepEqual(messages, [{ level: 'warn', text: 'kept' }]);
});

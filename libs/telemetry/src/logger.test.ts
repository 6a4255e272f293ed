import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'vitest';
import { defineError } from '@netaccel/errors';
import { createLogCapture, parseNdjson } from './log-capture.js';
import { DEFAULT_REDACT_PATHS, REDACTED, childLogger, createLogger, isoTime, wantsPretty } from './logger.js';

const E_PEER_DOWN = defineError('NA_ERR_TESTLOG_PEER_DOWN', 'peer %s is down', 'unavailable');

function setup(level: 'info' | 'debug' | 'warn' = 'info', redact?: string[]) {
  const capture = createLogCapture();
  const log = createLogger({ name: 'lbd', level, pretty: false, destination: capture.stream, ...(redact ? { redact } : {}) });
  return { capture, log };
}

describe('createLogger', () => {
  it('writes one JSON object per line with app, pid, hostname, a level label and an ISO time', () => {
    const { capture, log } = setup();
    log.info({ peer: '10.0.0.1', state: 'established' }, 'bgp session established');
    log.warn('second line');
    const lines = capture.text().trimEnd().split('\n');
    assert.equal(lines.length, 2);
    const [first, second] = capture.records();
    assert.equal(first?.app, 'lbd');
    assert.equal(first?.pid, process.pid);
    assert.equal(first?.hostname, hostname());
    assert.equal(first?.level, 'info');
    assert.equal(first?.msg, 'bgp session established');
    assert.equal(first?.peer, '10.0.0.1');
    assert.equal(first?.state, 'established');
    assert.equal(typeof first?.time, 'string');
    assert.equal(new Date(first!.time as string).toISOString(), first?.time);
    assert.equal(second?.level, 'warn');
    assert.equal(second?.msg, 'second line');
  });

  it('gives child loggers a component field and keeps the base fields', () => {
    const { capture, log } = setup();
    const fsm = childLogger(log, 'bgp-fsm');
    fsm.info({ peer: 'a' }, 'open sent');
    log.info('root line');
    const [child, root] = capture.records();
    assert.equal(child?.component, 'bgp-fsm');
    assert.equal(child?.app, 'lbd');
    assert.equal(child?.peer, 'a');
    assert.equal(root?.component, undefined);
  });

  it('serializes a NetaccelError under err with code, kind, details, message, stack and cause', () => {
    const { capture, log } = setup();
    const cause = new Error('connect ECONNREFUSED');
    const err = E_PEER_DOWN.with({ cause, details: { peer: '10.0.0.2' } }, '10.0.0.2');
    childLogger(log, 'bgp').error({ err }, 'peer lost');
    log.error(new TypeError('plain failure'));
    const [withCode, plain] = capture.records();
    const e = withCode?.err as Record<string, unknown>;
    assert.equal(withCode?.msg, 'peer lost');
    assert.equal(e.type, 'NetaccelError');
    assert.equal(e.code, 'NA_ERR_TESTLOG_PEER_DOWN');
    assert.equal(e.kind, 'unavailable');
    assert.equal(e.message, 'peer 10.0.0.2 is down');
    assert.deepEqual(e.details, { peer: '10.0.0.2' });
    assert.match(e.stack as string, /^NetaccelError: peer 10\.0\.0\.2 is down\n\s+at /);
    assert.equal((e.cause as Record<string, unknown>).message, 'connect ECONNREFUSED');
    const p = plain?.err as Record<string, unknown>;
    assert.equal(p.type, 'TypeError');
    assert.equal(p.message, 'plain failure');
    assert.equal(plain?.msg, 'plain failure');
  });

  it('drops lines below the configured level', () => {
    const { capture, log } = setup('warn');
    log.debug('debug line');
    log.info('info line');
    log.warn('warn line');
    log.error('error line');
    assert.deepEqual(
      capture.records().map((r) => r.msg),
      ['warn line', 'error line'],
    );
    log.level = 'debug';
    log.debug('now visible');
    assert.equal(capture.records().at(-1)?.msg, 'now visible');
  });

  it('redacts default secrets one level deep and the paths the caller adds', () => {
    const { capture, log } = setup('info', ['tls.key', 'peers[*].md5']);
    log.info(
      {
        password: 'hunter2',
        bgp: { token: 't0k3n', asn: 65001 },
        tls: { key: 'PRIVATE', cert: 'PUBLIC' },
        peers: [{ addr: '10.0.0.1', md5: 's3cret' }],
        key: 'cache-key-is-not-a-secret',
      },
      'config loaded',
    );
    const [r] = capture.records();
    assert.equal(r?.password, REDACTED);
    assert.deepEqual(r?.bgp, { token: REDACTED, asn: 65001 });
    assert.deepEqual(r?.tls, { key: REDACTED, cert: 'PUBLIC' });
    assert.deepEqual(r?.peers, [{ addr: '10.0.0.1', md5: REDACTED }]);
    assert.equal(r?.key, 'cache-key-is-not-a-secret');
    assert.ok(DEFAULT_REDACT_PATHS.includes('*.password'));
  });

  it('pretty-prints instead of JSON when forced or when the destination is a terminal', async () => {
    for (const pretty of [true, 'auto'] as const) {
      const capture = createLogCapture();
      const tty = Object.assign(capture.stream, { isTTY: pretty === 'auto' });
      const log = createLogger({ name: 'lbd', pretty, destination: tty });
      childLogger(log, 'bgp').info({ peer: 'a' }, 'hello');
      // pino-pretty writes through a pipeline of streams: wait for the line to come out.
      for (let i = 0; i < 100 && !capture.text().includes('\n'); i++) await new Promise((r) => setImmediate(r));
      const text = capture.text();
      assert.match(text, /INFO.*\[bgp\] hello/);
      assert.throws(() => parseNdjson(text), SyntaxError);
    }
  });

  it('chooses pretty output from the destination when asked for auto', () => {
    assert.equal(wantsPretty(true), true);
    assert.equal(wantsPretty(false, { write: () => undefined, isTTY: true } as never), false);
    assert.equal(wantsPretty('auto', { write: () => undefined, isTTY: true } as never), true);
    assert.equal(wantsPretty('auto', { write: () => undefined }), false);
  });

  it('rejects bad options with the path of the field first', () => {
    const code = { code: 'NA_ERR_TELEMETRY_OPTIONS_INVALID' };
    assert.throws(() => createLogger({ name: '' }), { ...code, message: 'name: expected a non-empty string, got ""' });
    assert.throws(() => createLogger({ name: 'x', level: 'verbose' as never }), {
      ...code,
      message: 'level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    });
    assert.throws(() => createLogger({ name: 'x', pretty: 'yes' as never }), { ...code, message: /^pretty: / });
    assert.throws(() => createLogger({ name: 'x', destination: {} as never }), { ...code, message: /^destination: / });
    assert.throws(() => createLogger({ name: 'x', redact: ['ok', 3 as never] }), {
      ...code,
      message: 'redact[1]: expected a non-empty string, got 3',
    });
    assert.throws(() => createLogger({ name: 'x', redact: ['a..b'] }), { ...code, message: /^redact: / });
    assert.throws(() => createLogger({ name: 'x', colour: true } as never), {
      ...code,
      message: 'colour: unknown option (known: name, level, pretty, destination, redact)',
    });
    assert.throws(() => childLogger(createLogger({ name: 'x', destination: createLogCapture().stream }), ''), code);
  });
});

describe('parseNdjson', () => {
  it('parses one object per line and skips blank lines', () => {
    assert.deepEqual(parseNdjson('{"a":1}\n\n{"b":2}\n'), [{ a: 1 }, { b: 2 }]);
  });

  it('names the line that is not a JSON object', () => {
    assert.throws(() => parseNdjson('{"a":1}\nnope\n'), { name: 'SyntaxError', message: /^line 2: not JSON: nope/ });
    assert.throws(() => parseNdjson('[1]'), { name: 'SyntaxError', message: /^line 1: expected a JSON object/ });
  });

  it('finds captured records by their fields', () => {
    const capture = createLogCapture();
    const log = createLogger({ name: 'x', destination: capture.stream });
    childLogger(log, 'a').info({}, 'one');
    childLogger(log, 'b').error({}, 'two');
    assert.deepEqual(
      capture.find({ component: 'b', level: 'error' }).map((r) => r.msg),
      ['two'],
    );
    capture.clear();
    assert.deepEqual(capture.records(), []);
  });
});

describe('isoTime', () => {
  it('writes what Date.prototype.toISOString writes, for years 0..9999 and every field width', () => {
    const times = [
      0, 1, 999, 1000, 59_999, Date.UTC(2026, 11, 7, 17, 40, 5, 9), Date.UTC(2026, 0, 1, 0, 0, 0, 0), Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(999, 4, 6, 7, 8, 9, 10), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 12, 0, 0, 100), -1, Date.UTC(1, 0, 1),
    ];
    for (let i = 0; i < 2000; i++) times.push(((i * 7919) % 2000) * 1.5e11 - 6.2e13 + ((i * 37) % 1000));
    for (const t of times) assert.equal(isoTime(t), new Date(t).toISOString(), `t=${t}`);
  });
});

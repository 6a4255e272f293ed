import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { createLogCapture } from './log-capture.js';
import { createLogger } from './logger.js';
import { notifyReceiver as receiver } from './notify-receiver.js';
import { monotonicUsec, notifyAddress, notifyMessage, serviceManager } from './service-manager.js';

const dir = mkdtempSync(join(tmpdir(), 'netaccel-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('service manager notification (sd_notify)', () => {
  it('sends READY and STATUS as one datagram to a socket path', () => {
    const path = join(dir, 'notify');
    const r = receiver(path);
    try {
      assert.equal(serviceManager({ NOTIFY_SOCKET: path }).notify({ READY: '1', STATUS: '3 services\nannounced' }), true);
      assert.equal(r.read(), 'READY=1\nSTATUS=3 services announced');
      assert.equal(r.read(), undefined); // exactly one datagram
    } finally {
      r.close();
    }
  });

  it('reaches an abstract socket written @name', () => {
    const name = `@netaccel-notify-test-${process.pid}`;
    const r = receiver(name);
    try {
      assert.equal(serviceManager({ NOTIFY_SOCKET: name }).notify({ STOPPING: '1' }), true);
      assert.equal(r.read(), 'STOPPING=1');
    } finally {
      r.close();
    }
  });

  it('does nothing without $NOTIFY_SOCKET', () => {
    const sm = serviceManager({});
    assert.equal(sm.socket, undefined);
    assert.equal(sm.notify({ READY: '1' }), false);
    assert.equal(serviceManager({ NOTIFY_SOCKET: '' }).notify({ READY: '1' }), false);
  });

  it('loads koffi (a native addon) only to send a message, never without $NOTIFY_SOCKET', () => {
    // a fresh process (this file loads koffi itself): is the addon mapped after import + notify?
    const path = join(dir, 'lazy');
    const r = receiver(path);
    try {
      const module = fileURLToPath(new URL('./service-manager.ts', import.meta.url));
      const script = `
        import { readFileSync } from 'node:fs';
        const { serviceManager } = await import(${JSON.stringify(module)});
        const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('koffi');
        const before = mapped();
        const sent = serviceManager({ NOTIFY_SOCKET: process.env.SOCKET }).notify({ READY: '1' });
        process.stdout.write(JSON.stringify({ before, sent, after: mapped() }));`;
      const run = (socket: string): unknown => {
        const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, SOCKET: socket }, encoding: 'utf8', timeout: 30_000 });
        assert.equal(p.status, 0, p.stderr);
        return JSON.parse(p.stdout);
      };
      assert.deepEqual(run(''), { before: false, sent: false, after: false });
      assert.deepEqual(run(path), { before: false, sent: true, after: true });
      assert.equal(r.read(), 'READY=1');
    } finally {
      r.close();
    }
  });

  it('fails with the errno when nobody listens, and on a malformed socket or field', () => {
    assert.throws(() => serviceManager({ NOTIFY_SOCKET: join(dir, 'absent') }).notify({ READY: '1' }), (e: Error & { code?: string }) => e.code === 'NA_ERR_TELEMETRY_NOTIFY_FAILED' && /sendto: errno 2\b/.test(e.message));
    assert.throws(() => serviceManager({ NOTIFY_SOCKET: 'relative/notify' }).notify({ READY: '1' }), /not an absolute path/);
    assert.throws(() => notifyAddress(`/${'x'.repeat(120)}`), /longer than 107 bytes/);
    assert.throws(() => notifyMessage({ 'ready=1\nX': '1' }), /field name/);
  });

  it('given a logger, logs a failure (warn) and returns false instead of throwing', () => {
    const capture = createLogCapture();
    const log = createLogger({ name: 'test', destination: capture.stream });
    assert.equal(serviceManager({ NOTIFY_SOCKET: join(dir, 'absent') }, log).notify({ READY: '1' }), false);
    const rec = capture.records().find((r) => r.msg === 'cannot notify the service manager');
    assert.ok(rec, JSON.stringify(capture.records()));
    assert.equal(rec.level, 'warn');
    assert.equal((rec.err as { code?: string }).code, 'NA_ERR_TELEMETRY_NOTIFY_FAILED');
  });

  it('MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds', () => {
    const a = BigInt(monotonicUsec());
    const b = BigInt(monotonicUsec());
    assert.ok(b >= a && a > 0n);
    assert.ok(b - a < 1_000_000n);
  });

  it('lays out struct sockaddr_un: family, path with its NUL; an abstract name without one', () => {
    const p = notifyAddress('/run/systemd/notify');
    assert.equal(p.addr.readUInt16LE(0), 1);
    assert.equal(p.length, 2 + '/run/systemd/notify'.length + 1);
    assert.equal(p.addr.subarray(2, p.length).toString(), '/run/systemd/notify\0');
    const a = notifyAddress('@sm');
    assert.equal(a.length, 2 + 1 + 2);
    assert.deepEqual([...a.addr.subarray(2, a.length)], [0, 0x73, 0x6d]);
  });
});

/**
 * Unit: notifyReceiver, the tests' end of the readiness protocol, fed by serviceManager(): order
 * of messages, reads after close, and the errors of a socket it cannot bind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { notifyReceiver } from './notify-receiver.js';
import { serviceManager } from './service-manager.js';

function scratch(t: { onTestFinished(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'qdx-notify-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('drain returns every waiting message oldest first, then nothing', (t) => {
  const r = notifyReceiver(join(scratch(t), 'notify'));
  t.onTestFinished(() => r.close());
  const sm = serviceManager({ NOTIFY_SOCKET: r.socket });
  assert.deepEqual(r.drain(), []);
  sm.notify({ READY: '1', STATUS: 'one' });
  sm.notify({ STATUS: 'two' });
  sm.notify({ STOPPING: '1' });
  assert.equal(r.read(), 'READY=1\nSTATUS=one');
  assert.deepEqual(r.drain(), ['STATUS=two', 'STOPPING=1']);
  assert.equal(r.read(), undefined);
});

test('after close nothing is read, a second close is harmless, and a sender gets no listener', (t) => {
  const r = notifyReceiver(join(scratch(t), 'notify'));
  serviceManager({ NOTIFY_SOCKET: r.socket }).notify({ READY: '1' });
  r.close();
  r.close();
  assert.equal(r.read(), undefined);
  assert.deepEqual(r.drain(), []);
  assert.throws(() => serviceManager({ NOTIFY_SOCKET: r.socket }).notify({ READY: '1' }), /sendto: errno 111\b/, 'ECONNREFUSED');
});

test('a taken socket or a missing folder is NA_ERR_TELEMETRY_NOTIFY_LISTEN naming the errno', (t) => {
  const dir = scratch(t);
  const first = notifyReceiver(join(dir, 'notify'));
  t.onTestFinished(() => first.close());
  const refused = (socket: string, errno: number) => (e: Error & { code?: string }) => {
    assert.equal(e.code, 'NA_ERR_TELEMETRY_NOTIFY_LISTEN');
    assert.equal(e.message, `cannot receive service-manager messages on ${socket}: bind: errno ${errno}`);
    return true;
  };
  assert.throws(() => notifyReceiver(first.socket), refused(first.socket, 98));
  const abstract = `@qdx-notify-${process.pid}`;
  const a = notifyReceiver(abstract);
  t.onTestFinished(() => a.close());
  assert.throws(() => notifyReceiver(abstract), refused(abstract, 98));
  const missing = join(dir, 'absent', 'notify');
  assert.throws(() => notifyReceiver(missing), refused(missing, 2));
  assert.throws(() => notifyReceiver('relative/notify'), /not an absolute path/);
});

/**
 * The etcd source against a real etcd (Debian's etcd-server) started on loopback with a
 * temporary data folder and free ports, including a restart of etcd under the watch.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { TestEtcd } from '@netaccel/netlab';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import type { DesiredState } from '../desired-state.js';
import { EtcdSource } from './etcd-source.js';

let etcd: TestEtcd;
let writer: Etcd3;

beforeAll(async () => {
  etcd = await TestEtcd.start();
  writer = new Etcd3({ hosts: etcd.clientUrl });
});
afterAll(async () => {
  writer?.close();
  await etcd?.stop();
});

const svc = (vip: string, backends: string[], extra = '') =>
  JSON.stringify({ vip, port: 80, mode: 'nat', ...(extra ? JSON.parse(extra) : {}), backends: backends.map((address) => ({ address })) });

function collector() {
  const states: DesiredState[] = [];
  const problems: { kind: string; err: unknown }[] = [];
  const waiters: (() => void)[] = [];
  return {
    states,
    problems,
    events: {
      state: (s: DesiredState) => {
        states.push(s);
        waiters.splice(0).forEach((w) => w());
      },
      problem: (kind: 'record' | 'state' | 'connection', err: unknown) => problems.push({ kind, err }),
    },
    /** Waits until the latest state satisfies `ok`. */
    async until(ok: (s: DesiredState) => boolean, timeoutMs = 15_000): Promise<DesiredState> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const last = states.at(-1);
        if (last && ok(last)) return last;
        if (Date.now() > end) throw new Error(`no matching state within ${timeoutMs} ms; last: ${JSON.stringify(last?.services.map((s) => s.id))}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}

const ids = (s: DesiredState) => s.services.map((x) => `${x.id}=${x.backends.map((b) => b.address).join('+')}`).sort();

test('reads the prefix, applies changes as they happen, skips a malformed record and keeps the rest', async () => {
  const prefix = '/t1/services/';
  await writer.put(`${prefix}web`).value(svc('10.0.0.1', ['10.1.0.1']));
  await writer.put(`${prefix}bad`).value(svc('10.0.0.2', ['10.1.0.300']));
  await writer.put('/t1/other').value('not ours');
  const capture = createLogCapture();
  const log = createLogger({ name: 'test', destination: capture.stream, level: 'debug' });
  const c = collector();
  const src = new EtcdSource({ endpoints: [etcd.clientUrl], prefix, log, retryMs: 100 });
  try {
    await src.start(c.events);
    assert.deepEqual(ids(c.states.at(-1)!), ['10.0.0.1:80/tcp=10.1.0.1']);
    assert.equal(c.problems.filter((p) => p.kind === 'record').length, 1);
    const line = capture.find({ level: 'error' })[0] as { err: { code: string; message: string }; key: string } | undefined;
    assert.equal(line?.key, `${prefix}bad`);
    assert.equal(line?.err.code, 'NA_ERR_LB_ETCD_RECORD');
    assert.match(line!.err.message, /backends\[0\]\.address: expected an IPv4 or IPv6 address/);

    await writer.put(`${prefix}web`).value(svc('10.0.0.1', ['10.1.0.1', '10.1.0.2']));
    await c.until((s) => ids(s).join() === '10.0.0.1:80/tcp=10.1.0.1+10.1.0.2');
    await writer.put(`${prefix}bad`).value(svc('10.0.0.2', ['10.1.0.3']));
    await c.until((s) => s.services.length === 2);
    // a second record for the same VIP is refused; the older one stays
    await writer.put(`${prefix}web-copy`).value(svc('10.0.0.1', ['10.1.0.9']));
    const s = await c.until((x) => c.problems.length >= 2 && x.services.length === 2);
    assert.deepEqual(ids(s), ['10.0.0.1:80/tcp=10.1.0.1+10.1.0.2', '10.0.0.2:80/tcp=10.1.0.3']);
    assert.match(String((c.problems.at(-1)!.err as Error).message), /already defined by \/t1\/services\/web/);
    await writer.delete().key(`${prefix}web`);
    await c.until((x) => ids(x).join() === '10.0.0.1:80/tcp=10.1.0.9,10.0.0.2:80/tcp=10.1.0.3');
  } finally {
    await src.close();
  }
});

test('etcd restarts under the watch: the source reconnects, resynchronises and sees every change', async () => {
  const prefix = '/t2/services/';
  await writer.put(`${prefix}a`).value(svc('10.0.1.1', ['10.1.0.1']));
  const log = createLogger({ name: 'test', destination: createLogCapture().stream });
  const c = collector();
  const src = new EtcdSource({ endpoints: [etcd.clientUrl], prefix, log, retryMs: 100 });
  try {
    await src.start(c.events);
    await c.until((s) => s.services.length === 1);
    const revBefore = src.revision;
    await etcd.restart(300);
    // changes right after the restart, before the watch is back
    const w2 = new Etcd3({ hosts: etcd.clientUrl });
    try {
      await w2.put(`${prefix}b`).value(svc('10.0.1.2', ['10.1.0.2']));
      await w2.put(`${prefix}a`).value(svc('10.0.1.1', ['10.1.0.1', '10.1.0.5']));
      const s = await c.until((x) => ids(x).join() === '10.0.1.1:80/tcp=10.1.0.1+10.1.0.5,10.0.1.2:80/tcp=10.1.0.2', 30_000);
      assert.equal(s.services.length, 2);
      assert.ok(src.revision > revBefore);
      assert.ok(c.problems.some((p) => p.kind === 'connection'), 'the lost connection was reported');
      await w2.delete().key(`${prefix}b`);
      await c.until((x) => x.services.length === 1);
    } finally {
      w2.close();
    }
  } finally {
    await src.close();
  }
});

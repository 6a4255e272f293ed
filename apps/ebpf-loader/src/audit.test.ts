import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { CallContext } from '@netaccel/rpc';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import { Audit, USER_METADATA, whoOf } from './audit.js';
import { NA_ERR_LOADER_HOOK_TAKEN } from './errors.js';

/** The part of a call's context the audit reads: metadata values by key, and the peer. */
function ctx(user?: string): Pick<CallContext, 'metadata' | 'peer'> {
  const metadata = { get: (key: string) => (key === USER_METADATA && user !== undefined ? [user] : []) } as unknown as CallContext['metadata'];
  return { metadata, peer: 'unix:/run/netaccel/ebpf-loader.sock' };
}

test('who: the user the client states (never verified) and the peer', () => {
  assert.deepEqual(whoOf(ctx('alice(uid 1000)')), { user: 'alice(uid 1000)', peer: 'unix:/run/netaccel/ebpf-loader.sock', verified: false });
  assert.equal(whoOf(ctx()).user, null);
  assert.equal(whoOf(ctx('x'.repeat(500))).user?.length, 128);
});

test('a change writes one audit line with who, what and the outcome; a failure too, then rethrows', () => {
  const capture = createLogCapture();
  const audit = new Audit(createLogger({ name: 'test', destination: capture.stream, pretty: false }));
  const r = audit.run(ctx('bob(uid 1001)'), 'attach', (res) => ({ programId: 'o/p', objectSha256: 'ab', linkId: res }), () => 'l-1');
  assert.equal(r, 'l-1');
  assert.throws(() => audit.run(ctx(), 'attach', () => ({ programId: 'o/q' }), () => {
    throw NA_ERR_LOADER_HOOK_TAKEN('interface eth0 (XDP)', 'program o/p (kernel id 1)');
  }), (e: unknown) => NA_ERR_LOADER_HOOK_TAKEN.is(e));
  const lines = capture.find({ component: 'audit' });
  assert.equal(lines.length, 2);
  assert.deepEqual(
    { who: lines[0]!.who, action: lines[0]!.action, programId: lines[0]!.programId, objectSha256: lines[0]!.objectSha256, linkId: lines[0]!.linkId, outcome: lines[0]!.outcome },
    { who: { user: 'bob(uid 1001)', peer: 'unix:/run/netaccel/ebpf-loader.sock', verified: false }, action: 'attach', programId: 'o/p', objectSha256: 'ab', linkId: 'l-1', outcome: 'ok' },
  );
  assert.deepEqual([lines[1]!.outcome, lines[1]!.code, lines[1]!.programId, lines[1]!.level], ['failed', 'NA_ERR_LOADER_HOOK_TAKEN', 'o/q', 'warn']);
});

test('endOfTurn: the lines of one event-loop turn are written at its end, in order; close writes what is queued', async () => {
  const capture = createLogCapture();
  const audit = new Audit(createLogger({ name: 'test', destination: capture.stream, pretty: false }), { endOfTurn: true });
  try {
    const change = (i: number) => audit.run(ctx('carol(uid 1002)'), 'map-update', () => ({ mapId: 'o/m', key: '00', i }), () => i);
    for (let i = 0; i < 3; i++) assert.equal(change(i), i);
    assert.throws(() => audit.run(ctx(), 'map-delete', () => ({ mapId: 'o/m', i: 3 }), () => {
      throw NA_ERR_LOADER_HOOK_TAKEN('interface eth0 (XDP)', 'program o/p (kernel id 1)');
    }), (e: unknown) => NA_ERR_LOADER_HOOK_TAKEN.is(e));
    assert.equal(capture.find({ component: 'audit' }).length, 0, 'nothing written inside the turn that made the changes');
    await new Promise((r) => setImmediate(r));
    const lines = capture.find({ component: 'audit' });
    assert.deepEqual(lines.map((l) => [l.action, l.i, l.outcome]), [['map-update', 0, 'ok'], ['map-update', 1, 'ok'], ['map-update', 2, 'ok'], ['map-delete', 3, 'failed']]);
    assert.equal(lines[3]!.code, 'NA_ERR_LOADER_HOOK_TAKEN');
    change(4);
    audit.close(); // the close hook: written at once, not at the end of the turn
    assert.deepEqual(capture.find({ component: 'audit' }).map((l) => l.i), [0, 1, 2, 3, 4]);
    await new Promise((r) => setImmediate(r));
    assert.equal(capture.find({ component: 'audit' }).length, 5, 'nothing written twice');
  } finally {
    audit.close();
  }
});

test('audit lines are redacted as the logger redacts every line (secret names at the top and one level down), request records left as they were', () => {
  const capture = createLogCapture();
  const log = createLogger({ name: 'test', destination: capture.stream, pretty: false });
  const audit = new Audit(log);
  const globals = { token: 'aa', drop_udp_port: 'b512', nested: { password: 'x' } };
  const fields = { path: 'x.bpf.o', globals, mapSizes: { secret: 1, conntrack: 2 }, apiKey: 'k', cookie: undefined, req: { headers: { authorization: 'a', other: 'o' } }, objectId: 'x-1' };
  audit.run(ctx('carol(uid 1002)'), 'load-object', () => fields, () => undefined);
  log.child({ component: 'plain' }).info({ who: whoOf(ctx('carol(uid 1002)')), action: 'load-object', ...fields, outcome: 'ok' }, 'audit: load-object');
  const [ours] = capture.find({ component: 'audit' });
  const [pinos] = capture.find({ component: 'plain' });
  const strip = (l: Record<string, unknown>) => Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'component' && k !== 'time'));
  assert.deepEqual(strip(ours!), strip(pinos!));
  assert.deepEqual(ours!.globals, { token: '[redacted]', drop_udp_port: 'b512', nested: { password: 'x' } });
  assert.equal(ours!.apiKey, '[redacted]');
  assert.deepEqual(globals, { token: 'aa', drop_udp_port: 'b512', nested: { password: 'x' } }, 'the request record is unchanged');
});

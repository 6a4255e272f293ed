import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { KvStateMachine, decodeKvOp, encodeKvOp } from './kv.js';
import type { KvOp } from './kv.js';

test('operations round-trip through their encoding', () => {
  const ops: KvOp[] = [
    { kind: 'get', key: 'k' },
    { kind: 'put', key: 'ключ', value: 'värde' },
    { kind: 'delete', key: '' },
    { kind: 'cas', key: 'k', expected: null, value: 'v' },
    { kind: 'cas', key: 'k', expected: 'old', value: 'new' },
  ];
  for (const op of ops) assert.deepEqual(decodeKvOp(encodeKvOp(op)), op);
});

test('the state machine: get, put, delete, cas with their results', () => {
  const sm = new KvStateMachine();
  const apply = (op: KvOp): string => {
    const r = sm.apply(encodeKvOp(op));
    assert.ok(r.ok);
    return r.result.toString('hex');
  };
  assert.equal(apply({ kind: 'get', key: 'a' }), '00');
  assert.equal(apply({ kind: 'cas', key: 'a', expected: 'x', value: 'y' }), '00');
  assert.equal(apply({ kind: 'cas', key: 'a', expected: null, value: 'y' }), '01');
  assert.equal(apply({ kind: 'get', key: 'a' }), '01' + Buffer.from('y').toString('hex'));
  assert.equal(apply({ kind: 'put', key: 'a', value: 'z' }), '');
  assert.equal(apply({ kind: 'delete', key: 'a' }), '01');
  assert.equal(apply({ kind: 'delete', key: 'a' }), '00');
  assert.equal(sm.size, 0);
});

test('malformed operations are refused by the state machine (an ERROR reply), never thrown', () => {
  const sm = new KvStateMachine();
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.alloc(0), /kv\.kind: needs 1 bytes, 0 left/],
    [Buffer.of(9, 0, 0), /kv\.kind: expected 1 \(GET\), 2 \(PUT\), 3 \(DELETE\) or 4 \(CAS\), got 9/],
    [Buffer.of(1, 0, 5, 0x61), /kv\.key: needs 5 bytes, 1 left/],
    [Buffer.of(1, 0, 0, 7), /kv: 1 bytes after the operation/],
    [Buffer.of(4, 0, 0, 2), /kv\.has_expected: expected 0 or 1, got 2/],
  ];
  for (const [bytes, re] of cases) {
    const r = sm.apply(bytes);
    assert.ok(!r.ok && re.test(r.error), `${bytes.toString('hex')}: ${JSON.stringify(r)}`);
  }
});

test('an operation larger than one packet allows is refused before it is sent', () => {
  assert.throws(() => encodeKvOp({ kind: 'put', key: 'k', value: 'x'.repeat(paxos.PAXOS_MAX_OP) }), (err: unknown) => (err as { code?: string }).code === 'NA_ERR_PAXOS_OP_TOO_LARGE');
  const justFits = encodeKvOp({ kind: 'put', key: 'k', value: 'x'.repeat(paxos.PAXOS_MAX_OP - 1 - 2 - 1 - 2) });
  assert.equal(justFits.length, paxos.PAXOS_MAX_OP);
});

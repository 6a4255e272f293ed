/**
 * Unit: the operations of both shipped state machines refuse a truncated or overlong encoding,
 * naming the field, at every byte offset (the shared OpReader).
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeConfigOp, encodeConfigOp } from './config-machine.js';
import { decodeKvOp, encodeKvOp } from './kv.js';

test('a kv operation cut at any byte is refused naming the field; a byte too many is refused', () => {
  const whole = encodeKvOp({ kind: 'cas', key: 'key', expected: 'old', value: 'new' });
  assert.deepEqual(decodeKvOp(whole), { kind: 'cas', key: 'key', expected: 'old', value: 'new' });
  const fields = new Set<string>();
  for (let n = 0; n < whole.length; n++) {
    assert.throws(() => decodeKvOp(whole.subarray(0, n)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'NA_ERR_PAXOS_BAD_KV_OP');
      const m = /kv\.(\w+): needs (\d+) bytes, (\d+) left/.exec(e.message);
      assert.ok(m, e.message);
      fields.add(m[1]!);
      return true;
    });
  }
  assert.deepEqual([...fields].sort(), ['expected', 'expected_len', 'has_expected', 'key', 'key_len', 'kind', 'value', 'value_len']);
  assert.throws(() => decodeKvOp(Buffer.concat([whole, Buffer.of(0)])), /kv: 1 bytes after the operation/);
});

test('a config operation cut at any byte is refused naming the field; a byte too many is refused', () => {
  const whole = encodeConfigOp({ kind: 'set', key: 'chain', expectedVersion: 3, value: '{"members":["n1"]}' });
  const fields = new Set<string>();
  for (let n = 0; n < whole.length; n++) {
    assert.throws(() => decodeConfigOp(whole.subarray(0, n)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'NA_ERR_PAXOS_BAD_CONFIG_OP');
      const m = /config\.(\w+): needs (\d+) bytes, (\d+) left/.exec(e.message);
      assert.ok(m, e.message);
      fields.add(m[1]!);
      return true;
    });
  }
  assert.deepEqual([...fields].sort(), ['expected_version', 'key', 'key_len', 'kind', 'value', 'value_len']);
  assert.throws(() => decodeConfigOp(Buffer.concat([whole, Buffer.of(1, 2)])), /config: 2 bytes after the operation/);
});

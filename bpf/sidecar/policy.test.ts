/**
 * Unit: the policy compiler (method ids, both byte forms of every path, the config value, the
 * problems it refuses) and the codecs of the map structs it and the proxy use.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  SIDECAR_ACTION, SIDECAR_LAYOUTS, SIDECAR_MAX_PATH, compilePolicy, decodeConn, decodeCounter, decodeMethodStats, decodePathKey,
  decodePolicyValue, decodeSockKey, encodePathKey, encodeSockKey, huffmanEncode, policyProblems, reverseSockKey,
} from './index.js';

describe('compilePolicy', () => {
  const policy = { methods: { '/b.S/Deny': 'deny', '/a.S/Allow': 'allow' }, defaultAction: 'allow' } as const;

  test('ids follow the sorted paths; each method has its plain and Huffman key', () => {
    const c = compilePolicy(policy);
    assert.deepEqual([...c.methodIds], [['/a.S/Allow', 1], ['/b.S/Deny', 2]]);
    assert.equal(c.entries.length, 4);
    const byForm = c.entries.map((e) => ({ method: e.method, form: e.form, key: decodePathKey(e.key), value: decodePolicyValue(e.value) }));
    assert.deepEqual(byForm[0], { method: '/a.S/Allow', form: 'plain', key: { bytes: Buffer.from('/a.S/Allow'), huffman: false }, value: { method: 1, action: SIDECAR_ACTION.ALLOW } });
    assert.deepEqual(byForm[1], { method: '/a.S/Allow', form: 'huffman', key: { bytes: huffmanEncode('/a.S/Allow'), huffman: true }, value: { method: 1, action: SIDECAR_ACTION.ALLOW } });
    assert.deepEqual(byForm[3]?.value, { method: 2, action: SIDECAR_ACTION.DENY });
    assert.equal(c.config.readUInt32LE(0), SIDECAR_ACTION.ALLOW);
    assert.equal(compilePolicy({ ...policy, defaultAction: 'deny' }).config.readUInt32LE(0), SIDECAR_ACTION.DENY);
  });

  test('the same policy compiles to the same bytes', () => {
    const a = compilePolicy(policy);
    const b = compilePolicy({ methods: { '/a.S/Allow': 'allow', '/b.S/Deny': 'deny' }, defaultAction: 'allow' });
    assert.deepEqual(a.entries.map((e) => [e.key, e.value]), b.entries.map((e) => [e.key, e.value]));
  });

  test('keys are zero beyond the path and sized like the C struct', () => {
    const k = encodePathKey(Buffer.from('/x.Y/Z'), false);
    assert.equal(k.length, SIDECAR_LAYOUTS.pathKey.size);
    assert.equal(k.readUInt16LE(0), 6);
    assert.ok(k.subarray(4 + 6).every((b) => b === 0));
  });

  test('bad policies are refused with the path of every bad field', () => {
    const long = `/p.S/${'m'.repeat(SIDECAR_MAX_PATH)}`;
    assert.deepEqual(
      policyProblems({ methods: { 'nope': 'allow', [long]: 'allow', '/a.S/M': 'maybe' as never }, defaultAction: 'sometimes' as never }),
      [
        'policy.defaultAction: expected allow or deny, got "sometimes"',
        'policy.methods["nope"]: expected a gRPC method path /package.Service/Method',
        `policy.methods["${long}"]: longer than ${SIDECAR_MAX_PATH} bytes`,
        'policy.methods["/a.S/M"]: expected allow or deny, got "maybe"',
      ],
    );
    assert.throws(() => compilePolicy({ methods: { x: 'allow' }, defaultAction: 'allow' }), /policy.methods\["x"\]/);
    assert.deepEqual(policyProblems({ methods: { '/a/b': 'allow', '/c/d': 'allow' }, defaultAction: 'allow' }, 2), ['policy.methods: at most 1 methods, got 2']);
  });
});

describe('codecs', () => {
  test('socket keys: IPv4, IPv6, wildcards, the reverse', () => {
    const k = { localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.2', remotePort: 50051 };
    const b = encodeSockKey(k);
    assert.equal(b.length, SIDECAR_LAYOUTS.sockKey.size);
    assert.deepEqual([...b.subarray(0, 4)], [127, 0, 0, 1]);
    assert.equal(b.readUInt16BE(32), 40000);
    assert.equal(b[36], 4);
    assert.deepEqual(decodeSockKey(b), k);
    assert.deepEqual(reverseSockKey(reverseSockKey(k)), k);
    const wild = encodeSockKey({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: 8080 });
    assert.ok(wild.subarray(0, 16).every((x) => x === 0));
    assert.equal(wild[36], 4);
    const v6 = { localAddress: '::1', localPort: 1, remoteAddress: '::1', remotePort: 2 };
    assert.deepEqual(decodeSockKey(encodeSockKey(v6)), v6);
    assert.equal(encodeSockKey({ ...v6, localAddress: '::' , localPort: 0 })[36], 6);
    assert.throws(() => encodeSockKey({ ...k, remoteAddress: '::1' }), /different families/);
    assert.throws(() => encodeSockKey({ ...k, localPort: 70000 }), /sockKey.localPort: expected an integer 0..65535, got 70000/);
  });

  test('per-CPU counters are summed', () => {
    const stats = (n: number) => {
      const b = Buffer.alloc(SIDECAR_LAYOUTS.methodStats.size);
      b.writeBigUInt64LE(BigInt(n), 0);
      b.writeBigUInt64LE(BigInt(10 * n), SIDECAR_LAYOUTS.methodStats.members.status);
      b.writeBigUInt64LE(BigInt(n), SIDECAR_LAYOUTS.methodStats.members.latency_log2_us + 8 * 23);
      return b;
    };
    const m = decodeMethodStats([stats(1), stats(2)]);
    assert.equal(m.requests, 3n);
    assert.equal(m.status[0], 30n);
    assert.equal(m.latencyLog2Us[23], 3n);
    const c = Buffer.alloc(16);
    c.writeBigUInt64LE(2n, 0);
    c.writeBigUInt64LE(100n, 8);
    assert.deepEqual(decodeCounter([c, c]), { frames: 4n, bytes: 200n });
    assert.throws(() => decodeConn(Buffer.alloc(3)), /sidecar_conn: expected 80 bytes, got 3/);
  });
});

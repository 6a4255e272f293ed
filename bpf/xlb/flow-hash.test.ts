/**
 * Unit: flow-hash.ts — the derived values' ranges (jhash itself: libs/protocol/src/jhash.test.ts).
 * (xlb-flows.bpf.test.ts checks the flow hashes against the kernel.)
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addressWords, encapSource, flowHash, gueSourcePort, natPortCandidates, srcHash } from './flow-hash.js';
import type { FlowKey } from './codec.js';

describe('flow hashing', () => {
  test('address words are the network-order bytes read little-endian', () => {
    assert.deepEqual(addressWords('10.0.0.1'), [0x0100000a]);
    assert.equal(addressWords('2001:db8::1').length, 4);
  });

  test('flow and source hashes: ports matter only to the first, family to both', () => {
    const f: FlowKey = { src: '192.0.2.10', dst: '10.0.0.1', sport: 1000, dport: 80, protocol: 6 };
    assert.notEqual(flowHash(f), flowHash({ ...f, sport: 1001 }));
    assert.notEqual(flowHash(f), flowHash({ ...f, protocol: 17 }));
    assert.equal(srcHash(f), srcHash({ src: f.src }));
    assert.notEqual(srcHash(f), srcHash({ src: '2001:db8::a' }));
  });

  test('outer sources stay in their prefix; GUE ports in 49152..65535', () => {
    fc.assert(
      fc.property(fc.nat(), (h) => {
        assert.match(encapSource(h >>> 0, 4), /^172\.16\.\d+\.\d+$/);
        assert.match(encapSource(h >>> 0, 6), /^100::/);
        assert.match(encapSource(h >>> 0, 4, '10.100.0.0', 24), /^10\.100\.0\.\d+$/);
        assert.equal(encapSource(h >>> 0, 4, '10.1.2.3', 32), '10.1.2.3');
        const p = gueSourcePort(h >>> 0);
        assert.ok(p >= 0xc000 && p <= 0xffff);
      }),
    );
    assert.equal(encapSource(0x12345678, 6, '2001:db8::', 112), '2001:db8::5678');
  });

  test('NAT candidates: consecutive ports from a hashed start, wrapping inside the range', () => {
    const f: FlowKey = { src: '192.0.2.10', dst: '10.0.0.4', sport: 45030, dport: 80, protocol: 6 };
    const c = natPortCandidates(f, 50000, 50002, 8);
    assert.equal(c.length, 8);
    for (let i = 1; i < c.length; i++) assert.equal(c[i], c[i - 1] === 50002 ? 50000 : c[i - 1]! + 1);
    const wide = natPortCandidates(f);
    assert.ok(wide.every((p) => p >= 1024 && p <= 65535));
  });
});

/**
 * Unit: the codecs of codec.ts — round trips, byte positions (network order for addresses and
 * ports, host order for the rest), and errors that name the field.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  XLB_LAYOUTS,
  decodeBackend,
  decodeConfig,
  decodeCounter,
  decodeCtValue,
  decodeDecapKey,
  decodeFlowKey,
  decodeFlowKey4,
  decodeNatValue,
  decodeNexthop,
  decodeStats,
  decodeU32,
  decodeVipKey,
  decodeVipMeta,
  encodeBackend,
  encodeConfig,
  encodeCtValue,
  encodeDecapKey,
  encodeFlowKey,
  encodeFlowKey4,
  encodeNatValue,
  conntrackKey,
  encodeNexthop,
  encodeU32,
  encodeVipKey,
  encodeVipMeta,
  maglevKey,
} from './codec.js';
import type { Backend, CtValue, FlowKey, NatValue, VipKey, VipMeta } from './codec.js';

describe('codec', () => {
  test('every layout is consistent: members inside the struct, in order', () => {
    for (const l of Object.values(XLB_LAYOUTS)) {
      const offsets = Object.values(l.members);
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `${l.name} members in order`);
      assert.ok(offsets.every((o) => o < l.size), `${l.name} members inside ${l.size} bytes`);
    }
  });

  test('VIP key: address, port (network order), protocol, family', () => {
    const k: VipKey = { address: '10.0.0.1', port: 80, protocol: 'tcp' };
    const b = encodeVipKey(k);
    assert.equal(b.toString('hex'), '0a000001' + '00'.repeat(12) + '0050' + '06' + '04');
    assert.deepEqual(decodeVipKey(b), k);
    const k6: VipKey = { address: '2001:db8::1', port: 0, protocol: 'udp' };
    assert.deepEqual(decodeVipKey(encodeVipKey(k6)), k6);
    assert.equal(encodeVipKey(k6)[19], 6);
  });

  test('VIP meta: host-order integers, slot and mode', () => {
    const m: VipMeta = { vipIndex: 3, flags: 1, tableSize: 65537, activeSlot: 1, mode: 'gue' };
    const b = encodeVipMeta(m);
    assert.equal(b.toString('hex'), '03000000' + '01000000' + '01000100' + '01' + '03' + '0000');
    assert.deepEqual(decodeVipMeta(b), m);
  });

  test('Maglev keys: (vip * 2 + slot) * size + position', () => {
    assert.equal(decodeU32(maglevKey(2, 1, 5, 13)), (2 * 2 + 1) * 13 + 5);
    assert.equal(decodeU32(maglevKey(63, 1, 65536, 65537)), 127 * 65537 + 65536);
    assert.equal(decodeU32(encodeU32(0xfffffffe)), 0xfffffffe);
  });

  test('backend, next hop and config records', () => {
    const be: Backend = { address: '2001:db8:1::10', mac: '02:00:00:00:10:02', port: 8080, flags: 5, nexthop: 3 };
    const b = encodeBackend(be);
    assert.equal(b.subarray(22, 24).toString('hex'), '1f90');
    assert.equal(b.readUInt16LE(26), 3);
    assert.deepEqual(decodeBackend(b), be);
    assert.deepEqual(decodeNexthop(encodeNexthop({ mac: '02:00:00:00:00:fd', flags: 1 })), { mac: '02:00:00:00:00:fd', flags: 1 });
    const c = { localMac: '02:00:00:00:01:00', natSourceV4: '10.99.0.1', natSourceV6: '2001:db8:99::1' };
    assert.deepEqual(decodeConfig(encodeConfig(c)), c);
    assert.deepEqual(decodeConfig(encodeConfig({})), {});
    assert.equal(encodeConfig({ natSourceV4: '10.99.0.1' }).subarray(8, 12).toString('hex'), '0a630001');
    const pool = { natSourceV4: '10.99.0.1', natSourceCount: 4 };
    assert.equal(encodeConfig(pool).readUInt16LE(6), 4); // nat_src_count, host order
    assert.deepEqual(decodeConfig(encodeConfig(pool)), pool);
    assert.equal(encodeConfig({ natSourceV4: '10.99.0.1' }).readUInt16LE(6), 0, 'no count: 0, read as one');
  });

  test('flow key, connection and NAT values', () => {
    const f: FlowKey = { src: '192.0.2.10', dst: '10.0.0.1', sport: 40000, dport: 80, protocol: 6 };
    const b = encodeFlowKey(f);
    assert.equal(b.subarray(32, 38).toString('hex'), '9c40' + '0050' + '06' + '04');
    assert.deepEqual(decodeFlowKey(b), f);
    const ct: CtValue = { lastSeenNs: 123456789012345n, backendIndex: 7, vipIndex: 2, natPort: 50001, natSrcIndex: 3, state: 'tcp-established' };
    assert.deepEqual(decodeCtValue(encodeCtValue(ct)), ct);
    const nat: NatValue = {
      lastSeenNs: 5n, vipIndex: 6, backendIndex: 0, client: '2001:db8:c::10', vip: '2001:db8::4', clientPort: 45002,
      vipPort: 80, clientMac: '02:00:00:00:00:fe', state: 'tcp-closing',
    };
    assert.deepEqual(decodeNatValue(encodeNatValue(nat), 6), nat);
  });

  test('IPv4 flow key of conntrack_v4 (16 bytes); conntrackKey picks the table by family', () => {
    const f: FlowKey = { src: '192.0.2.10', dst: '10.0.0.1', sport: 40000, dport: 80, protocol: 17 };
    const b = encodeFlowKey4(f);
    assert.equal(b.toString('hex'), 'c000020a' + '0a000001' + '9c40' + '0050' + '11' + '000000');
    assert.deepEqual(decodeFlowKey4(b), f);
    assert.deepEqual(conntrackKey(f), { map: 'conntrack_v4', key: b });
    const f6: FlowKey = { src: '2001:db8::10', dst: '2001:db8::1', sport: 1, dport: 443, protocol: 6 };
    assert.deepEqual(conntrackKey(f6), { map: 'conntrack', key: encodeFlowKey(f6) });
    assert.throws(() => encodeFlowKey4(f6), /flowKey4\.src: expected an IPv4 address/);
    assert.throws(() => encodeFlowKey4({ ...f, dst: '::1' }), /flowKey4\.dst: expected an IPv4 address/);
    assert.throws(() => decodeFlowKey4(Buffer.alloc(40)), /xlb_flow_key4: expected 16 bytes, got 40/);
  });

  test('counters: one value or the sum of per-CPU slots', () => {
    const slot = (p: bigint, by: bigint, nf = 0n, rp = 0n, rb = 0n) => {
      const b = Buffer.alloc(40);
      [p, by, nf, rp, rb].forEach((v, i) => b.writeBigUInt64LE(v, i * 8));
      return b;
    };
    assert.deepEqual(decodeStats([slot(1n, 60n, 1n), slot(2n, 120n, 0n, 3n, 300n)]), { packets: 3n, bytes: 180n, newFlows: 1n, replyPackets: 3n, replyBytes: 300n });
    assert.deepEqual(decodeCounter(slot(4n, 8n).subarray(0, 16)), { packets: 4n, bytes: 8n });
  });

  test('decap key', () => {
    assert.equal(decodeDecapKey(encodeDecapKey('10.2.0.20')), '10.2.0.20');
    assert.equal(decodeDecapKey(encodeDecapKey('2001:db8:2::20')), '2001:db8:2::20');
  });

  test('bad input names the field', () => {
    assert.throws(() => encodeVipKey({ address: '10.0.0.1', port: 70000, protocol: 'tcp' }), /^RangeError: vipKey\.port: expected an integer 0\.\.65535, got 70000/);
    assert.throws(() => encodeVipKey({ address: 'nope', port: 1, protocol: 'tcp' }), /vipKey\.address/);
    assert.throws(() => encodeVipMeta({ vipIndex: 0, flags: 0, tableSize: 13, activeSlot: 2 as 0, mode: 'nat' }), /vipMeta\.activeSlot/);
    assert.throws(() => encodeVipMeta({ vipIndex: 0, flags: 0, tableSize: 13, activeSlot: 0, mode: 'dsr' as 'nat' }), /vipMeta\.mode/);
    assert.throws(() => encodeFlowKey({ src: '10.0.0.1', dst: '::1', sport: 1, dport: 2, protocol: 6 }), /flowKey\.dst: expected an IPv4 address like src/);
    assert.throws(() => encodeConfig({ natSourceV4: '::1' }), /config\.natSourceV4: expected an IPv4 address/);
    assert.throws(() => encodeConfig({ natSourceV4: '10.0.0.1', natSourceCount: 0 }), /config\.natSourceCount: expected an integer 1\.\.64, got 0/);
    assert.throws(() => encodeConfig({ natSourceV4: '10.0.0.1', natSourceCount: 65 }), /config\.natSourceCount: expected an integer 1\.\.64/);
    assert.throws(() => encodeConfig({ natSourceV4: '255.255.255.254', natSourceCount: 3 }), /config\.natSourceCount: 3 addresses from 255\.255\.255\.254 wrap around/);
    assert.throws(() => encodeConfig({ natSourceV6: '2001:db8::ffff:ffff', natSourceCount: 2 }), /overflow its last 32 bits/);
    assert.throws(() => encodeBackend({ address: '10.0.0.1', mac: 'zz', port: 0, flags: 1, nexthop: 0 }), /backend\.mac/);
    assert.throws(() => decodeVipMeta(Buffer.alloc(15)), /xlb_vip_meta: expected 16 bytes, got 15/);
  });
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_ADDRESS, NA_ERR_PACKET_INVALID_SPEC, NA_ERR_PACKET_TOO_MANY_VLANS, NA_ERR_PACKET_TRUNCATED } from '../errors.js';
import { buildPacket } from './build.js';
import { udp } from './builders.js';
import type { Layer, Packet } from './model.js';
import { inspectPacket, parsePacket } from './parse.js';
import { fromHex, toHex } from './wire.js';

const eth: Layer = { type: 'eth', dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01' };
const ip: Layer = { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 253 };

test('an Ethernet frame with an unknown ethertype keeps the rest as payload', () => {
  const arp = fromHex('ffffffffffff 00070daff454 0806 0001080006040001');
  const p = parsePacket(arp);
  assert.deepEqual(p.layers, [{ type: 'eth', dst: 'ff:ff:ff:ff:ff:ff', src: '00:07:0d:af:f4:54', etherType: 0x0806 }]);
  assert.equal(toHex(p.payload!), '0001080006040001');
  assert.deepEqual(buildPacket(p), arp);
});

test('an 802.1Q tag: TCI layout and ethertypes', () => {
  const bytes = buildPacket({ layers: [eth, { type: 'vlan', vid: 100, pcp: 5, dei: true }, ip] });
  assert.equal(toHex(bytes.subarray(12, 18)), '8100b0640800');
  const [, tag] = parsePacket(bytes).layers;
  assert.deepEqual(tag, { type: 'vlan', vid: 100, pcp: 5, dei: true, tpid: 0x8100, etherType: 0x0800 });
});

test('QinQ: an 802.1ad S-tag over an 802.1Q C-tag, and the old 0x9100 TPID', () => {
  const spec: Packet = { layers: [eth, { type: 'vlan', vid: 10, tpid: 0x88a8 }, { type: 'vlan', vid: 20 }, ip] };
  const bytes = buildPacket(spec);
  assert.equal(toHex(bytes.subarray(12, 22)), '88a8000a810000140800');
  const layers = parsePacket(bytes).layers;
  assert.deepEqual(
    layers.map((l) => (l.type === 'vlan' ? [l.tpid, l.vid] : l.type)),
    ['eth', [0x88a8, 10], [0x8100, 20], 'ipv4'],
  );
  const old = buildPacket({ layers: [{ ...eth, etherType: 0x9100 }, { type: 'vlan', vid: 7 }, ip] });
  assert.equal(parsePacket(old).layers[1]?.type, 'vlan');
});

test('a VLAN stack deeper than maxVlans is rejected, or parsed when allowed', () => {
  const spec: Packet = { layers: [eth, { type: 'vlan', vid: 1 }, { type: 'vlan', vid: 2 }, { type: 'vlan', vid: 3 }, ip] };
  const bytes = buildPacket(spec);
  assert.throws(
    () => parsePacket(bytes),
    (e) => NA_ERR_PACKET_TOO_MANY_VLANS.is(e) && e.details.offset === 22 && e.message === 'vlan tag at offset 22: more than 2 stacked tags',
  );
  assert.equal(parsePacket(bytes, { maxVlans: 3 }).layers.length, 5);
  const lenient = inspectPacket(bytes);
  assert.equal(lenient.packet.layers.length, 3);
  assert.equal(lenient.payloadOffset, 22);
  assert.ok(NA_ERR_PACKET_TOO_MANY_VLANS.is(lenient.issues[0]));
  assert.deepEqual(buildPacket(lenient.packet), bytes);
  assert.throws(() => parsePacket(buildPacket({ layers: [eth, { type: 'vlan', vid: 1 }, ip] }), { maxVlans: 0 }), (e) => NA_ERR_PACKET_TOO_MANY_VLANS.is(e));
});

test('a truncated Ethernet header or tag reports layer, offset and sizes', () => {
  assert.throws(
    () => parsePacket(fromHex('ffffffffffff0007')),
    (e) => NA_ERR_PACKET_TRUNCATED.is(e) && e.message === 'eth header at offset 0 is truncated: needs 14 bytes, 8 left',
  );
  const bytes = buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, vlan: 5 }));
  assert.throws(
    () => parsePacket(bytes.subarray(0, 16)),
    (e) => NA_ERR_PACKET_TRUNCATED.is(e) && e.details.layer === 'vlan' && e.details.offset === 14 && e.details.needed === 4 && e.details.available === 2,
  );
});

test('build errors name the field', () => {
  assert.throws(() => buildPacket({ layers: [eth] }), {
    code: 'NA_ERR_PACKET_INVALID_SPEC',
    message: 'layers[0].etherType: cannot be inferred from the next layer; give it',
  });
  assert.throws(() => buildPacket({ layers: [eth, { type: 'vlan', vid: 4096 }, ip] }), {
    message: 'layers[1].vid: expected an integer 0..4095, got 4096',
  });
  assert.throws(() => buildPacket({ layers: [{ ...eth, dst: 'nope' }, ip] }), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e) && e.message.startsWith('layers[0].dst: '));
  assert.throws(() => buildPacket({ layers: [{ type: 'ppp' } as unknown as Layer] }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e) && e.message.startsWith('layers[0].type: '));
  assert.equal(toHex(buildPacket({ layers: [{ ...eth, etherType: 0x88cc }], payload: Uint8Array.of(1) })).slice(24), '88cc01');
});

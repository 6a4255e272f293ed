import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_VERSION, NA_ERR_PACKET_INVALID_SPEC } from '../errors.js';
import { buildPacket } from './build.js';
import { gueEncap, tcpSyn, udp } from './builders.js';
import type { GueLayer, Layer, Packet, UdpLayer } from './model.js';
import { inspectPacket, parsePacket, verifyChecksums } from './parse.js';
import { fromHex, toHex } from './wire.js';

const inner4 = tcpSyn({ src: '192.0.2.10', sport: 40000, dst: '10.1.1.1', dport: 80 });
const inner6 = tcpSyn({ src: '2001:db8:c::10', sport: 40000, dst: '2001:db8:f::1', dport: 443 });

test('GUE version 0 over IPv4 carrying IPv4: header 00 04 0000, every checksum valid', () => {
  const bytes = buildPacket(gueEncap(inner4, { src: '10.0.0.1', dst: '10.2.2.2', sport: 33333 }));
  const p = parsePacket(bytes);
  assert.deepEqual(p.layers.map((l) => l.type), ['eth', 'ipv4', 'udp', 'gue', 'ipv4', 'tcp']);
  assert.equal(toHex(bytes.subarray(42, 46)), '00040000');
  assert.deepEqual(p.layers[3], { type: 'gue', version: 0, control: false, hlen: 0, proto: 4, flags: 0, fields: new Uint8Array(0) });
  assert.equal((p.layers[2] as UdpLayer).dport, 6080);
  const report = verifyChecksums(bytes);
  assert.ok(report.ok);
  assert.deepEqual(report.checks.map((c) => c.layer), ['ipv4', 'udp', 'ipv4', 'tcp']);
  // The inner packet is carried unchanged after the GUE header.
  assert.deepEqual(bytes.subarray(46), buildPacket(inner4).subarray(14));
});

test('GUE version 0 over IPv6 carrying IPv6 and IPv4 (proto 41 / 4)', () => {
  const p66 = parsePacket(buildPacket(gueEncap(inner6, { src: '2001:db8::1', dst: '2001:db8::2', sport: 1 })));
  assert.equal((p66.layers[3] as GueLayer).proto, 41);
  assert.deepEqual(p66.layers.map((l) => l.type), ['eth', 'ipv6', 'udp', 'gue', 'ipv6', 'tcp']);
  const p46 = parsePacket(buildPacket(gueEncap(inner4, { src: '2001:db8::1', dst: '2001:db8::2', sport: 1 })));
  assert.deepEqual(p46.layers.map((l) => l.type), ['eth', 'ipv6', 'udp', 'gue', 'ipv4', 'tcp']);
});

test('GUE version 1 (direct IP) has no header; the IP version nibble tells the family', () => {
  for (const inner of [inner4, inner6]) {
    const spec = gueEncap(inner, { src: '10.0.0.1', dst: '10.2.2.2', sport: 2, version: 1 });
    const bytes = buildPacket(spec);
    assert.equal(bytes.length, buildPacket(inner).length + 20 + 8);
    const p = parsePacket(bytes);
    assert.deepEqual(p.layers[3], { type: 'gue', version: 1 });
    assert.equal(p.layers[4]?.type, inner.layers[1]?.type);
    assert.deepEqual(buildPacket(p), bytes);
  }
});

test('GUE extension fields, control messages and flags round-trip', () => {
  const outer: Layer[] = [
    { type: 'eth', dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' },
    { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' },
    { type: 'udp', sport: 9, dport: 6080 },
  ];
  const withFields: Packet = { layers: [...outer, { type: 'gue', flags: 0x8000, fields: fromHex('0102030405060708') }, ...inner4.layers.slice(1)] };
  const p = parsePacket(buildPacket(withFields));
  assert.deepEqual([(p.layers[3] as GueLayer).hlen, toHex((p.layers[3] as GueLayer).fields!)], [2, '0102030405060708']);
  assert.equal(p.layers[4]?.type, 'ipv4');
  const control: Packet = { layers: [...outer, { type: 'gue', control: true, proto: 1 }], payload: fromHex('deadbeef') };
  const c = parsePacket(buildPacket(control));
  assert.deepEqual(c.layers.map((l) => l.type), ['eth', 'ipv4', 'udp', 'gue']);
  assert.equal(toHex(c.payload!), 'deadbeef');
});

test('UDP to another port is not GUE unless guePorts says so', () => {
  const bytes = buildPacket(gueEncap(inner4, { src: '10.0.0.1', dst: '10.2.2.2', sport: 1, dport: 5555 }));
  assert.deepEqual(parsePacket(bytes).layers.map((l) => l.type), ['eth', 'ipv4', 'udp']);
  assert.equal(parsePacket(bytes, { guePorts: [5555] }).layers.length, 6);
  const plain = buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 6080, payload: fromHex('80') }));
  assert.throws(() => parsePacket(plain), (e) => NA_ERR_PACKET_BAD_VERSION.is(e) && e.details.layer === 'gue' && /expected 0 or 1, got 2/.test(e.message));
  assert.equal(parsePacket(plain, { guePorts: [] }).layers.length, 3);
});

test('GUE version 1 must carry IPv4 or IPv6', () => {
  const bad = buildPacket(udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 6080, payload: fromHex('50') }));
  assert.throws(() => parsePacket(bad), (e) => NA_ERR_PACKET_BAD_VERSION.is(e) && e.details.layer === 'gue');
  assert.deepEqual(inspectPacket(bad).packet.payload, fromHex('50'));
});

test('GUE spec errors and the zero outer checksum option', () => {
  const outer: Layer[] = [{ type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { type: 'udp', sport: 9, dport: 6080 }];
  assert.throws(() => buildPacket({ layers: [...outer, { type: 'gue', proto: 4, fields: new Uint8Array(3) }] }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e) && e.message.startsWith('layers[2].fields: '));
  assert.throws(() => buildPacket({ layers: [...outer, { type: 'gue', version: 1 }, { type: 'tcp', sport: 1, dport: 2 }] }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e));
  assert.throws(() => buildPacket({ layers: [...outer, { type: 'gue', version: 2 as 0 }] }), { message: 'layers[2].version: expected 0 or 1, got 2' });
  const zero = parsePacket(buildPacket(gueEncap(inner4, { src: '10.0.0.1', dst: '10.2.2.2', sport: 1, udpChecksum: false })));
  assert.equal((zero.layers[2] as UdpLayer).checksum, 0);
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_CHECKSUM, NA_ERR_PACKET_BAD_LENGTH } from '../errors.js';
import { buildPacket } from './build.js';
import { udp } from './builders.js';
import type { UdpLayer } from './model.js';
import { updateLayer } from './model.js';
import { parsePacket, verifyChecksums } from './parse.js';
import { toHex } from './wire.js';

const flow = { src: '10.0.0.2', dst: '10.1.1.1', sport: 4000, dport: 53 };

test('a zero UDP checksum over IPv4 means "none"', () => {
  const bytes = buildPacket(udp({ ...flow, checksum: 0, payload: 'abc' }));
  assert.equal((parsePacket(bytes).layers[2] as UdpLayer).checksum, 0);
  const report = verifyChecksums(bytes);
  assert.ok(report.ok);
  assert.deepEqual(report.checks.map((c) => [c.layer, c.status]), [['ipv4', 'ok'], ['udp', 'absent']]);
});

test('a computed zero checksum is sent as 0xffff and verifies', () => {
  const probe = buildPacket(udp({ ...flow, payload: Uint8Array.of(0, 0) }));
  const c = (parsePacket(probe).layers[2] as UdpLayer).checksum!;
  // Putting the checksum value into the payload makes the complemented sum zero.
  const bytes = buildPacket(udp({ ...flow, payload: Uint8Array.of(c >> 8, c & 0xff) }));
  assert.equal((parsePacket(bytes).layers[2] as UdpLayer).checksum, 0xffff);
  assert.ok(verifyChecksums(bytes).ok);
});

test('UDP length below 8 or beyond the datagram is NA_ERR_PACKET_BAD_LENGTH', () => {
  const spec = udp({ ...flow, payload: 'hello' });
  assert.throws(() => parsePacket(buildPacket(updateLayer(spec, 'udp', { length: 7 }))), (e) => NA_ERR_PACKET_BAD_LENGTH.is(e) && e.message === 'udp.length at offset 38: 7 is below 8');
  assert.throws(() => parsePacket(buildPacket(updateLayer(spec, 'udp', { length: 14 }))), (e) => NA_ERR_PACKET_BAD_LENGTH.is(e) && /14 exceeds the 13 bytes left/.test(e.message));
});

test('a UDP length shorter than the IP payload leaves the surplus as trailer; the checksum covers the length', () => {
  const bytes = buildPacket(updateLayer(udp({ ...flow, payload: 'hello' }), 'udp', { length: 10 }));
  const p = parsePacket(bytes);
  assert.equal(new TextDecoder().decode(p.payload), 'he');
  assert.equal(new TextDecoder().decode(p.trailer), 'llo');
  assert.deepEqual(buildPacket(p), bytes);
  const bad = bytes.slice();
  bad[bad.length - 4] = bad[bad.length - 4]! ^ 0xff; // inside the datagram
  assert.throws(() => parsePacket(bad), (e) => NA_ERR_PACKET_BAD_CHECKSUM.is(e));
  const outside = bytes.slice();
  outside[outside.length - 1] = outside[outside.length - 1]! ^ 0xff; // in the surplus
  assert.ok(verifyChecksums(outside).ok);
});

test('the UDP checksum covers the pseudo-header', () => {
  const a = buildPacket(udp({ ...flow, payload: 'x' }));
  const b = buildPacket(udp({ ...flow, dst: '10.1.1.2', payload: 'x' }));
  assert.notEqual(toHex(a.subarray(40, 42)), toHex(b.subarray(40, 42)));
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { buildPacket } from './build.js';
import { tcpSyn, udp } from './builders.js';
import { assertPacketsEqual, describeOffset, diffPackets, hexdump } from './diff.js';
import { updateLayer } from './model.js';
import { inspectPacket } from './parse.js';
import { fromHex } from './wire.js';

const syn = tcpSyn({ src: '10.0.0.2', sport: 40000, dst: '10.1.1.1', dport: 80, vlan: 100 });

test('hexdump: offset, hex and ASCII columns; marked bytes underlined', () => {
  const text = hexdump(fromHex('48656c6c6f00ff'), { width: 4, mark: new Set([1, 6]) });
  assert.equal(text, ['0000  48 65 6c 6c  |Hell|', '         ^^', '0004  6f 00 ff     |o..|', '            ^^'].join('\n'));
  assert.equal(hexdump(new Uint8Array(0)), '');
});

test('describeOffset names layer and field', () => {
  const bytes = buildPacket({ ...syn, payload: fromHex('aabb'), trailer: fromHex('00') });
  const a = inspectPacket(bytes);
  assert.equal(describeOffset(a, 0), 'layers[0] eth.dst');
  assert.equal(describeOffset(a, 15), 'layers[1] vlan.pcp/dei/vid');
  assert.equal(describeOffset(a, 26), 'layers[2] ipv4.ttl');
  assert.equal(describeOffset(a, 60), 'layers[3] tcp.options');
  assert.equal(describeOffset(a, 62), 'payload');
  assert.equal(describeOffset(a, 64), 'trailer');
});

test('diffPackets: equal packets, then a TTL and checksum change', () => {
  assert.deepEqual(diffPackets(buildPacket(syn), syn), { equal: true, differences: [], text: '' });
  const d = diffPackets(updateLayer(syn, 'ipv4', { ttl: 63 }), syn);
  assert.equal(d.equal, false);
  assert.deepEqual(
    d.differences.map((x) => [x.where, x.offset, x.expected, x.actual]),
    [
      ['layers[2] ipv4.ttl', 26, '64', '63'],
      ['layers[2] ipv4.checksum', 28, '0x25c9', '0x26c9'],
    ],
  );
  assert.match(d.text, /layers\[2\] ipv4\.ttl @26: expected 64, got 63/);
  assert.match(d.text, /differing bytes: 26 \(layers\[2\] ipv4\.ttl\), 28 \(layers\[2\] ipv4\.checksum\)/);
  assert.match(d.text, /\^\^/);
});

test('diffPackets: different layers, lengths, payloads, flags, and problems of a broken packet', () => {
  const u = udp({ src: '10.0.0.2', sport: 40000, dst: '10.1.1.1', dport: 80, vlan: 100 });
  const d = diffPackets(u, syn);
  assert.deepEqual(d.differences[d.differences.length - 2], { where: 'layers[3]', expected: 'tcp', actual: 'udp' });
  assert.deepEqual(d.differences[d.differences.length - 1], { where: 'bytes', expected: '62 bytes', actual: '46 bytes' });
  const flags = diffPackets(updateLayer(syn, 'tcp', { flags: 0x12 }), syn);
  assert.ok(flags.differences.some((x) => x.where === 'layers[3] tcp.flags' && x.actual === '0x012 (SYN|ACK)' && x.expected === '0x002 (SYN)'));
  const payload = diffPackets({ ...syn, payload: fromHex('0102') }, { ...syn, payload: fromHex('0103') });
  assert.ok(payload.differences.some((x) => x.where === 'payload' && x.offset === 63));
  const cut = buildPacket(syn).subarray(0, 40);
  assert.match(diffPackets(cut, syn).text, /actual has a problem: NA_ERR_PACKET_BAD_LENGTH/);
});

test('assertPacketsEqual throws an AssertionError carrying the report', () => {
  assertPacketsEqual(buildPacket(syn), syn);
  assert.throws(
    () => assertPacketsEqual(updateLayer(syn, 'eth', { dst: '02:00:00:00:00:99' }), syn, { message: 'L2 DSR rewrite' }),
    (e) => e instanceof AssertionError && e.message.startsWith('L2 DSR rewrite\npackets differ') && e.message.includes('layers[0] eth.dst @0: expected 02:00:00:00:00:02, got 02:00:00:00:00:99'),
  );
});

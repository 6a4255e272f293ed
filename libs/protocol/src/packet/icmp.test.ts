import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_CHECKSUM, NA_ERR_PACKET_INVALID_SPEC, NA_ERR_PACKET_TRUNCATED } from '../errors.js';
import { buildPacket } from './build.js';
import { icmpFragNeeded, icmpv6PacketTooBig, tcpSyn, udp } from './builders.js';
import { checksumVerifies } from './checksum.js';
import { ICMP, ICMPV6 } from './icmp.js';
import type { IcmpLayer, Ipv4Layer, Layer } from './model.js';
import { inspectPacket, parsePacket, verifyChecksums } from './parse.js';
import { fromHex, toHex } from './wire.js';

const eth: Layer = { type: 'eth', dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };

test('an ICMP echo request: checksum over the message only', () => {
  const bytes = buildPacket({
    layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { type: 'icmp', icmpType: ICMP.ECHO_REQUEST, code: 0, rest: (0x1234 << 16) | 1 }],
    payload: new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi'),
  });
  assert.ok(checksumVerifies(bytes, 34));
  assert.equal(toHex(bytes.subarray(34, 42)).replace(/^(....)....(.*)$/, '$1$2'), '080012340001');
  const icmp = parsePacket(bytes).layers[2] as IcmpLayer;
  assert.deepEqual([icmp.icmpType, icmp.code, icmp.rest], [8, 0, 0x12340001]);
  // ICMPv4 needs no pseudo-header, so it builds without an IP layer.
  assert.ok(checksumVerifies(buildPacket({ layers: [{ type: 'icmp', icmpType: 0, code: 0 }], payload: fromHex('0102') })));
});

test('icmpFragNeeded quotes the IPv4 header and 8 bytes, reports the MTU and answers over the same link', () => {
  const original = tcpSyn({ src: '10.1.1.1', sport: 80, dst: '192.0.2.50', dport: 40000, vlan: 100, eth: { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' } });
  const originalBytes = buildPacket(original);
  const err = icmpFragNeeded(original, { from: '198.51.100.1', mtu: 1400 });
  const bytes = buildPacket(err);
  const p = parsePacket(bytes);
  assert.deepEqual(p.layers.map((l) => l.type), ['eth', 'vlan', 'ipv4', 'icmp']);
  assert.deepEqual([p.layers[0]?.type === 'eth' && p.layers[0].src, p.layers[0]?.type === 'eth' && p.layers[0].dst], ['02:00:00:00:00:0b', '02:00:00:00:00:0a']);
  const ip = p.layers[2] as Ipv4Layer;
  assert.deepEqual([ip.src, ip.dst], ['198.51.100.1', '10.1.1.1']);
  const icmp = p.layers[3] as IcmpLayer;
  assert.deepEqual([icmp.icmpType, icmp.code, icmp.rest], [3, 4, 1400]);
  assert.deepEqual(p.payload, originalBytes.subarray(18, 18 + 28));
  assert.ok(verifyChecksums(bytes).ok);
  // The quote is itself a (truncated) packet that lenient parsing can read.
  const quoted = inspectPacket(p.payload!, { first: 'ipv4' });
  assert.deepEqual(quoted.packet.layers.map((l) => l.type), ['ipv4']);
  assert.ok(NA_ERR_PACKET_TRUNCATED.is(quoted.issues.find((e) => e.code === 'NA_ERR_PACKET_TRUNCATED')));
});

test('icmpFragNeeded counts IPv4 options in the quote and takes explicit addressing', () => {
  const original = buildPacket({
    layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', options: fromHex('94040000') }, { type: 'udp', sport: 1, dport: 2 }],
    payload: new Uint8Array(100),
  });
  const err = icmpFragNeeded(original, { from: '10.9.9.9', to: '10.0.0.7', mtu: 576, eth: false });
  assert.deepEqual(err.layers.map((l) => l.type), ['ipv4', 'icmp']);
  assert.equal(err.payload?.length, 24 + 8);
  assert.equal((err.layers[0] as Ipv4Layer).dst, '10.0.0.7');
  assert.throws(() => icmpFragNeeded(buildPacket(udp({ src: '::1', dst: '::2', sport: 1, dport: 2 })), { from: '10.0.0.1', mtu: 1 }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e));
  assert.throws(() => icmpFragNeeded(original, { from: '10.0.0.1', mtu: 70000 }), { message: 'mtu: expected an integer 0..65535, got 70000' });
});

test('icmpv6PacketTooBig quotes as much as fits in 1280 bytes', () => {
  const big = udp({ src: '2001:db8::1', sport: 443, dst: '2001:db8::2', dport: 5000, payload: new Uint8Array(1400) });
  const bytes = buildPacket(icmpv6PacketTooBig(big, { from: '2001:db8::fe', mtu: 1280 }));
  assert.equal(bytes.length, 14 + 1280);
  const p = parsePacket(bytes);
  const icmp = p.layers[2] as IcmpLayer;
  assert.deepEqual([icmp.type, icmp.icmpType, icmp.code, icmp.rest], ['icmpv6', ICMPV6.PACKET_TOO_BIG, 0, 1280]);
  assert.equal(p.layers[1]?.type === 'ipv6' && p.layers[1].dst, '2001:db8::1');
  const small = buildPacket(icmpv6PacketTooBig(udp({ src: '2001:db8::1', sport: 1, dst: '2001:db8::2', dport: 2 }), { from: '2001:db8::fe', mtu: 1300 }));
  assert.equal(parsePacket(small).payload?.length, 48, 'a short original is quoted whole');
  assert.ok(verifyChecksums(small).ok);
});

test('a bad ICMPv6 checksum (pseudo-header included) is NA_ERR_PACKET_BAD_CHECKSUM', () => {
  const spec = icmpv6PacketTooBig(udp({ src: '2001:db8::1', sport: 1, dst: '2001:db8::2', dport: 2 }), { from: '2001:db8::fe', mtu: 1300 });
  const good = buildPacket(spec);
  const moved = buildPacket({ ...spec, layers: spec.layers.map((l) => (l.type === 'ipv6' ? { ...l, src: '2001:db8::fd' } : l.type === 'icmpv6' ? { ...l, checksum: (parsePacket(good).layers[2] as IcmpLayer).checksum } : l)) });
  assert.throws(() => parsePacket(moved), (e) => NA_ERR_PACKET_BAD_CHECKSUM.is(e) && e.details.layer === 'icmpv6');
});

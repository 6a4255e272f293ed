import { test } from 'vitest';
import assert from 'node:assert/strict';
import {
  NA_ERR_PACKET_BAD_CHECKSUM,
  NA_ERR_PACKET_BAD_IHL,
  NA_ERR_PACKET_BAD_LENGTH,
  NA_ERR_PACKET_BAD_OPTION,
  NA_ERR_PACKET_BAD_VERSION,
  NA_ERR_PACKET_INVALID_SPEC,
  NA_ERR_PACKET_TRUNCATED,
} from '../errors.js';
import { buildPacket } from './build.js';
import { udp } from './builders.js';
import type { Ipv4Layer, Layer, Packet } from './model.js';
import { TCP_FLAGS } from './model.js';
import { inspectPacket, parsePacket, verifyChecksums } from './parse.js';
import { tcpOptions, tcpOptionValues } from './tcp.js';
import { decodeTlvOptions, fromHex, toHex, writeU16 } from './wire.js';

// A captured SYN (Android client, 192.168.254.103:59058 → 192.168.254.107:8888) with its checksums.
const CAPTURED_SYN = fromHex(
  '4500003c4867400040067430c0a8fe67c0a8fe6b' + 'e6b222b860a0e96f00000000a002ffffd5020000020405b40402080a0055a1080000000001030307',
);

const eth: Layer = { type: 'eth', dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };
const sample = (): Uint8Array => buildPacket(udp({ src: '10.0.0.2', dst: '10.1.1.1', sport: 4000, dport: 53, payload: 'hello' }));

test('known answer: a captured IPv4 TCP SYN parses with valid checksums and rebuilds byte for byte', () => {
  const p = parsePacket(CAPTURED_SYN, { first: 'ipv4' });
  const [ip, tcp] = p.layers;
  assert.ok(ip?.type === 'ipv4' && tcp?.type === 'tcp');
  assert.equal(ip.checksum, 0x7430);
  assert.equal(tcp.checksum, 0xd502);
  assert.deepEqual([ip.src, ip.dst, ip.id, ip.df, ip.ttl, ip.totalLength], ['192.168.254.103', '192.168.254.107', 0x4867, true, 64, 60]);
  assert.deepEqual([tcp.sport, tcp.dport, tcp.flags, tcp.window, tcp.dataOffset], [59058, 8888, TCP_FLAGS.SYN, 65535, 10]);
  assert.deepEqual(tcpOptionValues(tcp.options!), { mss: 1460, sackPermitted: true, timestamp: [0x55a108, 0], wscale: 7 });
  const spec: Packet = {
    layers: [
      { type: 'ipv4', src: '192.168.254.103', dst: '192.168.254.107', id: 0x4867, df: true, ttl: 64 },
      {
        type: 'tcp', sport: 59058, dport: 8888, seq: 0x60a0e96f, flags: TCP_FLAGS.SYN, window: 65535,
        options: tcpOptions({ mss: 1460, sackPermitted: true, timestamp: [0x55a108, 0], wscale: 7 }),
      },
    ],
  };
  assert.equal(toHex(buildPacket(spec)), toHex(CAPTURED_SYN));
  assert.deepEqual(verifyChecksums(CAPTURED_SYN, { first: 'ipv4' }).checks.map((c) => c.status), ['ok', 'ok']);
});

test('IHL below 5 is NA_ERR_PACKET_BAD_IHL; lenient parsing keeps the bytes as payload', () => {
  const bytes = sample();
  bytes[14] = 0x44;
  assert.throws(() => parsePacket(bytes), (e) => NA_ERR_PACKET_BAD_IHL.is(e) && e.message === 'ipv4.ihl at offset 14: expected 5..15 words, got 4');
  const a = inspectPacket(bytes);
  assert.equal(a.packet.layers.length, 1);
  assert.equal(a.payloadOffset, 14);
  assert.deepEqual(buildPacket(a.packet), bytes);
  // The same packet crafted through the model.
  const crafted = buildPacket({ layers: [eth, { type: 'ipv4', src: '1.1.1.1', dst: '2.2.2.2', protocol: 17, ihl: 3 }] });
  assert.equal(crafted[14], 0x43);
  assert.throws(() => parsePacket(crafted), (e) => NA_ERR_PACKET_BAD_IHL.is(e));
});

test('an IHL beyond the bytes is a truncated header', () => {
  const bytes = sample().subarray(0, 14 + 24);
  bytes[14] = 0x4f; // 60-byte header
  assert.throws(() => parsePacket(bytes), (e) => NA_ERR_PACKET_TRUNCATED.is(e) && e.details.layer === 'ipv4' && e.details.needed === 60 && e.details.available === 24);
});

test('a total length beyond the buffer is NA_ERR_PACKET_BAD_LENGTH; lenient parsing goes on', () => {
  const good = sample();
  const bytes = buildPacket({ ...parsePacket(good), layers: parsePacket(good).layers.map((l) => (l.type === 'ipv4' ? { ...l, totalLength: 100, checksum: undefined } : l)) });
  assert.throws(
    () => parsePacket(bytes),
    (e) => NA_ERR_PACKET_BAD_LENGTH.is(e) && e.message === 'ipv4.totalLength at offset 16: 100 exceeds the 33 bytes left' && e.details.field === 'totalLength',
  );
  const a = inspectPacket(bytes);
  assert.deepEqual(a.packet.layers.map((l) => l.type), ['eth', 'ipv4', 'udp']);
  assert.deepEqual(buildPacket(a.packet), bytes);
});

test('a total length below the header length is NA_ERR_PACKET_BAD_LENGTH', () => {
  const bytes = sample();
  writeU16(bytes, 16, 12);
  assert.throws(() => parsePacket(bytes, { checksums: false }), (e) => NA_ERR_PACKET_BAD_LENGTH.is(e) && /12 is below the header length 20/.test(e.message));
});

test('bytes after the total length are a trailer (Ethernet padding)', () => {
  const spec = udp({ src: '10.0.0.2', dst: '10.1.1.1', sport: 1, dport: 2 });
  const padded = buildPacket({ ...spec, trailer: new Uint8Array(18) });
  assert.equal(padded.length, 60);
  const p = parsePacket(padded);
  assert.deepEqual(p.trailer, new Uint8Array(18));
  assert.deepEqual(p.payload, new Uint8Array(0));
  assert.ok(verifyChecksums(padded).ok);
  assert.equal(parsePacket(buildPacket(spec)).trailer, undefined);
});

test('a bad header checksum is NA_ERR_PACKET_BAD_CHECKSUM, unless checksums are off', () => {
  const bytes = buildPacket({ layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 253, checksum: 0x1234 }] });
  assert.throws(
    () => parsePacket(bytes),
    (e) => NA_ERR_PACKET_BAD_CHECKSUM.is(e) && e.details.layer === 'ipv4' && e.details.offset === 24 && e.details.stored === 0x1234 && /got 0x1234, expected 0x/.test(e.message),
  );
  assert.equal((parsePacket(bytes, { checksums: false }).layers[1] as Ipv4Layer).checksum, 0x1234);
  const report = verifyChecksums(bytes);
  assert.equal(report.ok, false);
  assert.equal(report.checks[0]?.status, 'bad');
});

test('an IPv6 header behind ethertype 0x0800 is NA_ERR_PACKET_BAD_VERSION', () => {
  const bytes = buildPacket({ layers: [{ ...eth, etherType: 0x0800 }, { type: 'ipv6', src: '::1', dst: '::2' }] });
  assert.throws(() => parsePacket(bytes), (e) => NA_ERR_PACKET_BAD_VERSION.is(e) && e.message === 'ipv4.version at offset 14: expected 4, got 6');
});

test('options: encoded, padded to 4 bytes, validated', () => {
  const routerAlert = fromHex('94040000');
  const p = parsePacket(buildPacket({ layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '224.0.0.22', protocol: 2, options: routerAlert }] }));
  const ip = p.layers[1] as Ipv4Layer;
  assert.equal(ip.ihl, 6);
  assert.deepEqual(decodeTlvOptions(ip.options!), [{ type: 0x94, data: Uint8Array.of(0, 0) }]);
  const nops = parsePacket(buildPacket({ layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 253, options: Uint8Array.of(1, 1, 1) }] }));
  assert.equal(toHex((nops.layers[1] as Ipv4Layer).options!), '01010100');
  const bad = buildPacket({ layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 253, options: fromHex('83010000') }] });
  assert.throws(() => parsePacket(bad), (e) => NA_ERR_PACKET_BAD_OPTION.is(e) && e.details.offset === 34 && /length 1, below 2/.test(e.message));
  const overrun = buildPacket({ layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 253, options: fromHex('0709000000000000') }] });
  assert.throws(() => parsePacket(overrun), (e) => NA_ERR_PACKET_BAD_OPTION.is(e) && /overruns/.test(e.message));
  assert.throws(() => buildPacket({ layers: [{ type: 'ipv4', src: '1.1.1.1', dst: '2.2.2.2', protocol: 1, options: new Uint8Array(44) }] }), (e) => NA_ERR_PACKET_INVALID_SPEC.is(e) && e.message.startsWith('layers[0].options: '));
});

test('fragments: the first keeps its UDP header without length or checksum checks; later ones are payload', () => {
  const first = buildPacket({
    layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', mf: true, id: 7 }, { type: 'udp', sport: 1, dport: 2, length: 3000, checksum: 0xbeef }],
    payload: new Uint8Array(64),
  });
  const a = inspectPacket(first);
  assert.deepEqual(a.issues, []);
  assert.deepEqual(a.packet.layers.map((l) => l.type), ['eth', 'ipv4', 'udp']);
  assert.deepEqual(a.checksums.map((c) => c.layer), ['ipv4']);
  const later = buildPacket({ layers: [eth, { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, fragOffset: 8, reservedFlag: true }], payload: new Uint8Array(16).fill(9) });
  const p = parsePacket(later);
  assert.deepEqual(p.layers.map((l) => l.type), ['eth', 'ipv4']);
  assert.equal((p.layers[1] as Ipv4Layer).reservedFlag, true);
  assert.deepEqual(p.payload, new Uint8Array(16).fill(9));
});

test('the protocol cannot be inferred without a next layer', () => {
  assert.throws(() => buildPacket({ layers: [{ type: 'ipv4', src: '1.1.1.1', dst: '2.2.2.2' }] }), { message: 'layers[0].protocol: cannot be inferred from the next layer; give it' });
  assert.throws(() => buildPacket({ layers: [{ type: 'ipv4', src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, ttl: 256 }] }), { message: 'layers[0].ttl: expected an integer 0..255, got 256' });
});

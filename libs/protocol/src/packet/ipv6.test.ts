import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_PACKET_BAD_CHECKSUM, NA_ERR_PACKET_BAD_LENGTH, NA_ERR_PACKET_BAD_OPTION, NA_ERR_PACKET_EXT_CHAIN_TOO_LONG, NA_ERR_PACKET_TRUNCATED } from '../errors.js';
import { parseIPv6 } from '../ip/address.js';
import { buildPacket } from './build.js';
import { transportChecksum } from './checksum.js';
import type { Ipv6Layer, Layer, Packet, UdpLayer } from './model.js';
import { inspectPacket, parsePacket, verifyChecksums } from './parse.js';
import { concatBytes, fromHex, toHex } from './wire.js';

// A captured DNS query for www.startpage.com, fced:172:16:201::11 → 2001:4860:4860::8888, UDP
// checksum da69, followed by one stray byte (3d) after the datagram.
const CAPTURED_DNS = fromHex(
  '600b2f43002b1140fced0172001602010000000000000011200148604860000000000000000088886f4d0035002bda69' +
    'c30a01000001000000000000037777770973746172747061676503636f6d0000010001' +
    '3d',
);
// A captured TCP SYN, 240e:379:26cb:4a04::58 → 2001:4838:0:1b::201 port 80, checksum ca84.
const CAPTURED_SYN6 = fromHex(
  '600488ff0028063f240e037926cb4a040000000000000058200148380000001b0000000000000201' +
    'e5600050ab0db01400000000a002fbb8ca840000020405980402080afccc413b0000000001030307',
);

const eth: Layer = { type: 'eth', dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };
const v6 = (extra: Partial<Ipv6Layer> = {}): Ipv6Layer => ({ type: 'ipv6', src: '2001:db8::1', dst: '2001:db8::2', ...extra });
const udpL = (): UdpLayer => ({ type: 'udp', sport: 5000, dport: 53 });

test('known answer: a captured IPv6 UDP datagram (checksum da69) with a trailing byte', () => {
  const p = parsePacket(CAPTURED_DNS, { first: 'ipv6' });
  const [ip, u] = p.layers;
  assert.deepEqual(ip, {
    type: 'ipv6', src: 'fced:172:16:201::11', dst: '2001:4860:4860::8888', trafficClass: 0, flowLabel: 0xb2f43, hopLimit: 64, nextHeader: 17, payloadLength: 43,
  });
  assert.deepEqual(u, { type: 'udp', sport: 0x6f4d, dport: 53, length: 43, checksum: 0xda69 });
  assert.equal(p.payload?.length, 35);
  assert.equal(toHex(p.trailer!), '3d');
  const spec: Packet = {
    layers: [{ type: 'ipv6', src: 'fced:172:16:201::11', dst: '2001:4860:4860::8888', flowLabel: 0xb2f43 }, { type: 'udp', sport: 0x6f4d, dport: 53 }],
    payload: p.payload!,
    trailer: Uint8Array.of(0x3d),
  };
  assert.equal(toHex(buildPacket(spec)), toHex(CAPTURED_DNS));
  const syn = parsePacket(CAPTURED_SYN6, { first: 'ip' });
  assert.deepEqual(syn.layers.map((l) => l.type), ['ipv6', 'tcp']);
  assert.ok(verifyChecksums(CAPTURED_SYN6, { first: 'ipv6' }).ok);
});

test('extension headers: hop-by-hop, destination options, SRH, fragment and AH round-trip; the SRH names the pseudo-header destination', () => {
  const finalDst = '2001:db8::99';
  const srhData = concatBytes([fromHex('00000000'), parseIPv6(finalDst), parseIPv6('2001:db8::2')]);
  const spec: Packet = {
    layers: [
      eth,
      v6(),
      { type: 'ipv6-hbh', options: fromHex('05020000') }, // router alert
      { type: 'ipv6-dstopts' },
      { type: 'ipv6-route', routingType: 4, segmentsLeft: 1, data: srhData },
      { type: 'ipv6-frag', id: 0x01020304 }, // atomic fragment
      { type: 'ah', spi: 0x100, seq: 1, icv: new Uint8Array(12).fill(0xaa) },
      udpL(),
    ],
    payload: new TextEncoder().encode('x'),
  };
  const bytes = buildPacket(spec);
  const p = parsePacket(bytes);
  assert.deepEqual(p.layers.map((l) => l.type), ['eth', 'ipv6', 'ipv6-hbh', 'ipv6-dstopts', 'ipv6-route', 'ipv6-frag', 'ah', 'udp']);
  assert.deepEqual(buildPacket(p), bytes);
  assert.equal(toHex(bytes.subarray(54, 62)), '3c00050200000100', 'hop-by-hop: next header 60, length 0, router alert, PadN');
  const udpAt = bytes.length - 9;
  const u = bytes.slice(udpAt);
  u[6] = 0;
  u[7] = 0;
  const expected = transportChecksum(parseIPv6('2001:db8::1'), parseIPv6(finalDst), 17, u);
  assert.equal((p.layers[7] as UdpLayer).checksum, expected === 0 ? 0xffff : expected);
});

test('AH is skipped by its own length unit after IPv6 and after IPv4', () => {
  for (const ip of [v6(), { type: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' } as Layer]) {
    const bytes = buildPacket({ layers: [eth, ip, { type: 'ah', spi: 1, seq: 2, icv: new Uint8Array(12) }, { type: 'tcp', sport: 1, dport: 2 }] });
    const p = parsePacket(bytes);
    assert.deepEqual(p.layers.map((l) => l.type), ['eth', ip.type, 'ah', 'tcp']);
    assert.equal(p.layers[2]?.type === 'ah' && p.layers[2].payloadLen, 4);
  }
});

test('an extension chain longer than maxExtHeaders is NA_ERR_PACKET_EXT_CHAIN_TOO_LONG', () => {
  const chain = (n: number): Uint8Array => buildPacket({ layers: [eth, v6(), ...Array.from({ length: n }, (): Layer => ({ type: 'ipv6-dstopts' })), udpL()] });
  assert.equal(parsePacket(chain(8)).layers.length, 11);
  assert.throws(
    () => parsePacket(chain(9)),
    (e) => NA_ERR_PACKET_EXT_CHAIN_TOO_LONG.is(e) && e.details.offset === 54 + 8 * 8 && e.message === 'ipv6 extension header at offset 118: the chain has more than 8 headers',
  );
  assert.equal(parsePacket(chain(9), { maxExtHeaders: 9 }).layers.length, 12);
  assert.throws(() => parsePacket(chain(1), { maxExtHeaders: 0 }), (e) => NA_ERR_PACKET_EXT_CHAIN_TOO_LONG.is(e));
});

test('a payload length beyond the buffer is NA_ERR_PACKET_BAD_LENGTH', () => {
  const bytes = buildPacket({ layers: [eth, v6({ payloadLength: 500 }), udpL()] });
  assert.throws(() => parsePacket(bytes), (e) => NA_ERR_PACKET_BAD_LENGTH.is(e) && e.message === 'ipv6.payloadLength at offset 18: 500 exceeds the 8 bytes left');
});

test('a truncated extension header reports its layer and size', () => {
  const bytes = buildPacket({ layers: [eth, v6({ payloadLength: 12 }), { type: 'ipv6-dstopts', options: new Uint8Array(14).fill(0) }, udpL()] });
  assert.throws(
    () => parsePacket(bytes.subarray(0, 54 + 12)),
    (e) => NA_ERR_PACKET_TRUNCATED.is(e) && e.details.layer === 'ipv6-dstopts' && e.details.needed === 16 && e.details.available === 12,
  );
  // Cut without fixing the payload length: the length check fires first; lenient parsing lists both.
  const full = buildPacket({ layers: [eth, v6(), { type: 'ipv6-dstopts', options: new Uint8Array(14).fill(0) }, udpL()] });
  const issues = inspectPacket(full.subarray(0, 54 + 12)).issues.map((e) => e.code);
  assert.deepEqual(issues, ['NA_ERR_PACKET_BAD_LENGTH', 'NA_ERR_PACKET_TRUNCATED']);
});

test('malformed IPv6 options are NA_ERR_PACKET_BAD_OPTION', () => {
  const bytes = buildPacket({ layers: [eth, v6(), { type: 'ipv6-hbh', options: fromHex('c2080000') }, udpL()] });
  assert.throws(() => parsePacket(bytes), (e) => NA_ERR_PACKET_BAD_OPTION.is(e) && e.details.layer === 'ipv6-hbh' && e.details.offset === 56);
});

test('a zero UDP checksum is bad over IPv6 unless udp6ZeroChecksum allows it', () => {
  const bytes = buildPacket({ layers: [eth, v6(), { ...udpL(), checksum: 0 }] });
  assert.throws(() => parsePacket(bytes), (e) => NA_ERR_PACKET_BAD_CHECKSUM.is(e) && e.details.layer === 'udp');
  assert.equal(parsePacket(bytes, { udp6ZeroChecksum: true }).layers.length, 3);
  assert.equal(verifyChecksums(bytes, { udp6ZeroChecksum: true }).checks[0]?.status, 'absent');
});

test('a later fragment, ESP and "no next header" stop decoding; the rest is payload', () => {
  const frag = buildPacket({ layers: [eth, v6(), { type: 'ipv6-frag', nextHeader: 17, fragOffset: 10, mf: true }], payload: new Uint8Array(8).fill(1) });
  const p = parsePacket(frag);
  assert.deepEqual(p.layers.map((l) => l.type), ['eth', 'ipv6', 'ipv6-frag']);
  assert.deepEqual(p.payload, new Uint8Array(8).fill(1));
  const esp = parsePacket(buildPacket({ layers: [eth, v6({ nextHeader: 50 })], payload: new Uint8Array(16) }));
  assert.equal(esp.payload?.length, 16);
  const none = parsePacket(buildPacket({ layers: [eth, v6()] }));
  assert.equal((none.layers[1] as Ipv6Layer).nextHeader, 59);
  assert.equal(inspectPacket(buildPacket({ layers: [eth, v6()] })).issues.length, 0);
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIPv4 } from '../ip/address.js';
import { buildPacket } from './build.js';
import { tcp, udp } from './builders.js';
import {
  checksumAdjust,
  checksumAdjust16,
  checksumVerifies,
  internetChecksum,
  onesComplementSum,
  pseudoHeaderSum,
  transportChecksum,
  udpChecksumAdjust,
} from './checksum.js';
import { updateLayer } from './model.js';
import { verifyChecksums } from './parse.js';
import { fromHex, readU16, writeU16 } from './wire.js';

test('RFC 1071 §3 example: sum ddf2, checksum 220d', () => {
  const data = fromHex('0001 f203 f4f5 f6f7');
  assert.equal(onesComplementSum(data), 0xddf2);
  assert.equal(internetChecksum(data), 0x220d);
  const withSum = fromHex('0001 f203 f4f5 f6f7 220d');
  assert.ok(checksumVerifies(withSum));
});

test('odd lengths are padded with a zero byte; start/end select a range', () => {
  assert.equal(onesComplementSum(fromHex('0102 03')), 0x0102 + 0x0300);
  assert.equal(onesComplementSum(fromHex('ffff 0102 03ff'), 2, 5), 0x0102 + 0x0300);
  assert.equal(onesComplementSum(fromHex('ffff ffff')), 0xffff);
  assert.equal(internetChecksum(new Uint8Array(0)), 0xffff);
});

test('IPv4 header known answer (checksum b861)', () => {
  const hdr = fromHex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  assert.equal(internetChecksum(hdr), 0xb861);
  writeU16(hdr, 10, 0xb861);
  assert.ok(checksumVerifies(hdr));
  writeU16(hdr, 10, 0xb862);
  assert.ok(!checksumVerifies(hdr));
});

test('transport checksums of captured segments (IPv4 TCP SYN d502, IPv6 TCP SYN ca84, IPv6 UDP da69)', () => {
  // An Android client's SYN to 192.168.254.107:8888 (MSS, SACK-permitted, timestamps, window scale).
  const syn4 = fromHex('e6b222b860a0e96f00000000a002ffff00000000020405b40402080a0055a1080000000001030307');
  assert.equal(transportChecksum(parseIPv4('192.168.254.103'), parseIPv4('192.168.254.107'), 6, syn4), 0xd502);
  // A SYN from 240e:379:26cb:4a04::58 to 2001:4838:0:1b::201 port 80.
  const src6 = fromHex('240e037926cb4a040000000000000058');
  const dst6 = fromHex('200148380000001b0000000000000201');
  const syn6 = fromHex('e5600050ab0db01400000000a002fbb800000000020405980402080afccc413b0000000001030307');
  assert.equal(transportChecksum(src6, dst6, 6, syn6), 0xca84);
  // A DNS query (www.startpage.com) from fced:172:16:201::11 to 2001:4860:4860::8888.
  const udpSrc = fromHex('fced0172001602010000000000000011');
  const udpDst = fromHex('20014860486000000000000000008888');
  const dns = fromHex('6f4d0035002b0000c30a01000001000000000000037777770973746172747061676503636f6d0000010001');
  assert.equal(transportChecksum(udpSrc, udpDst, 17, dns), 0xda69);
  // The pseudo-header sum is order-independent in the addresses and counts the length.
  assert.equal(pseudoHeaderSum(udpSrc, udpDst, 17, 43), pseudoHeaderSum(udpDst, udpSrc, 17, 43));
});

test('incremental update (RFC 1624 eqn. 3) equals full recomputation (property)', () => {
  const scenario = fc
    .integer({ min: 1, max: 40 })
    .chain((words) =>
      fc.record({
        data: fc.uint8Array({ minLength: words * 2, maxLength: words * 2 }),
        start: fc.integer({ min: 0, max: words * 2 - 1 }),
        len: fc.integer({ min: 1, max: 16 }),
        fill: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      }),
    );
  fc.assert(
    fc.property(scenario, ({ data, start, len, fill }) => {
      const n = Math.min(len, data.length - start);
      const before = internetChecksum(data);
      const old = data.slice(start, start + n);
      const next = fill.slice(0, n);
      const changed = data.slice();
      changed.set(next, start);
      const full = internetChecksum(changed);
      const incremental = checksumAdjust(before, old, next, start % 2 === 1);
      if (changed.every((b) => b === 0)) {
        // All-zero data: +0 and -0 are the same one's complement value.
        assert.ok(incremental === 0xffff || incremental === 0, `got ${incremental}`);
      } else {
        assert.equal(incremental, full);
      }
    }),
    { numRuns: 3000 },
  );
});

test('checksumAdjust16 matches checksumAdjust for a word (TTL decrement)', () => {
  const hdr = fromHex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
  const oldWord = readU16(hdr, 8);
  hdr[8] = hdr[8]! - 1;
  const expected = internetChecksum(hdr.map((b, i) => (i === 10 || i === 11 ? 0 : b)));
  assert.equal(checksumAdjust16(0xb861, oldWord, readU16(hdr, 8)), expected);
  assert.equal(checksumAdjust(0xb861, Uint8Array.of(0x40), Uint8Array.of(0x3f)), expected);
});

test('checksumAdjust rejects fields of different lengths', () => {
  assert.throws(() => checksumAdjust(0, Uint8Array.of(1), Uint8Array.of(1, 2)), RangeError);
});

/** DNAT on the wire: rewrite the destination address and port in place with incremental updates. */
function dnatInPlace(bytes: Uint8Array, newDst: Uint8Array, newPort: number, l4: 'tcp' | 'udp'): void {
  const ip = 14;
  const seg = ip + (bytes[ip]! & 15) * 4;
  const csumAt = seg + (l4 === 'tcp' ? 16 : 6);
  const oldDst = bytes.slice(ip + 16, ip + 20);
  const oldPort = bytes.slice(seg + 2, seg + 4);
  const port = Uint8Array.of(newPort >> 8, newPort & 255);
  writeU16(bytes, ip + 10, checksumAdjust(readU16(bytes, ip + 10), oldDst, newDst));
  let c = readU16(bytes, csumAt);
  const adjust = l4 === 'udp' ? udpChecksumAdjust : checksumAdjust;
  c = adjust(c, oldDst, newDst);
  c = adjust(c, oldPort, port);
  writeU16(bytes, csumAt, c);
  bytes.set(newDst, ip + 16);
  bytes.set(port, seg + 2);
}

test('NAT rewrite with incremental updates equals building the rewritten packet (property)', () => {
  const ip4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  fc.assert(
    fc.property(
      fc.record({
        src: ip4,
        dst: ip4,
        newDst: ip4,
        sport: fc.integer({ min: 1, max: 65535 }),
        dport: fc.integer({ min: 1, max: 65535 }),
        newPort: fc.integer({ min: 1, max: 65535 }),
        payload: fc.uint8Array({ maxLength: 64 }),
        l4: fc.constantFrom('tcp' as const, 'udp' as const),
      }),
      ({ src, dst, newDst, sport, dport, newPort, payload, l4 }) => {
        const make = l4 === 'tcp' ? tcp : udp;
        const original = make({ src, dst, sport, dport, payload });
        const bytes = buildPacket(original);
        dnatInPlace(bytes, parseIPv4(newDst), newPort, l4);
        const rewritten = updateLayer(updateLayer(original, 'ipv4', { dst: newDst }), l4, { dport: newPort });
        assert.deepEqual(bytes, buildPacket(rewritten));
        assert.ok(verifyChecksums(bytes).ok);
      },
    ),
    { numRuns: 500 },
  );
});

test('udpChecksumAdjust keeps "no checksum" and never produces zero', () => {
  assert.equal(udpChecksumAdjust(0, Uint8Array.of(1, 2), Uint8Array.of(3, 4)), 0);
  // A field change that makes the computed checksum 0 is sent as 0xffff.
  assert.equal(checksumAdjust(0x0001, Uint8Array.of(0, 0), Uint8Array.of(0, 1)), 0);
  assert.equal(udpChecksumAdjust(0x0001, Uint8Array.of(0, 0), Uint8Array.of(0, 1)), 0xffff);
});

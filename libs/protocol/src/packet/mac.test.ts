import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NA_ERR_PACKET_BAD_ADDRESS, NA_ERR_PACKET_BAD_PREFIX } from '../errors.js';
import {
  canonicalIp,
  formatIPv4,
  formatIPv6,
  formatMac,
  formatPrefix,
  ipFamily,
  ipv4FromNumber,
  ipv4ToNumber,
  netmask,
  netmaskLength,
  parseIPv4,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixContains,
  prefixNetwork,
} from './addr.js';

const canon = (text: string): string => formatIPv6(parseIPv6(text));

test('IPv4 text round-trips and rejects ambiguous or malformed forms', () => {
  assert.deepEqual([...parseIPv4('192.0.2.1')], [192, 0, 2, 1]);
  assert.equal(formatIPv4(Uint8Array.of(0, 10, 0, 0, 2), 1), '10.0.0.2');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '', 'a.b.c.d', '1.2.3.-1']) {
    assert.throws(() => parseIPv4(bad), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e), bad);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      assert.deepEqual(parseIPv4(formatIPv4(b)), b);
    }),
  );
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => ipv4ToNumber(ipv4FromNumber(n)) === n));
  assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
});

test('address errors start with the field path', () => {
  assert.throws(() => parseIPv4('1.2.3', 'bgp.peers[1].address'), {
    code: 'NA_ERR_PACKET_BAD_ADDRESS',
    message: 'bgp.peers[1].address: expected an IPv4 address, got "1.2.3"',
  });
  assert.throws(() => parseIPv6('1::2::3', 'layers[2].dst'), { message: 'layers[2].dst: expected an IPv6 address, got "1::2::3"' });
});

test('IPv6 formatting follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // 4.2.1 longest run compressed
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 a single zero group is not
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 the longest run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 the first of equal runs wins
    ['2001:DB8::1', '2001:db8::1'], // 4.3 lower case
    ['2001:0db8:0000::0001', '2001:db8::1'], // 4.1 no leading zeros
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['0:2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['1:0:2:0:0:3:0:0', '1:0:2::3:0:0'],
    ['fe80:0:0:0:1:0:0:0', 'fe80::1:0:0:0'], // equal runs of three: the first
    ['1:0:1:0:0:0:0:2', '1:0:1::2'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // §5 IPv4-mapped in mixed notation
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::c000:201'], // IPv4-compatible (deprecated): plain hex
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'], // :: for one group on input is accepted
  ];
  for (const [input, expected] of cases) assert.equal(canon(input), expected, input);
});

test('IPv6 parsing rejects malformed text', () => {
  const bad = [
    '', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', 'g::1', '12345::',
    '::1%eth0', '1.2.3.4::', '::1.2.3', '::256.1.1.1', ':1::2', '1::2:', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4:5',
  ];
  for (const text of bad) assert.throws(() => parseIPv6(text), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e), text);
});

test('IPv6 formatting agrees with the WHATWG URL serialiser and parses back (property)', () => {
  const words = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
  fc.assert(
    fc.property(words, (ws) => {
      const b = new Uint8Array(16);
      ws.forEach((w, i) => {
        b[2 * i] = w >> 8;
        b[2 * i + 1] = w & 255;
      });
      const text = formatIPv6(b);
      assert.deepEqual(parseIPv6(text), b);
      assert.equal(ipFamily(text), 6);
      const mapped = ws.slice(0, 5).every((w) => w === 0) && ws[5] === 0xffff;
      if (!mapped) assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
    }),
    { numRuns: 2000 },
  );
});

test('canonicalIp and ipFamily', () => {
  assert.equal(canonicalIp('2001:DB8:0::1'), '2001:db8::1');
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(ipFamily('10.0.0.1'), 4);
  assert.equal(ipFamily('nope'), undefined);
});

test('MAC addresses', () => {
  assert.equal(formatMac(parseMac('AA-BB-CC-0D-EE-FF')), 'aa:bb:cc:0d:ee:ff');
  assert.deepEqual([...parseMac('02:00:00:00:00:01')], [2, 0, 0, 0, 0, 1]);
  for (const bad of ['aa:bb:cc:dd:ee', 'aa:bb-cc:dd:ee:ff', 'aabb.ccdd.eeff', 'gg:00:00:00:00:00', 'a:b:c:d:e:f']) {
    assert.throws(() => parseMac(bad), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e), bad);
  }
});

test('prefixes: parse, network, containment', () => {
  const p = parsePrefix('10.1.2.3/8');
  assert.deepEqual({ ...p }, { family: 4, address: '10.1.2.3', length: 8 });
  assert.equal(formatPrefix(prefixNetwork(p)), '10.0.0.0/8');
  assert.equal(formatPrefix(prefixNetwork('2001:db8:ffff::1/36')), '2001:db8:f000::/36');
  assert.equal(formatPrefix(parsePrefix('2001:DB8::/32')), '2001:db8::/32');
  assert.ok(prefixContains('10.0.0.0/8', '10.255.1.1'));
  assert.ok(!prefixContains('10.0.0.0/8', '11.0.0.0'));
  assert.ok(prefixContains('10.0.0.0/8', '10.1.0.0/16'));
  assert.ok(!prefixContains('10.1.0.0/16', '10.0.0.0/8'));
  assert.ok(prefixContains('0.0.0.0/0', '203.0.113.9'));
  assert.ok(prefixContains('192.0.2.7/32', '192.0.2.7'));
  assert.ok(!prefixContains('192.0.2.7/32', '192.0.2.6'));
  assert.ok(prefixContains('2001:db8::/32', '2001:db8:ffff::1'));
  assert.ok(!prefixContains('2001:db8::/32', '2001:db9::'));
  assert.ok(!prefixContains('::/0', '10.0.0.1'), 'families never contain each other');
  assert.ok(prefixContains('10.9.9.9/8', '10.0.0.1'), 'host bits of the prefix are ignored');
});

test('prefix errors name the field', () => {
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '::/129', '10.0.0.0/-1']) {
    assert.throws(() => parsePrefix(bad, 'vips[0]'), (e) => (NA_ERR_PACKET_BAD_PREFIX.is(e) || NA_ERR_PACKET_BAD_ADDRESS.is(e)) && (e as Error).message.startsWith('vips[0]'), bad);
  }
  assert.throws(() => parsePrefix('1.2.3/8'), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e));
});

test('netmasks', () => {
  assert.equal(netmask(4, 20), '255.255.240.0');
  assert.equal(netmask(4, 0), '0.0.0.0');
  assert.equal(netmask(4, 32), '255.255.255.255');
  assert.equal(netmask(6, 64), 'ffff:ffff:ffff:ffff::');
  assert.equal(netmaskLength('255.255.240.0'), 20);
  assert.throws(() => netmaskLength('255.0.255.0'), (e) => NA_ERR_PACKET_BAD_PREFIX.is(e));
  assert.throws(() => netmask(4, 33), (e) => NA_ERR_PACKET_BAD_PREFIX.is(e));
  fc.assert(fc.property(fc.integer({ min: 0, max: 128 }), (n) => netmaskLength(netmask(6, n)) === n));
  fc.assert(fc.property(fc.integer({ min: 0, max: 32 }), (n) => netmaskLength(netmask(4, n)) === n));
});

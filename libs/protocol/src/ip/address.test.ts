import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NA_ERR_PACKET_BAD_ADDRESS } from '../errors.js';
import {
  canonicalIp,
  formatIPv4,
  formatIPv6,
  formatIp,
  formatScopedIp,
  ipFamily,
  ipv4Bytes,
  ipv4FromNumber,
  ipv4ToNumber,
  ipv6Bytes,
  isIPv4,
  isIPv6,
  isLinkLocalIPv6,
  parseIPv4,
  parseIPv6,
  parseIp,
  parseScopedIp,
} from './address.js';

const canon = (text: string): string => formatIPv6(parseIPv6(text));
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

test('IPv4 text round-trips and rejects ambiguous or malformed forms', () => {
  assert.deepEqual([...parseIPv4('192.0.2.1')], [192, 0, 2, 1]);
  assert.equal(formatIPv4(Uint8Array.of(0, 10, 0, 0, 2), 1), '10.0.0.2');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '', 'a.b.c.d', '1.2.3.-1']) {
    assert.throws(() => parseIPv4(bad), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e), bad);
    assert.equal(ipv4Bytes(bad), undefined, bad);
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
  assert.throws(() => parseIp('router1', 'services[0].vip'), { message: 'services[0].vip: expected an IPv4 or IPv6 address, got "router1"' });
  assert.throws(() => canonicalIp('fe80::1%eth0', 'bgp.peers[0].address'), { message: 'bgp.peers[0].address: expected an IPv4 or IPv6 address, got "fe80::1%eth0"' });
  assert.throws(() => formatIp(new Uint8Array(5)), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e));
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
  // from the BGP codecs' tests (bytes in, text out)
  const fromBytes: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ];
  for (const [bytes, text] of fromBytes) assert.equal(formatIPv6(hex(bytes)), text);
});

test('IPv6 parsing rejects malformed text', () => {
  const bad = [
    '', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', 'g::1', '12345::',
    '::1%eth0', '1.2.3.4::', '::1.2.3', '::256.1.1.1', ':1::2', '1::2:', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4:5',
  ];
  for (const text of bad) {
    assert.throws(() => parseIPv6(text), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e), text);
    assert.equal(ipv6Bytes(text), undefined, text);
  }
});

test('IPv6 parsing: compressed forms, embedded IPv4, no zone index', () => {
  assert.deepEqual(ipv6Bytes('::ffff:192.0.2.1'), hex('00000000000000000000ffffc0000201'));
  assert.deepEqual(ipv6Bytes('2001:DB8::1'), hex('20010db8000000000000000000000001'));
  assert.equal(ipv6Bytes('fe80::1%eth0'), undefined);
  assert.equal(ipv6Bytes('1.2.3.4'), undefined);
  assert.equal(ipv4Bytes('01.2.3.4'), undefined);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(ipv6Bytes(formatIPv6(b)), b);
    }),
    { numRuns: 500 },
  );
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
  // from libs/netlab's addr tests
  assert.equal(canonicalIp('2001:db8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalIp('FD00:0::2'), 'fd00::2');
  // netlab wrote mapped addresses in hex (`::ffff:a00:1`); the one module keeps RFC 5952 §5's
  // mixed notation, as the packet and BGP codecs always did
  assert.equal(canonicalIp('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
  assert.equal(canonicalIp('::ffff:a00:1'), '::ffff:10.0.0.1');
});

test('ipFamily tells IPv4 from IPv6 from neither (from libs/config), zones refused', () => {
  assert.equal(ipFamily('10.0.0.1'), 4);
  assert.equal(ipFamily('2001:db8::1'), 6);
  assert.equal(ipFamily('::ffff:192.0.2.1'), 6);
  // libs/config answered 6 here; a zone is refused by every plain-address function now (see
  // parseScopedIp), because nothing that takes a plain address can use one
  assert.equal(ipFamily('fe80::1%eth0'), undefined);
  for (const bad of ['', '10.0.0', '10.0.0.256', '010.0.0.1', 'localhost', '2001:db8:::1', '[::1]']) assert.equal(ipFamily(bad), undefined, bad);
  assert.equal(ipFamily(undefined as unknown as string), undefined);
  assert.ok(isIPv4('192.0.2.1') && !isIPv4('::1'));
  assert.ok(isIPv6('::1') && !isIPv6('192.0.2.1') && !isIPv6('fe80::1%eth0'));
});

test('link-local IPv6 (from libs/netlab)', () => {
  assert.ok(isLinkLocalIPv6('fe80::1'));
  assert.ok(isLinkLocalIPv6('febf:ffff::1'));
  assert.ok(!isLinkLocalIPv6('fec0::1'));
  assert.ok(!isLinkLocalIPv6('fd00::1'));
  assert.ok(!isLinkLocalIPv6('169.254.0.1'));
  assert.ok(!isLinkLocalIPv6('fe80::1%eth0'), 'text with a zone is not a plain address');
  assert.ok(isLinkLocalIPv6(parseIPv6('fe80::2')));
});

test('parseScopedIp: a zone only on an IPv6 link-local address', () => {
  assert.deepEqual({ ...parseScopedIp('fe80::1%eth0') }, { family: 6, address: 'fe80::1', zone: 'eth0' });
  assert.deepEqual({ ...parseScopedIp('FE80:0::1%2') }, { family: 6, address: 'fe80::1', zone: '2' });
  assert.deepEqual({ ...parseScopedIp('10.0.0.1') }, { family: 4, address: '10.0.0.1' });
  assert.deepEqual({ ...parseScopedIp('2001:DB8::1') }, { family: 6, address: '2001:db8::1' });
  assert.equal(formatScopedIp(parseScopedIp('fe80::1%veth-a.10')), 'fe80::1%veth-a.10');
  assert.equal(formatScopedIp(parseScopedIp('::ffff:192.0.2.1')), '::ffff:192.0.2.1');
  assert.throws(() => parseScopedIp('2001:db8::1%eth0', 'listen'), {
    code: 'NA_ERR_PACKET_BAD_ADDRESS',
    message: 'listen: expected a zone (%interface) only on an IPv6 link-local address (fe80::/10), got "2001:db8::1%eth0"',
  });
  for (const bad of ['10.0.0.1%eth0', 'fe80::1%', 'fe80::1%a%b', 'fe80::1%sixteen-chars-ab', 'fe80::1%eth 0', 'fe80::1%eth0]', '%eth0', 'nope']) {
    assert.throws(() => parseScopedIp(bad, 'f'), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e) && (e as Error).message.startsWith('f: '), bad);
  }
});

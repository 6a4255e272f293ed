import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalPrefix, formatIPv6, ipv4Bytes, ipv6Bytes, parsePrefix } from './address.js';
import { hex } from './testing/bytes.js';

test('IPv6 text follows RFC 5952: lower case, longest zero run compressed, single zero group kept', () => {
  const cases: [string, string][] = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ];
  for (const [bytes, text] of cases) assert.equal(formatIPv6(hex(bytes)), text);
});

test('IPv6 parsing: compressed forms, embedded IPv4, no zone index', () => {
  assert.deepEqual(ipv6Bytes('::ffff:192.0.2.1'), hex('00000000000000000000ffffc0000201'));
  assert.deepEqual(ipv6Bytes('2001:DB8::1'), hex('20010db8000000000000000000000001'));
  assert.equal(ipv6Bytes('fe80::1%eth0'), undefined);
  assert.equal(ipv6Bytes('1.2.3.4'), undefined);
  assert.equal(ipv4Bytes('01.2.3.4'), undefined);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(ipv6Bytes(formatIPv6(b)), Buffer.from(b));
    }),
    { numRuns: 500 },
  );
});

test('prefixes: CIDR text, host bits must be clear, canonical text', () => {
  assert.deepEqual(parsePrefix('10.1.0.0/16'), { family: 'ipv4-unicast', bytes: hex('0a010000'), length: 16 });
  assert.equal(parsePrefix('10.1.0.0/33'), 'prefix length of "10.1.0.0/33" must be 0..32');
  assert.equal(parsePrefix('10.1.0.0/016'), 'prefix length of "10.1.0.0/016" must be 0..32');
  assert.equal(parsePrefix('10.1.0.1/16'), '10.1.0.1/16 has host bits set beyond /16');
  assert.equal(parsePrefix('10.1.0.0'), 'expected a prefix in CIDR notation, got "10.1.0.0"');
  assert.equal(canonicalPrefix('2001:DB8:0:0::/32'), '2001:db8::/32');
  assert.equal(canonicalPrefix('0.0.0.0/0'), '0.0.0.0/0');
});

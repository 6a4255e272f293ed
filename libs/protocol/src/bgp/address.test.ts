import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIPv6, ipv4Bytes, ipv6Bytes, nlriPrefix } from './address.js';
import { hex } from './testing/bytes.js';

// The RFC 5952 formatting cases that were here moved to ../ip/address.test.ts with the formatter
// they test; canonicalPrefix's to ../ip/prefix.test.ts (formatPrefix(parsePrefix(…))).

test('IPv6 parsing into Buffers: compressed forms, embedded IPv4, no zone index', () => {
  assert.deepEqual(ipv6Bytes('::ffff:192.0.2.1'), hex('00000000000000000000ffffc0000201'));
  assert.deepEqual(ipv6Bytes('2001:DB8::1'), hex('20010db8000000000000000000000001'));
  assert.equal(ipv6Bytes('fe80::1%eth0'), undefined);
  assert.equal(ipv6Bytes('1.2.3.4'), undefined);
  assert.equal(ipv4Bytes('01.2.3.4'), undefined);
  assert.ok(Buffer.isBuffer(ipv4Bytes('192.0.2.1')));
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(ipv6Bytes(formatIPv6(b)), Buffer.from(b));
    }),
    { numRuns: 500 },
  );
});

test('prefixes: CIDR text as NLRI, host bits must be clear', () => {
  assert.deepEqual(nlriPrefix('10.1.0.0/16'), { family: 'ipv4-unicast', bytes: hex('0a010000'), length: 16 });
  assert.deepEqual(nlriPrefix('2001:db8::/32'), { family: 'ipv6-unicast', bytes: hex('20010db8000000000000000000000000'), length: 32 });
  assert.equal(nlriPrefix('10.1.0.0/33'), 'prefix length of "10.1.0.0/33" must be 0..32');
  assert.equal(nlriPrefix('10.1.0.0/016'), 'prefix length of "10.1.0.0/016" must be 0..32');
  assert.equal(nlriPrefix('10.1.0.1/16'), '10.1.0.1/16 has host bits set beyond /16');
  // was 'expected a prefix in CIDR notation, got "10.1.0.0"': the one parser's wording adds the form
  assert.equal(nlriPrefix('10.1.0.0'), 'expected a prefix in CIDR notation (address/prefix-length like 10.0.0.0/24 or 2001:db8::/32), got "10.1.0.0"');
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NA_ERR_PACKET_BAD_ADDRESS, NA_ERR_PACKET_BAD_PREFIX } from '../errors.js';
import { formatPrefix, isPrefixProblem, netmask, netmaskLength, parsePrefix, prefixContains, prefixNetwork, tryParsePrefix } from './prefix.js';
import type { Prefix, PrefixProblem } from './prefix.js';

const problem = (text: unknown): PrefixProblem => {
  const r = tryParsePrefix(text);
  assert.ok(isPrefixProblem(r), `${String(text)} parsed`);
  return r;
};
const ok = (text: string, allowHostBits = false): Prefix => {
  const r = tryParsePrefix(text, { allowHostBits });
  assert.ok(!isPrefixProblem(r), isPrefixProblem(r) ? r.message : '');
  return r;
};

test('prefixes: parse, network, containment', () => {
  // host bits are refused by default now; an interface address asks for them
  const p = parsePrefix('10.1.2.3/8', 'prefix', { allowHostBits: true });
  assert.deepEqual({ ...p }, { family: 4, address: '10.1.2.3', length: 8 });
  assert.throws(() => parsePrefix('10.1.2.3/8', 'routes[0].prefix'), {
    code: 'NA_ERR_PACKET_BAD_PREFIX',
    message: 'routes[0].prefix: 10.1.2.3/8 has host bits set beyond /8',
  });
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
  // from libs/netlab's addr tests (subnet membership of interface addresses)
  assert.ok(prefixContains('10.0.0.1/24', '10.0.0.254'));
  assert.ok(!prefixContains('10.0.0.1/24', '10.0.1.1'));
  assert.ok(!prefixContains('10.0.0.1/24', 'fd00::1'));
  assert.ok(prefixContains('fd00::1/64', 'fd00::ffff:1'));
  assert.ok(!prefixContains('fd00::1/64', 'fd01::1'));
});

test('prefix errors name the field', () => {
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '::/129', '10.0.0.0/-1']) {
    assert.throws(() => parsePrefix(bad, 'vips[0]'), (e) => (NA_ERR_PACKET_BAD_PREFIX.is(e) || NA_ERR_PACKET_BAD_ADDRESS.is(e)) && (e as Error).message.startsWith('vips[0]'), bad);
  }
  assert.throws(() => parsePrefix('1.2.3/8'), (e) => NA_ERR_PACKET_BAD_ADDRESS.is(e));
  assert.throws(() => parsePrefix('1.2.3/8', 'announce[2]'), { message: 'announce[2]: expected an IPv4 or IPv6 address, got "1.2.3"' });
});

test('prefixes of both families, canonical text (from libs/config and the BGP codecs)', () => {
  assert.deepEqual({ ...ok('10.0.0.0/8') }, { family: 4, address: '10.0.0.0', length: 8 });
  assert.deepEqual({ ...ok('0.0.0.0/0') }, { family: 4, address: '0.0.0.0', length: 0 });
  assert.deepEqual({ ...ok('192.0.2.1/32') }, { family: 4, address: '192.0.2.1', length: 32 });
  assert.deepEqual({ ...ok('2001:db8::/32') }, { family: 6, address: '2001:db8::', length: 32 });
  assert.deepEqual({ ...ok('::/0') }, { family: 6, address: '::', length: 0 });
  assert.deepEqual({ ...ok('::ffff:10.0.0.0/104') }, { family: 6, address: '::ffff:10.0.0.0', length: 104 });
  assert.deepEqual({ ...ok('10.1.0.0/16') }, { family: 4, address: '10.1.0.0', length: 16 });
  assert.equal(formatPrefix(ok('2001:DB8:0:0::/32')), '2001:db8::/32');
  assert.equal(formatPrefix(ok('0.0.0.0/0')), '0.0.0.0/0');
  // from libs/netlab: interface addresses keep their host bits, canonicalised
  assert.deepEqual({ ...ok('10.0.0.1/24', true) }, { family: 4, address: '10.0.0.1', length: 24 });
  assert.deepEqual({ ...ok('FD00:0:0::02/64', true) }, { family: 6, address: 'fd00::2', length: 64 });
});

test('bad syntax, bad addresses and out-of-range lengths are refused, not taken for host bits', () => {
  const cases: [string, PrefixProblem['reason']][] = [
    ['10.0.0.0', 'syntax'],
    ['10.0.0.0/', 'length'],
    ['10.0.0.0/33', 'length'],
    ['10.0.0.0/08', 'length'],
    ['10.0.0.0/-1', 'length'],
    ['2001:db8::/129', 'length'],
    ['fe80::%eth0/64', 'address'], // a prefix is never interface-scoped
    ['x/8', 'address'],
    ['/8', 'address'],
    ['10.0.0.0/8/8', 'length'],
  ];
  for (const [bad, reason] of cases) assert.equal(problem(bad).reason, reason, bad);
  assert.equal(problem(42).reason, 'syntax');
  // messages (the BGP codecs' exact wording; netlab matched /address\/prefix-length/, /0\.\.32/, /0\.\.128/)
  assert.equal(problem('10.1.0.0/33').message, 'prefix length of "10.1.0.0/33" must be 0..32');
  assert.equal(problem('10.1.0.0/016').message, 'prefix length of "10.1.0.0/016" must be 0..32');
  assert.match(problem('fd00::1/129').message, /0\.\.128/);
  assert.match(problem('10.0.0.1').message, /^expected a prefix in CIDR notation \(address\/prefix-length .*\), got "10\.0\.0\.1"$/);
  assert.match(problem(42).message, /got number$/);
  assert.equal(problem('10.0.0.300/24').message, '"10.0.0.300" is not an IPv4 or IPv6 address');
});

test('host bits are refused and the network meant is named', () => {
  const hostBits = (text: string, network: string): void => {
    const r = problem(text);
    assert.equal(r.reason, 'host-bits', text);
    assert.equal(r.reason === 'host-bits' ? r.network : undefined, network, text);
  };
  hostBits('10.0.0.5/24', '10.0.0.0/24');
  hostBits('10.1.2.3/12', '10.0.0.0/12');
  hostBits('2001:db8::1/64', '2001:db8::/64');
  hostBits('2001:db8:1:2:3:4:5:6/48', '2001:db8:1::/48');
  hostBits('1:0:0:1:0:0:0:1/64', '1:0:0:1::/64');
  assert.equal(problem('10.1.0.1/16').message, '10.1.0.1/16 has host bits set beyond /16');
  assert.equal(isPrefixProblem(tryParsePrefix('10.0.0.5/24', { allowHostBits: true })), false);
  // property: a prefix with its host bits cleared is accepted and is its own network
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), (b, len) => {
      const net = prefixNetwork(parsePrefix(`${Buffer.from(b).toString('hex').replace(/(....)(?!$)/g, '$1:')}/${len}`, 'p', { allowHostBits: true }));
      assert.deepEqual(ok(formatPrefix(net)), net);
    }),
    { numRuns: 300 },
  );
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

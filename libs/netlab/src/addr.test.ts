import { test } from 'vitest';
import assert from 'node:assert/strict';
import { cidrContains, interfaceAddress, isNetworkAddress, parseHostPort, procHexToIp } from './addr.js';
import type { Cidr } from './addr.js';

// ipFamily, canonicalIp, isLinkLocal6 and parseCidr's parsing moved to @netaccel/protocol's IP
// module (src/ip/address.ts, src/ip/prefix.ts); their assertions moved to its tests. These test
// what netlab keeps: the interface-address shape, subnet helpers, /proc decoding, host:port.

function cidr(text: string): Cidr {
  const c = interfaceAddress(text);
  assert.ok(typeof c !== 'string', String(c));
  return c;
}

test('interfaceAddress accepts both families and canonicalises', () => {
  assert.deepEqual({ ...cidr('10.0.0.1/24') }, { text: '10.0.0.1/24', addr: '10.0.0.1', len: 24, family: 4 });
  assert.deepEqual({ ...cidr('FD00:0:0::02/64') }, { text: 'FD00:0:0::02/64', addr: 'fd00::2', len: 64, family: 6 });
  assert.match(interfaceAddress('10.0.0.1') as string, /address\/prefix-length/);
  assert.match(interfaceAddress('10.0.0.300/24') as string, /not an IPv4 or IPv6 address/);
  assert.match(interfaceAddress('10.0.0.1/33') as string, /0\.\.32/);
  assert.match(interfaceAddress('fd00::1/129') as string, /0\.\.128/);
});

test('subnet membership and network addresses', () => {
  assert.ok(cidrContains(cidr('10.0.0.1/24'), '10.0.0.254'));
  assert.ok(!cidrContains(cidr('10.0.0.1/24'), '10.0.1.1'));
  assert.ok(!cidrContains(cidr('10.0.0.1/24'), 'fd00::1'));
  assert.ok(cidrContains(cidr('fd00::1/64'), 'fd00::ffff:1'));
  assert.ok(!cidrContains(cidr('fd00::1/64'), 'fd01::1'));
  assert.ok(!cidrContains(cidr('10.0.0.1/24'), 'not an address'));
  assert.ok(isNetworkAddress(cidr('10.1.0.0/16')));
  assert.ok(!isNetworkAddress(cidr('10.1.0.1/16')));
  assert.ok(isNetworkAddress(cidr('::/0')));
});

test('procHexToIp decodes /proc/net/tcp{,6} addresses', () => {
  assert.equal(procHexToIp('0100007F'), '127.0.0.1');
  assert.equal(procHexToIp('0202000A'), '10.0.2.2');
  assert.equal(procHexToIp('00000000000000000000000000000000'), '::');
  assert.equal(procHexToIp('0000FDFD000000000000000002000000'), 'fdfd::2');
  assert.equal(procHexToIp('xyz'), undefined);
  // an IPv4-mapped socket reads as ::ffff:10.0.0.1, the form socketMatches looks for
  assert.equal(procHexToIp('0000000000000000FFFF00000100000A'), '::ffff:10.0.0.1');
});

test('parseHostPort', () => {
  assert.deepEqual(parseHostPort('10.0.2.2:8080'), { host: '10.0.2.2', port: 8080, family: 4 });
  assert.deepEqual(parseHostPort('[fd02::2]:179'), { host: 'fd02::2', port: 179, family: 6 });
  assert.match(parseHostPort('fd02::2:179') as string, /addr:port/);
  assert.match(parseHostPort('10.0.2.2:0') as string, /1\.\.65535/);
  assert.match(parseHostPort('host:80') as string, /not an IP address/);
});

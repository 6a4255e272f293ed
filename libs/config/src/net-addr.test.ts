import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ipFamily, isHostName, parseCidr, parseListenAddress } from './net-addr.js';

test('ipFamily tells IPv4 from IPv6 from neither', () => {
  assert.equal(ipFamily('10.0.0.1'), 4);
  assert.equal(ipFamily('2001:db8::1'), 6);
  assert.equal(ipFamily('::ffff:192.0.2.1'), 6);
  assert.equal(ipFamily('fe80::1%eth0'), 6);
  for (const bad of ['', '10.0.0', '10.0.0.256', '010.0.0.1', 'localhost', '2001:db8:::1', '[::1]']) assert.equal(ipFamily(bad), 0, bad);
});

test('parseCidr accepts networks of both families', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { ok: true, cidr: { address: '10.0.0.0', prefixLength: 8, family: 4 } });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { ok: true, cidr: { address: '0.0.0.0', prefixLength: 0, family: 4 } });
  assert.deepEqual(parseCidr('192.0.2.1/32'), { ok: true, cidr: { address: '192.0.2.1', prefixLength: 32, family: 4 } });
  assert.deepEqual(parseCidr('2001:db8::/32'), { ok: true, cidr: { address: '2001:db8::', prefixLength: 32, family: 6 } });
  assert.deepEqual(parseCidr('::/0'), { ok: true, cidr: { address: '::', prefixLength: 0, family: 6 } });
  assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), { ok: true, cidr: { address: '::ffff:10.0.0.0', prefixLength: 104, family: 6 } });
});

test('parseCidr refuses bad syntax and out-of-range lengths', () => {
  for (const bad of ['10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/-1', '2001:db8::/129', 'fe80::%eth0/64', 'x/8', '/8', '10.0.0.0/8/8']) {
    assert.deepEqual(parseCidr(bad), { ok: false, reason: 'syntax' }, bad);
  }
});

test('parseCidr refuses host bits and names the network meant', () => {
  assert.deepEqual(parseCidr('10.0.0.5/24'), { ok: false, reason: 'host-bits', network: '10.0.0.0/24' });
  assert.deepEqual(parseCidr('10.1.2.3/12'), { ok: false, reason: 'host-bits', network: '10.0.0.0/12' });
  assert.deepEqual(parseCidr('2001:db8::1/64'), { ok: false, reason: 'host-bits', network: '2001:db8::/64' });
  assert.deepEqual(parseCidr('2001:db8:1:2:3:4:5:6/48'), { ok: false, reason: 'host-bits', network: '2001:db8:1::/48' });
  assert.deepEqual(parseCidr('1:0:0:1:0:0:0:1/64'), { ok: false, reason: 'host-bits', network: '1:0:0:1::/64' });
  assert.equal(parseCidr('10.0.0.5/24', true).ok, true);
});

test('parseListenAddress reads host:port with bracketed IPv6', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseListenAddress('[::1]:9100'), { host: '::1', port: 9100 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseListenAddress('metrics.example.org:65535'), { host: 'metrics.example.org', port: 65535 });
  for (const bad of ['127.0.0.1', ':9100', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:09100', '::1:9100', '[::1]', '[10.0.0.1]:80', 'bad host:80', '1.2.3:80', 'a..b:80']) {
    assert.equal(parseListenAddress(bad), undefined, bad);
  }
});

test('isHostName follows RFC 1123', () => {
  assert.ok(isHostName('localhost'));
  assert.ok(isHostName('router-1.lab.example.'));
  assert.ok(!isHostName('-router'));
  assert.ok(!isHostName('a'.repeat(64)));
  assert.ok(!isHostName(''));
  assert.ok(!isHostName('under_score'));
});

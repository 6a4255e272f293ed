import { test } from 'vitest';
import assert from 'node:assert/strict';
import { isHostName, parseListenAddress } from './net-addr.js';

// ipFamily's and parseCidr's tests moved to @netaccel/protocol (src/ip/address.test.ts,
// src/ip/prefix.test.ts) with the one IP module that replaced them.

test('parseListenAddress reads host:port with bracketed IPv6', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseListenAddress('[::1]:9100'), { host: '::1', port: 9100 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.deepEqual(parseListenAddress('metrics.example.org:65535'), { host: 'metrics.example.org', port: 65535 });
  assert.deepEqual(parseListenAddress('[fe80::1%eth0]:9100'), { host: 'fe80::1%eth0', port: 9100 });
  for (const bad of ['127.0.0.1', ':9100', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:09100', '::1:9100', '[::1]', '[10.0.0.1]:80', 'bad host:80', '1.2.3:80', 'a..b:80', '[2001:db8::1%eth0]:80', '[fe80::1%]:80']) {
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

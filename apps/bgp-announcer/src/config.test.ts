import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseConfig } from '@netaccel/config';
import { bgpAnnouncerConfig } from './config.js';
import { allPeerSettings } from './peer-config.js';

const parse = (yaml: string) => parseConfig(bgpAnnouncerConfig, { yaml, env: {} });

test('defaults, units and per-peer settings', () => {
  const c = parse(`
bgp:
  localAs: 65001
  routerId: 192.0.2.1
  peers:
    - { address: '2001:DB8::1', remoteAs: 65000, bfd: { minTx: 100ms, minRx: 100ms } }
    - { address: 10.0.0.1, remoteAs: 65001, holdTime: 9, passive: true, password: s3cret, families: [ipv4-unicast] }
`);
  assert.equal(c.bgp.holdTime, 90);
  assert.equal(c.bgp.connectRetry, 30_000);
  const [v6, v4] = allPeerSettings(c);
  assert.equal(v6!.address, '2001:db8::1', 'canonical');
  assert.equal(v6!.holdTime, 90);
  assert.deepEqual(v6!.bfd, { minTxUs: 100_000, minRxUs: 100_000, multiplier: 3 });
  assert.deepEqual(v6!.families, ['ipv4-unicast', 'ipv6-unicast']);
  assert.equal(v4!.holdTime, 9);
  assert.equal(v4!.passive, true);
  assert.equal(v4!.password, 's3cret');
  assert.equal(v4!.bfd, undefined);
  assert.ok(Object.isFrozen(v4));
});

test('problems are refused with the path of the field', () => {
  const bad = (yaml: string, re: RegExp) => assert.throws(() => parse(`bgp:\n  localAs: 65001\n  routerId: 192.0.2.1\n${yaml}`), re);
  bad('  peers:\n    - { address: 10.0.0.1, remoteAs: 1 }\n    - { address: 10.0.0.1, remoteAs: 2 }', /bgp.peers\[1\].address: expected one entry per peer, 10.0.0.1 is already bgp.peers\[0\]/);
  bad('  peers:\n    - { address: 10.0.0.1, remoteAs: 1, localAddress: "2001:db8::1" }', /bgp.peers\[0\].localAddress: expected an IPv4 address/);
  bad('  peers:\n    - { address: 10.0.0.1, remoteAs: 1, holdTime: 1 }', /bgp.peers\[0\].holdTime: expected 0 or 3..65535/);
  bad('  announce:\n    - { prefix: 192.0.2.0/24, communities: ["70000:1"] }', /bgp.announce\[0\].communities\[0\]: expected ASN:VALUE, each 0..65535/);
  bad('  announce:\n    - { prefix: 192.0.2.1/24 }', /bgp.announce\[0\].prefix/);
  bad('  peers:\n    - { address: 10.0.0.1, remoteAs: 1, bfd: { multiplier: 0 } }', /bgp.peers\[0\].bfd.multiplier/);
});

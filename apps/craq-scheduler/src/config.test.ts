import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseConfig } from '@netaccel/config';
import { craqSchedulerConfig } from './config.js';

const GOOD = `
chain:
  nodes:
    - { name: n1, address: 192.0.2.1 }
    - { name: n2, address: 192.0.2.2 }
redis: { url: 'redis://127.0.0.1:6379' }
placement: { budget: 64KiB, interval: 500ms }
`;

test('a good configuration: defaults and units', () => {
  const c = parseConfig(craqSchedulerConfig, { env: {}, yaml: GOOD });
  assert.equal(c.placement.budget, 65536);
  assert.equal(c.placement.interval, 500);
  assert.equal(c.chain.nodes[1]!.port, 7480);
  assert.equal(c.writeBack.flushInterval, 20);
  assert.deepEqual(c.redis.counterSets, ['netaccel:craq:heat:reads'], "sidecar-offload's default readsKey");
  assert.equal(c.grpc.socket, '/run/netaccel/craq-scheduler.sock');
});

test('environment overrides', () => {
  const c = parseConfig(craqSchedulerConfig, { env: { NETACCEL_CRAQ_SCHEDULER_PLACEMENT__MAX_KEYS: '7' }, yaml: GOOD });
  assert.equal(c.placement.maxKeys, 7);
});

test('a bad configuration is refused whole, every bad field named by its path', () => {
  const bad = `
chain:
  nodes:
    - { name: n1, address: 192.0.2.1 }
    - { name: n1, address: 192.0.2.1 }
    - { name: n3, address: not-an-ip }
placement: { budget: 12, hysteresis: -1 }
writeBack: { flushInterval: soon }
etcd: { endpoints: [] }
bogus: 1
`;
  assert.throws(
    () => parseConfig(craqSchedulerConfig, { env: {}, yaml: bad }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NA_ERR_CONFIG_INVALID');
      for (const path of ['chain.nodes[1].name', 'chain.nodes[1].port', 'chain.nodes[2].address', 'placement.budget', 'placement.hysteresis', 'writeBack.flushInterval', 'etcd.endpoints', 'bogus']) {
        assert.match(err.message, new RegExp(path.replaceAll(/[.[\]]/g, (c) => `\\${c}`)), `names ${path}`);
      }
      return true;
    },
  );
  assert.throws(() => parseConfig(craqSchedulerConfig, { env: {}, yaml: 'redis: { url: x }' }), /redis\.url/);
});

test('membership: local by default; via paxos needs an odd group, self in it, a view change timeout above two heartbeats', () => {
  assert.equal(parseConfig(craqSchedulerConfig, { env: {}, yaml: GOOD }).membership.via, 'local');
  const good = parseConfig(craqSchedulerConfig, { env: {}, yaml: `${GOOD}membership: { via: paxos, paxos: { self: 2, replicas: [{ address: 192.0.2.1, port: 7490 }, { address: 192.0.2.2, port: 7490 }, { address: 192.0.2.3, port: 7490 }] } }\n` });
  assert.deepEqual([good.membership.paxos.self, good.membership.paxos.key, good.membership.paxos.heartbeat, good.membership.paxos.viewChangeTimeout], [2, '/netaccel/craq/chain', 50, 400]);
  assert.deepEqual([good.membership.paxos.lease, good.membership.paxos.clockDrift], [500, 0.1], 'the lease and its clock-rate bound');
  const refused = (yaml: string, path: RegExp): void => {
    assert.throws(() => parseConfig(craqSchedulerConfig, { env: {}, yaml: `${GOOD}${yaml}\n` }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NA_ERR_CONFIG_INVALID');
      assert.match(err.message, path);
      return true;
    });
  };
  refused('membership: { via: paxos, paxos: { replicas: [{ address: 192.0.2.1, port: 7490 }, { address: 192.0.2.2, port: 7490 }] } }', /membership\.paxos\.replicas: expected an odd number of replicas \(2f \+ 1\), got 2/);
  refused('membership: { via: paxos, paxos: { self: 1, replicas: [{ address: 192.0.2.1, port: 7490 }] } }', /membership\.paxos\.self: expected an index of replicas, 0\.\.0, got 1/);
  refused('membership: { via: paxos, paxos: { replicas: [{ address: 192.0.2.1, port: 7490 }], heartbeat: 300ms } }', /membership\.paxos\.viewChangeTimeout: expected more than twice the heartbeat/);
  refused('membership: { via: paxos, paxos: { replicas: [{ address: 192.0.2.1, port: 7490 }], heartbeat: 100ms, viewChangeTimeout: 1s, lease: 150ms } }', /membership\.paxos\.lease: expected more than twice the heartbeat \(100 ms\), got 150 ms/);
  refused('membership: { via: paxos, paxos: { replicas: [{ address: 192.0.2.1, port: 7490 }], clockDrift: 1.5 } }', /membership\.paxos\.clockDrift/);
  refused('membership: { via: zookeeper }', /membership\.via/);
});

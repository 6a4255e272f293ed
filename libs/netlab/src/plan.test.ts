import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NODE_SCRIPT, planUp, routeLine, sysctlConf, vethIndexes } from './plan.js';
import { validateSpec } from './spec.js';

const topo = validateSpec({
  name: 'plan',
  nodes: {
    client: { routes: [{ to: 'default', via: '10.0.1.1' }] },
    router: {
      forwarding: true,
      sysctls: { 'net.ipv4.fib_multipath_hash_policy': 1 },
      routes: [{ to: '192.0.2.10/32', nexthops: [{ via: '10.0.2.2' }, { via: '10.0.3.2', weight: 3 }] }, { to: 'fd09::/64', via: 'fd02::2', metric: 5 }],
    },
    server: { addrs: { lo: '192.0.2.10/32' } },
    sw: {},
  },
  links: [
    { a: 'client', b: 'router', aAddr: '10.0.1.2/24', bAddr: '10.0.1.1/24' },
    { a: 'router', b: 'server', aAddr: ['10.0.2.1/24', 'fd02::1/64'], bAddr: ['10.0.2.2/24', 'fd02::2/64'], mtu: 9000 },
    { a: 'router', b: 'server', aAddr: '10.0.3.1/24', bAddr: '10.0.3.2/24' },
    { a: 'sw:p1', b: 'client:eth9' },
  ],
  bridges: [{ node: 'sw', name: 'br0', ports: ['p1'] }],
});
const ns = (n: string): string => `nalab-abc123-${n}`;
const plan = planUp(topo, ns, (n) => `/logs/sysctl-${n}.conf`);

test('the root batch creates namespaces, then veths and bridges directly inside them', () => {
  assert.deepEqual(plan.root, [
    'netns add nalab-abc123-client',
    'netns add nalab-abc123-router',
    'netns add nalab-abc123-server',
    'netns add nalab-abc123-sw',
    'link add name eth0 netns nalab-abc123-client index 100 type veth peer name eth0 netns nalab-abc123-router index 101',
    'link add name eth1 netns nalab-abc123-router index 102 mtu 9000 type veth peer name eth0 netns nalab-abc123-server index 103 mtu 9000',
    'link add name eth2 netns nalab-abc123-router index 104 type veth peer name eth1 netns nalab-abc123-server index 105',
    'link add name p1 netns nalab-abc123-sw index 106 type veth peer name eth9 netns nalab-abc123-client index 107',
    'link add name br0 netns nalab-abc123-sw type bridge stp_state 0',
  ]);
});

test('veth ends get distinct interface indexes', () => {
  const all = Array.from({ length: 50 }, (_, i) => vethIndexes(i)).flat();
  assert.equal(new Set(all).size, all.length);
  assert.ok(all.every((i) => i > 1));
});

test('ECMP and plain routes become ip route lines', () => {
  const router = topo.nodes[1]!;
  assert.equal(routeLine(router.routes[0]!), 'route add 192.0.2.10/32 nexthop via 10.0.2.2 nexthop via 10.0.3.2 weight 3');
  assert.equal(routeLine(router.routes[1]!), 'route add fd09::/64 metric 5 via fd02::2');
  assert.equal(routeLine(topo.nodes[0]!.routes[0]!), 'route add 0.0.0.0/0 via 10.0.1.1');
});

test('node batches: bridge ports, addresses (IPv6 nodad), links up, routes — in that order', () => {
  const router = plan.nodes.find((n) => n.node === 'router')!;
  assert.equal(router.ns, 'nalab-abc123-router');
  assert.equal(router.sysctlPath, '/logs/sysctl-router.conf');
  assert.deepEqual(router.lines, [
    'address add 10.0.1.1/24 dev eth0',
    'address add 10.0.2.1/24 dev eth1',
    'address add fd02::1/64 dev eth1 nodad',
    'address add 10.0.3.1/24 dev eth2',
    'link set dev lo up',
    'link set dev eth0 up',
    'link set dev eth1 up',
    'link set dev eth2 up',
    'route add 192.0.2.10/32 nexthop via 10.0.2.2 nexthop via 10.0.3.2 weight 3',
    'route add fd09::/64 metric 5 via fd02::2',
  ]);
  assert.deepEqual(router.waitUp, ['eth0', 'eth1', 'eth2']);
  const sw = plan.nodes.find((n) => n.node === 'sw')!;
  assert.deepEqual(sw.lines, ['link set dev p1 master br0', 'link set dev lo up', 'link set dev p1 up', 'link set dev br0 up']);
  assert.deepEqual(sw.waitUp, ['p1'], 'a bridge without addresses is not waited for');
  const server = plan.nodes.find((n) => n.node === 'server')!;
  assert.ok(server.lines.includes('address add 192.0.2.10/32 dev lo'));
});

test('sysctl files turn DAD and its start delay off, then apply forwarding and the spec', () => {
  const conf = sysctlConf(topo.nodes[1]!);
  const lines = conf.trim().split('\n');
  for (const c of ['all', 'default', 'eth0', 'eth1', 'eth2']) {
    assert.ok(lines.includes(`net.ipv6.conf.${c}.accept_dad = 0`), c);
    assert.ok(lines.includes(`net.ipv6.conf.${c}.router_solicitation_delay = 0`), c);
  }
  assert.deepEqual(lines.slice(-3), ['net.ipv4.ip_forward = 1', 'net.ipv6.conf.all.forwarding = 1', 'net.ipv4.fib_multipath_hash_policy = 1']);
  assert.deepEqual(plan.sysctlFiles.map((f) => f.path), ['/logs/sysctl-client.conf', '/logs/sysctl-router.conf', '/logs/sysctl-server.conf', '/logs/sysctl-sw.conf']);
});

test('the node script applies sysctls before the batch and reports failures by exit code', () => {
  assert.match(NODE_SCRIPT, /^sysctl -q -p "\$1" \|\| exit 1\nip -batch - \|\| exit 2\n/);
  assert.match(NODE_SCRIPT, /exit 3/);
});

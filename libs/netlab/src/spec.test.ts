import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_NETLAB_SPEC_INVALID } from './errors.js';
import { validateSpec } from './spec.js';
import type { LabSpec } from './spec-types.js';

const base: LabSpec = {
  name: 'three',
  nodes: {
    client: { routes: [{ to: 'default', via: '10.0.1.1' }, { to: 'default', via: 'fd01::1' }] },
    router: { forwarding: true, sysctls: { 'net.ipv4.fib_multipath_hash_policy': 1 } },
    server: { addrs: { lo: ['192.0.2.10/32', '2001:db8::10/128'] }, routes: [{ to: '0.0.0.0/0', via: '10.0.2.1' }] },
  },
  links: [
    { a: 'client:eth0', b: 'router:eth0', aAddr: ['10.0.1.2/24', 'fd01::2/64'], bAddr: ['10.0.1.1/24', 'fd01::1/64'] },
    { a: 'router:eth1', b: 'server:eth0', aAddr: '10.0.2.1/24', bAddr: '10.0.2.2/24', mtu: 9000 },
  ],
};

/** Validates `spec` expecting a spec error whose message starts with `path: `. */
function rejects(spec: unknown, path: string, re?: RegExp): void {
  assert.throws(
    () => validateSpec(spec),
    (err: unknown) => {
      assert.ok(NA_ERR_NETLAB_SPEC_INVALID.is(err), `not a spec error: ${String(err)}`);
      assert.ok(err.message.startsWith(`${path}: `), `message ${JSON.stringify(err.message)} does not start with ${path}`);
      assert.equal(err.details.path, path);
      if (re !== undefined) assert.match(err.message, re);
      return true;
    },
  );
}

/** A copy of the base spec with one change. */
function edit(change: (spec: any) => void): unknown {
  const spec = structuredClone(base) as any;
  change(spec);
  return spec;
}

test('a valid spec becomes a frozen topology', () => {
  const topo = validateSpec(base);
  assert.ok(Object.isFrozen(topo) && Object.isFrozen(topo.nodes) && Object.isFrozen(topo.nodes[0]));
  assert.deepEqual(topo.nodes.map((n) => n.name), ['client', 'router', 'server']);
  const router = topo.nodes[1]!;
  assert.deepEqual(router.ifaces.map((i) => [i.ifname, i.kind]), [['lo', 'loopback'], ['eth0', 'veth'], ['eth1', 'veth']]);
  assert.deepEqual(router.sysctls, [['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1'], ['net.ipv4.fib_multipath_hash_policy', '1']]);
  const client = topo.nodes[0]!;
  assert.deepEqual(client.routes.map((r) => [r.to, r.family, r.via]), [['0.0.0.0/0', 4, '10.0.1.1'], ['::/0', 6, 'fd01::1']]);
  const server = topo.nodes[2]!;
  assert.deepEqual(server.ifaces[0]!.addrs.map((a) => a.addr), ['192.0.2.10', '2001:db8::10']);
  assert.deepEqual(topo.links[1], { a: { node: 'router', ifname: 'eth1' }, b: { node: 'server', ifname: 'eth0' }, mtu: 9000 });
  assert.deepEqual(server.ifaces[1]!.peer, { node: 'router', ifname: 'eth1' });
});

test('link ends without a name get the first free eth<N> of their node', () => {
  const topo = validateSpec({
    name: 'auto',
    nodes: { r: {}, a: {}, b: {} },
    links: [{ a: 'r', b: 'a' }, { a: 'r', b: 'b:uplink' }, { a: 'r:eth0', b: 'a' }],
  });
  // r:eth0 is claimed explicitly by links[2], so links[0] and links[1] get eth1 and eth2
  assert.deepEqual(topo.links.map((l) => `${l.a.node}:${l.a.ifname}-${l.b.node}:${l.b.ifname}`), ['r:eth1-a:eth0', 'r:eth2-b:uplink', 'r:eth0-a:eth1']);
});

test('ECMP routes, route types, metrics and tables are validated and kept', () => {
  const topo = validateSpec(edit((s) => {
    s.links.push({ a: 'router:eth2', b: 'server:eth1', aAddr: '10.0.3.1/24', bAddr: '10.0.3.2/24' });
    s.nodes.router.routes = [
      { to: '192.0.2.10/32', nexthops: [{ via: '10.0.2.2' }, { via: '10.0.3.2', dev: 'eth2', weight: 2 }] },
      { to: '198.51.100.0/24', type: 'blackhole', metric: 10, table: 100 },
      { to: '192.0.2.20', via: '10.0.2.2', src: '10.0.2.1' },
    ];
  }));
  const routes = topo.nodes[1]!.routes;
  assert.deepEqual(routes[0]!.nexthops, [{ via: '10.0.2.2', dev: undefined, weight: undefined }, { via: '10.0.3.2', dev: 'eth2', weight: 2 }]);
  assert.deepEqual([routes[1]!.type, routes[1]!.metric, routes[1]!.table], ['blackhole', 10, 100]);
  assert.equal(routes[2]!.to, '192.0.2.20/32');
});

test('bridges enslave veth ends of their node and may carry addresses', () => {
  const topo = validateSpec({
    name: 'br',
    nodes: { sw: {}, h1: {}, h2: {} },
    links: [{ a: 'sw:p1', b: 'h1', bAddr: '10.9.0.1/24' }, { a: 'sw:p2', b: 'h2', bAddr: '10.9.0.2/24' }],
    bridges: [{ node: 'sw', name: 'br0', ports: ['p1', 'p2'], addr: '10.9.0.254/24' }],
  });
  const sw = topo.nodes[0]!;
  assert.deepEqual(sw.ifaces.map((i) => [i.ifname, i.kind, i.master]), [['lo', 'loopback', undefined], ['p1', 'veth', 'br0'], ['p2', 'veth', 'br0'], ['br0', 'bridge', undefined]]);
  assert.deepEqual(topo.bridges, [{ node: 'sw', name: 'br0', ports: ['p1', 'p2'], mtu: undefined }]);
});

test('top-level problems name their field', () => {
  rejects(null, 'spec', /expected an object/);
  rejects({ ...base, extra: 1 }, 'extra', /unknown field/);
  rejects({ ...base, name: 'has space' }, 'name');
  rejects({ ...base, nodes: {} }, 'nodes', /at least one node/);
  rejects({ ...base, nodes: { Router: {} }, links: [] }, 'nodes["Router"]', /a-z0-9_-/);
  rejects({ ...base, links: {} }, 'links', /expected an array/);
});

test('node problems name their field', () => {
  rejects(edit((s) => (s.nodes.router.sysctl = {})), 'nodes.router.sysctl', /unknown field \(expected one of forwarding, sysctls, addrs, routes\)/);
  rejects(edit((s) => (s.nodes.router.forwarding = 'yes')), 'nodes.router.forwarding', /true or false/);
  rejects(edit((s) => (s.nodes.router.sysctls = { 'net ipv4': 1 })), 'nodes.router.sysctls["net ipv4"]', /dotted sysctl key/);
  rejects(edit((s) => (s.nodes.router.sysctls = { 'net.ipv4.ip_forward': { a: 1 } })), 'nodes.router.sysctls["net.ipv4.ip_forward"]', /one-line string/);
  rejects(edit((s) => (s.nodes.router.sysctls = { 'net.ipv4.conf.eth9.rp_filter': 0 })), 'nodes.router.sysctls["net.ipv4.conf.eth9.rp_filter"]', /interface eth9/);
  rejects(edit((s) => (s.nodes.server.addrs = { eth7: '10.0.0.1/24' })), 'nodes.server.addrs.eth7', /no interface "eth7"/);
  rejects(edit((s) => (s.nodes.server.addrs = { lo: ['192.0.2.10/32', '192.0.2.10/32'] })), 'nodes.server.addrs.lo[1]', /already on server:lo \(nodes\.server\.addrs\.lo\[0\]\)/);
});

test('link problems name their field', () => {
  rejects(edit((s) => (s.links[0].a = 'nobody:eth0')), 'links[0].a', /no node "nobody" \(nodes: client, router, server\)/);
  rejects(edit((s) => (s.links[0].a = 'client:eth0:x')), 'links[0].a', /"node" or "node:ifname"/);
  rejects(edit((s) => (s.links[0].a = 'client:averyveryverylongname')), 'links[0].a', /1\.\.15 characters/);
  rejects(edit((s) => (s.links[1].a = 'router:eth0')), 'links[1].a', /router:eth0 is already used by links\[0\]\.b/);
  rejects(edit((s) => (s.links[1].mtu = 70000)), 'links[1].mtu', /68\.\.65535, got 70000/);
  rejects(edit((s) => (s.links[0].bAddr = ['10.0.1.1/24', 'fd01::1'])), 'links[0].bAddr[1]', /address\/prefix-length/);
  rejects(edit((s) => (s.links[1].aAddr = '10.0.2.300/24')), 'links[1].aAddr', /not an IPv4 or IPv6 address/);
  rejects(edit((s) => (s.links[1].aAddr = 5)), 'links[1].aAddr', /expected an array/);
  rejects(edit((s) => (s.links[0].speed = 5)), 'links[0].speed', /unknown field/);
});

test('bridge problems name their field', () => {
  const spec = (bridge: object, links: object[] = [{ a: 'sw:p1', b: 'h1' }]): unknown => ({ name: 'br', nodes: { sw: {}, h1: {} }, links, bridges: [bridge] });
  rejects(spec({ node: 'nope', name: 'br0', ports: ['p1'] }), 'bridges[0].node', /no node "nope"/);
  rejects(spec({ node: 'sw', name: 'br0', ports: ['p9'] }), 'bridges[0].ports[0]', /no veth "p9" to enslave \(veths: p1\)/);
  rejects(spec({ node: 'sw', name: 'br0', ports: [] }), 'bridges[0].ports', /at least one port/);
  rejects(spec({ node: 'sw', name: 'p1', ports: ['p1'] }), 'bridges[0].name', /sw:p1 is already used by links\[0\]\.a/);
  rejects(spec({ node: 'sw', name: 'br0', ports: ['p1'] }, [{ a: 'sw:p1', b: 'h1', aAddr: '10.0.0.1/24' }]), 'bridges[0].ports[0]', /has addresses \(links\[0\]\.aAddr\)/);
  rejects(spec({ node: 'sw', name: 'br0', ports: ['p1'], vlan: 1 }), 'bridges[0].vlan', /unknown field/);
});

test('route problems name their field', () => {
  const route = (r: object): unknown => edit((s) => (s.nodes.client.routes = [r]));
  rejects(route({ to: '10.9.0.0/24' }), 'nodes.client.routes[0]', /needs via, dev or nexthops/);
  rejects(route({ to: '10.9.0.5/24', via: '10.0.1.1' }), 'nodes.client.routes[0].to', /host bits set/);
  rejects(route({ to: 'default', dev: 'eth0' }), 'nodes.client.routes[0].to', /0\.0\.0\.0\/0 or ::\/0/);
  rejects(route({ to: 'somewhere', via: '10.0.1.1' }), 'nodes.client.routes[0].to', /"default", a prefix/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.9.1' }), 'nodes.client.routes[0].via', /gateway 10\.0\.9\.1 is on no subnet of client \(10\.0\.1\.2\/24 on eth0\)/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.1.2' }), 'nodes.client.routes[0].via', /address of client itself/);
  rejects(route({ to: '10.9.0.0/24', via: 'fd01::1' }), 'nodes.client.routes[0].via', /IPv6 but the route is IPv4/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.1.1', dev: 'eth5' }), 'nodes.client.routes[0].dev', /no interface "eth5"/);
  rejects(route({ to: 'fd09::/64', via: 'fe80::1' }), 'nodes.client.routes[0].via', /link-local gateway fe80::1 needs a dev/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.1.1', nexthops: [{ via: '10.0.1.1' }] }), 'nodes.client.routes[0].nexthops', /either nexthops or via/);
  rejects(route({ to: '10.9.0.0/24', nexthops: [] }), 'nodes.client.routes[0].nexthops', /at least one nexthop/);
  rejects(route({ to: '10.9.0.0/24', nexthops: [{ via: '10.0.1.1' }, { via: '10.0.7.1' }] }), 'nodes.client.routes[0].nexthops[1].via', /on no subnet/);
  rejects(route({ to: '10.9.0.0/24', nexthops: [{ via: '10.0.1.1', weight: 0 }] }), 'nodes.client.routes[0].nexthops[0].weight', /1\.\.256/);
  rejects(route({ to: '10.9.0.0/24', nexthops: [{ gw: '10.0.1.1' }] }), 'nodes.client.routes[0].nexthops[0].gw', /unknown field/);
  rejects(route({ to: '10.9.0.0/24', type: 'blackhole', via: '10.0.1.1' }), 'nodes.client.routes[0].type', /takes no via/);
  rejects(route({ to: '10.9.0.0/24', type: 'nat', via: '10.0.1.1' }), 'nodes.client.routes[0].type', /expected one of unicast/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.1.1', src: '10.0.1.9' }), 'nodes.client.routes[0].src', /not an address of client/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.1.1', metric: -1 }), 'nodes.client.routes[0].metric', /0\.\.4294967295/);
  rejects(route({ to: '10.9.0.0/24', via: '10.0.1.1', table: 0 }), 'nodes.client.routes[0].table', /1\.\.4294967295/);
});

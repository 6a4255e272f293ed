/**
 * The topologies as netlab reads them: each one is a valid spec, and each has the shape its
 * scenario's header describes (nodes, the switch's ports, addresses, the mode's differences).
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateSpec } from '@netaccel/netlab';
import { routerStarTopology } from './router-star.js';
import { switchedSegment } from './segment.js';
import { BACKENDS, BALANCERS, SERVICES, balancerAddr, thesisTopology } from './thesis.js';
import { XLB_BENCH_PORT, xlbBenchTopology } from './xlb-bench.js';

test('a switched segment: one veth per member from its eth0 to a port of the bridge', () => {
  const s = switchedSegment({ members: [{ node: 'a', addr: '10.9.0.1/24' }, { node: 'b', addr: ['10.9.0.2/24', 'fd09::2/64'], port: 'p7' }] });
  assert.deepEqual(s.links, [
    { a: 'a:eth0', b: 'sw:pa', aAddr: '10.9.0.1/24' },
    { a: 'b:eth0', b: 'sw:p7', aAddr: ['10.9.0.2/24', 'fd09::2/64'] },
  ]);
  assert.deepEqual(s.bridges, [{ node: 'sw', name: 'br0', ports: ['pa', 'p7'] }]);
  const other = switchedSegment({ switchNode: 'core', bridge: 'br9', members: [{ node: 'a', addr: '10.9.0.1/24' }] });
  assert.deepEqual(other.bridges, [{ node: 'core', name: 'br9', ports: ['pa'] }]);
});

test('every topology is a valid netlab spec', () => {
  for (const spec of [thesisTopology('l2dsr'), thesisTopology('nat'), routerStarTopology('x'), routerStarTopology('x', { rr: true }), xlbBenchTopology('rate'), xlbBenchTopology('e2e')]) {
    assert.doesNotThrow(() => validateSpec(spec), spec.name);
  }
});

test('the thesis topology: 12 namespaces on one switch, the balancers in the reflector range, VIPs on the backends only in L2 DSR', () => {
  const dsr = thesisTopology('l2dsr');
  assert.equal(Object.keys(dsr.nodes).length, 12);
  assert.deepEqual(dsr.bridges![0]!.ports, ['prouter', 'prr', ...BALANCERS.map((lb) => `p${lb}`), ...BACKENDS.map((b) => `p${b}`)]);
  assert.deepEqual(BALANCERS.map(balancerAddr), ['10.0.0.11', '10.0.0.12', '10.0.0.13']);
  for (const b of BACKENDS) assert.deepEqual(dsr.nodes[b]!.addrs?.lo, SERVICES.map((s) => `${s.vip}/32`));
  const nat = thesisTopology('nat');
  for (const b of BACKENDS) assert.deepEqual(nat.nodes[b], {});
});

test('the router star: three announcers on their own /24 and /64, the reflector behind the router', () => {
  const plain = routerStarTopology('x');
  assert.deepEqual(Object.keys(plain.nodes).sort(), ['lb1', 'lb2', 'lb3', 'router']);
  assert.deepEqual(plain.links![1], { a: 'router:eth2', b: 'lb2:eth0', aAddr: ['10.1.2.1/24', 'fd10:2::1/64'], bAddr: ['10.1.2.2/24', 'fd10:2::2/64'] });
  const rr = routerStarTopology('x', { rr: true });
  assert.deepEqual(rr.nodes.rr?.routes, [{ to: '10.1.0.0/16', via: '10.1.9.1' }]);
  assert.deepEqual(rr.nodes.lb3?.routes, [{ to: '10.1.9.0/24', via: '10.1.3.1' }]);
});

test('the xlb bench segment: its fixed ports; e2e adds the DSR VIPs on the backends and the nginx VIP on the balancer', () => {
  const rate = xlbBenchTopology('rate');
  const e2e = xlbBenchTopology('e2e');
  assert.deepEqual(rate.bridges![0]!.ports, Object.values(XLB_BENCH_PORT));
  assert.equal(rate.nodes.be1!.addrs, undefined);
  assert.deepEqual(e2e.nodes.be1!.addrs?.lo, ['10.100.0.1/32', '10.100.0.2/32', '10.100.0.3/32', '10.100.0.9/32']);
  assert.deepEqual(e2e.nodes.lb!.addrs?.lo, ['10.100.0.6/32']);
});

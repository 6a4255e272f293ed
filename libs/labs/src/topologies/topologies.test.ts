/**
 * The topologies as netlab reads them: each one is a valid spec, and each has the shape its
 * scenario's header describes (nodes, the switch's ports, addresses, the mode's differences).
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { validateSpec } from '@netaccel/netlab';
import { routerStarTopology } from './router-star.js';
import { switchedSegment } from './segment.js';
import { BACKENDS, BALANCERS, BALANCER_RANGE, SERVICES, balancerAddr, balancersOf, servicesFor, thesisTopology } from './thesis.js';
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

test('the thesis topology with 1 to 4 balancers: the default is the thesis\' three; web on all, api on all but the last; lb4 in the reflector range', () => {
  assert.deepEqual(servicesFor(3), SERVICES);
  assert.deepEqual(Object.keys(thesisTopology('l2dsr', 3).nodes), Object.keys(thesisTopology('l2dsr').nodes));
  const one = thesisTopology('l2dsr', 1);
  const four = thesisTopology('nat', 4);
  assert.doesNotThrow(() => validateSpec(one));
  assert.doesNotThrow(() => validateSpec(four));
  assert.deepEqual(Object.keys(one.nodes).filter((n) => n.startsWith('lb')), ['lb1']);
  assert.deepEqual(Object.keys(four.nodes).filter((n) => n.startsWith('lb')), ['lb1', 'lb2', 'lb3', 'lb4']);
  assert.deepEqual(four.nodes.lb4!.addrs?.lo, ['10.0.0.131/32', '10.0.0.132/32', '10.0.0.133/32', '10.0.0.134/32']);
  assert.deepEqual(servicesFor(1).map((s) => s.balancers), [['lb1'], ['lb1']]);
  assert.deepEqual(servicesFor(4).map((s) => s.balancers), [['lb1', 'lb2', 'lb3', 'lb4'], ['lb1', 'lb2', 'lb3']]);
  // the reflector's dynamic-neighbour range (a /29 from .8) holds every balancer's address
  const [net, bits] = BALANCER_RANGE.split('/');
  const base = Number(net!.split('.')[3]);
  for (const lb of balancersOf(4)) assert.ok(Number(balancerAddr(lb).split('.')[3]) - base < 2 ** (32 - Number(bits)), lb);
  for (const n of [0, 5, 2.5]) assert.throws(() => thesisTopology('l2dsr', n), /NA_ERR_LAB_BALANCERS|expected a whole number from 1 to 4/);
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

/**
 * A 10-node topology shaped like the project's lab (a router, a route reflector, three
 * load-balancer nodes announcing an anycast VIP, four backends, a client): how long up() and
 * down() take, and that every node reaches every other over IPv4 and IPv6.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createLab } from './lab.js';
import type { LabSpec, NodeSpec } from './spec-types.js';

const VIP = '192.0.2.100';
const LEAVES = ['client', 'rr', 'lb1', 'lb2', 'lb3', 'be1', 'be2', 'be3', 'be4'];

function spec(): LabSpec {
  const nodes: Record<string, NodeSpec> = {
    router: {
      forwarding: true,
      sysctls: { 'net.ipv4.fib_multipath_hash_policy': 1 },
      routes: [{ to: `${VIP}/32`, nexthops: [3, 4, 5].map((i) => ({ via: `10.1.${i}.2` })) }],
    },
  };
  const links = LEAVES.map((leaf, k) => {
    const i = k + 1;
    nodes[leaf] = {
      ...(leaf.startsWith('lb') ? { addrs: { lo: `${VIP}/32` } } : {}),
      routes: [{ to: 'default', via: `10.1.${i}.1` }, { to: 'default', via: `fd10:${i}::1` }],
    };
    return { a: 'router', b: leaf, aAddr: [`10.1.${i}.1/24`, `fd10:${i}::1/64`], bAddr: [`10.1.${i}.2/24`, `fd10:${i}::2/64`] };
  });
  return { name: 'scale', nodes, links };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('a 10-node topology comes up and down quickly and is fully connected', async () => {
  const ups: number[] = [];
  const downs: number[] = [];
  for (let round = 0; round < 3; round++) {
    const lab = createLab(spec());
    try {
      await lab.up();
      assert.equal(lab.namespaces().length, 10);
      if (round === 0) {
        const targets = LEAVES.flatMap((leaf) => [lab.addr(leaf, 'eth0'), lab.addr(leaf, 'eth0', 6)]);
        const results = await Promise.all(targets.map((to) => lab.ping('client', to, { count: 1 }).then((r) => [to, r.ok] as const)));
        assert.deepEqual(results.filter(([, ok]) => !ok), [], 'unreachable from client');
        assert.ok((await lab.ping('client', VIP)).ok, 'the anycast VIP answers');
        const vip = (await lab.routes('router')).find((r) => r.dst === VIP);
        assert.equal(vip?.nexthops?.length, 3);
      }
    } finally {
      await lab.down();
    }
    const tm = lab.timings;
    ups.push(tm.upMs!);
    downs.push(tm.downMs!);
    console.log(`round ${round}: up ${tm.upMs!.toFixed(0)} ms (clean ${tm.cleanMs!.toFixed(0)}, root batch ${tm.rootMs!.toFixed(0)}, nodes ${tm.nodesMs!.toFixed(0)}), down ${tm.downMs!.toFixed(0)} ms`);
  }
  console.log(`10 nodes, 9 links: median up ${median(ups).toFixed(0)} ms, median down ${median(downs).toFixed(0)} ms`);
  assert.ok(median(ups) < 2000, `up() took ${median(ups).toFixed(0)} ms`);
  assert.ok(median(downs) < 2000, `down() took ${median(downs).toFixed(0)} ms`);
});

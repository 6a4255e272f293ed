/**
 * A switch node with a bridge of three members, built with withLab() (which tears down even
 * when an assertion inside fails).
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { withLab } from './lab.js';
import type { LabSpec } from './spec-types.js';

const spec: LabSpec = {
  name: 'bridge',
  nodes: { sw: {}, h1: {}, h2: {}, h3: {} },
  links: [
    { a: 'sw:p1', b: 'h1:eth0', bAddr: ['10.9.0.1/24', 'fd09::1/64'] },
    { a: 'sw:p2', b: 'h2:eth0', bAddr: ['10.9.0.2/24', 'fd09::2/64'] },
    { a: 'sw:p3', b: 'h3:eth0', bAddr: ['10.9.0.3/24', 'fd09::3/64'] },
  ],
  bridges: [{ node: 'sw', name: 'br0', ports: ['p1', 'p2', 'p3'], addr: ['10.9.0.254/24', 'fd09::fe/64'] }],
};

test('a bridge with three members forwards between all of them', async () => {
  await withLab(spec, async (lab) => {
    const links = await lab.links('sw');
    for (const p of ['p1', 'p2', 'p3']) assert.equal(links.find((l) => l.ifname === p)?.master, 'br0', `${p} is a port of br0`);
    const before = await lab.counters('sw', 'p3');
    const pairs: [string, string][] = [['h1', 'h2'], ['h1', 'h3'], ['h2', 'h3'], ['h3', 'h1']];
    const probes = pairs.flatMap(([from, to]) => ([4, 6] as const).map((family) => ({ from, to, addr: lab.addr(to, 'eth0', family) })));
    const results = await Promise.all(probes.map(async (p) => ({ ...p, r: await lab.ping(p.from, p.addr, { count: 2, intervalMs: 10 }) })));
    for (const { from, to, addr, r } of results) assert.equal(r.received, 2, `${from} → ${to} (${addr}): ${JSON.stringify(r)}`);
    // the bridge itself has addresses and answers too
    assert.ok((await lab.ping('h2', '10.9.0.254')).ok);
    assert.ok((await lab.ping('h2', 'fd09::fe')).ok);
    const after = await lab.counters('sw', 'p3');
    assert.ok(after.tx_packets - before.tx_packets >= 8, `frames forwarded out of p3: ${after.tx_packets - before.tx_packets}`);
  });
});

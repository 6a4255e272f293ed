import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseConfig } from '@netaccel/config';
import { lbControllerConfig } from './config.js';

const parse = (yaml: string) => parseConfig(lbControllerConfig, { yaml, env: {} });

/** The issues of a refused configuration: path → message. */
function issues(yaml: string): Record<string, string> {
  try {
    parse(yaml);
  } catch (err) {
    const list = (err as { details?: { issues?: { path: string; message: string }[] } }).details?.issues ?? [];
    assert.equal((err as { code?: string }).code, 'NA_ERR_CONFIG_INVALID');
    return Object.fromEntries(list.map((i) => [i.path, i.message]));
  }
  assert.fail('accepted');
}

test('NAT source addresses: one by default, a counted range, refused when it would wrap', () => {
  assert.equal(parse('dataPlane: { natSourceV4: 10.99.0.1 }').dataPlane.natSourceCount, 1);
  const c = parse('dataPlane: { natSourceV4: 10.99.0.1, natSourceV6: "2001:db8::1", natSourceCount: 8 }');
  assert.equal(c.dataPlane.natSourceCount, 8);
  assert.match(issues('dataPlane: { natSourceV4: 255.255.255.254, natSourceCount: 3 }')['dataPlane.natSourceV4'] ?? '', /3 addresses from 255\.255\.255\.254 \(natSourceCount\) overflow its last 32 bits/);
  assert.match(issues('dataPlane: { natSourceV6: "2001:db8::ffff:fffe", natSourceCount: 4 }')['dataPlane.natSourceV6'] ?? '', /overflow/);
  assert.ok('dataPlane.natSourceCount' in issues('dataPlane: { natSourceV4: 10.99.0.1, natSourceCount: 0 }'));
  assert.ok('dataPlane.natSourceCount' in issues('dataPlane: { natSourceV4: 10.99.0.1, natSourceCount: 65 }'));
});

test('map sizes: conntrack and nat_rev only', () => {
  assert.deepEqual(parse('dataPlane: { mapSizes: { nat_rev: 262144 } }').dataPlane.mapSizes, { nat_rev: 262144 });
  assert.deepEqual(parse('{}').dataPlane.mapSizes, {});
  const refused = issues('dataPlane: { mapSizes: { vips: 10 } }');
  assert.ok(Object.keys(refused).some((p) => p.startsWith('dataPlane.mapSizes')), JSON.stringify(refused));
  assert.ok(Object.keys(issues('dataPlane: { mapSizes: { conntrack: 0 } }')).some((p) => p.startsWith('dataPlane.mapSizes.conntrack')));
});

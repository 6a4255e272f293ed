import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseConfig } from '@netaccel/config';
import { createLogger } from '@netaccel/telemetry';
import { craqSchedulerConfig } from './config.js';
import { openLoaderNodes } from './loader-node.js';

const log = createLogger({ name: 'test', level: 'silent', destination: { write: () => true } });

test('via loader: a chain node without iface or mac is refused before any loader is asked', async () => {
  const c = parseConfig(craqSchedulerConfig, {
    env: {},
    yaml: `
chain:
  nodes:
    - { name: n1, address: 192.0.2.1, iface: eth0, mac: '02:00:00:00:00:01', loaderSocket: /nonexistent/n1.sock }
    - { name: n2, address: 192.0.2.2, iface: eth0 }
`,
  });
  assert.equal(c.dataPlane.via, 'loader');
  assert.equal(c.dataPlane.object, 'craq.bpf.o');
  await assert.rejects(openLoaderNodes(c, log), (e: Error & { code?: string }) => e.code === 'NA_ERR_CRAQD_CONFIG_INVALID' && /chain\.nodes\[1\] \(n2\): dataPlane\.via loader needs iface and mac/.test(e.message));
});

test('via loader: a MAC must be lower-case colon hex, an interface name at most 15 characters', () => {
  assert.throws(
    () => parseConfig(craqSchedulerConfig, { env: {}, yaml: "chain: { nodes: [{ name: n1, address: 192.0.2.1, iface: a-very-long-interface, mac: '02:AA:00:00:00:01' }] }" }),
    (e: Error) => /chain\.nodes\.0\.iface|chain\.nodes\[0\]\.iface/.test(e.message) && /mac/.test(e.message),
  );
});

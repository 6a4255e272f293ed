/**
 * `lab status`' readiness probe (a Node process it starts, as it does inside a node's namespace)
 * against real HTTP servers, and `lab env`'s exports. Slow layer: child processes.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeptLab } from '@netaccel/labs';
import { envText } from './commands/lab.js';
import { probeDaemons, stateText, telemetryAddress } from './lab-probe.js';

async function serve(routes: Record<string, [number, unknown]>): Promise<{ listen: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const [code, body] = routes[req.url ?? ''] ?? [404, {}];
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { listen: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

test('ready, not ready with the failing checks, a refused reload, nothing answering, no address', async (t) => {
  const ready = await serve({ '/readyz': [200, { status: 'ready' }], '/v1/status': [200, {}] });
  const refused = { at: '2026-12-07T05:00:00.000Z', error: 'desired state refused (services.yaml): services: required' };
  const notReady = await serve({ '/readyz': [503, { status: 'not ready', failing: [{ name: 'data-plane' }] }], '/v1/status': [200, { lastRefused: refused }] });
  const gone = await serve({});
  await gone.close();
  t.onTestFinished(async () => {
    await ready.close();
    await notReady.close();
  });
  const states = await probeDaemons(undefined, [
    { daemon: 'ebpf-loader', listen: ready.listen },
    { daemon: 'lb-controller', listen: notReady.listen },
    { daemon: 'bgp-announcer', listen: gone.listen },
    { daemon: 'other', listen: undefined },
  ]);
  assert.deepEqual(states, [
    { daemon: 'ebpf-loader', state: 'ready', detail: '' },
    { daemon: 'lb-controller', state: 'not ready', detail: 'data-plane', lastRefused: refused },
    { daemon: 'bgp-announcer', state: 'down', detail: `nothing answers on ${gone.listen}` },
    { daemon: 'other', state: 'down', detail: 'no telemetry address in its configuration' },
  ]);
  assert.equal(stateText('lb1', states[1]!), 'lb1    lb-controller  not ready (data-plane); last reload refused at 2026-12-07T05:00:00.000Z: desired state refused (services.yaml): services: required');
  assert.equal(stateText('lb1', states[0]!), 'lb1    ebpf-loader    ready');
  // lb-controller's refusal of an empty file is two lines: the file, then what is wrong with it.
  const empty = { at: '2026-12-07T08:24:13.616Z', error: 'desired state refused (/l/lb1/services.yaml):\nthe text is empty (a truncated write?); to remove every service, write `services: []`' };
  assert.equal(
    stateText('lb1', { daemon: 'lb-controller', state: 'ready', detail: '', lastRefused: empty }),
    'lb1    lb-controller  ready; last reload refused at 2026-12-07T08:24:13.616Z: desired state refused (/l/lb1/services.yaml): the text is empty (a truncated write?); to remove every service, write `services: []`',
  );
});

test('a probe that cannot run is unknown, not down, and says why (ip\'s own message, not the script)', async () => {
  const states = await probeDaemons('unl-no-such-ns', [{ daemon: 'lb-controller', listen: '127.0.0.1:9464' }]);
  assert.deepEqual(states, [{ daemon: 'lb-controller', state: 'unknown', detail: 'could not look inside unl-no-such-ns: Cannot open network namespace "unl-no-such-ns": No such file or directory' }]);
  assert.equal(stateText('lb1', states[0]!), 'lb1    lb-controller  unknown (could not look inside unl-no-such-ns: Cannot open network namespace "unl-no-such-ns": No such file or directory)');
});

test('the telemetry address comes from the configuration beside the socket', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-probe-'));
  t.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'lb-controller.yaml'), JSON.stringify({ telemetry: { listen: '127.0.0.1:9464' } }));
  assert.equal(telemetryAddress(join(dir, 'lb-controller.sock'), 'lb-controller'), '127.0.0.1:9464');
  assert.equal(telemetryAddress(join(dir, 'ebpf-loader.sock'), 'ebpf-loader'), undefined);
});

test('lab env <node>: the exports of one node; an unknown node names the nodes and the nearest', () => {
  const k: KeptLab = {
    runId: 'r1', startedAt: 'now', logDir: '/l', pinRoot: '/p', report: '/r', namespaces: { lb1: 'nxlab-r1-lb1' },
    sockets: { lb1: { 'ebpf-loader': '/l/lb1/ebpf-loader.sock', 'bgp-announcer': '/l/lb1/bgp-announcer.sock', 'lb-controller': '/l/lb1/lb-controller.sock' } },
  };
  assert.equal(envText(k, 'lb1').text, [
    'export NETACCEL_EBPF_LOADER_SOCKET=/l/lb1/ebpf-loader.sock',
    'export NETACCEL_BGP_ANNOUNCER_SOCKET=/l/lb1/bgp-announcer.sock',
    'export NETACCEL_LB_CONTROLLER_SOCKET=/l/lb1/lb-controller.sock',
    'export NETACCEL_LAB_NODE_DIR=/l/lb1',
    'export NETACCEL_LAB_NETNS=nxlab-r1-lb1',
    '# lb1 of lab run r1: eval "$(netaccel lab env lb1)", then e.g. netaccel lb services',
  ].join('\n'));
  assert.throws(() => envText(k, 'lb4'), (e: unknown) => (e as Error).message === '<node>: expected one of lb1, got "lb4" (did you mean lb1?)');
});

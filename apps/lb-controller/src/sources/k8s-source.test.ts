/**
 * The Kubernetes source with @kubernetes/client-node against FakeKube, a fake API server that
 * speaks the list/watch protocol (no API server can run here): Services and EndpointSlices
 * mapped to services, watch events, bookmarks, 410 Gone → relist, a refused Service keeping its
 * last good version.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import type { DesiredState } from '../desired-state.js';
import { FakeKube } from '../testing/fake-kube.js';
import { K8sSource, K8S_CLASS } from './k8s-source.js';

let kube: FakeKube;
beforeAll(async () => {
  kube = await FakeKube.start();
});
afterAll(async () => {
  await kube?.close();
});

function service(name: string, vip: string, annotations: Record<string, string> = {}, ports = [{ name: 'http', port: 80, protocol: 'TCP' }]) {
  return { metadata: { name, namespace: 'default', annotations }, spec: { type: 'LoadBalancer', loadBalancerClass: K8S_CLASS, loadBalancerIP: vip, ports }, status: {} };
}

function slice(name: string, svc: string, endpoints: { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }[], port = 8080) {
  return {
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } })),
  };
}

function collector() {
  const states: DesiredState[] = [];
  const problems: unknown[] = [];
  return {
    states,
    problems,
    events: { state: (s: DesiredState) => states.push(s), problem: (_k: string, e: unknown) => problems.push(e) },
    async until(ok: (s: DesiredState) => boolean, what: string, timeoutMs = 10_000): Promise<DesiredState> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const last = states.at(-1);
        if (last && ok(last)) return last;
        if (Date.now() > end) throw new Error(`${what}: not seen within ${timeoutMs} ms; last ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const view = (s: DesiredState) =>
  s.services.map((x) => `${x.name} ${x.id} ${x.mode} ${x.backends.map((b) => `${b.address}:${b.port}${b.draining ? '(d)' : ''}`).sort().join(',')}`).sort();

test('Services and EndpointSlices become services; ready endpoints take flows, terminating ones drain', async () => {
  kube.put('services', service('web', '198.51.100.10'));
  kube.put('endpointslices', slice('web-1', 'web', [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }]));
  kube.put('services', { metadata: { name: 'plain', namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
  const log = createLogger({ name: 't', destination: createLogCapture().stream });
  const c = collector();
  const src = new K8sSource({ server: kube.url, log, retryMs: 100 });
  try {
    await src.start(c.events);
    await c.until((s) => view(s).join() === 'default/web:http 198.51.100.10:80/tcp nat 10.1.0.1:8080,10.1.0.2:8080', 'initial list');

    // watch events: a new endpoint, one terminating (drains), one gone
    kube.put('endpointslices', slice('web-1', 'web', [{ ip: '10.1.0.1', ready: false, serving: true, terminating: true }, { ip: '10.1.0.3' }]));
    await c.until((s) => view(s).join() === 'default/web:http 198.51.100.10:80/tcp nat 10.1.0.1:8080(d),10.1.0.3:8080', 'MODIFIED slice');
    kube.put('services', service('dns', '198.51.100.11', { 'lb.netaccel.io/mode': 'ipip' }, [{ name: 'dns', port: 53, protocol: 'UDP' }]));
    kube.put('endpointslices', { ...slice('dns-1', 'dns', [{ ip: '10.1.0.7' }], 53), ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
    await c.until((s) => s.services.length === 2 && s.services.some((x) => x.id === '198.51.100.11:53/udp' && x.backends.length === 1 && x.backends[0]!.port === 0), 'ADDED service');
    kube.delete('services', 'default', 'dns');
    await c.until((s) => s.services.length === 1, 'DELETED service');
    assert.ok(kube.requests.some((r) => r.startsWith('watch services from')));
  } finally {
    await src.close();
  }
});

test('410 Gone after a compaction: the client relists and the state is complete again', async () => {
  const log = createLogger({ name: 't', destination: createLogCapture().stream });
  const c = collector();
  const src = new K8sSource({ server: kube.url, log, retryMs: 100 });
  try {
    await src.start(c.events);
    await c.until((s) => s.services.length === 1, 'initial');
    const listsBefore = src.lists;
    // changes while no watch is open, then the history is gone: only a relist can see them
    kube.compactAndDrop(() => {
      kube.put('endpointslices', slice('web-1', 'web', [{ ip: '10.1.0.3' }, { ip: '10.1.0.4' }]));
      kube.put('services', service('api', '198.51.100.12'));
      kube.put('endpointslices', slice('api-1', 'api', [{ ip: '10.1.0.9' }]));
    });
    const s = await c.until((x) => x.services.length === 2 && view(x).some((v) => v.includes('10.1.0.4:8080')), 'state after relist');
    assert.deepEqual(view(s), ['default/api:http 198.51.100.12:80/tcp nat 10.1.0.9:8080', 'default/web:http 198.51.100.10:80/tcp nat 10.1.0.3:8080,10.1.0.4:8080']);
    assert.ok(src.lists >= listsBefore + 2, `relisted (lists ${listsBefore} -> ${src.lists})`);
    assert.ok(kube.requests.some((r) => /^watch .* from \d+$/.test(r)));
    kube.delete('services', 'default', 'api');
    kube.delete('endpointslices', 'default', 'api-1');
    await c.until((x) => x.services.length === 1, 'after delete');
  } finally {
    await src.close();
  }
});

test('a Service that does not validate is refused and its last good version stays', async () => {
  const capture = createLogCapture();
  const log = createLogger({ name: 't', destination: capture.stream });
  const c = collector();
  const src = new K8sSource({ server: kube.url, log, retryMs: 100 });
  try {
    await src.start(c.events);
    await c.until((s) => s.services.length === 1, 'initial');
    kube.put('services', service('web', '198.51.100.10', { 'lb.netaccel.io/mode': 'turbo' }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.problems.length >= 1, true);
    assert.match(String((c.problems[0] as Error).message), /services\[0\]\.mode: expected one of "l2dsr", "ipip", "gue", "nat", got "turbo"/);
    assert.deepEqual(view(c.states.at(-1)!), ['default/web:http 198.51.100.10:80/tcp nat 10.1.0.3:8080,10.1.0.4:8080']);
    assert.equal(capture.find({ level: 'error', service: 'default/web' }).length >= 1, true);
    kube.put('services', service('web', '198.51.100.10', { 'lb.netaccel.io/mode': 'nat', 'lb.netaccel.io/scheduler': 'lc' }));
    await c.until((s) => s.services[0]?.scheduler === 'lc', 'fixed');
  } finally {
    await src.close();
  }
});

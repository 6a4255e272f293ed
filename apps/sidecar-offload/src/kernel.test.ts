import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseConfig } from '@netaccel/config';
import { sidecarConfig } from './config.js';
import { mergeKernelPolicies } from './kernel.js';
import { compilePolicy } from './policy.js';

const base = `
sidecar:
  listeners: []
  clusters: []
`;

test('kernel config: defaults off; via loader and direct are taken; a relative cgroup is refused with the field path', () => {
  const d = parseConfig(sidecarConfig, { env: {}, yaml: base });
  assert.deepEqual(d.kernel, { enabled: false, via: 'direct', cgroup: '/sys/fs/cgroup', loaderSocket: '/run/netaccel/ebpf-loader.sock', object: '' });
  const loader = parseConfig(sidecarConfig, { env: {}, yaml: `${base}kernel: { enabled: true, via: loader, loaderSocket: /run/x/loader.sock }\n` });
  assert.deepEqual([loader.kernel.enabled, loader.kernel.via, loader.kernel.loaderSocket, loader.kernel.object], [true, 'loader', '/run/x/loader.sock', '']);
  assert.throws(() => parseConfig(sidecarConfig, { env: {}, yaml: `${base}kernel: { enabled: true, via: bpffs }\n` }), (e: Error) => /kernel\.via/.test(e.message));
  assert.throws(() => parseConfig(sidecarConfig, { env: {}, yaml: `${base}kernel: { cgroup: relative }\n` }), (e: Error) => /kernel\.cgroup/.test(e.message));
  const direct = parseConfig(sidecarConfig, { env: {}, yaml: `${base}kernel: { enabled: true, cgroup: /sys/fs/cgroup/x }\n` });
  assert.deepEqual([direct.kernel.enabled, direct.kernel.via, direct.kernel.cgroup], [true, 'direct', '/sys/fs/cgroup/x']);
});

test('mergeKernelPolicies: one table from agreeing listeners; service rules and disagreeing listeners are refused with the reason', () => {
  const a = compilePolicy('a', { default: 'allow', rules: [{ method: '/p.S/Deny', action: 'deny' }] });
  const b = compilePolicy('b', { default: 'allow', rules: [{ method: '/p.S/Other', action: 'allow' }, { service: 'p.T', action: 'allow' }] });
  const svc = compilePolicy('svc', { default: 'allow', rules: [{ service: 'p.S', action: 'deny' }] });
  const conflict = compilePolicy('conflict', { default: 'allow', rules: [{ method: '/p.S/Deny', action: 'allow' }] });
  const otherDefault = compilePolicy('closed', { default: 'deny', rules: [] });
  const m = mergeKernelPolicies([a, b, svc, conflict, otherDefault]);
  assert.deepEqual(m.methods, { '/p.S/Deny': 'deny', '/p.S/Other': 'allow' });
  assert.equal(m.defaultAction, 'allow');
  assert.deepEqual([...m.refused.keys()], ['svc', 'conflict', 'closed']);
  assert.match(m.refused.get('svc')!, /service rules the kernel cannot match: p\.S/);
  assert.match(m.refused.get('conflict')!, /differs from another listener's/);
  assert.deepEqual(mergeKernelPolicies([]), { methods: {}, defaultAction: 'allow', refused: new Map() });
});

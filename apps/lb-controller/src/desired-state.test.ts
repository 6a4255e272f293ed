import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_LB_STATE_INVALID } from './errors.js';
import { mergeServices, parseService, parseState, serviceId } from './desired-state.js';

const GOOD = `
services:
  - name: web
    vip: 198.51.100.10
    port: 80
    mode: l2dsr
    healthCheck: { type: http, path: /healthz, interval: 500ms, timeout: 200ms, rise: 1, fall: 2 }
    backends:
      - { address: 10.0.1.1, mac: "02:00:00:00:01:01", weight: 3 }
      - { address: 10.0.1.2, mac: "02:00:00:00:01:02", draining: true }
  - vip: "2001:DB8::10"
    port: 0
    protocol: udp
    mode: gue
    scheduler: sh
    backends: [{ address: "2001:db8:1::5" }]
`;

function refusal(text: string): string[] {
  try {
    parseState(text, 'state.yaml');
  } catch (err) {
    assert.ok(NA_ERR_LB_STATE_INVALID.is(err), String(err));
    return ((err.details.issues as { path: string; message: string }[]) ?? []).map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the state to be refused');
}

test('a valid state is normalised and frozen: ids, canonical addresses, defaults, mode names', () => {
  const st = parseState(GOOD, 'state.yaml');
  assert.equal(st.services.length, 2);
  const [web, dns] = st.services;
  assert.equal(web!.id, '198.51.100.10:80/tcp');
  assert.equal(web!.mode, 'l2-dsr');
  assert.equal(web!.tableSize, 65537);
  assert.deepEqual(web!.healthCheck, { type: 'http', path: '/healthz', expectStatus: 200, intervalMs: 500, timeoutMs: 200, rise: 1, fall: 2 });
  assert.deepEqual(web!.backends[0], { address: '10.0.1.1', port: 0, weight: 3, mac: '02:00:00:00:01:01', draining: false });
  assert.equal(web!.backends[1]!.draining, true);
  assert.equal(dns!.id, '[2001:db8::10]:0/udp');
  assert.equal(dns!.flags.hashSourceOnly, true, 'sh hashes on the source address');
  assert.ok(Object.isFrozen(st) && Object.isFrozen(st.services[0]) && Object.isFrozen(st.services[0]!.backends));
  assert.equal(serviceId('2001:db8::10', 443, 'tcp'), '[2001:db8::10]:443/tcp');
});

test('rr ignores weights but keeps 0', () => {
  const st = parseState('services: [{ vip: 10.0.0.1, port: 80, mode: nat, scheduler: rr, backends: [{ address: 10.0.1.1, weight: 9 }, { address: 10.0.1.2, weight: 0 }] }]', 's');
  assert.deepEqual(st.services[0]!.backends.map((b) => b.weight), [1, 0]);
});

test('bad input: the whole state is refused, every problem named by its field path', () => {
  const issues = refusal(`
services:
  - { vip: 10.0.0.1, port: 80, mode: nat, backends: [{ address: 10.0.1.1 }] }
  - { vip: 10.0.0.1, port: 80, mode: nat, backends: [{ address: 10.0.1.300 }] }
  - { vip: 10.0.0.2, port: 80, mode: fast, backends: [] }
  - { vip: 10.0.0.3, port: 80, mode: nat, backends: [{ address: 10.0.1.1, weight: 70000 }] }
  - { vip: 10.0.0.4, port: 80, mode: l2dsr, backends: [{ address: 10.0.1.1 }] }
  - { vip: 10.0.0.5, port: 80, mode: nat, tableSize: 65536 }
  - { vip: 10.0.0.6, port: 80, mode: nat, backends: [{ address: "2001:db8::1" }] }
  - { vip: 10.0.0.7, port: 80, mode: nat, backends: [{ address: 10.0.1.1 }, { address: 10.0.1.1 }] }
  - { vip: 10.0.0.8, prot: 80, mode: nat }
  - { vip: "2001:db8::9", port: 80, mode: nat, backends: [{ address: "fe80::1%eth0" }] }
`);
  const has = (re: RegExp) => assert.ok(issues.some((i) => re.test(i)), `${re} not in:\n${issues.join('\n')}`);
  has(/^services\[1\]\.backends\[0\]\.address: expected an IPv4 or IPv6 address \(no zone\), got "10\.0\.1\.300"/);
  has(/^services\[2\]\.mode: expected one of "l2dsr", "ipip", "gue", "nat", got "fast"/);
  has(/^services\[3\]\.backends\[0\]\.weight: expected an integer 0\.\.65535, got 70000/);
  has(/^services\[4\]\.backends\[0\]\.mac: expected a MAC address/);
  has(/^services\[5\]\.tableSize: expected a prime, got 65536/);
  has(/^services\[6\]\.backends\[0\]\.address: expected an IPv4 address like the VIP/);
  has(/^services\[7\]\.backends\[1\]\.address: expected each backend once/);
  has(/^services\[9\]\.backends\[0\]\.address: expected an IPv4 or IPv6 address \(no zone\), got "fe80::1%eth0"/);
  has(/^services\[8\]\.prot: unknown field \(did you mean port\?\)/);
  has(/^services\[8\]\.port: expected/);
});

test('a VIP defined twice is refused with both places named', () => {
  const issues = refusal(`
services:
  - { vip: 10.0.0.1, port: 80, mode: nat, backends: [{ address: 10.0.1.1 }] }
  - { vip: 10.0.0.9, port: 80, mode: nat }
  - { vip: 10.0.0.1, port: 80, mode: ipip }
`);
  assert.deepEqual(issues, ['services[2].vip: expected each VIP, port and protocol once, 10.0.0.1:80/tcp is already services[0], got "10.0.0.1"']);
  // the same address on another port or protocol is another service
  assert.equal(parseState('services: [{ vip: 10.0.0.1, port: 80, mode: nat }, { vip: 10.0.0.1, port: 80, protocol: udp, mode: nat }]', 's').services.length, 2);
});

test('the error message lists the problems with their file positions', () => {
  try {
    parseState('services:\n  - { vip: 10.0.0.1, port: 80, mode: fast }\n', '/etc/netaccel/services.yaml');
    assert.fail('refused expected');
  } catch (err) {
    assert.ok(NA_ERR_LB_STATE_INVALID.is(err));
    assert.match(err.message, /services\[0\]\.mode: expected one of .*, got "fast" \(at \/etc\/netaccel\/services\.yaml:2:/);
  }
  assert.throws(() => parseState('services: [\n', 's.yaml'), (e: unknown) => NA_ERR_LB_STATE_INVALID.is(e));
});

test('too many backends for the table size', () => {
  const backends = Array.from({ length: 3 }, (_, i) => `{ address: 10.0.1.${i + 1} }`).join(', ');
  const issues = refusal(`services: [{ vip: 10.0.0.1, port: 80, mode: nat, tableSize: 251, backends: [${backends}] }]`);
  assert.match(issues[0]!, /^services\[0\]\.backends: expected at most 2 backends for tableSize 251/);
});

test('single records (etcd) and merging: a second definition of a VIP is refused', () => {
  const a = parseService('{"vip":"10.0.0.1","port":80,"mode":"nat","backends":[{"address":"10.0.1.1"}]}', '/lb/a');
  const b = parseService('vip: 10.0.0.1\nport: 80\nmode: ipip\n', '/lb/b');
  const c = parseService('vip: 10.0.0.2\nport: 80\nmode: ipip\n', '/lb/c');
  const m = mergeServices([{ source: '/lb/a', service: a }, { source: '/lb/b', service: b }, { source: '/lb/c', service: c }]);
  assert.deepEqual(m.state.services.map((s) => s.id), ['10.0.0.1:80/tcp', '10.0.0.2:80/tcp']);
  assert.equal(m.conflicts.length, 1);
  assert.match(m.conflicts[0]!.message, /already defined by \/lb\/a/);
  assert.throws(() => parseService('{"vip":"10.0.0.1","port":80,"mode":"nat","backends":[{"address":"x"}]}', '/lb/x'), /backends\[0\]\.address: expected an IPv4 or IPv6 address/);
});

test('JSON text (etcd, Kubernetes) takes a fast path with the same result; bad JSON still names its fields', () => {
  const yaml = parseState(GOOD, 'state.yaml');
  const asJson = JSON.stringify({
    services: [
      {
        name: 'web', vip: '198.51.100.10', port: 80, mode: 'l2dsr',
        healthCheck: { type: 'http', path: '/healthz', interval: '500ms', timeout: '200ms', rise: 1, fall: 2 },
        backends: [{ address: '10.0.1.1', mac: '02:00:00:00:01:01', weight: 3 }, { address: '10.0.1.2', mac: '02:00:00:00:01:02', draining: true }],
      },
      { vip: '2001:DB8::10', port: 0, protocol: 'udp', mode: 'gue', scheduler: 'sh', backends: [{ address: '2001:db8:1::5' }] },
    ],
  });
  assert.deepEqual(parseState(asJson, 'state.json'), yaml);
  assert.throws(() => parseState('{"services":[{"vip":"10.0.0.1","port":80,"mode":"nat","backends":[{"address":"10.0.1.1","weight":-1}]}]}', 'j'), /services\[0\]\.backends\[0\]\.weight: expected an integer 0\.\.65535, got -1/);
});

test('an empty, comment-only or key-less state is refused (it would empty the balancer); `services: []` removes every service explicitly', () => {
  for (const text of ['', '\n  \n', '# services go here\n', '{}', 'other: 1']) {
    assert.throws(() => parseState(text, 'services.yaml'), (e: unknown) => NA_ERR_LB_STATE_INVALID.is(e), JSON.stringify(text));
  }
  assert.throws(() => parseState('', 'services.yaml'), /the text is empty \(a truncated write\?\); to remove every service, write `services: \[\]`/);
  assert.throws(() => parseState('{}', 'services.yaml'), /services/);
  assert.deepEqual(parseState('services: []\n', 'services.yaml').services, []);
  assert.deepEqual(parseState('{"services":[]}', 'services.json').services, []);
});

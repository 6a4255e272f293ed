import { test } from 'vitest';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { defineConfig } from './define.js';
import { appEnvName, envPrefix, envVariableFor, fieldEnvName, parseEnvValue } from './env.js';
import { NA_ERR_CONFIG_ENV, NA_ERR_CONFIG_INVALID } from './errors.js';
import { parseConfig } from './load.js';
import { VALID_YAML, bgpAnnouncer } from './fixtures/bgp-announcer.js';
import { issuesOf, thrown } from './fixtures/errors.js';

const P = 'NETACCEL_BGP_ANNOUNCER_';

const withEnv = (env: Record<string, string>, yaml = VALID_YAML) => parseConfig(bgpAnnouncer, { yaml, file: 'bgp.yaml', env });

test('names: app and field names in upper snake case, levels joined by __', () => {
  assert.equal(appEnvName('bgp-announcer'), 'BGP_ANNOUNCER');
  assert.equal(envPrefix('ebpf-loader'), 'NETACCEL_EBPF_LOADER_');
  assert.equal(fieldEnvName('holdTime'), 'HOLD_TIME');
  assert.equal(fieldEnvName('maxMessageBytes'), 'MAX_MESSAGE_BYTES');
  assert.equal(fieldEnvName('HTTPPort'), 'HTTP_PORT');
  assert.equal(fieldEnvName('ipv4Address'), 'IPV4_ADDRESS');
  assert.equal(fieldEnvName('max-paths'), 'MAX_PATHS');
  assert.equal(fieldEnvName('hold_time'), 'HOLD_TIME');
  assert.equal(envVariableFor(P, ['bgp', 'peers', 1, 'holdTime']), 'NETACCEL_BGP_ANNOUNCER_BGP__PEERS__1__HOLD_TIME');
  assert.equal(bgpAnnouncer.envPrefix, P);
});

test('values: YAML scalars, JSON lists and mappings, strings as written for string fields', () => {
  assert.deepEqual(parseEnvValue('90', false), { ok: true, value: 90 });
  assert.deepEqual(parseEnvValue('0x10', false), { ok: true, value: 16 });
  assert.deepEqual(parseEnvValue('1.5', false), { ok: true, value: 1.5 });
  assert.deepEqual(parseEnvValue('true', false), { ok: true, value: true });
  assert.deepEqual(parseEnvValue('null', false), { ok: true, value: null });
  assert.deepEqual(parseEnvValue('"90"', false), { ok: true, value: '90' });
  assert.deepEqual(parseEnvValue('90s', false), { ok: true, value: '90s' });
  assert.deepEqual(parseEnvValue('0.0.0.0:9100', false), { ok: true, value: '0.0.0.0:9100' });
  assert.deepEqual(parseEnvValue('a: b', false), { ok: true, value: 'a: b' });
  assert.deepEqual(parseEnvValue('pass #word', false), { ok: true, value: 'pass #word' });
  assert.deepEqual(parseEnvValue('', false), { ok: true, value: '' });
  assert.deepEqual(parseEnvValue('[1, "a"]', false), { ok: true, value: [1, 'a'] });
  assert.deepEqual(parseEnvValue(' {"a": {"b": 1}}', false), { ok: true, value: { a: { b: 1 } } });
  assert.deepEqual(parseEnvValue('12345', true), { ok: true, value: '12345' });
  assert.deepEqual(parseEnvValue('[x]', true), { ok: true, value: '[x]' });
  const bad = parseEnvValue('[1,', false);
  assert.ok(!bad.ok && bad.message.startsWith('expected JSON (the value starts with [): '));
  const secretBad = parseEnvValue('{"key": hunter2}', false, true);
  assert.deepEqual(secretBad, { ok: false, message: 'expected JSON (the value starts with {): not valid JSON' });
});

test('nested fields are overridden, over the file', () => {
  const config = withEnv({ [`${P}TELEMETRY__LISTEN`]: '[::1]:9200', [`${P}BGP__HOLD_TIME`]: '180', [`${P}LOG_LEVEL`]: 'debug' });
  assert.deepEqual(config.telemetry.listen, { host: '::1', port: 9200 });
  assert.equal(config.bgp.holdTime, 180);
  assert.equal(config.logLevel, 'debug');
  const over = withEnv({ [`${P}BGP__PEERS__1__HOLD_TIME`]: '60' });
  assert.equal(over.bgp.peers[1]!.holdTime, 60); // the file said 30
});

test('lists: whole lists as JSON, elements by index, applied shallow first', () => {
  const config = withEnv({
    [`${P}BGP__PEERS__0__PORT`]: '1179',
    [`${P}BGP__PEERS`]: '[{"address": "192.0.2.7", "remoteAs": 65010}]',
    [`${P}BGP__ANNOUNCE`]: '["198.51.100.0/24", "2001:db8:1::/48"]',
  });
  assert.deepEqual(config.bgp.peers, [{ address: '192.0.2.7', remoteAs: 65010, port: 1179, holdTime: 90 }]);
  assert.deepEqual(config.bgp.announce, ['198.51.100.0/24', '2001:db8:1::/48']);
});

test('an index beyond the list is refused, naming the variable and the way out', () => {
  const err = thrown(() => withEnv({ [`${P}BGP__PEERS__2__PORT`]: '1179' }), NA_ERR_CONFIG_ENV);
  assert.deepEqual(issuesOf(err), [
    {
      path: `${P}BGP__PEERS__2__PORT`,
      message: `bgp.peers has no element 2 (it has 2); set the whole list with ${P}BGP__PEERS`,
    },
  ]);
});

test('records: a JSON mapping merges, an existing entry can be set, a new one cannot', () => {
  const yaml = `${VALID_YAML}  labels:\n    zone: a\n    rack: r1\n`;
  const merged = withEnv({ [`${P}TELEMETRY__LABELS`]: '{"zone": "b", "pod": "p1"}' }, yaml);
  assert.deepEqual(merged.telemetry.labels, { zone: 'b', rack: 'r1', pod: 'p1' });
  const entry = withEnv({ [`${P}TELEMETRY__LABELS__RACK`]: 'r2' }, yaml);
  assert.deepEqual(entry.telemetry.labels, { zone: 'a', rack: 'r2' });
  const err = thrown(() => withEnv({ [`${P}TELEMETRY__LABELS__ROW`]: '7' }, yaml), NA_ERR_CONFIG_ENV);
  assert.deepEqual(issuesOf(err).map((i) => i.message), [`telemetry.labels has no entry ROW; set the whole mapping with ${P}TELEMETRY__LABELS`]);
});

test('a variable that names no field is refused, naming it, with a hint; other problems come along', () => {
  const err = thrown(
    () =>
      withEnv({
        [`${P}BGP__PEER`]: '[]',
        [`${P}TELEMETRY__LISTN`]: '0.0.0.0:1',
        [`${P}NOPE`]: '1',
        [`${P}LOG_LEVEL__X`]: '1',
        [P]: '1',
        [`${P}BGP__HOLD_TIME`]: '1',
      }),
    NA_ERR_CONFIG_ENV,
  );
  assert.equal(err.kind, 'invalid-argument');
  assert.deepEqual(
    issuesOf(err).map((i) => `${i.path}: ${i.message}`),
    [
      `${P}: names no field`,
      `${P}NOPE: names no field: there is no "NOPE" at the top level`,
      `${P}BGP__PEER: names no field: there is no "PEER" under bgp; did you mean ${P}BGP__PEERS?`,
      `${P}LOG_LEVEL__X: logLevel has no fields, so "X" names nothing`,
      `${P}TELEMETRY__LISTN: names no field: there is no "LISTN" under telemetry; did you mean ${P}TELEMETRY__LISTEN?`,
      'bgp.holdTime: expected 0 or 3..65535, got 1',
    ],
  );
  assert.ok(err.message.startsWith(`${P}: names no field\n`));
});

test('a bad value is refused naming the variable it came from', () => {
  const err = thrown(() => withEnv({ [`${P}BGP__PEERS__1__HOLD_TIME`]: '1' }), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(issuesOf(err), [
    {
      path: 'bgp.peers[1].holdTime',
      message: 'expected 0 or 3..65535, got 1',
      source: { kind: 'env', variable: `${P}BGP__PEERS__1__HOLD_TIME` },
    },
  ]);
  assert.equal(err.message, `bgp.peers[1].holdTime: expected 0 or 3..65535, got 1 (from ${P}BGP__PEERS__1__HOLD_TIME)`);
  const json = thrown(() => withEnv({ [`${P}BGP__PEERS`]: '[{"address": "10.0.0.1", "remoteAs": 1, "holdTime": 2}]' }), NA_ERR_CONFIG_INVALID);
  assert.equal(json.message, `bgp.peers[0].holdTime: expected 0 or 3..65535, got 2 (from ${P}BGP__PEERS)`);
  const unreadable = thrown(() => withEnv({ [`${P}BGP__ANNOUNCE`]: '[10.0.0.0/8]' }), NA_ERR_CONFIG_ENV);
  assert.match(unreadable.message, new RegExp(`^${P}BGP__ANNOUNCE: expected JSON \\(the value starts with \\[\\): `));
});

test('a value that creates a section is named for what that section lacks', () => {
  const err = thrown(() => withEnv({ [`${P}TLS__CERT_FILE`]: '/etc/netaccel/tls.crt' }), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(issuesOf(err), [
    { path: 'tls.key', message: 'expected a string, got nothing', source: { kind: 'env', variable: `${P}TLS__CERT_FILE` } },
  ]);
});

test('string fields take the value as written; secrets are not echoed', () => {
  const config = withEnv({ [`${P}BGP__PEERS__0__PASSWORD`]: '12345', [`${P}TLS__CERT_FILE`]: '/etc/tls.crt', [`${P}TLS__KEY`]: 'true' });
  assert.equal(config.bgp.peers[0]!.password, '12345');
  assert.equal(config.tls?.key, 'true');
  const err = thrown(() => withEnv({ [`${P}BGP__PEERS__0__PASSWORD`]: '' }), NA_ERR_CONFIG_INVALID);
  assert.equal(err.message, `bgp.peers[0].password: expected at least 1 character, got [redacted] (from ${P}BGP__PEERS__0__PASSWORD)`);
});

test('variables of other apps and unset variables are ignored', () => {
  const config = parseConfig(bgpAnnouncer, {
    yaml: VALID_YAML,
    env: { NETACCEL_LB_CONTROLLER_LOG_LEVEL: 'x', NETACCEL_BGP_LOG_LEVEL: 'x', [`${P}LOG_LEVEL`]: undefined, PATH: '/bin' },
  });
  assert.equal(config.logLevel, 'info');
});

test('recursive schemas: overrides reach into them and the walk ends', () => {
  type Tree = { name: string; children: Tree[] };
  const tree: z.ZodType<Tree> = z.lazy(() => z.strictObject({ name: z.string(), children: z.array(tree) }));
  type Nested = string | Nested[];
  const nested: z.ZodType<Nested> = z.lazy(() => z.union([z.string(), z.array(nested)]));
  const def = defineConfig({ app: 'tree-test', schema: z.strictObject({ tree, nested }) });
  const config = parseConfig(def, {
    yaml: 'tree: {name: root, children: [{name: a, children: []}]}\nnested: [x, [y]]\n',
    env: { NETACCEL_TREE_TEST_TREE__CHILDREN__0__NAME: '42', NETACCEL_TREE_TEST_NESTED__1__0: 'z' },
  });
  assert.deepEqual(config.tree, { name: 'root', children: [{ name: '42', children: [] }] });
  assert.deepEqual(config.nested, ['x', ['z']]);
});

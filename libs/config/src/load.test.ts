import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetaccelError } from '@netaccel/errors';
import { NA_ERR_CONFIG_FILE_NOT_FOUND, NA_ERR_CONFIG_INVALID, NA_ERR_CONFIG_PARSE, NA_ERR_CONFIG_READ } from './errors.js';
import { loadConfig, parseConfig } from './load.js';
import { VALID_YAML, bgpAnnouncer } from './fixtures/bgp-announcer.js';
import { issuesOf, rejected, thrown } from './fixtures/errors.js';

/** The issues as `path: message` lines, without their sources. */
function problemLines(err: NetaccelError): string[] {
  return issuesOf(err).map((i) => `${i.path}: ${i.message}`);
}

const parse = (yaml: string) => parseConfig(bgpAnnouncer, { yaml, file: 'bgp.yaml', env: {} });

test('defaults are applied under the file, schema defaults inside list elements', () => {
  const config = parse(VALID_YAML);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.bgp.holdTime, 90);
  assert.equal(config.bgp.connectRetry, 30_000);
  assert.equal(config.grpc.maxMessageBytes, 4 * 2 ** 20);
  assert.equal(config.grpc.socket, '/run/netaccel/bgp-announcer.sock');
  assert.deepEqual(config.telemetry.listen, { host: '0.0.0.0', port: 9100 }); // file over default
  assert.deepEqual(config.bgp.peers[0], { address: '10.0.0.254', remoteAs: 65000, port: 179, holdTime: 90, password: 'hunter2-secret' });
  assert.equal(config.bgp.peers[1]!.holdTime, 30);
  assert.equal(config.tls, undefined);
});

test('the hold-time example is reported verbatim, with the file position', () => {
  const err = thrown(() => parse(VALID_YAML.replace('holdTime: 30', 'holdTime: 1')), NA_ERR_CONFIG_INVALID);
  assert.equal(err.kind, 'invalid-argument');
  assert.deepEqual(problemLines(err), ['bgp.peers[1].holdTime: expected 0 or 3..65535, got 1']);
  assert.equal(err.message, 'bgp.peers[1].holdTime: expected 0 or 3..65535, got 1 (at bgp.yaml:11:7)');
  assert.deepEqual(issuesOf(err)[0]!.source, { kind: 'file', file: 'bgp.yaml', line: 11, column: 7 });
});

test('a wrong type names the path', () => {
  const err = thrown(() => parse(VALID_YAML.replace('localAs: 65001', 'localAs: "65001"')), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err), ['bgp.localAs: expected an integer 1..4294967295, got "65001"']);
  const err2 = thrown(() => parse(VALID_YAML.replace('  announce:\n    - 192.0.2.0/24', '  announce: 192.0.2.0/24')), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err2), ['bgp.announce: expected a list, got "192.0.2.0/24"']);
});

test('unknown fields are refused with their path, nested and in lists, with a hint when close', () => {
  const yaml = VALID_YAML.replace('holdTime: 30', 'holdTime: 30\n      bogus: 1').replace('remoteAs: 65000', 'remoteAs: 65000\n      holdtime: 90');
  const err = thrown(() => parse(`${yaml}extra: true\n`), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err).sort(), [
    'bgp.peers[0].holdtime: unknown field (did you mean holdTime?)',
    'bgp.peers[1].bogus: unknown field',
    'extra: unknown field',
  ]);
});

test('every problem is reported together, in details.issues and in the message', () => {
  const yaml = VALID_YAML.replace('localAs: 65001', 'localAs: 0')
    .replace('routerId: 10.0.0.1', 'routerId: 10.0.0.256')
    .replace('holdTime: 30', 'holdTime: 1\n      port: 0')
    .replace('192.0.2.0/24', '192.0.2.1/24')
    .replace('0.0.0.0:9100', '0.0.0.0');
  const err = thrown(() => parse(yaml), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err), [
    'bgp.localAs: expected an integer 1..4294967295, got 0',
    'bgp.routerId: expected an IPv4 address, got "10.0.0.256"',
    'bgp.peers[1].port: expected a port 1..65535, got 0',
    'bgp.peers[1].holdTime: expected 0 or 3..65535, got 1',
    'bgp.announce[0]: expected a prefix without host bits (192.0.2.0/24), got "192.0.2.1/24"',
    'telemetry.listen: expected host:port with a port 0..65535 (IPv6 in brackets, like [::1]:9100), got "0.0.0.0"',
  ]);
  assert.equal(err.message.split('\n').length, 6);
  for (const line of err.message.split('\n')) assert.match(line, /^[\w.[\]]+: expected .*, got .* \(at bgp\.yaml:\d+:\d+\)$/);
  assert.equal(err.details.app, 'bgp-announcer');
  assert.equal(err.details.file, 'bgp.yaml');
  assert.doesNotThrow(() => JSON.stringify(err.toJSON()));
});

test('a missing required field says so and points at the mapping that lacks it', () => {
  const err = thrown(() => parse(VALID_YAML.replace('  routerId: 10.0.0.1\n', '')), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(issuesOf(err), [
    { path: 'bgp.routerId', message: 'expected an IPv4 address, got nothing', source: { kind: 'file', file: 'bgp.yaml', line: 2, column: 1 } },
  ]);
});

test('a bad default-free section with no file names no source', () => {
  const err = thrown(() => parseConfig(bgpAnnouncer, { env: {} }), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err), [
    'bgp.localAs: expected an integer 1..4294967295, got nothing',
    'bgp.routerId: expected an IPv4 address, got nothing',
  ]);
  assert.ok(issuesOf(err).every((i) => i.source === undefined));
});

test('the result is deep-frozen', () => {
  const config = parse(VALID_YAML);
  const mutable = config as unknown as { bgp: { holdTime: number; peers: { port: number }[] }; telemetry: { listen: { port: number } } };
  assert.throws(() => {
    mutable.bgp.holdTime = 1;
  }, TypeError);
  assert.throws(() => {
    mutable.bgp.peers[0]!.port = 1;
  }, TypeError);
  assert.throws(() => mutable.bgp.peers.push({ port: 1 }), TypeError);
  assert.throws(() => {
    mutable.telemetry.listen.port = 1;
  }, TypeError);
  assert.ok(Object.isFrozen(config.telemetry.labels));
  assert.equal(config.bgp.holdTime, 90);
});

test('the defaults table is not changed by loading', () => {
  const before = JSON.stringify(bgpAnnouncer.defaults);
  parseConfig(bgpAnnouncer, { yaml: VALID_YAML, env: { NETACCEL_BGP_ANNOUNCER_TELEMETRY__LABELS: '{"zone":"a"}' } });
  assert.equal(JSON.stringify(bgpAnnouncer.defaults), before);
  assert.ok(Object.isFrozen(bgpAnnouncer.defaults));
});

test('secret values never appear in messages', () => {
  const yaml = VALID_YAML.replace('password: hunter2-secret', 'password: 12345678');
  const err = thrown(() => parse(yaml), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err), ['bgp.peers[0].password: expected a string, got [redacted]']);
  assert.ok(!err.message.includes('12345678'));
  assert.ok(!JSON.stringify(err.toJSON()).includes('12345678'));
});

test('YAML syntax errors name line and column', () => {
  const err = thrown(() => parse('bgp:\n  localAs: 65001\n  peers: [\n  routerId: x\n'), NA_ERR_CONFIG_PARSE);
  const errors = err.details.errors as { line: number; column: number; message: string }[];
  assert.ok(errors.length >= 1);
  assert.equal(errors[0]!.line, 4);
  assert.match(err.message, /^cannot parse bgp\.yaml: line 4, column \d+: /);
});

test('duplicate keys, several documents and unknown tags are syntax errors', () => {
  const dup = thrown(() => parse('logLevel: info\nlogLevel: debug\n'), NA_ERR_CONFIG_PARSE);
  assert.match(dup.message, /line 2, column 1: .*[Uu]nique/);
  const docs = thrown(() => parse('logLevel: info\n---\nlogLevel: debug\n'), NA_ERR_CONFIG_PARSE);
  assert.match(docs.message, /line 2/);
  const tag = thrown(() => parse('logLevel: !shout info\n'), NA_ERR_CONFIG_PARSE);
  assert.match(tag.message, /line 1, column 11/);
});

test('an alias bomb is refused', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) lines.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
  const err = thrown(() => parse(lines.join('\n')), NA_ERR_CONFIG_PARSE);
  assert.match(err.message, /^cannot parse bgp\.yaml: .*alias/i);
});

test('merge keys may share settings between list elements', () => {
  const yaml = `
bgp:
  localAs: 65001
  routerId: 10.0.0.1
  peers:
    - &peer
      address: 10.0.0.1
      remoteAs: 65000
      holdTime: 30
    - <<: *peer
      address: 10.0.0.2
`;
  const config = parse(yaml);
  assert.deepEqual(config.bgp.peers[1], { address: '10.0.0.2', remoteAs: 65000, port: 179, holdTime: 30 });
});

test('an empty file gives the defaults; a top-level list is refused at <root>', () => {
  const err = thrown(() => parse('# nothing here\n'), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err), ['bgp.localAs: expected an integer 1..4294967295, got nothing', 'bgp.routerId: expected an IPv4 address, got nothing']);
  const list = thrown(() => parse('- 1\n- 2\n'), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(list), ['<root>: expected a mapping, got [1,2]']);
});

test('a __proto__ key is an unknown field, not a prototype', () => {
  const err = thrown(() => parse(`${VALID_YAML}__proto__:\n  polluted: true\n`), NA_ERR_CONFIG_INVALID);
  assert.deepEqual(problemLines(err), ['__proto__: unknown field']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('the message lists at most 50 problems; details has them all', () => {
  const prefixes = Array.from({ length: 60 }, (_, i) => `    - 10.0.${i}.1/24`).join('\n');
  const err = thrown(() => parse(VALID_YAML.replace('    - 192.0.2.0/24', prefixes)), NA_ERR_CONFIG_INVALID);
  assert.equal(issuesOf(err).length, 60);
  const lines = err.message.split('\n');
  assert.equal(lines.length, 51);
  assert.equal(lines[50], '… and 10 more problems');
});

test('loadConfig reads the file; a missing file and an unreadable one are told apart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netaccel-config-'));
  t.onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bgp-announcer.yaml');
  await writeFile(file, VALID_YAML);
  const config = await loadConfig(bgpAnnouncer, { file, env: {} });
  assert.equal(config.bgp.localAs, 65001);

  const missing = await rejected(loadConfig(bgpAnnouncer, { file: join(dir, 'nope.yaml'), env: {} }), NA_ERR_CONFIG_FILE_NOT_FOUND);
  assert.equal(missing.kind, 'not-found');
  assert.equal(missing.message, `configuration file ${join(dir, 'nope.yaml')} does not exist`);

  const unreadable = await rejected(loadConfig(bgpAnnouncer, { file: dir, env: {} }), NA_ERR_CONFIG_READ);
  assert.equal(unreadable.details.errno, 'EISDIR');
  assert.ok(unreadable.cause instanceof Error);

  await writeFile(file, VALID_YAML.replace('holdTime: 30', 'holdTime: 1'));
  const invalid = await rejected(loadConfig(bgpAnnouncer, { file, env: {} }), NA_ERR_CONFIG_INVALID);
  assert.equal(invalid.message, `bgp.peers[1].holdTime: expected 0 or 3..65535, got 1 (at ${file}:11:7)`);
});

test('without a file, defaults and environment make the configuration', async () => {
  const config = await loadConfig(bgpAnnouncer, {
    env: { NETACCEL_BGP_ANNOUNCER_BGP__LOCAL_AS: '65001', NETACCEL_BGP_ANNOUNCER_BGP__ROUTER_ID: '10.0.0.1' },
  });
  assert.equal(config.bgp.localAs, 65001);
  assert.deepEqual(config.bgp.peers, []);
});

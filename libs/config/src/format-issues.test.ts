import { test } from 'vitest';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { closestName, describeSource, formatPath, issueLine, renderValue } from './format-issues.js';
import { defineConfig } from './define.js';
import { NA_ERR_CONFIG_INVALID } from './errors.js';
import { parseConfig } from './load.js';
import { thrown } from './fixtures/errors.js';

test('formatPath writes dotted paths with indexes and quoted odd keys', () => {
  assert.equal(formatPath(['bgp', 'peers', 1, 'holdTime']), 'bgp.peers[1].holdTime');
  assert.equal(formatPath(['services', 'web-1', 'port']), 'services["web-1"].port');
  assert.equal(formatPath([]), '<root>');
  assert.equal(formatPath([0]), '[0]');
});

test('renderValue is short and unambiguous', () => {
  assert.equal(renderValue(1), '1');
  assert.equal(renderValue('1'), '"1"');
  assert.equal(renderValue(null), 'null');
  assert.equal(renderValue(undefined), 'nothing');
  assert.equal(renderValue([1, 'a']), '[1,"a"]');
  assert.equal(renderValue(10n), '10');
  assert.equal(renderValue('x'.repeat(100)).length, 60);
  assert.ok(renderValue('x'.repeat(100)).endsWith('…'));
});

test('closestName finds near misses only', () => {
  assert.equal(closestName('holdtime', ['holdTime', 'port']), 'holdTime');
  assert.equal(closestName('prot', ['holdTime', 'port']), 'port');
  assert.equal(closestName('bogus', ['holdTime', 'port']), undefined);
});

test('issueLine adds the source', () => {
  assert.equal(issueLine({ path: 'a', message: 'expected x, got y' }), 'a: expected x, got y');
  assert.equal(issueLine({ path: 'a', message: 'm', source: { kind: 'file', file: 'f.yaml', line: 2, column: 3 } }), 'a: m (at f.yaml:2:3)');
  assert.equal(describeSource({ kind: 'env', variable: 'NETACCEL_X_A' }), 'from NETACCEL_X_A');
  assert.equal(describeSource({ kind: 'default' }), 'from the defaults');
});

/** The problem lines of parsing `yaml` against a one-off schema. */
function problems(schema: z.ZodType, yaml: string): string[] {
  const err = thrown(() => parseConfig(defineConfig({ app: 'fmt', schema }), { yaml, env: {} }), NA_ERR_CONFIG_INVALID);
  return err.message.split('\n').map((l) => l.replace(/ \(at .*\)$/, ''));
}

test("plain zod schemas get 'expected …, got …' messages too", () => {
  const schema = z.strictObject({
    n: z.number().gt(0).lte(10),
    i: z.int().min(1),
    u: z.uint32(),
    s: z.string().min(2).max(4),
    l: z.array(z.string()).min(1),
    b: z.boolean(),
    e: z.enum(['tcp', 'udp']),
    lit: z.literal('v1'),
    r: z.string().regex(/^[a-z]+$/),
    m: z.number().multipleOf(5),
    either: z.union([z.string(), z.number()]),
    kind: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('file'), path: z.string() }), z.strictObject({ type: z.literal('etcd') })]),
    c: z.string().refine((v) => v === 'ok'),
    own: z.number().refine((v) => v % 2 === 0, 'expected an even number'),
  });
  const yaml = `
n: 0
i: 0
u: -1
s: x
l: []
b: yes
e: sctp
lit: v2
r: ABC
m: 7
either: true
kind: {type: k8s}
c: nope
own: 3
`;
  assert.deepEqual(problems(schema, yaml), [
    'n: expected a number > 0 and <= 10, got 0',
    'i: expected an integer >= 1, got 0',
    'u: expected an integer 0..4294967295, got -1',
    's: expected at least 2 characters, got "x"',
    'l: expected at least 1 item, got []',
    'b: expected true or false, got "yes"',
    'e: expected one of "tcp", "udp", got "sctp"',
    'lit: expected "v1", got "v2"',
    'r: expected a string matching /^[a-z]+$/, got "ABC"',
    'm: expected a multiple of 5, got 7',
    'either: expected a string or a number, got true',
    'kind.type: expected one of "file", "etcd", got "k8s"',
    'c: expected a valid value, got "nope"',
    'own: expected an even number, got 3',
  ]);
});

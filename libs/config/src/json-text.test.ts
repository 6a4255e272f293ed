import { test } from 'vitest';
import assert from 'node:assert/strict';
import { parseDocument } from 'yaml';
import { NA_ERR_CONFIG_INVALID, NA_ERR_CONFIG_PARSE } from './errors.js';
import { parseJsonText } from './json-text.js';
import { parseConfig } from './load.js';
import { parseYaml } from './yaml-source.js';
import { bgpAnnouncer } from './fixtures/bgp-announcer.js';
import { issuesOf, thrown } from './fixtures/errors.js';

/** What the YAML reader alone makes of a text: its data, or the codes of its errors. */
function yamlOnly(text: string): { data: unknown } | { errors: string[] } {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true, strict: true });
  const errors = [...doc.errors, ...doc.warnings].map((e) => e.code);
  return errors.length > 0 ? { errors } : { data: doc.toJS({ maxAliasCount: 100 }) ?? {} };
}

/** What parseYaml makes of it (the JSON path or not): its data, or the codes of its errors. */
function loaded(text: string): { data: unknown } | { errors: string[] } {
  try {
    return { data: parseYaml(text, 'x.yaml').data };
  } catch (err) {
    assert.ok(NA_ERR_CONFIG_PARSE.is(err), String(err));
    return { errors: (err.details.errors as { code: string }[]).map((e) => e.code) };
  }
}

const SAME = [
  '{"a":1}',
  '  {"a": {"b": [1, 2.5, -0, 1e400, 12345678901234567890]}, "c": null}\n\n',
  '{\n"a": {\n"b": [1,\n2]\n}\n}\n',
  '{\r\n  "a": true,\r\n  "b": false\r\n}\r\n',
  '{"<<": {"x": 1}, "y": 2}',
  '{"__proto__": {"x": 1}}',
  '{"s": "\\/x\\u00e9\\"\\\\", "t": "a\u2028b", "u": "\\ud83d\\ude00"}',
  '{"a" :1, "b": [] , "c": {}}',
  '{"quoted \\"key\\"": 1, "x\\\\": 2}',
];

test('a JSON object takes the JSON path and gives the data the YAML reader gives', () => {
  for (const text of SAME) {
    assert.ok(parseJsonText(text) !== undefined, `JSON path not taken for ${JSON.stringify(text)}`);
    assert.deepEqual(loaded(text), yamlOnly(text), JSON.stringify(text));
  }
});

const YAML_WAY = [
  '{"a": 1, "a": 2}', // duplicate key: YAML refuses, JSON.parse would keep the last
  '{"a": {"b": 1, "c": 2, "b": 3}}',
  '{"a":\t1}', // a tab outside strings
  `{"${'k'.repeat(1025)}": 1}`, // longer than YAML's implicit keys
  '{"a"\n: 1}', // a key on another line than its colon
  '{"a": 1} # a comment',
  'a: 1',
  '{a: 1}',
  '\uFEFF{"a": 1}',
  '[1, 2]',
  '',
  '{"a": "x\ty"}', // a tab inside a string: not JSON
  '{"a": 1',
];

test('anything else goes the YAML way, with the same answer as before', () => {
  for (const text of YAML_WAY) {
    assert.equal(parseJsonText(text), undefined, JSON.stringify(text));
    assert.deepEqual(loaded(text), yamlOnly(text), JSON.stringify(text));
  }
  assert.deepEqual(loaded('{"a": 1, "a": 2}'), { errors: ['DUPLICATE_KEY'] });
});

test('a problem in a JSON file still names its line and column', () => {
  const text = `${JSON.stringify(
    {
      bgp: { localAs: 65001, routerId: '10.0.0.1', peers: [{ address: '10.0.0.254', remoteAs: 65000 }, { address: '10.0.0.253', remoteAs: 65000, holdTime: 1 }], announce: ['198.51.100.0/24'] },
      telemetry: { labels: {} },
    },
    null,
    2,
  )}\n`;
  assert.ok(parseJsonText(text) !== undefined);
  const err = thrown(() => parseConfig(bgpAnnouncer, { yaml: text, file: 'bgp.json', env: {} }), NA_ERR_CONFIG_INVALID);
  const issue = issuesOf(err).find((i) => i.path === 'bgp.peers[1].holdTime');
  const line = text.split('\n').findIndex((l) => l.includes('"holdTime": 1')) + 1;
  assert.deepEqual(issue?.source, { kind: 'file', file: 'bgp.json', line, column: 9 });
});

test('2,000 routes in a JSON file read the same either way', () => {
  const announce = Array.from({ length: 2_000 }, (_, i) => `10.${i >> 8}.${i & 0xff}.0/24`);
  const text = JSON.stringify({ bgp: { localAs: 65001, routerId: '10.0.0.1', peers: [], announce } });
  const fast = parseJsonText(text);
  assert.ok(fast !== undefined);
  assert.deepEqual({ data: fast.data }, yamlOnly(text));
  const config = parseConfig(bgpAnnouncer, { yaml: text, file: 'big.json', env: {} });
  assert.equal(config.bgp.announce.length, 2_000);
  assert.equal(config.bgp.announce[1_999], '10.7.207.0/24');
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { defineConfig } from './define.js';
import { NA_ERR_CONFIG_DEFINITION } from './errors.js';
import { duration, holdTime, port } from './fields.js';
import { thrown } from './fixtures/errors.js';

function definitionError(fn: () => unknown): string {
  const err = thrown(fn, NA_ERR_CONFIG_DEFINITION);
  assert.equal(err.kind, 'internal');
  return err.message;
}

const schema = z.strictObject({
  server: z.strictObject({ port: port(), idleTimeout: duration() }),
  holdTime: holdTime(),
});

test('a definition carries app, prefix, schema and frozen defaults', () => {
  const defaults = { server: { port: 8080, idleTimeout: '30s' } };
  const def = defineConfig({ app: 'lb-controller', schema, defaults });
  assert.equal(def.app, 'lb-controller');
  assert.equal(def.envPrefix, 'NETACCEL_LB_CONTROLLER_');
  assert.equal(def.schema, schema);
  assert.deepEqual(def.defaults, defaults);
  assert.notEqual(def.defaults, defaults, 'the table is copied');
  assert.ok(Object.isFrozen(def) && Object.isFrozen(def.defaults) && Object.isFrozen(def.defaults.server));
});

test('the app name must be lower-case words joined by -', () => {
  for (const app of ['', 'BGP', 'bgp_announcer', 'bgp--announcer', '-bgp', 'bgp-', '1bgp']) {
    assert.match(definitionError(() => defineConfig({ app, schema })), /expected lower-case words joined by "-"/, app);
  }
});

test('the top level must be an object schema', () => {
  assert.match(definitionError(() => defineConfig({ app: 'x', schema: z.array(z.string()) })), /expected an object schema at the top level/);
});

test('every object schema must be strict, however deep', () => {
  const loose = z.strictObject({
    a: z.object({ b: z.number() }),
    list: z.array(z.looseObject({ c: z.number() })),
    ok: z.strictObject({ d: z.number() }).optional(),
  });
  const message = definitionError(() => defineConfig({ app: 'x', schema: loose }));
  assert.equal(
    message,
    'configuration of x is defined wrongly: a: object schema is not strict (use z.strictObject or .strict()); ' +
      'list[]: object schema is not strict (use z.strictObject or .strict())',
  );
  assert.match(definitionError(() => defineConfig({ app: 'x', schema: z.object({ a: z.number() }) })), /<root>: object schema is not strict/);
});

test('field names must map to distinct environment names', () => {
  const clash = z.strictObject({ holdTime: z.number(), hold_time: z.number() });
  assert.match(definitionError(() => defineConfig({ app: 'x', schema: clash })), /hold_time: field has the same environment name HOLD_TIME as holdTime/);
  const odd = z.strictObject({ _private: z.number() });
  assert.match(definitionError(() => defineConfig({ app: 'x', schema: odd })), /_private: field name gives the environment name "_PRIVATE"/);
});

test('a default naming no field, or of the wrong kind, is a definition error', () => {
  const unknown = definitionError(() =>
    defineConfig({ app: 'x', schema, defaults: { server: { port: 80, idleTimeOut: '1s' } } as unknown as z.input<typeof schema> }),
  );
  assert.match(unknown, /server\.idleTimeOut: unknown field \(did you mean idleTimeout\?\) \(from the defaults\)/);
  const wrong = definitionError(() => defineConfig({ app: 'x', schema, defaults: { holdTime: 1 } }));
  assert.match(wrong, /holdTime: expected 0 or 3\.\.65535, got 1 \(from the defaults\)/);
});

test('defaults may leave required fields to the file or the environment', () => {
  assert.doesNotThrow(() => defineConfig({ app: 'x', schema, defaults: { server: { port: 80 } } }));
  assert.doesNotThrow(() => defineConfig({ app: 'x', schema }));
});

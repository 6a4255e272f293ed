import { test } from 'vitest';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { defineConfig } from './define.js';
import { parseConfig } from './load.js';
import { redact } from './redact.js';
import { REDACTED, secret } from './secret.js';
import { VALID_YAML, bgpAnnouncer } from './fixtures/bgp-announcer.js';

test('redact replaces secrets, in list elements and sections, and leaves the rest', () => {
  const config = parseConfig(bgpAnnouncer, {
    yaml: `${VALID_YAML}tls:\n  certFile: /etc/netaccel/tls.crt\n  key: "-----BEGIN PRIVATE KEY-----"\n`,
    env: {},
  });
  const shown = redact(config) as { bgp: { peers: Record<string, unknown>[] }; tls: Record<string, unknown>; telemetry: unknown };
  assert.equal(shown.bgp.peers[0]!.password, REDACTED);
  assert.equal('password' in shown.bgp.peers[1]!, false, 'an absent secret stays absent');
  assert.deepEqual(shown.tls, { certFile: '/etc/netaccel/tls.crt', key: REDACTED });
  assert.deepEqual(shown.telemetry, { listen: { host: '0.0.0.0', port: 9100 }, labels: {} });
  const text = JSON.stringify(shown);
  assert.ok(!text.includes('hunter2') && !text.includes('PRIVATE KEY'));
  assert.equal(config.bgp.peers[0]!.password, 'hunter2-secret', 'the configuration itself is unchanged');
});

test('a secret section hides everything inside it; secret marks a copy, not the schema given', () => {
  const plain = z.string();
  const schema = z.strictObject({ auth: secret(z.strictObject({ user: plain, token: plain })), name: plain });
  const def = defineConfig({ app: 'x', schema });
  const config = parseConfig(def, { yaml: 'auth: {user: u, token: t}\nname: n\n', env: {} });
  assert.deepEqual(redact(config), { auth: REDACTED, name: 'n' });
});

test('redact refuses a value it cannot know the schema of, unless given the definition', () => {
  assert.throws(() => redact({ password: 'x' }), TypeError);
  const def = defineConfig({ app: 'x', schema: z.strictObject({ password: secret(z.string()), user: z.string() }) });
  assert.deepEqual(redact({ password: 'x', user: 'u' }, def), { password: REDACTED, user: 'u' });
});

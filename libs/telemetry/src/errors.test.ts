import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { registryTests } from '@netaccel/errors/testing';
import { telemetryErrors } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

registryTests(telemetryErrors, new URL('../README.md', import.meta.url), { area: 'TELEMETRY' });

describe('telemetry error registry', () => {
  it('documents each code with its kind in the table', () => {
    for (const [code, factory] of Object.entries(telemetryErrors)) {
      assert.match(readme, new RegExp(`^\\| \`${code}\` \\| ${factory.kind} \\|`, 'm'), code);
    }
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { checkRegistry, undocumentedCodes } from '@netaccel/errors';
import { telemetryErrors } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('telemetry error registry', () => {
  it('is consistent: every key is its code, no code twice', () => {
    assert.deepEqual(checkRegistry(telemetryErrors), []);
  });

  it('documents every code in the README', () => {
    assert.deepEqual(undocumentedCodes(telemetryErrors, readme), []);
  });

  it('documents no code that does not exist', () => {
    const documented = new Set(readme.match(/NA_ERR_TELEMETRY_[A-Z0-9_]+/g) ?? []);
    assert.deepEqual([...documented].filter((code) => !(code in telemetryErrors)), []);
  });

  it('documents each code with its kind in the table', () => {
    for (const [code, factory] of Object.entries(telemetryErrors)) {
      assert.match(readme, new RegExp(`^\\| \`${code}\` \\| ${factory.kind} \\|`, 'm'), code);
    }
  });

  it('uses the package area in every code', () => {
    for (const code of Object.keys(telemetryErrors)) assert.match(code, /^NA_ERR_TELEMETRY_[A-Z0-9_]+$/);
  });
});

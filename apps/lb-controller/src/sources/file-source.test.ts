import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import type { DesiredState } from '../desired-state.js';
import { FileSource } from './file-source.js';

const state = (backends: string[]) =>
  `services:\n  - { vip: 10.0.0.1, port: 80, mode: nat, backends: [${backends.map((b) => `{ address: ${b} }`).join(', ')}] }\n`;

async function until(ok: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what} not seen within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the file is read at start and again when it changes (atomic renames too); a bad version is refused whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-file-'));
  const file = join(dir, 'services.yaml');
  writeFileSync(file, state(['10.1.0.1']));
  const states: DesiredState[] = [];
  const problems: unknown[] = [];
  const capture = createLogCapture();
  const src = new FileSource({ file, debounceMs: 20, log: createLogger({ name: 't', destination: capture.stream }) });
  try {
    await src.start({ state: (s) => states.push(s), problem: (_k, e) => problems.push(e) });
    assert.equal(states.length, 1);
    writeFileSync(file, state(['10.1.0.1', '10.1.0.2']));
    await until(() => states.length === 2, 'the edit');
    assert.equal(states[1]!.services[0]!.backends.length, 2);
    writeFileSync(file, state(['10.1.0.1', '10.1.0.999']));
    await until(() => problems.length === 1, 'the refusal');
    assert.equal(states.length, 2, 'no state from a bad file');
    assert.match(String((problems[0] as Error).message), /services\[0\]\.backends\[1\]\.address: expected an IPv4 or IPv6 address/);
    const refusals = capture.find({ level: 'warn' });
    assert.equal(refusals.length, 1, 'one line per refusal');
    assert.equal(refusals[0]!.code, 'NA_ERR_LB_STATE_INVALID');
    assert.equal(refusals[0]!.err, undefined, 'no error object with its stack in the line');
    assert.equal(capture.find({ level: 'error' }).length, 0);
    // an empty (truncated) file is refused like any bad file: the running state stays
    writeFileSync(file, '');
    await until(() => problems.length === 2, 'the empty file');
    assert.equal(states.length, 2, 'no state from an empty file');
    assert.match(String((problems[1] as Error).message), /the text is empty \(a truncated write\?\); to remove every service, write `services: \[\]`/);
    writeFileSync(join(dir, 'tmp'), state(['10.1.0.3']));
    renameSync(join(dir, 'tmp'), file);
    await until(() => states.length === 3, 'the rename');
    assert.equal(states[2]!.services[0]!.backends[0]!.address, '10.1.0.3');
  } finally {
    await src.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the last good text put back after a refusal is delivered again (it ends the refusal)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-file-'));
  const file = join(dir, 'services.yaml');
  writeFileSync(file, state(['10.1.0.1']));
  const states: DesiredState[] = [];
  const problems: unknown[] = [];
  const src = new FileSource({ file, debounceMs: 20, log: createLogger({ name: 't', destination: createLogCapture().stream }) });
  try {
    await src.start({ state: (s) => states.push(s), problem: (_k, e) => problems.push(e) });
    writeFileSync(file, '');
    await until(() => problems.length === 1, 'the empty file');
    writeFileSync(file, state(['10.1.0.1']));
    await until(() => states.length === 2, 'the good text again');
    assert.deepEqual(states[1], states[0]);
    assert.equal(problems.length, 1);
  } finally {
    await src.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad file at start fails the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-file-'));
  const file = join(dir, 'services.yaml');
  writeFileSync(file, 'services: [{ vip: nope, port: 80, mode: nat }]');
  const src = new FileSource({ file, log: createLogger({ name: 't', destination: createLogCapture().stream }) });
  try {
    await assert.rejects(src.start({ state: () => undefined, problem: () => undefined }), /services\[0\]\.vip: expected an IPv4 or IPv6 address/);
  } finally {
    await src.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * BPF layer: a program the verifier must reject (fixtures/verifier-reject.bpf.c, compiled here
 * into a temporary folder — never under bpf/, whose Makefile builds with -Werror and ships what
 * it builds) comes back as NA_ERR_BPF_VERIFIER with the verifier's log; a verbose load keeps the
 * log of a program that passed.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NA_ERR_BPF_VERIFIER } from './errors.js';
import { silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { BpfObject } from './object.js';

const SOURCE = fileURLToPath(new URL('../fixtures/verifier-reject.bpf.c', import.meta.url));
const SELFTEST = fileURLToPath(new URL('../../../bpf/build/selftest/selftest.bpf.o', import.meta.url));

describe('verifier rejection', () => {
  let dir = '';
  let object = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netaccel-bpf-verifier-'));
    object = join(dir, 'verifier-reject.bpf.o');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-c', SOURCE, '-o', object]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the load fails with NA_ERR_BPF_VERIFIER naming the program, with the log in details', () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_o, msg) => void warnings.push(msg) };
    const obj = BpfObject.openFile(object, { logger });
    try {
      let caught: unknown;
      try {
        obj.load();
      } catch (err) {
        caught = err;
      }
      assert.ok(NA_ERR_BPF_VERIFIER.is(caught), `expected NA_ERR_BPF_VERIFIER, got ${String(caught)}`);
      assert.equal(caught.kind, 'invalid-argument');
      assert.equal(caught.details.program, 'reject_unchecked');
      assert.equal(caught.details.object, 'verifier-reject');
      const log = caught.details.log as string;
      assert.match(log, /invalid access to packet/);
      assert.match(log, /processed \d+ insns/);
      assert.match(caught.message, /^the verifier rejected program reject_unchecked of verifier-reject: /);
      assert.doesNotMatch(caught.message, /processed \d+ insns/, 'the message carries the reason, not the statistics');
      assert.equal(caught.details.errnoName, 'EACCES');
      assert.ok((caught.details.libbpf as string[]).some((m) => m.includes("prog 'reject_unchecked'")));
      assert.ok(warnings.some((w) => w.includes('reject_unchecked')), 'libbpf warned through the logger');
      assert.equal(obj.state, 'failed');
      assert.equal(obj.program('reject_unchecked').verifierLog, log);
    } finally {
      obj.close();
    }
  });

  test('verifierLogLevel 1 keeps the log of a program that loads', () => {
    const obj = BpfObject.openFile(SELFTEST, { verifierLogLevel: 1 });
    try {
      obj.load();
      assert.match(obj.program('selftest_xdp').verifierLog, /processed \d+ insns/);
    } finally {
      obj.close();
    }
    const quiet = BpfObject.openFile(SELFTEST);
    try {
      quiet.load();
      assert.equal(quiet.program('selftest_xdp').verifierLog, '');
    } finally {
      quiet.close();
    }
  });
});

import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findStale, ownerState, parseStat, publishRecord, readRecords, recordFile, removeRecord } from './registry.js';
import type { ProcTable, RecordEntry, RunRecord } from './registry.js';

/** A process table with exactly these pids → start times. */
function procs(table: Record<number, string>): ProcTable {
  return { startTime: (pid) => table[pid] };
}

function record(runId: string, pid: number, pidStart: string, nodes = ['a', 'b']): RunRecord {
  return {
    version: 1, runId, prefix: 'nalab', name: 'test', pid, pidStart, createdAt: '2026-01-01T00:00:00.000Z',
    namespaces: nodes.map((n) => `nalab-${runId}-${n}`), logDir: `/tmp/x/nalab-${runId}`,
  };
}

function entry(rec: RunRecord): RecordEntry {
  return { runId: rec.runId, file: `/state/nalab/${rec.runId}.json`, record: rec };
}

test('parseStat reads state and start time even when comm has spaces and parens', () => {
  const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 1 0 0 20 0 11 0 987654 1000 100 18446744073709551615';
  assert.deepEqual(parseStat(stat), { state: 'S', startTime: '987654' });
  assert.equal(parseStat('garbage'), undefined);
});

test('ownerState: alive only when pid and start time both match', () => {
  const rec = record('aaaaaa', 100, '5000');
  assert.equal(ownerState(rec, procs({ 100: '5000' })), 'alive');
  assert.equal(ownerState(rec, procs({})), 'owner-dead');
  assert.equal(ownerState(rec, procs({ 100: '7777' })), 'pid-reused');
});

test('findStale keeps live runs and returns dead, reused, corrupt and unrecorded ones', () => {
  const live = record('live01', 100, '5000');
  const dead = record('dead01', 200, '6000');
  const reused = record('reuse1', 300, '7000');
  const namespaces = [
    'nalab-live01-a', 'nalab-live01-b', // live run: untouched
    'nalab-dead01-a', // the record also lists nalab-dead01-b, already gone
    'nalab-reuse1-a', 'nalab-reuse1-b',
    'nalab-corrup-x',
    'nalab-orphan-a', 'nalab-orphan-b', // no record at all
    'nalabx-orph22-a', 'cni-abc', 'nalab-notarunid-a', // not ours: never touched
  ];
  const records: RecordEntry[] = [entry(live), entry(dead), entry(reused), { runId: 'corrup', file: '/state/nalab/corrup.json', record: undefined }];
  const stale = findStale('nalab', namespaces, records, procs({ 100: '5000', 300: '1' }));
  assert.deepEqual(stale, [
    { runId: 'dead01', namespaces: ['nalab-dead01-a', 'nalab-dead01-b'], file: '/state/nalab/dead01.json', reason: 'owner-dead' },
    { runId: 'reuse1', namespaces: ['nalab-reuse1-a', 'nalab-reuse1-b'], file: '/state/nalab/reuse1.json', reason: 'pid-reused' },
    { runId: 'corrup', namespaces: ['nalab-corrup-x'], file: '/state/nalab/corrup.json', reason: 'corrupt-record' },
    { runId: 'orphan', namespaces: ['nalab-orphan-a', 'nalab-orphan-b'], file: undefined, reason: 'no-record' },
  ]);
});

test('findStale never returns namespaces of another run id or prefix, even when a record lists them', () => {
  const evil = { ...record('dead02', 200, '1'), namespaces: ['nalab-live01-a', 'other-dead02-a', 'nalab-dead02-a'] };
  const stale = findStale('nalab', ['nalab-live01-a'], [entry(record('live01', 100, '5000')), entry(evil)], procs({ 100: '5000' }));
  assert.deepEqual(stale.map((s) => s.namespaces), [['nalab-dead02-a']]);
});

test('findStale with a single live owner (this process) returns nothing', () => {
  const me = record('mine01', process.pid, '42');
  assert.deepEqual(findStale('nalab', me.namespaces, [entry(me)], procs({ [process.pid]: '42' })), []);
});

test('records are published exclusively, read back, and removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-registry-'));
  try {
    const rec = record('abc123', 100, '5000');
    assert.equal(publishRecord(dir, rec), true);
    assert.equal(publishRecord(dir, { ...rec, pid: 101 }), false, 'a second record with the same run id is refused');
    const file = recordFile(dir, 'nalab', 'abc123');
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, 100);
    writeFileSync(join(dir, 'nalab', 'zzz999.json'), '{ not json');
    writeFileSync(join(dir, 'nalab', 'README'), 'ignored');
    const entries = readRecords(dir, 'nalab').sort((a, b) => a.runId.localeCompare(b.runId));
    assert.deepEqual(entries.map((e) => [e.runId, e.record?.pid]), [['abc123', 100], ['zzz999', undefined]]);
    assert.deepEqual(readRecords(dir, 'otherprefix'), []);
    removeRecord(file);
    removeRecord(file); // idempotent
    assert.deepEqual(readRecords(dir, 'nalab').map((e) => e.runId), ['zzz999']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

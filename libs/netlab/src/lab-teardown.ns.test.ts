/**
 * Teardown is guaranteed: after down(), after a failing function in withLab(), after a failed
 * build, on SIGINT of the owning process, and — for SIGKILL, where no handler runs — by
 * cleanStale() of a later run, which must not touch runs whose owner is alive.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runCommand } from './command.js';
import { NA_ERR_NETLAB_BAD_STATE, NA_ERR_NETLAB_UP_FAILED } from './errors.js';
import { ipJson } from './ip.js';
import { createLab, withLab } from './lab.js';
import { NETNS_DIR, isRunning, listNetns } from './netns.js';
import { recordFile } from './registry.js';
import type { LabSpec } from './spec-types.js';
import { cleanStale, keptRuns, removeRun } from './teardown.js';
import { waitFor } from './wait.js';

const STATE_DIR = '/run/netaccel-netlab';
const FIXTURE = fileURLToPath(new URL('./fixtures/lab-child.ts', import.meta.url));

const pair: LabSpec = {
  name: 'pair',
  nodes: { a: {}, b: {} },
  links: [{ a: 'a', b: 'b', aAddr: ['10.66.0.1/24', 'fd66::1/64'], bAddr: ['10.66.0.2/24', 'fd66::2/64'] }],
};

interface RootLink { ifname: string; linkinfo?: { info_kind?: string } }

async function rootVeths(): Promise<string[]> {
  return (await ipJson<RootLink[]>(['-d', 'link', 'show'])).filter((l) => l.linkinfo?.info_kind === 'veth').map((l) => l.ifname).sort();
}

function namespacesOf(prefix: string, runId: string): string[] {
  return listNetns().filter((n) => n.startsWith(`${prefix}-${runId}-`));
}

interface ChildInfo { pid: number; runId: string; namespaces: string[]; sleeper: number }
interface Child { info: ChildInfo; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

/**
 * Runs the fixture until it has built its lab, then `fn`. Whatever happens in `fn`, the child is
 * killed afterwards and the fixture's prefix (used by no other test) is cleaned.
 */
async function withChild(prefix: string, mode: string, fn: (child: Child) => Promise<void>, extra: string[] = []): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, prefix, mode, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const lines = createInterface({ input: proc.stdout! });
    const first = await Promise.race([
      new Promise<string>((resolve) => lines.once('line', resolve)),
      exited.then((e) => Promise.reject(new Error(`fixture exited early: ${JSON.stringify(e)}; stderr: ${stderr}`))),
    ]);
    await fn({ info: JSON.parse(first) as ChildInfo, exited });
  } finally {
    proc.kill('SIGKILL');
    await exited;
    await cleanStale({ prefix });
  }
}

test('down() ends processes, deletes namespaces and the record, leaves the root namespace alone; idempotent', async () => {
  const vethsBefore = await rootVeths();
  const lab = createLab(pair);
  const record = recordFile(STATE_DIR, lab.prefix, lab.runId);
  let daemon = 0;
  let managed = 0;
  try {
    await lab.up();
    const inside = await lab.exec('b', ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!']); // not managed by netlab
    daemon = Number(inside.stdout.trim());
    managed = (await lab.spawn('a', ['sleep', '300'])).pid;
    assert.ok(existsSync(record));
    assert.equal(namespacesOf(lab.prefix, lab.runId).length, 2);
    assert.deepEqual(await rootVeths(), vethsBefore, 'veths are created inside the namespaces, never in the root namespace');
    assert.ok(isRunning(daemon) && isRunning(managed));
  } finally {
    await lab.down();
  }
  assert.deepEqual(namespacesOf(lab.prefix, lab.runId), []);
  const ipList = await runCommand('ip', ['netns', 'list']);
  assert.ok(!ipList.stdout.includes(lab.runId), ipList.stdout);
  assert.ok(!isRunning(daemon), 'a process left inside a namespace is ended');
  assert.ok(!isRunning(managed));
  assert.ok(!existsSync(record));
  assert.deepEqual(await rootVeths(), vethsBefore);
  const rootNames = (await ipJson<RootLink[]>(['link', 'show'])).map((l) => l.ifname);
  assert.ok(rootNames.every((n) => !n.includes(lab.runId)));
  assert.equal(lab.state, 'down');
  await lab.down(); // idempotent
  await assert.rejects(lab.exec('a', ['true']), (e: unknown) => NA_ERR_NETLAB_BAD_STATE.is(e));
  assert.ok((lab.timings.upMs ?? 0) > 0 && (lab.timings.downMs ?? 0) > 0);
});

test('withLab() tears down when the function throws and passes its error on', async () => {
  let runId = '';
  await assert.rejects(
    withLab(pair, async (lab) => {
      runId = lab.runId;
      assert.equal(namespacesOf(lab.prefix, runId).length, 2);
      throw new Error('assertion failed inside the lab');
    }),
    /assertion failed inside the lab/,
  );
  assert.notEqual(runId, '');
  assert.deepEqual(namespacesOf('nalab', runId), []);
});

test('a build the kernel rejects is rolled back and names the failing step', async () => {
  const lab = createLab({ ...pair, nodes: { a: { sysctls: { 'net.ipv4.conf.all.no_such_knob': 1 } }, b: {} } });
  await assert.rejects(lab.up(), (err: unknown) => {
    assert.ok(NA_ERR_NETLAB_UP_FAILED.is(err), String(err));
    assert.match(err.message, /node a: sysctl -p .*sysctl-a\.conf failed: .*no_such_knob/);
    return true;
  });
  assert.deepEqual(namespacesOf(lab.prefix, lab.runId), []);
  assert.ok(!existsSync(recordFile(STATE_DIR, lab.prefix, lab.runId)));
  await lab.down();
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} to the owning process tears its lab down and the process ends by ${signal}`, async () => {
    const prefix = 'nalabsig';
    await withChild(prefix, 'wait', async ({ info, exited }) => {
      assert.deepEqual(namespacesOf(prefix, info.runId).sort(), [...info.namespaces].sort());
      assert.ok(isRunning(info.sleeper));
      process.kill(info.pid, signal);
      assert.deepEqual(await exited, { code: null, signal });
      assert.deepEqual(namespacesOf(prefix, info.runId), []);
      assert.ok(!isRunning(info.sleeper), 'the process in the lab was ended');
      assert.ok(!existsSync(recordFile(STATE_DIR, prefix, info.runId)));
    });
  });
}

test('SIGINT in the middle of up() leaves nothing behind, whatever step it hits', async () => {
  const prefix = 'nalabint';
  for (const delay of [0, 20, 40, 70, 100, 150]) {
    await withChild(prefix, 'interrupt', async ({ info, exited }) => {
      assert.deepEqual(await exited, { code: null, signal: 'SIGINT' }, `delay ${delay}`);
      assert.deepEqual(namespacesOf(prefix, info.runId), [], `delay ${delay}`);
      assert.ok(!existsSync(recordFile(STATE_DIR, prefix, info.runId)), `delay ${delay}`);
    }, [String(delay)]);
  }
});

test('an owner that crashes or exits without down() tears its lab down on exit', async () => {
  const prefix = 'nalabexit';
  for (const [mode, code] of [['throw', 1], ['exit', 3]] as const) {
    await withChild(prefix, mode, async ({ info, exited }) => {
      assert.deepEqual(await exited, { code, signal: null }, mode);
      assert.deepEqual(namespacesOf(prefix, info.runId), [], mode);
      assert.ok(!isRunning(info.sleeper), mode);
    });
  }
});

test('after SIGKILL, cleanStale() removes the dead run and leaves a live run alone', async () => {
  const prefix = 'nalabkill';
  const mine = createLab(pair, { prefix }); // a concurrently live run of the same prefix
  try {
    await mine.up();
    await withChild(prefix, 'wait', async ({ info, exited }) => {
      process.kill(info.pid, 'SIGKILL');
      assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
      // no handler ran: everything is still there, the sleeper orphaned
      assert.equal(namespacesOf(prefix, info.runId).length, 2);
      assert.ok(isRunning(info.sleeper));
      // and a namespace of the prefix that no record claims (as if its record was lost)
      const orphanRun = `zz${info.runId.slice(2)}`;
      const orphan = `${prefix}-${orphanRun}-lost`;
      await runCommand('ip', ['netns', 'add', orphan]);
      assert.ok(listNetns().includes(orphan));

      const report = await cleanStale({ prefix });
      assert.deepEqual(report.runs.map((r) => [r.runId, r.reason]).sort(), [[info.runId, 'owner-dead'], [orphanRun, 'no-record']].sort());
      assert.deepEqual([...report.namespaces].sort(), [...info.namespaces, orphan].sort());
      assert.ok(report.pids.includes(info.sleeper));
      assert.deepEqual(namespacesOf(prefix, info.runId), []);
      assert.ok(!listNetns().includes(orphan));
      await waitFor(() => !isRunning(info.sleeper), { timeoutMs: 2000, what: 'the orphaned sleeper to end' });
      assert.ok(!existsSync(recordFile(STATE_DIR, prefix, info.runId)));
    });

    // the live run is untouched and still works
    assert.deepEqual(namespacesOf(prefix, mine.runId).sort(), mine.namespaces().sort());
    assert.ok(existsSync(`${NETNS_DIR}/${mine.ns('a')}`));
    assert.ok(existsSync(recordFile(STATE_DIR, prefix, mine.runId)));
    assert.ok((await mine.ping('a', 'fd66::2')).ok);
    assert.deepEqual((await cleanStale({ prefix })).runs, []);
  } finally {
    await mine.down();
  }
});

test('a kept run outlives its owner, survives cleanStale() and is taken down by removeRun()', async () => {
  const prefix = 'nalabkeep';
  await withChild(prefix, 'keep', async ({ info, exited }) => {
    assert.deepEqual(await exited, { code: 0, signal: null }, 'the owner ends by itself once the lab is kept');
    assert.deepEqual(namespacesOf(prefix, info.runId).sort(), [...info.namespaces].sort());
    assert.ok(isRunning(info.sleeper), 'the process in the lab runs on');
    assert.deepEqual(keptRuns({ prefix }).map((r) => r.runId), [info.runId]);
    const report = await cleanStale({ prefix });
    assert.deepEqual(report.runs, [], 'a kept run is not stale');
    assert.equal(namespacesOf(prefix, info.runId).length, 2);
    const removed = await removeRun(info.runId, { prefix });
    assert.deepEqual([...removed.namespaces].sort(), [...info.namespaces].sort());
    assert.ok(removed.pids.includes(info.sleeper));
    assert.deepEqual(namespacesOf(prefix, info.runId), []);
    assert.ok(!existsSync(recordFile(STATE_DIR, prefix, info.runId)));
    assert.deepEqual(keptRuns({ prefix }), []);
  });
});

test('removeRun() refuses a run whose owner is alive and did not keep it', async () => {
  const prefix = 'nalabown';
  await withChild(prefix, 'wait', async ({ info }) => {
    await assert.rejects(removeRun(info.runId, { prefix }), (err: unknown) => NA_ERR_NETLAB_BAD_STATE.is(err) && /owned by the running process/.test(String(err)));
    assert.equal(namespacesOf(prefix, info.runId).length, 2);
  });
});

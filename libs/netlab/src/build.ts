/**
 * Runs an UpPlan (see plan.ts): writes the sysctl files, runs the root batch under a lock (two
 * runs creating their first namespaces at once could otherwise both set up the /run/netns
 * mount), then every node's script in parallel. A failure names the node and, for a batch, the
 * failing line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './command.js';
import { NA_ERR_NETLAB_IP_FAILED } from './errors.js';
import { failedBatchLine, ipBatch } from './ip.js';
import { NETNS_DIR } from './netns.js';
import { NODE_SCRIPT } from './plan.js';
import type { NodeBatch, UpPlan } from './plan.js';

export interface BuildOptions {
  /** Folder for the lock file. */
  readonly stateDir: string;
  /** How long a node's links may take to report UP. */
  readonly linkUpTimeoutMs: number;
  readonly netnsDir?: string;
  /** Aborting kills whatever step runs (the teardown of a signal handler does). */
  readonly signal?: AbortSignal;
}

export interface BuildTimings {
  readonly rootMs: number;
  readonly nodesMs: number;
}

const WAIT_ROUND_MS = 15; // one round of the node script: a 10 ms sleep and a probe
const NODE_TIMEOUT_MS = 60_000; // 60 s for one node's whole script

function stderrText(stderr: string): string {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/^Command failed /.test(l)).join('; ') || '(no output on stderr)';
}

async function runNode(n: NodeBatch, opts: BuildOptions, signal: AbortSignal): Promise<void> {
  const rounds = Math.max(1, Math.ceil(opts.linkUpTimeoutMs / WAIT_ROUND_MS));
  const nsPath = join(opts.netnsDir ?? NETNS_DIR, n.ns);
  const r = await runCommand('nsenter', [`--net=${nsPath}`, 'sh', '-c', NODE_SCRIPT, 'netlab', n.sysctlPath, String(rounds), ...n.waitUp], {
    input: `${n.lines.join('\n')}\n`,
    timeoutMs: NODE_TIMEOUT_MS,
    signal,
  });
  if (r.code === 0) return;
  if (signal.aborted) throw new Error(`node ${n.node}: stopped because another node failed`);
  let what: string;
  if (r.code === 1) what = `sysctl -p ${n.sysctlPath}`;
  else if (r.code === 2) {
    const failed = failedBatchLine(r.stderr, n.lines);
    what = failed === undefined ? 'ip -batch' : `ip -batch line ${failed.index + 1} ${JSON.stringify(failed.text)}`;
  } else if (r.code === 3) what = 'waiting for links to come up';
  else what = r.timedOut ? `node setup (timed out after ${NODE_TIMEOUT_MS} ms)` : `node setup (exit ${r.code ?? r.signal})`;
  throw NA_ERR_NETLAB_IP_FAILED.with({ details: { node: n.node, ns: n.ns, code: r.code, stderr: r.stderr } }, `node ${n.node}: ${what}`, stderrText(r.stderr));
}

/**
 * Runs `task` for every item at once and waits until all have ended; rejects with the first
 * failure. Each task gets an AbortSignal of its own, aborted by the first failure of another task
 * or by `signal`. One signal per task (not one shared by all) keeps a single 'abort' listener on
 * each however many tasks run, and the one listener added to `signal` is removed before this
 * returns, so a long-lived caller signal collects none.
 */
export async function allOrStop<T>(items: readonly T[], task: (item: T, signal: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const controllers = items.map(() => new AbortController());
  const stopAll = (): void => {
    for (const c of controllers) c.abort();
  };
  let first: { err: unknown } | undefined;
  signal?.addEventListener('abort', stopAll, { once: true });
  try {
    if (signal?.aborted === true) stopAll();
    await Promise.all(
      items.map((item, i) =>
        task(item, controllers[i]!.signal).catch((err: unknown) => {
          first ??= { err };
          stopAll();
        }),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', stopAll);
  }
  if (first !== undefined) throw first.err;
}

export async function buildPlan(plan: UpPlan, opts: BuildOptions): Promise<BuildTimings> {
  for (const f of plan.sysctlFiles) writeFileSync(f.path, f.content);
  const t0 = performance.now();
  await ipBatch(plan.root, { lockFile: join(opts.stateDir, 'netns.lock'), signal: opts.signal });
  const t1 = performance.now();
  // The first failure stops the other nodes (whose links may never come up now); all have ended
  // before this returns, so a rollback does not race them.
  await allOrStop(plan.nodes, (n, signal) => runNode(n, opts, signal), opts.signal);
  return { rootMs: t1 - t0, nodesMs: performance.now() - t1 };
}

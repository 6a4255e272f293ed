/**
 * The CRAQ scenario (`netaccel lab --scenario craq`): NetCRAQ with the data plane in XDP. In
 * namespaces on one switch: a real etcd cluster of three members (e1..e3, one per namespace), a
 * chain n1 → n2 → n3 of bpf/craq XDP nodes (each with its own ebpf-loader, in its namespace),
 * redis-server and the craq-scheduler on `s`, the client workload on `c` (@netaccel/craq's Etcd3:
 * Zipf 0.99 over a few thousand keys, reads answered by etcd reported as heat to Redis). Read the
 * steps from top to bottom: the clients run with nothing placed (every read from etcd); the
 * scheduler starts, ranks the heat and places the hottest keys in the chain (the report lists
 * which and when); the clients go on, their hot reads answered by XDP at every node; then chain
 * node n2 is killed (its loader SIGKILLed, its link down), the scheduler takes it out and links
 * n1 to n3, and the clients carry on with retries only. The report gives read QPS and latency
 * per phase and per second (chart), how reads were served, the placement changes, and the
 * linearizability check of every operation on the keys ever placed. The run fails when a client
 * saw an error (retries exhausted), when nothing was placed, when the chain was not
 * reconfigured, or when that history is not linearizable.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory } from '@netaccel/linearizability';
import type { RegisterOp } from '@netaccel/linearizability';
import { cleanStale, sleep, waitFor } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { CraqClient as CraqRpcClient, craqV1, createRpcClient } from '@netaccel/rpc';
import type { CraqService, RpcClient } from '@netaccel/rpc';
import { NA_ERR_LAB_CHECK } from '../errors.js';
import type { Scenario, ScenarioRunOptions } from '../scenario.js';
import { STEP_INDENT, fmtMs } from '../steps/step-runner.js';
import type { StepTime } from '../steps/step-runner.js';
import { completeChecksums, napiForXdpTx } from '../veth.js';
import { perSecond, phaseFigures } from '../paxos/figures.js';
import { RUNNER_CWD } from '../paxos/processes.js';
import type { PhaseBound } from '../paxos/figures.js';
import { craqChartSvg } from './chart.js';
import { clientFinal, clientLoaded, clientProgress, clientRunnerArgv, etcdArgv, redisArgv, redisUrl, writeLoaderFiles, writeSchedulerConfig } from './processes.js';
import type { ClientProgress, CraqInstall, LoaderFiles } from './processes.js';
import type { CraqReport, PlacementChange, ServedBy } from './report.js';
import { CHAIN_NODES, CRAQ_CLIENT_NODE, CRAQ_KEY_PREFIX, CRAQ_LAB_PREFIX, ETCD_NODES, SCHEDULER_NODE, chainPorts, craqTopology, etcdClientUrl } from './topology.js';
import { zipfHeadShare } from './zipf.js';

export interface CraqLabOptions extends ScenarioRunOptions {
  /** The shortened run of tests: a few seconds per phase. */
  readonly quick: boolean;
  readonly install: CraqInstall;
  /** etcd keys of the workload (default 4000, quick 1000) and the Zipf exponent (0.99). */
  readonly keys?: number;
  readonly zipf?: number;
  /** Concurrent closed-loop clients (default 8, quick 4) and the share of writes (default 0.05). */
  readonly clients?: number;
  readonly writeRatio?: number;
  /** The most keys the scheduler places (default 64). */
  readonly maxKeys?: number;
  /** ms of load per phase (default 8000, quick 2500) and before the measurement (default 2000, quick 1000). */
  readonly holdMs?: number;
  readonly warmupMs?: number;
}

/** The state of one run, carried from step to step. */
export interface CraqRun {
  readonly lab: Lab;
  readonly o: CraqLabOptions;
  readonly keys: number;
  readonly hold: number;
  readonly warmup: number;
  readonly startedAt: Date;
  readonly done: readonly StepTime[];
  /** Sockets and configurations (short paths: unix sockets). */
  readonly dir: string;
  macs: string[];
  readonly loaders: (LabProcess | undefined)[];
  readonly loaderFiles: LoaderFiles[];
  scheduler?: LabProcess;
  socket: string;
  client?: LabProcess;
  api?: RpcClient<typeof CraqService>;
  poller?: NodeJS.Timeout;
  readonly changes: (PlacementChange & { at: number })[];
  readonly everPlaced: Set<string>;
  last?: craqV1.Placement;
  t0: number;
  schedAt: number;
  placedAt: number;
  /** When the placement settled (the budget full or no change for 1 s). */
  settledAt: number;
  killAt: number;
  reconfAt: number;
  endAt: number;
  report?: CraqReport;
}

const KILLED = 'n2';
const stopFile = (run: CraqRun): string => join(run.lab.logDir, 'clients-stop');
const historyFile = (run: CraqRun): string => join(run.lab.logDir, 'history.json');
const runDir = (runId: string): string => `/tmp/ncl-${runId}`;
const shmDir = (runId: string): string => `/dev/shm/ncl-${runId}`;
const logsOf = (...names: string[]) => (): string[] => names;

function check(ok: boolean, claim: string): void {
  if (!ok) throw NA_ERR_LAB_CHECK(claim);
}

// --- the steps, in order -----------------------------------------------------------------------

async function removeEarlierRuns(run: CraqRun): Promise<void> {
  await cleanStale({ prefix: CRAQ_LAB_PREFIX });
  run.o.progress(`${STEP_INDENT}${run.keys} etcd keys, Zipf ${run.o.zipf ?? 0.99}, ${run.o.clients ?? (run.o.quick ? 4 : 8)} clients, ${Math.round((run.o.writeRatio ?? 0.05) * 100)} % writes, ${fmtMs(run.hold)} per phase\n`);
}

async function buildTheTopology(run: CraqRun): Promise<void> {
  const { lab } = run;
  await lab.up();
  mkdirSync(run.dir, { recursive: true });
  run.o.progress(`${STEP_INDENT}run ${lab.runId}, logs in ${lab.logDir}\n`);
  // the veth quirks (veth.ts): complete checksums from every sender towards an XDP_TX, NAPI on the switch ports facing the chain
  await completeChecksums(lab, [...CHAIN_NODES, CRAQ_CLIENT_NODE]);
  await napiForXdpTx(lab, 'sw', chainPorts(), run.o.install.selftestObject);
  run.macs = await Promise.all(CHAIN_NODES.map(async (n) => (await lab.links(n)).find((l) => l.ifname === 'eth0')!.address!));
}

async function startEtcd(run: CraqRun): Promise<void> {
  mkdirSync(shmDir(run.lab.runId), { recursive: true });
  await Promise.all(ETCD_NODES.map((n) => run.lab.spawn(n, etcdArgv(n, join(shmDir(run.lab.runId), n)), { name: `etcd-${n}`, ready: { log: /serving client traffic/ }, timeoutMs: 30_000 })));
}

async function startLoaders(run: CraqRun): Promise<void> {
  for (const n of CHAIN_NODES) run.loaderFiles.push(writeLoaderFiles(run.dir, run.lab.runId, n, run.o.install.craqObject));
  const started = await Promise.all(CHAIN_NODES.map((n, i) =>
    run.lab.spawn(n, [process.execPath, run.o.install.loaderMain, '--config', run.loaderFiles[i]!.config], { name: `loader-${n}`, sysfs: 'host', ready: { log: /"msg":"loader ready"/ }, timeoutMs: 30_000 })));
  run.loaders.push(...started);
  await run.lab.spawn(SCHEDULER_NODE, redisArgv(run.dir), { name: 'redis', ready: { log: /Ready to accept connections/ }, timeoutMs: 15_000 });
}

const at = (run: CraqRun): ClientProgress | undefined => (run.client === undefined ? undefined : clientProgress(run.client).at(-1));

async function startClients(run: CraqRun): Promise<void> {
  const args = {
    etcd: ETCD_NODES.map(etcdClientUrl),
    scheduler: `unix://${join(run.dir, 'craq-scheduler.sock')}`,
    redis: redisUrl(),
    prefix: CRAQ_KEY_PREFIX,
    keys: run.keys,
    clients: run.o.clients ?? (run.o.quick ? 4 : 8),
    zipf: run.o.zipf ?? 0.99,
    writeRatio: run.o.writeRatio ?? 0.05,
    historyFile: historyFile(run),
    stopFile: stopFile(run),
    seed: 1,
  };
  run.client = await run.lab.spawn(CRAQ_CLIENT_NODE, clientRunnerArgv(args), { name: 'clients', cwd: RUNNER_CWD });
  await waitFor(() => clientLoaded(run.client!), { timeoutMs: 60_000, what: `the ${run.keys} keys loaded into etcd` });
  await waitFor(() => (at(run)?.ok ?? 0) > 0, { timeoutMs: 30_000, what: "the clients' first operations" });
  await sleep(run.warmup);
  run.t0 = Date.now();
  await sleep(run.hold);
}

function poll(run: CraqRun): void {
  const api = run.api!;
  let busy = false;
  run.poller = setInterval(() => {
    if (busy) return;
    busy = true;
    api.getPlacement(craqV1.GetPlacementRequest.create(), { deadlineMs: 1000 }).then((p) => {
      const prev = run.last;
      const names = (x: craqV1.Placement | undefined): string[] => x?.chain?.nodes.map((n) => n.name) ?? [];
      if (prev === undefined || prev.placementEpoch !== p.placementEpoch || prev.chain?.epoch !== p.chain?.epoch) {
        const before = new Set(prev?.keys.map((k) => k.key) ?? []);
        const now = new Set(p.keys.map((k) => k.key));
        for (const k of now) run.everPlaced.add(k);
        const t = Date.now();
        run.changes.push({ at: t, atMs: t - run.t0, placementEpoch: String(p.placementEpoch), chainEpoch: p.chain?.epoch ?? 0, chain: names(p), added: [...now].filter((k) => !before.has(k)), removed: [...before].filter((k) => !now.has(k)), placed: now.size });
        if (run.placedAt === 0 && now.size > 0) run.placedAt = t;
      }
      run.last = p;
    }).catch(() => undefined).finally(() => { busy = false; });
  }, 100);
}

async function startTheScheduler(run: CraqRun): Promise<void> {
  const cfg = writeSchedulerConfig(run.dir, run.macs, run.loaderFiles, { maxKeys: run.o.maxKeys ?? 64 });
  run.socket = cfg.socket;
  run.schedAt = Date.now();
  run.scheduler = await run.lab.spawn(SCHEDULER_NODE, [process.execPath, run.o.install.schedulerMain, '--config', cfg.file], { name: 'craq-scheduler', timeoutMs: 30_000 });
  run.api = createRpcClient(CraqRpcClient, { address: `unix://${cfg.socket}` });
  poll(run);
  await waitFor(() => run.placedAt > 0, { timeoutMs: 30_000, what: 'the first hot keys placed in the chain' });
  await waitFor(() => (at(run)?.chainReads ?? 0) > 0, { timeoutMs: 10_000, what: 'reads answered by the chain' });
  // settled: the budget full, or no change for a second
  const max = run.o.maxKeys ?? 64;
  await waitFor(() => (run.last?.keys.length ?? 0) >= max || Date.now() - run.changes.at(-1)!.at > 1000, { timeoutMs: 30_000, what: 'the placement settled' });
  run.settledAt = Date.now();
  const n = run.last?.keys.length ?? 0;
  run.o.progress(`${STEP_INDENT}first key placed ${fmtMs(run.placedAt - run.schedAt)} after the scheduler started, ${n} placed after ${fmtMs(run.settledAt - run.schedAt)}: ${run.last!.keys.slice(0, 5).map((k) => k.key).join(', ')}${n > 5 ? ', …' : ''}\n`);
  await sleep(run.hold);
}

async function killANode(run: CraqRun): Promise<void> {
  const i = CHAIN_NODES.indexOf(KILLED);
  run.killAt = Date.now();
  const loader = run.loaders[i]!;
  loader.kill('SIGKILL');
  await loader.wait({ timeoutMs: 10_000 });
  run.loaders[i] = undefined;
  await run.lab.exec(KILLED, ['ip', 'link', 'set', 'dev', 'eth0', 'down']);
  await waitFor(() => run.last?.chain !== undefined && !run.last.chain.nodes.some((n) => n.name === KILLED), { timeoutMs: 20_000, what: `the chain without ${KILLED}` });
  run.reconfAt = run.changes.find((c) => c.at >= run.killAt && !c.chain.includes(KILLED))?.at ?? Date.now();
  const okThen = at(run)?.ok ?? 0;
  await waitFor(() => (at(run)?.ok ?? 0) > okThen, { timeoutMs: 20_000, what: 'the clients served by the reconfigured chain' });
  await sleep(run.hold);
}

async function stopTheClients(run: CraqRun): Promise<void> {
  run.endAt = Date.now();
  writeFileSync(stopFile(run), '');
  const exit = await run.client!.wait({ timeoutMs: 60_000 });
  check(exit.code === 0, `the clients finish cleanly (they exited with ${exit.code ?? exit.signal}): ${run.client!.tail().join('\n')}`);
}

/** The client's counters at `t` (the last progress line at or before it). */
function countersAt(lines: readonly ClientProgress[], t: number): ClientProgress {
  const zero: ClientProgress = { at: 0, ok: 0, unknown: 0, errors: 0, chainReads: 0, etcdReads: 0, chainWrites: 0, etcdWrites: 0, retries: 0 };
  return lines.filter((l) => l.at <= t).at(-1) ?? zero;
}

function servedBy(lines: readonly ClientProgress[], bounds: readonly PhaseBound[]): ServedBy[] {
  return bounds.map((b) => {
    const x = countersAt(lines, b.from);
    const y = countersAt(lines, b.to);
    return { phase: b.name, chainReads: y.chainReads - x.chainReads, etcdReads: y.etcdReads - x.etcdReads, chainWrites: y.chainWrites - x.chainWrites, etcdWrites: y.etcdWrites - x.etcdWrites, retries: y.retries - x.retries, errors: y.errors - x.errors };
  });
}

/** How the operations a counterexample names were served (served.json, by index), for the failure's message. */
function servedNote(run: CraqRun): string {
  try {
    const served = JSON.parse(readFileSync(join(run.lab.logDir, 'served.json'), 'utf8')) as (string | null)[];
    const text = run.report?.linearizability.counterexample ?? '';
    const ids = [...new Set([...text.matchAll(/#(\d+)/g)].map((m) => Number(m[1])))].slice(-6);
    return `\nserved by: ${ids.map((i) => `#${i} ${served[i] ?? '?'}`).join(', ')}`;
  } catch {
    return '';
  }
}

async function writeTheReport(run: CraqRun): Promise<void> {
  const { lab } = run;
  const history = JSON.parse(readFileSync(historyFile(run), 'utf8')) as RegisterOp[];
  const placedOps = history.filter((op) => run.everPlaced.has(op.key));
  const started = performance.now();
  const lin = checkHistory(placedOps);
  const checkMs = Math.round(performance.now() - started);
  const rel = (t: number): number => Math.round(t - run.t0);
  const bounds: PhaseBound[] = [
    { name: 'etcd only (nothing placed)', from: run.t0, to: run.schedAt },
    { name: 'scheduler placing the hot keys', from: run.schedAt, to: run.settledAt },
    { name: 'hot keys in the chain', from: run.settledAt, to: run.killAt },
    { name: `${KILLED} killed, until the chain is reconfigured`, from: run.killAt, to: run.reconfAt },
    { name: 'chain n1 → n3', from: run.reconfAt, to: run.endAt },
  ];
  const measured = history.filter((op) => op.invoke >= run.t0);
  const reads = measured.filter((op) => op.kind === 'read');
  const lines = clientProgress(run.client!);
  const final = clientFinal(run.client!);
  const keys = run.last?.keys.map((k) => k.key) ?? [];
  const before = run.changes.filter((c) => c.at < run.killAt).at(-1)?.chain ?? [...CHAIN_NODES];
  const after = run.last?.chain?.nodes.map((n) => n.name) ?? [];
  const failWindow = servedBy(lines, [{ name: 'after the kill', from: run.killAt, to: run.endAt + 60_000 }])[0]!;
  const files = { svg: join(lab.logDir, 'craq-chart.svg'), json: join(lab.logDir, 'craq-report.json'), history: historyFile(run) };
  const placedShare = zipfHeadShare(run.keys, run.o.zipf ?? 0.99, keys.length);
  const events = [
    { atMs: rel(run.schedAt), label: 'scheduler started' },
    { atMs: rel(run.placedAt), label: 'first key placed' },
    { atMs: rel(run.settledAt), label: `${run.changes.filter((c) => c.at <= run.settledAt).at(-1)?.placed ?? 0} keys placed` },
    { atMs: rel(run.killAt), label: `${KILLED} killed` },
    { atMs: rel(run.reconfAt), label: `chain ${after.join(' → ')}` },
  ];
  const report: CraqReport = {
    scenario: 'craq',
    runId: lab.runId,
    startedAt: run.startedAt.toISOString(),
    quick: run.o.quick,
    keys: run.keys,
    zipf: run.o.zipf ?? 0.99,
    clients: run.o.clients ?? (run.o.quick ? 4 : 8),
    writeRatio: run.o.writeRatio ?? 0.05,
    layout: 'namespaces on one bridge: etcd members e1, e2, e3 (one per namespace, 10.87.0.11-13:2379); chain n1 → n2 → n3 (XDP on eth0, one ebpf-loader each); craq-scheduler and redis-server on s; clients on c',
    logDir: lab.logDir,
    files,
    steps: run.done.map((s) => ({ title: s.title, ms: s.ms })),
    reads: phaseFigures(reads, bounds, run.t0),
    all: phaseFigures(measured, bounds, run.t0),
    servedBy: servedBy(lines, bounds),
    placement: {
      keys,
      firstPlacedMs: Math.round(run.placedAt - run.schedAt),
      settledMs: Math.round(run.settledAt - run.schedAt),
      expectedSharePct: Math.round(placedShare * 1000) / 10,
      changes: run.changes.map(({ at: _at, ...c }) => c),
    },
    failure: {
      killed: KILLED,
      chainBefore: before,
      chainAfter: after,
      lastChange: run.last?.chain?.lastChange ?? '',
      reconfiguredMs: Math.round(run.reconfAt - run.killAt),
      retries: failWindow.retries,
      errors: failWindow.errors,
    },
    client: { ops: final?.ops ?? history.length, errors: final?.errors ?? -1, errorSamples: final?.errorSamples ?? [] },
    linearizability: {
      outcome: lin.outcome,
      operations: placedOps.length,
      unknown: placedOps.filter((op) => op.complete === null).length,
      keys: lin.keys.length,
      checkMs,
      ...(lin.counterexample !== undefined ? { counterexample: lin.counterexample.explanation } : {}),
    },
    chart: { points: perSecond(reads, run.t0, run.endAt), events, placed: [{ fromMs: rel(run.placedAt), toMs: rel(run.endAt) }], durationMs: rel(run.endAt) },
  };
  run.report = report;
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.svg, craqChartSvg({ title: `NetCRAQ: ${run.keys} etcd keys, Zipf ${report.zipf}, chain of 3 XDP nodes: reads/s and p99 over time`, ...report.chart }));
  check(keys.length > 0 && report.servedBy[2]!.chainReads > 0, 'hot keys placed and reads answered by the chain');
  check(!after.includes(KILLED) && after.length === 2, `the chain reconfigured without ${KILLED}: ${after.join(' → ')}`);
  check(report.client.errors === 0, `the clients saw no error beyond retries: ${report.client.errors} errors (${report.client.errorSamples.join('; ')})`);
  check(lin.outcome === 'linearizable', `the history of the placed keys is linearizable: ${lin.outcome}${lin.counterexample !== undefined ? `: ${lin.counterexample.explanation}` : ''}${servedNote(run)}`);
}

const everything = (): string[] => ['clients', 'craq-scheduler', ...CHAIN_NODES.map((n) => `loader-${n}`)];

export const craqScenario: Scenario<CraqLabOptions, CraqRun, CraqReport> = {
  name: 'craq',
  summary: 'NetCRAQ: a 3-member etcd cluster, a chain of 3 XDP nodes, the craq-scheduler placing Zipf-hot keys from Redis heat; a chain node killed and the chain reconfigured',
  prefix: CRAQ_LAB_PREFIX,
  labOptions: { readyTimeoutMs: 60_000, killGraceMs: 2000, execTimeoutMs: 30_000 },
  topology: () => craqTopology(),
  intro: (o) => `netaccel lab: NetCRAQ (CRAQ chain replication in XDP) in front of a 3-member etcd cluster, in network namespaces${o.quick ? ' (shortened run)' : ''}\n`,
  init: (lab, o, done) => ({
    lab,
    o,
    keys: o.keys ?? (o.quick ? 1000 : 4000),
    hold: o.holdMs ?? (o.quick ? 2500 : 8000),
    warmup: o.warmupMs ?? (o.quick ? 1000 : 2000),
    startedAt: new Date(),
    done,
    dir: runDir(lab.runId),
    macs: [],
    loaders: [],
    loaderFiles: [],
    socket: '',
    changes: [],
    everPlaced: new Set(),
    t0: 0,
    schedAt: 0,
    placedAt: 0,
    settledAt: 0,
    killAt: 0,
    reconfAt: 0,
    endAt: 0,
  }),
  steps: [
    { title: 'remove what an earlier run left', run: removeEarlierRuns },
    { title: 'build the topology: 3 etcd members, 3 chain nodes, the scheduler node and a client node on one switch', run: buildTheTopology },
    { title: 'start the etcd cluster (e1, e2, e3)', run: startEtcd, logs: logsOf('etcd-e1', 'etcd-e2', 'etcd-e3') },
    { title: 'start an ebpf-loader on each chain node, and redis-server', run: startLoaders, logs: logsOf('loader-n1', 'loader-n2', 'loader-n3', 'redis') },
    { title: (run) => `load ${run.keys} keys into etcd and start the clients: every read from etcd for ${fmtMs(run.hold)}`, run: startClients, logs: logsOf('clients') },
    { title: (run) => `start the craq-scheduler: the hot keys move into the chain n1 → n2 → n3, then ${fmtMs(run.hold)}`, run: startTheScheduler, logs: everything },
    { title: (run) => `kill chain node ${KILLED} (loader SIGKILL, link down): the chain is reconfigured, then ${fmtMs(run.hold)}`, run: killANode, logs: everything },
    { title: 'stop the clients; they read the hottest keys back', run: stopTheClients, logs: logsOf('clients') },
    { title: 'check the history of the placed keys (linearizability); write the report', run: writeTheReport },
  ],
  result: (run) => run.report!,
  stop: (run) => {
    if (run.poller !== undefined) clearInterval(run.poller);
    run.api?.close();
  },
  cleanup: (lab) => {
    rmSync(runDir(lab.runId), { recursive: true, force: true });
    rmSync(shmDir(lab.runId), { recursive: true, force: true });
    for (const n of CHAIN_NODES) rmSync(`/sys/fs/bpf/ncl-${lab.runId}-${n}`, { recursive: true, force: true });
  },
};

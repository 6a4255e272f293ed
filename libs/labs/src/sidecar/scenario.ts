/**
 * The sidecar scenario (`netaccel lab --scenario sidecar`): sidecar-offload, the gRPC sidecar, in
 * front of a gRPC server workload. Two pods on one veth pair: the client pod `c` (closed-loop
 * grpc-js callers of `lab.Inventory`: Get, List as a server stream, Delete) and the server pod `s`
 * (the server workload on its loopback only; the sidecar's inbound listener on the pod's address;
 * etcd and redis-server for the key counting). The daemon is the installation's built one, started
 * with a real configuration file; its kernel path is asked for (`kernel.via: direct`, sockops on
 * the run's cgroup, which the workloads and the daemon enter). Read the steps from top to bottom:
 * the clients call every method through the sidecar with a policy that allows everything; the
 * policy is reloaded (SIGHUP) to deny /lab.Inventory/Delete, and the client sees PERMISSION_DENIED
 * for it while the other methods go on over the same connection; the clients stop and make etcd
 * Range/Put calls through the sidecar. The report gives calls/s and latency per phase and per
 * second (chart), per method what the client saw beside the sidecar's telemetry (GetStats,
 * /metrics and the access log: calls by status, bytes, p50/p99) and the server's count, the offload state of each
 * connection as the daemon gives it (offloaded or why not), and the etcd key counts in Redis. The
 * run fails when a client call failed otherwise, when the denied method reached the server or was
 * not denied, when the sidecar's telemetry disagrees with the client, or when Redis's counts
 * differ from the calls made.
 */
import { mkdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanStale, sleep, waitFor } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { SidecarClient, createRpcClient, sidecarV1 } from '@netaccel/rpc';
import type { RpcClient, SidecarService } from '@netaccel/rpc';
import { NA_ERR_LAB_CHECK } from '../errors.js';
import { RUNNER_CWD } from '../paxos/processes.js';
import type { Scenario, ScenarioRunOptions } from '../scenario.js';
import { STEP_INDENT, fmtMs } from '../steps/step-runner.js';
import type { StepTime } from '../steps/step-runner.js';
import { sidecarChartSvg } from './chart.js';
import { accessLogCalls, callsPerSecond, clientMethods, codeName, kernelCounter, metricCalls, parseMetrics, sidecarPhases, telemetryFaults } from './figures.js';
import type { CallRecord, MethodCount } from './figures.js';
import { inCgroup, makeRunCgroup, removeStaleCgroups, runCgroup } from './cgroup.js';
import {
  LISTENER,
  REDIS_READS_KEY,
  REDIS_WRITES_KEY,
  clientEtcd,
  clientFinal,
  clientProgress,
  etcdArgv,
  redisArgv,
  runnerArgv,
  serverCalls,
  writeSidecarConfig,
} from './processes.js';
import type { SidecarInstall } from './processes.js';
import type { ConnectionReport, MethodReport, SidecarReport } from './report.js';
import { ETCD_PORT, SIDECAR_CLIENT_NODE, SIDECAR_ETCD_PORT, SIDECAR_INBOUND_PORT, SIDECAR_LAB_PREFIX, SIDECAR_SERVER_ADDR, SIDECAR_SERVER_NODE, SIDECAR_TELEMETRY, WORKLOAD_PORT, sidecarTopology } from './topology.js';
import { DENIED_METHOD, INVENTORY_METHODS, SIZES, methodPath } from './workload.js';
import type { InventoryMethod } from './workload.js';

export interface SidecarLabOptions extends ScenarioRunOptions {
  /** The shortened run of tests: a few seconds per phase. */
  readonly quick: boolean;
  readonly install: SidecarInstall;
  /** Closed-loop callers on the client's one connection (default 4, quick 2). */
  readonly clients?: number;
  /** ms of load per phase (default 6000, quick 2000) and before the measurement (default 1000, quick 500). */
  readonly holdMs?: number;
  readonly warmupMs?: number;
  /** Ask for the kernel path (`kernel.via: direct`; default true). */
  readonly kernel?: boolean;
  /** etcd keys the client counts through the sidecar into Redis (default 8, quick 4; 0: no etcd). */
  readonly etcdKeys?: number;
}

/** The state of one run, carried from step to step. */
export interface SidecarRun {
  readonly lab: Lab;
  readonly o: SidecarLabOptions;
  readonly hold: number;
  readonly warmup: number;
  readonly clients: number;
  readonly etcdKeys: number;
  readonly startedAt: Date;
  readonly done: readonly StepTime[];
  /** Configuration and socket (short paths: unix sockets). */
  readonly dir: string;
  cgroup: string;
  server?: LabProcess;
  sidecar?: LabProcess;
  client?: LabProcess;
  api?: RpcClient<typeof SidecarService>;
  kernelPath: string;
  loadError?: string;
  connsBefore: string[];
  connsAfter: ConnectionReport[];
  t0: number;
  sighupAt: number;
  reloadAt: number;
  endAt: number;
  report?: SidecarReport;
}

const stopFile = (run: SidecarRun): string => join(run.lab.logDir, 'clients-stop');
const historyFile = (run: SidecarRun): string => join(run.lab.logDir, 'history.json');
const runDir = (runId: string): string => `/tmp/scl-${runId}`;
const shmDir = (runId: string): string => `/dev/shm/scl-${runId}`;
const configFile = (run: SidecarRun): string => join(run.dir, 'sidecar-offload.yaml');
const socketOf = (run: SidecarRun): string => join(run.dir, 'sidecar.sock');
const logsOf = (...names: string[]) => (): string[] => names;
const DENIED = methodPath(DENIED_METHOD);
const RELOADED = '"msg":"configuration reloaded"';
/** The gRPC message prefix (flag, length): in the kernel's DATA byte counts, not in the payload. */
const GRPC_PREFIX = 5;

function check(ok: boolean, claim: string): void {
  if (!ok) throw NA_ERR_LAB_CHECK(claim);
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

async function telemetry(run: SidecarRun, path: string): Promise<string> {
  return (await run.lab.exec(SIDECAR_SERVER_NODE, ['curl', '-sS', '--max-time', '5', `http://${SIDECAR_TELEMETRY}${path}`])).stdout;
}

async function connections(run: SidecarRun): Promise<ConnectionReport[]> {
  const { connections: cs } = await run.api!.listConnections(sidecarV1.ListConnectionsRequest.create({ listener: LISTENER }));
  return cs.map((c) => ({ id: String(c.id), remote: c.remote, streams: Number(c.streams), offloaded: c.offloaded, reason: c.notOffloadedReason }));
}

// --- the steps, in order -----------------------------------------------------------------------

async function removeEarlierRuns(run: SidecarRun): Promise<void> {
  await cleanStale({ prefix: SIDECAR_LAB_PREFIX });
  removeStaleCgroups();
  run.o.progress(`${STEP_INDENT}${run.clients} closed-loop callers on one connection, ${fmtMs(run.hold)} per phase, kernel path ${run.o.kernel === false ? 'off' : 'asked for (kernel.via: direct)'}${run.etcdKeys > 0 ? `, ${run.etcdKeys} etcd keys counted` : ''}\n`);
}

async function buildTheTopology(run: SidecarRun): Promise<void> {
  await run.lab.up();
  mkdirSync(run.dir, { recursive: true });
  run.cgroup = makeRunCgroup(run.lab.runId);
  run.o.progress(`${STEP_INDENT}run ${run.lab.runId}, logs in ${run.lab.logDir}, cgroup ${run.cgroup}\n`);
}

async function startTheServer(run: SidecarRun): Promise<void> {
  const { lab } = run;
  const argv = inCgroup(run.cgroup, runnerArgv('server-runner', { listen: `127.0.0.1:${WORKLOAD_PORT}` }));
  run.server = await lab.spawn(SIDECAR_SERVER_NODE, argv, { name: 'server', cwd: RUNNER_CWD, sysfs: 'host', ready: { log: /"ready":true/ }, timeoutMs: 30_000 });
  if (run.etcdKeys === 0) return;
  mkdirSync(shmDir(lab.runId), { recursive: true });
  await Promise.all([
    lab.spawn(SIDECAR_SERVER_NODE, etcdArgv(join(shmDir(lab.runId), 'etcd')), { name: 'etcd', ready: { log: /serving client traffic/ }, timeoutMs: 30_000 }),
    lab.spawn(SIDECAR_SERVER_NODE, redisArgv(run.dir), { name: 'redis', ready: { log: /Ready to accept connections/ }, timeoutMs: 15_000 }),
  ]);
}

async function spawnSidecar(run: SidecarRun, name: string, kernel: boolean): Promise<LabProcess> {
  writeSidecarConfig(configFile(run), { methods: INVENTORY_METHODS.map(methodPath), deny: [], cgroup: kernel ? run.cgroup : undefined, object: run.o.install.sidecarObject, etcd: run.etcdKeys > 0, socket: socketOf(run) });
  const argv = inCgroup(run.cgroup, [process.execPath, run.o.install.sidecarMain, '--config', configFile(run)]);
  return run.lab.spawn(SIDECAR_SERVER_NODE, argv, { name, sysfs: 'host', ready: { tcp: `${SIDECAR_SERVER_ADDR}:${SIDECAR_INBOUND_PORT}` }, timeoutMs: 30_000 });
}

/** The daemon's error from its fatal log line (pino JSON: `err.message`), else the line. */
function loadErrorOf(line: string): string {
  try {
    const l = JSON.parse(line) as { err?: { message?: string }; msg?: string };
    return (l.err?.message ?? l.msg ?? line).slice(0, 400);
  } catch {
    return line.slice(0, 400);
  }
}

async function startTheSidecar(run: SidecarRun): Promise<void> {
  const kernel = run.o.kernel !== false;
  try {
    run.sidecar = await spawnSidecar(run, 'sidecar-offload', kernel);
  } catch (err) {
    // the kernel path refused to load: the daemon does not start with it; report why and go on in user space
    const log = (() => {
      try {
        return readFileSync(join(run.lab.logDir, 'sidecar-offload.log'), 'utf8');
      } catch {
        return '';
      }
    })();
    const line = log.split('\n').find((l) => l.includes('NA_ERR_SIDECARD_KERNEL_LOAD'));
    if (!kernel || line === undefined) throw err;
    run.loadError = loadErrorOf(line);
    run.o.progress(`${STEP_INDENT}the kernel path did not load (${run.loadError}); the daemon runs without it\n`);
    run.sidecar = await spawnSidecar(run, 'sidecar-offload-user', false);
  }
  run.api = createRpcClient(SidecarClient, { address: `unix://${socketOf(run)}` });
  await waitFor(() => run.api!.listRoutes(sidecarV1.ListRoutesRequest.create(), { deadlineMs: 1000 }).then(() => true, () => false), { timeoutMs: 15_000, what: 'the sidecar serving its API' });
  const status = JSON.parse((await telemetry(run, '/v1/status')) || '{}') as { kernelPath?: string };
  run.kernelPath = run.loadError !== undefined ? `not loaded: ${run.loadError}` : (status.kernelPath ?? 'unknown');
  const etcd = run.etcdKeys > 0 ? `, etcd listener 0.0.0.0:${SIDECAR_ETCD_PORT} → 127.0.0.1:${ETCD_PORT}` : '';
  run.o.progress(`${STEP_INDENT}inbound listener ${SIDECAR_SERVER_ADDR}:${SIDECAR_INBOUND_PORT} → 127.0.0.1:${WORKLOAD_PORT}${etcd}; kernel path: ${run.kernelPath}\n`);
}

const last = (run: SidecarRun) => (run.client === undefined ? undefined : clientProgress(run.client).at(-1));

async function startTheClients(run: SidecarRun): Promise<void> {
  const args = {
    target: `${SIDECAR_SERVER_ADDR}:${SIDECAR_INBOUND_PORT}`,
    clients: run.clients,
    historyFile: historyFile(run),
    stopFile: stopFile(run),
    ...(run.etcdKeys > 0 ? { etcd: { keys: run.etcdKeys, prefix: '/scl/key-', target: `${SIDECAR_SERVER_ADDR}:${SIDECAR_ETCD_PORT}` } } : {}),
  };
  run.client = await run.lab.spawn(SIDECAR_CLIENT_NODE, inCgroup(run.cgroup, runnerArgv('client-runner', args)), { name: 'clients', cwd: RUNNER_CWD, sysfs: 'host' });
  await waitFor(() => (last(run)?.ok ?? 0) > 0, { timeoutMs: 30_000, what: "the clients' first calls through the sidecar" });
  await sleep(run.warmup);
  run.t0 = Date.now();
  await sleep(run.hold);
  run.connsBefore = (await connections(run)).map((c) => c.id);
}

async function reloadThePolicy(run: SidecarRun): Promise<void> {
  const sidecar = run.sidecar!;
  const before = count(sidecar.output(), RELOADED);
  writeSidecarConfig(configFile(run), { methods: INVENTORY_METHODS.map(methodPath), deny: [DENIED], cgroup: run.loadError === undefined && run.o.kernel !== false ? run.cgroup : undefined, object: run.o.install.sidecarObject, etcd: run.etcdKeys > 0, socket: socketOf(run) });
  run.sighupAt = Date.now();
  sidecar.kill('SIGHUP');
  await waitFor(() => count(sidecar.output(), RELOADED) > before, { timeoutMs: 10_000, what: 'the sidecar reloading its configuration' });
  run.reloadAt = Date.now();
  run.o.progress(`${STEP_INDENT}reloaded in ${fmtMs(run.reloadAt - run.sighupAt)}\n`);
  const was = last(run);
  const seen = await waitFor(() => (last(run)?.denied ?? 0) > 0, { timeoutMs: 10_000, what: 'denied' }).then(() => true, () => false);
  if (!seen) {
    // say what the calls and the connections did meanwhile: a stalled connection is the kernel path's or the proxy's
    const now = last(run);
    const conns = await connections(run).catch((err: unknown) => [{ id: '?', remote: '', streams: 0, offloaded: false, reason: `ListConnections failed: ${String(err)}` }]);
    check(false, `the client saw PERMISSION_DENIED for ${DENIED} within 10 s of the reload; it completed ${(now?.calls ?? 0) - (was?.calls ?? 0)} calls meanwhile (${(now?.errors ?? 0) - (was?.errors ?? 0)} errors); connections: ${conns.map((c) => `${c.id} from ${c.remote}, ${c.streams} streams, ${c.offloaded ? 'offloaded' : `not offloaded: ${c.reason}`}`).join('; ')}`);
  }
  await sleep(run.hold);
  run.connsAfter = await connections(run);
}

async function stopTheClients(run: SidecarRun): Promise<void> {
  writeFileSync(stopFile(run), '');
  run.endAt = Date.now();
  const exit = await run.client!.wait({ timeoutMs: 60_000 });
  check(exit.code === 0, `the clients finish cleanly (they exited with ${exit.code ?? exit.signal}): ${run.client!.tail().join('\n')}`);
  const exited = Date.now();
  await waitFor(() => (serverCalls(run.server!)?.at ?? 0) > exited, { timeoutMs: 5000, what: "the server's count after the clients stopped" });
}

async function redisScores(run: SidecarRun, key: string): Promise<Map<string, number>> {
  const out = (await run.lab.exec(SIDECAR_SERVER_NODE, ['redis-cli', '-h', '127.0.0.1', '--raw', 'ZRANGE', key, '0', '-1', 'WITHSCORES'])).stdout.split('\n').filter((l) => l !== '');
  const m = new Map<string, number>();
  for (let i = 0; i + 1 < out.length; i += 2) m.set(out[i]!, Number(out[i + 1]));
  return m;
}

async function etcdHeat(run: SidecarRun): Promise<SidecarReport['etcdHeat']> {
  if (run.etcdKeys === 0) return undefined;
  const { sent, error } = clientEtcd(run.client!);
  if (sent === undefined) return { keys: [], error: error ?? 'the client made no etcd call' };
  const want = Object.entries(sent);
  let reads = new Map<string, number>();
  let writes = new Map<string, number>();
  // flushed every 200 ms: wait until Redis holds every count (or give up and report what it holds)
  await waitFor(async () => {
    [reads, writes] = await Promise.all([redisScores(run, REDIS_READS_KEY), redisScores(run, REDIS_WRITES_KEY)]);
    return want.every(([k, v]) => reads.get(k) === v.reads && writes.get(k) === v.writes);
  }, { timeoutMs: 5000, what: 'the etcd key counts in Redis' }).catch(() => undefined);
  return { keys: want.map(([key, v]) => ({ key, reads: v.reads, writes: v.writes, redisReads: reads.get(key) ?? 0, redisWrites: writes.get(key) ?? 0 })) };
}

const zero: MethodCount = { calls: 0, statuses: {}, requestBytes: 0, responseBytes: 0, p50Ms: 0, p99Ms: 0 };

async function writeTheReport(run: SidecarRun): Promise<void> {
  const { lab } = run;
  const history = JSON.parse(readFileSync(historyFile(run), 'utf8')) as CallRecord[];
  const { methods: stats } = await run.api!.getStats(sidecarV1.GetStatsRequest.create({ listener: LISTENER }));
  const samples = parseMetrics(await telemetry(run, '/metrics'));
  const metrics = metricCalls(samples, LISTENER);
  const kernel = {
    requests: kernelCounter(samples, 'requests'),
    responses: kernelCounter(samples, 'responses'),
    denied: kernelCounter(samples, 'denied'),
    requestBytes: kernelCounter(samples, 'request_bytes'),
    responseBytes: kernelCounter(samples, 'response_bytes'),
  };
  // requests the kernel carried (spliced connections) never reach user space: no access-log line for them
  const kernelRequests = Object.values(kernel.requests).reduce((a, b) => a + b, 0);
  // one access-log line per user-space call; pino may still be writing the last ones
  const inventory = (calls: Record<string, Record<string, number>>): number => INVENTORY_METHODS.reduce((n, m) => n + Object.values(calls[methodPath(m)] ?? {}).reduce((a, b) => a + b, 0), 0);
  let access = accessLogCalls(run.sidecar!.output());
  if (kernelRequests === 0) await waitFor(() => inventory((access = accessLogCalls(run.sidecar!.output())).calls) >= history.length, { timeoutMs: 5000, what: 'an access-log line for every call' }).catch(() => undefined);
  const deniedLine = access.lines.find((l) => l.grpcCode === 'PERMISSION_DENIED');
  const client = clientMethods(history, INVENTORY_METHODS);
  const sidecar: Record<string, MethodReport['sidecar']> = {};
  for (const s of stats) {
    sidecar[s.method] = {
      calls: Number(s.calls),
      statuses: Object.fromEntries(s.statuses.map((x) => [x.name || codeName(x.code), Number(x.calls)])),
      requestBytes: Number(s.requestBytes),
      responseBytes: Number(s.responseBytes),
      requestMessages: Number(s.requestMessages),
      responseMessages: Number(s.responseMessages),
      p50Ms: Number(s.latencyP50Ms.toFixed(2)),
      p99Ms: Number(s.latencyP99Ms.toFixed(2)),
    };
  }
  const server = serverCalls(run.server!)?.calls ?? {};
  const methods: MethodReport[] = INVENTORY_METHODS.map((m) => {
    const path = methodPath(m);
    const inKernel = kernel.requests[path] !== undefined;
    const kernelOf = (p: string, method: InventoryMethod): NonNullable<MethodReport['kernel']> => {
      const requests = kernel.requests[p] ?? 0;
      const requestBytes = kernel.requestBytes[p] ?? 0;
      const responseBytes = kernel.responseBytes[p] ?? 0;
      return {
        requests,
        responses: kernel.responses[p] ?? 0,
        denied: kernel.denied[p] ?? 0,
        requestBytes,
        responseBytes,
        requestPayload: requestBytes - GRPC_PREFIX * requests,
        responsePayload: responseBytes - GRPC_PREFIX * requests * SIZES[method].responses,
      };
    };
    return {
      method: path,
      client: client[path]!,
      sidecar: sidecar[path] ?? { ...zero, requestMessages: 0, responseMessages: 0 },
      metrics: metrics[path] ?? {},
      accessLog: access.calls[path] ?? {},
      server: server[m] ?? 0,
      ...(inKernel ? { kernel: kernelOf(path, m) } : {}),
    };
  });
  const rel = (t: number): number => Math.round(t - run.t0);
  const deleted = history.filter((c) => c[0] === DENIED_METHOD && c[1] >= run.t0);
  const tallyOf = (cs: readonly CallRecord[]): Record<string, number> => cs.reduce<Record<string, number>>((t, c) => ({ ...t, [codeName(c[3])]: (t[codeName(c[3])] ?? 0) + 1 }), {});
  const final = clientFinal(run.client!);
  const frames: Record<string, number> = {};
  for (const s of samples) if (s.name === 'netaccel_sidecar_kernel_frames' && s.labels.reason !== undefined) frames[s.labels.reason] = s.value;
  const files = { svg: join(lab.logDir, 'sidecar-chart.svg'), json: join(lab.logDir, 'sidecar-report.json'), history: historyFile(run) };
  const report: SidecarReport = {
    scenario: 'sidecar',
    runId: lab.runId,
    startedAt: run.startedAt.toISOString(),
    quick: run.o.quick,
    clients: run.clients,
    layout: `pods c (client workload, ${run.clients} grpc-js callers on one connection) and s (sidecar-offload's inbound listener ${SIDECAR_SERVER_ADDR}:${SIDECAR_INBOUND_PORT} → the server workload on 127.0.0.1:${WORKLOAD_PORT}${run.etcdKeys > 0 ? `; its etcd listener 0.0.0.0:${SIDECAR_ETCD_PORT} → etcd (not spliced: the key counting reads the calls), and redis-server` : ''}) on one veth pair; workloads and daemon in cgroup ${run.cgroup}`,
    logDir: lab.logDir,
    files,
    steps: run.done.map((s) => ({ title: s.title, ms: s.ms })),
    phases: sidecarPhases(history, [
      { name: 'every method allowed', from: run.t0, to: run.sighupAt },
      { name: `policy reloaded: ${DENIED} denied`, from: run.sighupAt, to: run.endAt },
    ], run.t0),
    methods,
    policy: {
      denied: DENIED,
      reloadMs: Math.round(run.reloadAt - run.sighupAt),
      connectionsBefore: run.connsBefore.length,
      connectionsKept: run.connsBefore.filter((id) => run.connsAfter.some((c) => c.id === id)).length,
      before: tallyOf(deleted.filter((c) => c[2] <= run.sighupAt)),
      after: tallyOf(deleted.filter((c) => c[1] >= run.reloadAt)),
    },
    offload: { requested: run.o.kernel !== false, kernelPath: run.kernelPath, ...(run.loadError !== undefined ? { loadError: run.loadError } : {}), connections: run.connsAfter, frames, kernelRequests },
    accessLog: {
      lines: access.lines.length,
      ...(deniedLine !== undefined ? { denied: Object.fromEntries(Object.entries(deniedLine).filter(([k]) => !['level', 'time', 'pid', 'hostname', 'app'].includes(k))) } : {}),
    },
    ...(run.etcdKeys > 0 ? { etcdHeat: await etcdHeat(run) } : {}),
    client: { calls: history.length, errors: final?.errors ?? -1, errorSamples: final?.errorSamples ?? [] },
    chart: {
      points: callsPerSecond(history, run.t0, run.endAt),
      events: [{ atMs: rel(run.reloadAt), label: `SIGHUP: ${DENIED} denied` }],
      denied: [{ fromMs: rel(run.reloadAt), toMs: rel(run.endAt) }],
      durationMs: rel(run.endAt),
    },
  };
  run.report = report;
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.svg, sidecarChartSvg({ title: `sidecar-offload: ${run.clients} grpc-js callers through the inbound sidecar: calls/s and p99 over time`, deniedLabel: `${DENIED} denied`, ...report.chart }));

  check(report.client.errors === 0, `the client saw no error but the policy's: ${report.client.errors} errors (${report.client.errorSamples.join('; ')})`);
  const p = report.policy;
  check((p.before.OK ?? 0) > 0 && Object.keys(p.before).length === 1, `${DENIED} succeeded before the reload: ${JSON.stringify(p.before)}`);
  check((p.after.PERMISSION_DENIED ?? 0) > 0 && Object.keys(p.after).length === 1, `${DENIED} was PERMISSION_DENIED after the reload: ${JSON.stringify(p.after)}`);
  for (const m of methods) check(m.server === (m.client.statuses.OK ?? 0), `${m.method}: the server got ${m.server} calls, the client saw ${m.client.statuses.OK ?? 0} succeed (a denied call never reaches it)`);
  const inKernel = Object.fromEntries(methods.filter((x) => x.kernel !== undefined).map((x) => [x.method, x.kernel!]));
  const faults = telemetryFaults(client, sidecar, kernelRequests === 0 ? { '/metrics': metrics, 'access log': access.calls } : { '/metrics': metrics }, inKernel);
  const offloaded = run.connsAfter.filter((c) => c.offloaded).length;
  const kernelNote = offloaded === 0 ? '' : ` (${offloaded} connection(s) offloaded; the kernel's requests per method: ${JSON.stringify(kernel.requests)})`;
  check(faults.length === 0, `the sidecar's telemetry agrees with the client: ${faults.join('; ')}${kernelNote}`);
  check(p.connectionsBefore > 0 && p.connectionsKept === p.connectionsBefore, `the reload kept the client's connection: ${p.connectionsKept} of ${p.connectionsBefore}`);
  const heat = report.etcdHeat;
  if (heat !== undefined) {
    check(heat.error === undefined, `the etcd calls through the sidecar: ${heat.error}`);
    const wrong = heat.keys.filter((k) => k.reads !== k.redisReads || k.writes !== k.redisWrites);
    check(wrong.length === 0, `Redis holds the etcd key counts: ${wrong.map((k) => `${k.key} sent ${k.reads}/${k.writes}, Redis ${k.redisReads}/${k.redisWrites}`).join('; ')}`);
  }
}

const everything = (): string[] => ['clients', 'server', 'sidecar-offload'];

export const sidecarScenario: Scenario<SidecarLabOptions, SidecarRun, SidecarReport> = {
  name: 'sidecar',
  summary: 'sidecar-offload: a grpc-js client and server in two pods through the inbound sidecar; a method denied by a reloaded policy; per-method telemetry; offload state; etcd key counts in Redis',
  prefix: SIDECAR_LAB_PREFIX,
  labOptions: { readyTimeoutMs: 30_000, killGraceMs: 2000, execTimeoutMs: 15_000 },
  topology: () => sidecarTopology(),
  intro: (o) => `netaccel lab: sidecar-offload (the gRPC sidecar) between a client and a server workload, in network namespaces${o.quick ? ' (shortened run)' : ''}\n`,
  init: (lab, o, done) => ({
    lab,
    o,
    hold: o.holdMs ?? (o.quick ? 2000 : 6000),
    warmup: o.warmupMs ?? (o.quick ? 500 : 1000),
    clients: o.clients ?? (o.quick ? 2 : 4),
    etcdKeys: o.etcdKeys ?? (o.quick ? 4 : 8),
    startedAt: new Date(),
    done,
    dir: runDir(lab.runId),
    cgroup: '',
    kernelPath: '',
    connsBefore: [],
    connsAfter: [],
    t0: 0,
    sighupAt: 0,
    reloadAt: 0,
    endAt: 0,
  }),
  steps: [
    { title: 'remove what an earlier run left', run: removeEarlierRuns },
    { title: 'build the topology: a client pod and a server pod on one veth pair, and the run\'s cgroup', run: buildTheTopology },
    { title: (run) => `start the server workload (lab.Inventory on the server pod's loopback)${run.etcdKeys > 0 ? ', etcd and redis-server' : ''}`, run: startTheServer, logs: logsOf('server', 'etcd', 'redis') },
    { title: (run) => `start sidecar-offload (inbound listener, kernel path ${run.o.kernel === false ? 'off' : 'via: direct'})`, run: startTheSidecar, logs: logsOf('sidecar-offload', 'sidecar-offload-user') },
    { title: (run) => `start the clients: every method allowed, ${fmtMs(run.hold)}`, run: startTheClients, logs: everything },
    { title: (run) => `reload the policy (SIGHUP): ${DENIED} denied, ${fmtMs(run.hold)}`, run: reloadThePolicy, logs: everything },
    { title: (run) => `stop the clients${run.etcdKeys > 0 ? '; their etcd Range/Put calls through the sidecar' : ''}`, run: stopTheClients, logs: everything },
    { title: "read the sidecar's telemetry (GetStats, /metrics, access log, connections), Redis; write the report", run: writeTheReport, logs: everything },
  ],
  result: (run) => run.report!,
  stop: (run) => {
    run.api?.close();
  },
  cleanup: (lab) => {
    rmSync(runDir(lab.runId), { recursive: true, force: true });
    rmSync(shmDir(lab.runId), { recursive: true, force: true });
    try {
      rmdirSync(runCgroup(lab.runId));
    } catch {
      // gone already, or still busy: the next run's first step removes an empty leftover
    }
  },
};

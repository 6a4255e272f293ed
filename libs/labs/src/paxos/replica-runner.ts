/**
 * One replica of the Paxos scenario, run inside its namespace by the scenario (scenario.ts): loads
 * the Electrode object, configures the group (this namespace's eth0 carries the copies), attaches
 * electrode_xdp and electrode_broadcast to eth0 (taking over what a killed predecessor left
 * attached), starts a libs/paxos replica (key-value store; `recover` rejoins with the recovery
 * protocol) with the offloads as its ReplicaOffload, then prints one JSON line per event:
 *   {"ready":true}                       once it runs
 *   {"offloads":bits,"at":ms}            the offloads switched (<control file> watched: control-watch.ts)
 *   {"state":{view,status,leader},"at":ms}  at start and after the step that changed view, status
 *                                        or leader (the replica's onStateChange; no timer: an idle
 *                                        replica wakes for nothing of the runner's)
 *   {"report":n,"at":ms,"snapshot":…,"log":{firstOp,lastOp,entries,checkpointOp,checkpointBytes},"counters":…,"cpuUs":…,"wakeups":…,"kernel":{"stats":…,"reasons":…}}
 *                                        on SIGUSR1 (and on SIGTERM, final); cpuUs = user + system
 *                                        CPU time so far, wakeups = context switches so far
 * Times are epoch milliseconds (the scenario and the clients use the same clock). The same runner
 * serves the lab, bpf/electrode's namespace test and bench/paxos (one replica process each).
 * Beside the control file it serves the replica's status and metrics on Unix sockets (reachable
 * from the host: the namespaces share the file system), named in the ready line:
 *   paxos-r<self>.sock        netaccel.paxos.v1.Paxos: `netaccel paxos status --socket <it>`
 *   paxos-r<self>-http.sock   /metrics (Prometheus: paxos_*, the offloads' counters), /healthz,
 *                             /v1/status: `curl --unix-socket <it> http://replica/metrics`
 * A socket that cannot be served is reported ({"statusError":…}) and the replica runs without it.
 * Usage: replica-runner <self> <group JSON: [{address, port, mac}]> <control file> <fresh|recover> <initial offloads> [view change timeout ms] [max batch]
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveIfindex } from '@netaccel/bpf';
import { ELECTRODE_REASONS, ElectrodeObject } from '@netaccel/bpf-programs/electrode';
import { silentLogger } from '@netaccel/errors';
import { KvStateMachine, NA_ERR_PAXOS_CLOSED, PaxosReplica, paxosStatusService, registerPaxosMetrics, statusSource } from '@netaccel/paxos';
import type { PaxosStatus, ReplicaOffload } from '@netaccel/paxos';
import { createRpcServer } from '@netaccel/rpc';
import type { RpcServer } from '@netaccel/rpc';
import { buildTelemetryServer, createMetrics } from '@netaccel/telemetry';
import type { TelemetryServer } from '@netaccel/telemetry';
import { watchControlFile } from './control-watch.js';

const [selfArg, groupArg, control, start, initialArg, viewChangeArg, maxBatchArg] = process.argv.slice(2);
const self = Number(selfArg);
const group = JSON.parse(groupArg!) as { address: string; port: number; mac: string }[];
const json = (v: unknown): string => JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
const say = (v: Record<string, unknown>): void => void process.stdout.write(`${json({ ...v, at: Date.now() })}\n`);

let offloads = Number(initialArg ?? '0');
const el = ElectrodeObject.load({ offloads });
const ifindex = resolveIfindex('eth0');
el.offload.configure(group.map((g) => ({ ...g, ifindex })));
el.attach('eth0', { replace: true });
const offload: ReplicaOffload = el.offload; // the binding is libs/paxos' ReplicaOffload

// the replica's status (netaccel paxos status) and metrics, beside the control file: the servers
// start before the replica, so that their set-up (which can take a few hundred ms on a loaded
// machine) stalls nothing the replica's timers watch; they answer UNAVAILABLE until it runs
let read: () => PaxosStatus = () => {
  throw NA_ERR_PAXOS_CLOSED('the replica (not started yet)');
};
const socket = join(dirname(control!), `paxos-r${self}.sock`);
const httpSocket = join(dirname(control!), `paxos-r${self}-http.sock`);
// no process metrics: their event-loop delay monitor wakes the process every 10 ms, which the
// benchmark (CPU and wake-ups per op) would count against the replica
const metrics = createMetrics({ app: 'paxos-replica', defaultLabels: { replica: String(self) }, processMetrics: false });
let rpc: RpcServer | undefined;
let http: TelemetryServer | undefined;
try {
  rpc = await createRpcServer({ address: socket, services: [paxosStatusService(() => read())] });
  rmSync(httpSocket, { force: true }); // a killed predecessor's
  http = buildTelemetryServer({ log: silentLogger, metrics, listen: { path: httpSocket }, status: () => JSON.parse(json(read())) as object });
  await http.listen();
} catch (err) {
  say({ statusError: (err as Error).message });
}

const replica = await PaxosReplica.start({
  replicas: group.map(({ address, port }) => ({ address, port })),
  self,
  stateMachine: new KvStateMachine(),
  offload,
  start: start === 'recover' ? 'recover' : 'fresh',
  ...(viewChangeArg ? { viewChangeTimeoutMs: Number(viewChangeArg) } : {}),
  ...(maxBatchArg ? { maxBatch: Number(maxBatchArg) } : {}),
  onStateChange: (state) => say({ state }),
});
read = statusSource({ replica, service: 'kv', offload: el.offload, reasons: ELECTRODE_REASONS });
registerPaxosMetrics(metrics, read);

say({ ready: true, self, offloads, status: `netaccel paxos status --socket ${socket}`, metrics: httpSocket });
const s0 = replica.snapshot();
say({ state: { view: s0.view, status: s0.status, leader: s0.leader } });
// the scenario writes the file before starting us; a partial write ('' or a prefix) is followed
// by the event of the rest
const watcher = watchControlFile(control!, (text) => {
  const want = text === '' ? Number.NaN : Number(text);
  if (!Number.isInteger(want) || want === offloads) return;
  el.offload.setOffloads(want);
  offloads = want;
  say({ offloads });
});

let reports = 0;
const report = (final: boolean): void => {
  const k = el.offload.counters();
  const u = process.resourceUsage();
  say({ report: ++reports, final, snapshot: replica.snapshot(), log: replica.logStats(), counters: replica.counters(), cpuUs: u.userCPUTime + u.systemCPUTime, wakeups: u.voluntaryContextSwitches + u.involuntaryContextSwitches, kernel: { stats: k.stats, reasons: Object.fromEntries(k.reasons) } });
};
process.on('SIGUSR1', () => report(false));
process.on('SIGTERM', () => {
  watcher.close();
  report(true);
  void Promise.allSettled([rpc?.shutdown({ timeoutMs: 200 }), http?.close()])
    .then(() => replica.close())
    .then(() => process.exit(0));
});

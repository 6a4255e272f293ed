/**
 * `netaccel lab …`: the lab (the thesis scenario of @netaccel/labs): run it, show a kept lab, remove it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { LAB_DEFAULTS, keptRuns, readRecords, removeRun } from '@netaccel/netlab';
import type { CommandGroup } from '../command.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';
import { DEFAULT_BALANCERS, KEPT_FILE, LAB_MODES, LAB_PREFIX, MAX_BALANCERS, SERVICES, isBalancerCount, removePins } from '@netaccel/labs';
import type { KeptLab, LabMode } from '@netaccel/labs';
import { didYouMean, nearest } from '../args.js';
import { socketEnvName } from '../daemons.js';
import type { DaemonName } from '../daemons.js';
import { NA_ERR_CLI_NO_LAB } from '../errors.js';
import { reportText } from '../lab/report.js';
import { runLab } from '../lab/run.js';
import { runScenarios } from '../lab/scenarios.js';
import { probeDaemons, stateText, telemetryAddress } from '../lab-probe.js';
import { KEEP_RUNS, labLogParent, pruneRunDirs, runsText } from '../lab-runs.js';
import type { DaemonState } from '../lab-probe.js';

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw NA_ERR_CLI_USAGE('the lab needs root: it builds network namespaces and loads XDP programs (run it as root, e.g. sudo netaccel lab)');
}

function readKept(): KeptLab | undefined {
  if (!existsSync(KEPT_FILE)) return undefined;
  return JSON.parse(readFileSync(KEPT_FILE, 'utf8')) as KeptLab;
}

/** The kept lab, or undefined when none runs (the file is left by a run whose namespaces are gone). */
function runningLab(): KeptLab | undefined {
  const k = readKept();
  return k !== undefined && keptRuns({ prefix: LAB_PREFIX }).some((r) => r.runId === k.runId) ? k : undefined;
}

/**
 * `export NETACCEL_<DAEMON>_SOCKET=…` lines for one node of a kept lab (what the CLI reads), and
 * for the shell: the node's folder (configurations, services.yaml) and its network namespace.
 */
export function envText(k: KeptLab, node: string): { text: string; env: Record<string, string> } {
  const sockets = Object.hasOwn(k.sockets, node) ? k.sockets[node] : undefined;
  if (sockets === undefined) throw NA_ERR_CLI_USAGE(`<node>: expected one of ${Object.keys(k.sockets).join(', ')}, got ${JSON.stringify(node)}${didYouMean(nearest(node, Object.keys(k.sockets)))}`);
  const env: Record<string, string> = Object.fromEntries(Object.entries(sockets).map(([d, s]) => [socketEnvName(d as DaemonName), s]));
  const first = Object.values(sockets)[0];
  if (first !== undefined) env.NETACCEL_LAB_NODE_DIR = dirname(first);
  const ns = k.namespaces[node];
  if (ns !== undefined) env.NETACCEL_LAB_NETNS = ns;
  const text = [...Object.entries(env).map(([n, v]) => `export ${n}=${v}`), `# ${node} of lab run ${k.runId}: eval "$(netaccel lab env ${node})", then e.g. netaccel lb services`].join('\n');
  return { text, env };
}

/** Each daemon of each node of the kept lab: up and ready, or not, and a reload it refused. */
async function daemonStates(k: KeptLab): Promise<{ node: string; states: DaemonState[] }[]> {
  return Promise.all(Object.entries(k.sockets).map(async ([node, sockets]) => {
    const targets = Object.entries(sockets).map(([daemon, socket]) => ({ daemon, listen: telemetryAddress(socket, daemon) }));
    return { node, states: await probeDaemons(k.namespaces[node], targets) };
  }));
}

/** How to look around a kept lab with the CLI and iproute2. */
export function exploreText(k: KeptLab): string {
  const s = k.sockets.lb1!;
  const router = k.namespaces.router!;
  return [
    `the lab keeps running (run ${k.runId}). Look around:`,
    `  netaccel lb services  --socket ${s['lb-controller']}`,
    `  netaccel lb stats     --socket ${s['lb-controller']}`,
    `  netaccel bgp peers    --socket ${s['bgp-announcer']}`,
    `  netaccel bpf programs --socket ${s['ebpf-loader']}`,
    `  ip netns exec ${router} ip route show proto bird`,
    `  ip netns exec ${router} curl -s http://${SERVICES[0]!.vip}/`,
    `  (lb2 and lb3: the same sockets under ${k.logDir}/lb2, /lb3; every log is in ${k.logDir})`,
    `  eval "$(netaccel lab env lb1)"   then plain \`netaccel lb services\` talks to lb1`,
    '  netaccel lab status   this list, with each daemon\'s readiness and the router\'s routes',
    '  netaccel lab down     remove everything',
  ].join('\n');
}

export const labGroup: CommandGroup = {
  name: 'lab',
  summary: 'the lab: router, route reflector, three XDP balancers and six backends in namespaces (root)',
  default: 'run',
  commands: {
    run: {
      summary: 'run the scenario (the default): traffic, kill -9 a balancer, bring it back, remove a backend; report (--mode l2dsr|nat)',
      options: {
        keep: { type: 'boolean', default: false, help: 'leave the lab running afterwards and print how to explore it (remove it with `netaccel lab down`)' },
        quick: { type: 'boolean', default: false, help: 'the shortened run of `make test`: 2.5 s per phase instead of 8 s' },
        mode: { type: 'string', default: 'l2dsr', value: 'l2dsr|nat', help: 'how the balancers forward: L2 DSR, or NAT from a pool of 4 addresses each' },
        balancers: { type: 'string', default: String(DEFAULT_BALANCERS), value: `1-${MAX_BALANCERS}`, help: 'how many balancers the thesis scenario runs: the router\'s ECMP set and the reflector\'s clients; web on all, api on all but the last' },
        scenario: { type: 'string', default: 'thesis', value: 'thesis|paxos|craq|sidecar|scaling|all', help: 'which scenario: the thesis (balancers), paxos (5 replicas with the Electrode offloads: offloads switched on mid-run, kill -9 of the leader), craq (NetCRAQ: etcd cluster, XDP chain, hot keys placed, a chain node killed), sidecar (sidecar-offload between a gRPC client and server: a method denied by a reloaded policy, per-method telemetry, offload state), or all in that order; or scaling (the same load through 1, 2, 3 and 4 balancers: per balancer share of the flows and XDP CPU per request; not in all)' },
      },
      async run(ctx) {
        if (String(ctx.values.scenario) !== 'thesis') return runScenarios(ctx, String(ctx.values.scenario), requireRoot);
        const mode = String(ctx.values.mode);
        if (!(LAB_MODES as readonly string[]).includes(mode)) throw NA_ERR_CLI_USAGE(`--mode: expected one of ${LAB_MODES.join(', ')}, got ${mode}`);
        const balancers = Number(ctx.values.balancers);
        if (!isBalancerCount(balancers)) throw NA_ERR_CLI_USAGE(`--balancers: expected a whole number from 1 to ${MAX_BALANCERS}, got ${String(ctx.values.balancers)}`);
        requireRoot();
        const report = await runLab({ quick: ctx.values.quick === true, keep: ctx.values.keep === true, mode: mode as LabMode, balancers, progress: ctx.progress });
        const kept = ctx.values.keep === true ? readKept() : undefined;
        ctx.out.result(
          [
            '',
            reportText(report),
            '',
            `report with the chart: ${report.html}`,
            ...(kept !== undefined ? ['', exploreText(kept)] : []),
          ].join('\n'),
          report,
        );
      },
    },
    status: {
      summary: 'the lab left running by --keep: each daemon up and ready or not, a refused reload, the router\'s routes, how to explore',
      async run(ctx) {
        const k = runningLab();
        if (k === undefined) {
          ctx.out.result('no lab is running (start one with: sudo netaccel lab --keep)', { running: false });
          return;
        }
        const daemons = await daemonStates(k);
        const routes = execFileSync('ip', ['-n', k.namespaces.router!, 'route', 'show', 'proto', 'bird'], { encoding: 'utf8' }).trimEnd();
        const lines = daemons.flatMap((d) => d.states.map((st) => stateText(d.node, st)));
        ctx.out.result(
          [`run ${k.runId}, started ${k.startedAt}`, '', 'daemons:', ...lines, '', 'router:', routes, '', exploreText(k)].join('\n'),
          { running: true, ...k, daemons: daemons.flatMap((d) => d.states.map((st) => ({ node: d.node, ...st }))), routes },
        );
      },
    },
    down: {
      summary: `remove the lab left running by --keep (namespaces, processes, pins); keep the last ${KEEP_RUNS} runs' logs, or none with --purge`,
      options: { purge: { type: 'boolean', default: false, help: 'remove every earlier run\'s folder too (logs, configurations, reports), not only the oldest' } },
      async run(ctx) {
        requireRoot();
        const removed: string[] = [];
        for (const r of keptRuns({ prefix: LAB_PREFIX })) {
          await removeRun(r.runId, { prefix: LAB_PREFIX });
          removePins(r.runId);
          removed.push(r.runId);
        }
        removePins(); // the lab's bpffs folder too, once empty
        rmSync(KEPT_FILE, { force: true });
        // Run folders stay for post-mortems: the newest few, never those of a run in progress.
        const parent = labLogParent();
        const busy = new Set(readRecords(LAB_DEFAULTS.stateDir, LAB_PREFIX).map((e) => e.runId));
        const purge = ctx.values.purge === true;
        const runs = pruneRunDirs(parent, LAB_PREFIX, purge ? 0 : KEEP_RUNS, busy);
        ctx.out.result(
          `${removed.length === 0 ? 'no lab was running' : `removed the lab (run ${removed.join(', ')})`}\n${runsText(parent, runs, purge)}`,
          { removed, runFolders: { parent, removed: runs.removed.map((r) => r.dir), kept: runs.kept.map((r) => r.dir) } },
        );
      },
    },
    env: {
      summary: 'the NETACCEL_*_SOCKET exports of one node, its folder and namespace: eval "$(netaccel lab env lb1)"',
      args: '<node>',
      async run(ctx) {
        const k = runningLab();
        if (k === undefined) throw NA_ERR_CLI_NO_LAB();
        const { text, env } = envText(k, ctx.positionals[0]!);
        ctx.out.result(text, { node: ctx.positionals[0], runId: k.runId, env });
      },
    },
  },
};

/**
 * `netaccel lab`: the thesis' experiment on one machine (topology.ts). Brings the lab up, shows
 * the router's ECMP routes, drives traffic with wrk, kills one balancer with SIGKILL and brings it
 * back, removes a backend, and reports convergence delays, requests, errors and the split per
 * balancer and per backend, with an HTML chart. Each step prints its time; a failure names the
 * step and the log to read. The lab checks what it shows: a route that does not converge, a
 * balancer or backend that gets no traffic, or a removed backend that still does fails the run.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import { LAB_DEFAULTS, cleanStale, createLab, keptRuns, readRecords, removeRun, sleep, waitFor } from '@netaccel/netlab';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { BalancerClient, balancerV1, createRpcClient } from '@netaccel/rpc';
import { NA_ERR_CLI_LAB_BUSY, NA_ERR_CLI_LAB_CHECK, NA_ERR_CLI_LAB_NOT_BUILT, NA_ERR_CLI_LAB_STEP } from '../errors.js';
import { DAEMON_MAINS, birdConfig, gobgpConfig, nginxConfig, objectDir, writeBalancerFiles, writeServices } from './configs.js';
import type { BalancerFiles, LabDaemon } from './configs.js';
import { reportHtml } from './report.js';
import type { LabReport, PhaseSplit, TrafficSummary } from './report.js';
import { RouteMonitor } from './route-monitor.js';
import { BACKENDS, BALANCERS, LAB_PREFIX, LAB_STATE_DIR, PIN_BASE, RR_ADDR, SERVICES, backendAddr, balancerAddr, labSpec, switchPort } from './topology.js';
import type { BackendName, BalancerName, LabMode } from './topology.js';
import { BUCKET_MS, countsBetween, parseWrkOutput, writeWrkScript, wrkArgv } from './wrk.js';
import type { WrkResult } from './wrk.js';

export interface LabRunOptions {
  /** The shortened run of `make test`: a few seconds per phase instead of eight. */
  readonly quick: boolean;
  /** Leave the lab running (`netaccel lab down` removes it). */
  readonly keep: boolean;
  /** Progress lines for people. */
  /** How the balancers forward (default L2 DSR). */
  readonly mode?: LabMode;
  readonly progress: (text: string) => void;
}

/** What a kept lab leaves in LAB_STATE_DIR/lab.json for `netaccel lab status|down`. */
export interface KeptLab {
  readonly runId: string;
  readonly startedAt: string;
  readonly logDir: string;
  readonly pinRoot: string;
  readonly report: string;
  readonly namespaces: Readonly<Record<string, string>>;
  readonly sockets: Readonly<Record<string, Readonly<Record<LabDaemon, string>>>>;
}

export const KEPT_FILE = join(LAB_STATE_DIR, 'lab.json');
const KILLED: BalancerName = 'lb2';
const REMOVED = { service: 'web', backend: 'b4' as BackendName };
const SELFTEST_OBJECT = (): string => join(objectDir(), 'selftest', 'selftest.bpf.o');
const NODE = process.execPath;
/** Requests a removed backend may still answer after its removal: connections already open. */
const REMOVAL_GRACE_MS = 500;

interface BalancerRun {
  files: BalancerFiles;
  loader?: LabProcess;
  announcer?: LabProcess;
  controller?: LabProcess;
}

export class Steps {
  readonly done: { title: string; ms: number }[] = [];
  #n = 0;
  constructor(
    private readonly total: number,
    private readonly progress: (text: string) => void,
    private readonly fallbackLog: () => string,
  ) {}

  /** Runs one step: prints its number and title, then its time; a failure names the step and the logs. */
  async run<T>(title: string, fn: () => Promise<T>, logs: () => readonly string[] = () => []): Promise<T> {
    const i = ++this.#n;
    const label = `[${String(i).padStart(2)}/${this.total}] ${title}`;
    this.progress(`${label} …\n`);
    const t0 = performance.now();
    try {
      const r = await fn();
      const ms = performance.now() - t0;
      this.done.push({ title, ms });
      this.progress(`${' '.repeat(8)}done in ${fmtMs(ms)}\n`);
      return r;
    } catch (err) {
      this.progress(`${' '.repeat(8)}FAILED after ${fmtMs(performance.now() - t0)}\n`);
      const named = logs().filter((l) => existsSync(l));
      throw NA_ERR_CLI_LAB_STEP.with({ cause: err }, `${i}/${this.total} "${title}"`, errorMessage(err), named.length > 0 ? named.join(', ') : this.fallbackLog());
    }
  }
}

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

function checkBuilt(): void {
  for (const f of [...Object.values(DAEMON_MAINS), join(objectDir(), 'xlb', 'xlb.bpf.o'), SELFTEST_OBJECT()]) {
    if (!existsSync(f)) throw NA_ERR_CLI_LAB_NOT_BUILT(f);
  }
}

/** Removes a lab kept by an earlier run and the pins of runs that are gone; refuses a live one. */
export async function removeEarlierLabs(say: (text: string) => void): Promise<string[]> {
  const removed: string[] = [];
  for (const r of keptRuns({ prefix: LAB_PREFIX })) {
    await removeRun(r.runId, { prefix: LAB_PREFIX });
    removed.push(r.runId);
    say(`${' '.repeat(8)}removed the lab kept by an earlier run (${r.runId})\n`);
  }
  rmSync(KEPT_FILE, { force: true });
  await cleanStale({ prefix: LAB_PREFIX });
  // What is left is the run of another live process: refuse rather than share the CPU with it.
  const live = readRecords(LAB_DEFAULTS.stateDir, LAB_PREFIX).flatMap((e) => (e.record === undefined ? [] : [e.record]));
  if (live.length > 0) throw NA_ERR_CLI_LAB_BUSY(live[0]!.runId, String(live[0]!.pid));
  if (existsSync(PIN_BASE)) {
    for (const dir of readdirSync(PIN_BASE)) removePins(dir);
  }
  return removed;
}

/**
 * Removes what a run pinned: its folder PIN_BASE/<runId> (the loaders create it and their own
 * folders in it), then PIN_BASE itself once no run has pins left in it (without a run id, only
 * that). rmdir, not a recursive removal, for PIN_BASE: the folder of another run (a kept lab) is
 * never touched, and nothing outside PIN_BASE ever is.
 */
export function removePins(runId?: string): void {
  if (runId !== undefined) rmSync(join(PIN_BASE, runId), { recursive: true, force: true });
  try {
    rmdirSync(PIN_BASE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

const newBalancerClient = (socket: string) => createRpcClient(BalancerClient, { address: socket, deadlineMs: 3000 });

async function balancerClient<T>(socket: string, fn: (c: ReturnType<typeof newBalancerClient>) => Promise<T>): Promise<T> {
  const c = newBalancerClient(socket);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Packets to each VIP counted by a balancer's XDP program. */
async function vipPackets(socket: string): Promise<Map<string, number>> {
  const r = await balancerClient(socket, (c) => c.getStats(balancerV1.GetStatsRequest.create()));
  return new Map(r.vips.map((v) => [v.serviceId.split(':')[0]!, Number(v.counters?.packets ?? 0n)]));
}

export async function runLab(o: LabRunOptions): Promise<LabReport> {
  const say = o.progress;
  const mode = o.mode ?? 'l2dsr';
  const lab = createLab(labSpec(mode), { prefix: LAB_PREFIX, readyTimeoutMs: 30_000, killGraceMs: 2000, execTimeoutMs: 30_000 });
  const runDir = (): string => lab.logDir;
  const steps = new Steps(o.keep ? 13 : 14, say, () => `the logs in ${lab.logDir}`);
  // The run id is final once up() has published the run (a taken id is replaced there).
  const pinRoot = (): string => join(PIN_BASE, lab.runId);
  const balancers = new Map<BalancerName, BalancerRun>();
  const macs = new Map<BackendName, string>();
  let monitor: RouteMonitor | undefined;
  const wrks: { service: string; url: string; proc: LabProcess }[] = [];
  const startedAt = new Date();
  const hold = o.quick ? 2500 : 8000; // ms of traffic in each phase
  const logsOf = (...names: string[]): (() => string[]) => () => names.map((n) => join(lab.logDir, `${n}.log`));
  let kept = false;

  say(`netaccel lab: the thesis topology in network namespaces, balancers in ${mode === 'nat' ? 'NAT' : 'L2 DSR'} mode${o.quick ? ' (shortened run)' : ''}\n`);
  try {
    await steps.run('check the build and remove what an earlier lab left', async () => {
      checkBuilt();
      await removeEarlierLabs(say);
    });

    await steps.run(`build the topology: ${Object.keys(labSpec(mode).nodes).length} namespaces on one switch`, async () => {
      await lab.up();
      say(`${' '.repeat(8)}run ${lab.runId}, logs and configuration files in ${lab.logDir}\n`);
      // Veth quirks, not product configuration: senders hand complete checksums to the balancers
      // (XDP_TX cannot complete a partial one), and a veth delivers XDP_TX only when its peer has
      // an XDP program, so the switch ports facing the balancers get one that passes everything.
      for (const n of ['router', ...BACKENDS]) await lab.exec(n, ['ethtool', '-K', 'eth0', 'tx', 'off']);
      for (const lb of BALANCERS) await lab.exec('sw', ['ip', 'link', 'set', 'dev', switchPort(lb), 'xdpdrv', 'obj', SELFTEST_OBJECT(), 'sec', 'xdp']);
      for (const b of BACKENDS) {
        const links = (await lab.links(b)) as unknown as { ifname: string; address: string }[];
        macs.set(b, links.find((l) => l.ifname === 'eth0')!.address);
      }
    });

    await steps.run('start the route reflector (gobgpd) and the router (BIRD 2)', async () => {
      const gobgp = join(runDir(), 'gobgpd.toml');
      writeFileSync(gobgp, gobgpConfig());
      await lab.spawn('rr', ['gobgpd', '-f', gobgp, '-t', 'toml', '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], { name: 'gobgpd', ready: { tcp: `${RR_ADDR}:179` } });
      const bird = join(runDir(), 'bird.conf');
      writeFileSync(bird, birdConfig());
      await lab.spawn('router', ['bird', '-f', '-c', bird, '-s', join(runDir(), 'bird.ctl'), '-P', join(runDir(), 'bird.pid')], { name: 'bird', ready: { file: join(runDir(), 'bird.ctl') } });
      await waitFor(async () => /Established/.test((await lab.exec('router', ['birdc', '-s', join(runDir(), 'bird.ctl'), 'show', 'protocols', 'reflector'], { check: false })).stdout), { timeoutMs: 20_000, intervalMs: 100, what: 'BIRD established with gobgpd' });
    }, logsOf('gobgpd', 'bird'));

    await steps.run('start six HTTP backends (nginx answering its name)', async () => {
      await Promise.all(
        BACKENDS.map(async (b) => {
          const dir = join(runDir(), b);
          mkdirSync(dir, { recursive: true });
          const conf = join(dir, 'nginx.conf');
          writeFileSync(conf, nginxConfig(b, dir));
          await lab.spawn(b, ['nginx', '-p', dir, '-c', conf, '-e', 'stderr'], { name: `${b}-nginx`, ready: { tcp: '0.0.0.0:80' } });
        }),
      );
    }, logsOf(...BACKENDS.map((b) => `${b}-nginx`)));

    const initial = new Map<string, readonly string[]>(SERVICES.map((s) => [s.vip, []]));
    monitor = RouteMonitor.start(lab.ns('router'), SERVICES.map((s) => s.vip), initial);
    const mon = monitor;

    await steps.run('start three balancers, each: ebpf-loader, bgp-announcer, lb-controller', async () => {
      for (const lb of BALANCERS) balancers.set(lb, { files: writeBalancerFiles(runDir(), lb, join(pinRoot(), lb), mode, macs) });
      await Promise.all(BALANCERS.map((lb) => startBalancer(lab, lb, balancers.get(lb)!)));
    }, logsOf(...BALANCERS.flatMap((lb) => [`${lb}-ebpf-loader`, `${lb}-bgp-announcer`, `${lb}-lb-controller`])));

    const routes = await steps.run('wait for the router\'s ECMP routes (web: 3 next hops, api: 2)', async () => {
      for (const s of SERVICES) {
        const want = s.balancers.map(balancerAddr).sort();
        await mon.waitFor(s.vip, (nh) => sameSet(nh, want), 0, 30_000);
      }
      const table = (await lab.exec('router', ['ip', 'route', 'show', 'proto', 'bird'])).stdout.trimEnd();
      say(`${table.split('\n').map((l) => `${' '.repeat(8)}${l}`).join('\n')}\n`);
      return SERVICES.map((s) => ({ vip: s.vip, nexthops: [...mon.nexthops(s.vip)] }));
    }, logsOf('bird', 'gobgpd', ...BALANCERS.flatMap((lb) => [`${lb}-bgp-announcer`, `${lb}-lb-controller`])));

    // --- traffic and the failure ------------------------------------------------------------
    const script = writeWrkScript(runDir());
    const samples: { at: number; packets: Map<BalancerName, Map<string, number> | null> }[] = [];
    const rates: RateSample[] = [];
    let sampler: { stop(): Promise<void> } | undefined;
    const sample = async (): Promise<void> => {
      const at = Date.now();
      const packets = new Map<BalancerName, Map<string, number> | null>();
      await Promise.all(
        BALANCERS.map(async (lb) => {
          const b = balancers.get(lb)!;
          packets.set(lb, b.controller !== undefined && !b.controller.exited ? await vipPackets(b.files.controllerSocket) : null);
        }),
      );
      samples.push({ at, packets });
    };

    const t0 = await steps.run(`drive traffic from the router with wrk for ${fmtMs(hold)}: web and api, a new connection per request`, async () => {
      await sample();
      const start = Date.now();
      for (const s of SERVICES) {
        const url = `http://${s.vip}:${s.port}/`;
        const [threads, conns] = s.name === 'web' ? [2, 32] : [1, 8];
        wrks.push({ service: s.name, url, proc: await lab.spawn('router', wrkArgv(script, url, threads, conns), { name: `wrk-${s.name}` }) });
      }
      sampler = samplePerBalancer(balancers, SERVICES[0]!.vip, rates);
      await sleep(hold);
      return start;
    }, logsOf('wrk-web', 'wrk-api'));

    const killAt = await steps.run(`kill -9 ${KILLED} (its three daemons; its link goes down: the node is gone)`, async () => {
      await sample();
      const b = balancers.get(KILLED)!;
      const at = Date.now();
      for (const p of [b.controller, b.announcer, b.loader]) p?.kill('SIGKILL');
      await Promise.all([b.controller, b.announcer, b.loader].map((p) => p?.wait({ timeoutMs: 5000 })));
      await lab.exec(KILLED, ['ip', 'link', 'set', 'dev', 'eth0', 'down']);
      return at;
    });

    const withdrawMs: Record<string, number> = {};
    await steps.run(`wait for the router to drop ${KILLED}'s next hop, then ${fmtMs(hold)} of traffic without it`, async () => {
      for (const s of SERVICES.filter((x) => x.balancers.includes(KILLED))) {
        const want = s.balancers.filter((lb) => lb !== KILLED).map(balancerAddr).sort();
        withdrawMs[s.vip] = (await mon.waitFor(s.vip, (nh) => sameSet(nh, want), killAt, 15_000)) - killAt;
      }
      say(`${' '.repeat(8)}next hop gone after ${Object.entries(withdrawMs).map(([v, ms]) => `${fmtMs(ms)} (${v})`).join(', ')}\n`);
      await sleep(hold);
    }, logsOf('gobgpd', 'bird'));

    const restoreMs: Record<string, number> = {};
    let restartParts = { daemonsReadyMs: 0, dataPlaneMs: 0 };
    const announceToRouteMs: Record<string, number> = {};
    let restartAt = 0;
    await steps.run(`bring ${KILLED} back: link up, the same daemons and files; the loader adopts its pins`, async () => {
      const b = balancers.get(KILLED)!;
      const at = Date.now();
      restartAt = at;
      await lab.exec(KILLED, ['ip', 'link', 'set', 'dev', 'eth0', 'up']);
      await startBalancer(lab, KILLED, b);
      const ready = Date.now();
      for (const s of SERVICES.filter((x) => x.balancers.includes(KILLED))) {
        const want = s.balancers.map(balancerAddr).sort();
        const back = await mon.waitFor(s.vip, (nh) => sameSet(nh, want), at, 30_000);
        restoreMs[s.vip] = back - at;
        const announced = announcedAt(b.announcer!, `${s.vip}/32`);
        if (announced !== undefined) announceToRouteMs[s.vip] = back - announced;
      }
      restartParts = { daemonsReadyMs: ready - at, dataPlaneMs: dataPlaneUpMs(b.controller!) };
      await sample();
      say(`${' '.repeat(8)}next hop back after ${Object.entries(restoreMs).map(([v, ms]) => `${fmtMs(ms)} (${v})`).join(', ')}\n`);
      await sleep(hold);
    }, logsOf(`${KILLED}-ebpf-loader`, `${KILLED}-bgp-announcer`, `${KILLED}-lb-controller`));

    let removedAt = 0;
    const backendRemovalMs = await steps.run(`remove backend ${REMOVED.backend} from ${REMOVED.service} (services files rewritten) and keep the traffic on`, async () => {
      await sample();
      const at = Date.now();
      for (const lb of BALANCERS) writeServices(balancers.get(lb)!.files.services, lb, mode, macs, [REMOVED]);
      const svc = SERVICES.find((s) => s.name === REMOVED.service)!;
      const addr = backendAddr(REMOVED.backend);
      await waitFor(
        async () => {
          const lists = await Promise.all(svc.balancers.map((lb) => balancerClient(balancers.get(lb)!.files.controllerSocket, (c) => c.listBackends(balancerV1.ListBackendsRequest.create({ serviceId: `${svc.vip}:${svc.port}/tcp` })))));
          return lists.every((l) => l.backends.length > 0 && !l.backends.some((x) => x.address === addr));
        },
        { timeoutMs: 10_000, intervalMs: 10, what: `${REMOVED.backend} gone from every balancer` },
      );
      removedAt = Date.now();
      await sample();
      await sleep(hold);
      return removedAt - at;
    });

    const results = await steps.run('stop the traffic and collect the results', async () => {
      await sampler?.stop();
      await sample();
      const out: { service: string; url: string; r: WrkResult }[] = [];
      for (const w of wrks) w.proc.kill('SIGINT');
      for (const w of wrks) {
        await w.proc.wait({ timeoutMs: 15_000 });
        out.push({ service: w.service, url: w.url, r: parseWrkOutput(w.proc.output()) });
      }
      return out;
    }, logsOf('wrk-web', 'wrk-api'));
    const endAt = samples.at(-1)!.at;

    // --- the report ---------------------------------------------------------------------------
    const report = await steps.run('check what happened and write the report', async () => {
      const phaseBounds: [string, number, number, number, number][] = [
        // name, from, to, sample index at from, sample index at to
        ['3 balancers', t0, killAt, 0, 1],
        [`${KILLED} down`, killAt, samples[2]!.at, 1, 2],
        [`${KILLED} back`, samples[2]!.at, samples[3]!.at, 2, 3],
        // connections opened before the removal may still finish on the backend (connection table)
        [`${REMOVED.backend} out of ${REMOVED.service}`, removedAt + REMOVAL_GRACE_MS, endAt, 4, 5],
      ];
      const phases: PhaseSplit[] = phaseBounds.map(([name, from, to, si, sj]) => {
        const balancersBy: Record<string, Record<string, number | null>> = {};
        const backendsBy: Record<string, Record<string, number>> = {};
        for (const s of SERVICES) {
          const row: Record<string, number | null> = {};
          for (const lb of s.balancers) {
            const a = samples[si]!.packets.get(lb);
            const b = samples[sj]!.packets.get(lb);
            row[lb] = a == null || b == null || (name === `${KILLED} down` && lb === KILLED) ? null : (b.get(s.vip) ?? 0) - (a.get(s.vip) ?? 0);
          }
          balancersBy[s.name] = row;
          const w = results.find((x) => x.service === s.name)!.r;
          // whole buckets only: a bucket that straddles a boundary belongs to neither phase
          const counts = countsBetween(w, Math.ceil(from / BUCKET_MS) * BUCKET_MS, Math.floor(to / BUCKET_MS) * BUCKET_MS);
          backendsBy[s.name] = Object.fromEntries([...counts].sort());
        }
        return { name, fromMs: from, toMs: to, balancers: balancersBy, backends: backendsBy };
      });
      const traffic: TrafficSummary[] = results.map(({ service, url, r }) => ({
        service,
        url,
        requests: r.requests,
        errors: r.errors,
        latencyMs: { p50: r.latencyUs.p50 / 1000, p99: r.latencyUs.p99 / 1000, max: r.latencyUs.max / 1000 },
        meanRps: r.requests / (r.durationUs / 1e6),
      }));
      const series = results.map(({ service, r }) => ({
        label: `${service} requests/s`,
        points: [...r.buckets.entries()]
          .filter(([at]) => at >= t0 && at + BUCKET_MS <= endAt)
          .sort((a, b) => a[0] - b[0])
          .map(([at, m]): [number, number] => [at - t0 + BUCKET_MS / 2, ([...m.values()].reduce((s, n) => s + n, 0) * 1000) / BUCKET_MS]),
      }));
      const web = SERVICES[0]!;
      const webEvents = mon.events.filter((e) => e.vip === web.vip);
      const atStart = webEvents.filter((e) => e.at <= t0).at(-1)?.nexthops.length ?? 0;
      const live: [number, number][] = [[0, atStart], ...webEvents.filter((e) => e.at > t0 && e.at <= endAt).map((e): [number, number] => [e.at - t0, e.nexthops.length])];
      const html = join(lab.logDir, 'report.html');
      const r: LabReport = {
        runId: lab.runId,
        startedAt: startedAt.toISOString(),
        quick: o.quick,
        mode,
        logDir: lab.logDir,
        html,
        steps: steps.done,
        routes,
        convergence: { withdrawMs, restoreMs, announceToRouteMs, restart: restartParts, backendRemovalMs },
        killed: KILLED,
        removed: REMOVED,
        traffic,
        phases,
        chart: {
          series,
          balancers: balancerRates(rates, t0, endAt),
          live,
          events: [
            { atMs: killAt - t0, label: `kill -9 ${KILLED}` },
            { atMs: restartAt - t0, label: `${KILLED} restarted` },
            { atMs: removedAt - t0, label: `${REMOVED.backend} removed` },
          ],
          durationMs: endAt - t0,
          maxBalancers: web.balancers.length,
        },
      };
      checkReport(r);
      writeFileSync(html, reportHtml(r));
      writeFileSync(join(lab.logDir, 'report.json'), `${JSON.stringify(r, null, 2)}\n`);
      return r;
    });

    monitor.stop();
    monitor = undefined;
    if (o.keep) {
      lab.keep();
      kept = true;
      const state: KeptLab = {
        runId: lab.runId,
        startedAt: startedAt.toISOString(),
        logDir: lab.logDir,
        pinRoot: pinRoot(),
        report: report.html,
        namespaces: Object.fromEntries(lab.nodes().map((n) => [n, lab.ns(n)])),
        sockets: Object.fromEntries(
          BALANCERS.map((lb) => {
            const f = balancers.get(lb)!.files;
            return [lb, { 'ebpf-loader': f.loaderSocket, 'bgp-announcer': f.announcerSocket, 'lb-controller': f.controllerSocket }];
          }),
        ),
      };
      mkdirSync(LAB_STATE_DIR, { recursive: true });
      writeFileSync(KEPT_FILE, `${JSON.stringify(state, null, 2)}\n`);
    } else {
      await steps.run('tear the lab down', async () => {
        await lab.down();
        removePins(lab.runId);
      });
    }
    return report;
  } finally {
    monitor?.stop();
    if (!kept) {
      await lab.down().catch((err: unknown) => say(`netaccel lab: teardown failed: ${errorMessage(err)}\n`));
      removePins(lab.runId);
    }
  }
}

interface RateSample {
  readonly at: number;
  /** Packets to the VIP so far, by balancer; a balancer whose controller did not answer is absent. */
  readonly packets: ReadonlyMap<BalancerName, number>;
}

/** Reads every live controller's counter of `vip` every 500 ms until stopped. */
function samplePerBalancer(balancers: ReadonlyMap<BalancerName, BalancerRun>, vip: string, out: RateSample[]): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const packets = new Map<BalancerName, number>();
      await Promise.all(
        BALANCERS.map(async (lb) => {
          const b = balancers.get(lb)!;
          if (b.controller === undefined || b.controller.exited) return;
          try {
            packets.set(lb, (await vipPackets(b.files.controllerSocket)).get(vip) ?? 0);
          } catch {
            // starting, or gone: no sample
          }
        }),
      );
      out.push({ at, packets });
      await sleep(Math.max(50, 500 - (Date.now() - at)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Packets/s per balancer between consecutive samples; 0 where its controller could not be asked (the node was down). */
function balancerRates(samples: readonly RateSample[], t0: number, end: number): { label: string; points: [number, number][] }[] {
  return BALANCERS.map((lb) => {
    const points: [number, number][] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1]!;
      const b = samples[i]!;
      if (b.at > end) break;
      const pa = a.packets.get(lb);
      const pb = b.packets.get(lb);
      const mid = (a.at + b.at) / 2 - t0;
      if (pa === undefined || pb === undefined) points.push([mid, 0]);
      else if (pb >= pa) points.push([mid, ((pb - pa) * 1000) / (b.at - a.at)]);
    }
    return { label: lb, points };
  });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return a.length === b.length && set.size === a.length && b.every((x) => set.has(x));
}

/** When the announcer's API was asked to announce `prefix` (its log's `requestedAt`, ms). */
function announcedAt(announcer: LabProcess, prefix: string): number | undefined {
  for (const line of announcer.output().split('\n')) {
    if (!line.includes('"msg":"route announced"') || !line.includes(`"prefix":"${prefix}"`)) continue;
    try {
      const t = (JSON.parse(line) as { requestedAt?: unknown }).requestedAt;
      if (typeof t === 'number') return t;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** How long the restarted controller took to program the data plane the first time (its log says). */
function dataPlaneUpMs(controller: LabProcess): number {
  for (const line of controller.output().split('\n')) {
    if (!line.includes('"msg":"data plane updated"')) continue;
    try {
      return Number((JSON.parse(line) as { durationMs?: number }).durationMs ?? 0);
    } catch {
      // not a JSON line
    }
  }
  return 0;
}

async function startBalancer(lab: Lab, lb: BalancerName, b: BalancerRun): Promise<void> {
  const f = b.files;
  for (const s of [f.loaderSocket, f.announcerSocket, f.controllerSocket]) rmSync(s, { force: true });
  b.loader = await lab.spawn(lb, [NODE, DAEMON_MAINS['ebpf-loader'], '--config', f.loaderConfig], { name: `${lb}-ebpf-loader`, sysfs: 'host', ready: { file: f.loaderSocket } });
  b.announcer = await lab.spawn(lb, [NODE, DAEMON_MAINS['bgp-announcer'], '--config', f.announcerConfig], { name: `${lb}-bgp-announcer`, sysfs: 'host', ready: { file: f.announcerSocket } });
  b.controller = await lab.spawn(lb, [NODE, DAEMON_MAINS['lb-controller'], '--config', f.controllerConfig], { name: `${lb}-lb-controller`, sysfs: 'host', ready: { log: /"msg":"lb-controller running"/ } });
}

/** The lab's own checks: what it claims to show must have happened. */
export function checkReport(r: LabReport): void {
  const fail = (what: string): never => {
    throw NA_ERR_CLI_LAB_CHECK(what);
  };
  for (const s of SERVICES) {
    const route = r.routes.find((x) => x.vip === s.vip);
    if (!sameSet(route?.nexthops ?? [], s.balancers.map(balancerAddr))) fail(`the router's route to ${s.vip} had next hops ${route?.nexthops.join(', ')}, expected ${s.balancers.map(balancerAddr).join(', ')}`);
  }
  const first = r.phases[0]!;
  for (const s of SERVICES) {
    for (const lb of s.balancers) {
      if (!((first.balancers[s.name]?.[lb] ?? 0) > 0)) fail(`balancer ${lb} forwarded no packet of ${s.name} while all three were up (ECMP should spread the flows)`);
    }
    for (const b of s.backends) {
      if (!((first.backends[s.name]?.[b] ?? 0) > 0)) fail(`backend ${b} answered no request of ${s.name} while all were up`);
    }
  }
  const last = r.phases.at(-1)!;
  const stray = last.backends[r.removed.service]?.[r.removed.backend] ?? 0;
  if (stray > 0) fail(`${r.removed.backend} still answered ${stray} requests of ${r.removed.service} after every balancer had removed it`);
  const back = r.phases[2]!;
  if (!((back.balancers.web?.[r.killed] ?? 0) > 0)) fail(`${r.killed} forwarded no packet after it came back`);
  for (const t of r.traffic) if (t.requests === 0) fail(`wrk got no response from ${t.url}`);
}

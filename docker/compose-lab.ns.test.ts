/**
 * docker/compose.yaml for real: the lab in containers on a Docker engine, on this machine.
 *
 * Builds the base images from Debian's archive and the npm registry (docker/local-base/build.sh:
 * this machine has no Docker Hub), builds the lab's images with Compose, `up`s the lab, and
 * checks what `make lab` checks in namespaces:
 *   1. the router (BIRD) has one ECMP route per VIP through the reflector (gobgpd): web over
 *      lb1, lb2 and lb3, api over lb1 and lb2;
 *   2. requests from the router to both VIPs all succeed, every backend of each service answers,
 *      and each balancer's XDP program counts packets of each of its VIPs (netaccel lb stats in
 *      the controller's container, and netaccel bpf programs through the loader);
 *   3. lb2's three containers killed (the node is gone): its next hop leaves both routes and
 *      the VIPs still answer; lb2 started again: its next hop is back and it forwards again;
 *   4. `down -v` leaves no container, network or volume of the project; the loaders' pins are
 *      removed from the host's bpffs; when this test started the engine, it stops it and the
 *      host's iptables, Docker-named interfaces and sysctls are as they were.
 * Teardown (down -v, pins, the engine it started, the host's state) runs even when a test fails,
 * and what a crashed earlier run left (the project, the pins, its dockerd) is removed first.
 *
 * Steps 1-4 run twice with the same compose.yaml: with Compose v1 (Debian 12's docker-compose
 * 1.29) and with Compose v2 (the `docker compose` plugin; Debian 13's build of it when the CLI has
 * none: docker/compose-v2/fetch.sh). Then, when this file started the engine, it stops it and the
 * host must be as it was.
 *
 * The engine is the one on the default socket, or a dockerd this file starts (docker/engine.ts:
 * no iptables, no ip_forward, no docker0).
 */
import { test, beforeAll, afterAll, describe, onTestFinished } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Compose, Engine, HostState, Run } from './engine.js';
import { composeV1, composeV2, ensureEngine, hostDiff, hostState, must, restoreHost, run, stopEngine } from './engine.js';

const DOCKER = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DOCKER, '..');
const FILE = join(DOCKER, 'compose.yaml');
const PROJECT = 'netaccel-lab'; // docker/.env: COMPOSE_PROJECT_NAME
const BALANCERS = ['lb1', 'lb2', 'lb3'] as const;
const DAEMONS = ['loader', 'announcer', 'controller'] as const;
const NEXT_HOP = { lb1: '10.0.0.11', lb2: '10.0.0.12', lb3: '10.0.0.13' } as const;
const VIPS = {
  web: { vip: '10.1.1.1', balancers: ['lb1', 'lb2', 'lb3'], backends: ['b1', 'b2', 'b3', 'b4'] },
  api: { vip: '10.1.2.1', balancers: ['lb1', 'lb2'], backends: ['b3', 'b4', 'b5', 'b6'] },
} as const;
const PIN_ROOTS = BALANCERS.map((lb) => `/sys/fs/bpf/netaccel-lab-${lb}`);
// per VIP and phase: new connections, so new ECMP and Maglev choices; with 120, the chance that
// one of three balancers or four backends gets none by bad luck is below 1e-14
const REQUESTS = 120;
const MINUTE = 60_000;

const ENV = {
  ...process.env,
  // the local stand-ins for Docker Hub's bases (docker/local-base/build.sh); builds in the host's network
  NETACCEL_BUILD_IMAGE: 'netaccel-local/node:20-bookworm',
  NETACCEL_RUNTIME_IMAGE: 'netaccel-local/node:20-bookworm-slim',
  NETACCEL_DEBIAN_IMAGE: 'netaccel-local/debian:bookworm-slim',
  NETACCEL_BUILD_NETWORK: 'host',
};
/** The Compose of the steps being run: v1 first, then v2 (set by each describe's beforeAll). */
let impl: Compose = composeV1();
/** `docker-compose -f docker/compose.yaml …` (v1) or `docker compose -f docker/compose.yaml …` (v2), from the repository root. */
const composeWith = (c: Compose, args: readonly string[], timeoutMs = 2 * MINUTE): Promise<Run> =>
  run(c.cmd, [...c.pre, '-f', FILE, ...args], { env: { ...ENV, ...c.env }, cwd: ROOT, timeoutMs });
const compose = (args: readonly string[], timeoutMs?: number): Promise<Run> => composeWith(impl, args, timeoutMs);
const composeOk = async (args: readonly string[], timeoutMs?: number): Promise<string> => {
  const r = await compose(args, timeoutMs);
  assert.equal(r.code, 0, `compose ${args.join(' ')}: exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
};
/** Container of each service, by Compose's labels (v1 names them netaccel-lab_router_1, v2 netaccel-lab-router-1). */
async function containers(): Promise<Map<string, string>> {
  const out = await must('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Label "com.docker.compose.service"}} {{.Names}}']);
  return new Map(out.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string]));
}
let names = new Map<string, string>();
/** `docker exec` in a service's container (the Go CLI: much quicker than Compose v1's Python per call). */
const exec = (service: string, cmd: readonly string[], timeoutMs = MINUTE): Promise<string> => {
  const name = names.get(service);
  assert.ok(name !== undefined, `no container of ${service} (${[...names.keys()].join(' ')})`);
  return must('docker', ['exec', name, ...cmd], { timeoutMs });
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const times: [string, number][] = [];
const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    times.push([what, Date.now() - t0]);
    console.log(`compose lab: ${what}: ${secs(Date.now() - t0)}`);
  }
};

/** The last log lines and health-check outputs of the project's containers that are not running and healthy. */
async function unhealthyLogs(): Promise<string> {
  const out = await must('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}} {{.Status}}']);
  const bad = out.split('\n').filter((l) => l !== '' && !l.includes('(healthy)'));
  const parts: string[] = [];
  for (const line of bad) {
    const name = line.split(' ')[0]!;
    const logs = await run('docker', ['logs', '--tail', '25', name]);
    const health = await run('docker', ['inspect', '--format', '{{if .State.Health}}{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}|{{end}}{{end}}', name]);
    parts.push(`--- ${line}\n${(logs.stdout + logs.stderr).slice(-2500)}\nhealth checks: ${health.stdout.trim().slice(-800)}`);
  }
  return parts.join('\n');
}

/** Waits until the services' containers run and are healthy; fails with their last log lines. */
async function waitHealthy(services: readonly string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const bad: string[] = [];
    for (const svc of services) {
      const st = await run('docker', ['inspect', '--format', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', names.get(svc) ?? svc]);
      if (st.stdout.trim() !== 'running healthy') bad.push(svc);
    }
    if (bad.length === 0) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) {
      const logs = await Promise.all(bad.map(async (svc) => `--- ${svc}:\n${(await run('docker', ['logs', '--tail', '30', names.get(svc) ?? svc])).stderr.slice(-3000)}`));
      assert.fail(`not running and healthy after ${secs(timeoutMs)}: ${bad.join(' ')}\n${logs.join('\n')}`);
    }
    await sleep(500);
  }
}

/** Next hops of the router's kernel route to `vip` (one ECMP route, `nexthop via …` lines). */
async function nextHops(vip: string): Promise<string[]> {
  const out = await exec('router', ['ip', '-4', 'route', 'show', `${vip}/32`]);
  return [...out.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
}
/** Polls until the router's route to each VIP has exactly the expected next hops; returns the ms it took. */
async function waitRoutes(expect: Record<string, readonly string[]>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last: Record<string, string[]> = {};
  while (Date.now() - t0 < timeoutMs) {
    last = {};
    for (const vip of Object.keys(expect)) last[vip] = await nextHops(vip).catch(() => []);
    if (Object.entries(expect).every(([vip, hops]) => JSON.stringify(last[vip]) === JSON.stringify([...hops].sort()))) return Date.now() - t0;
    await sleep(100);
  }
  const bird = await exec('router', ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'route', 'all']).catch((err: unknown) => String(err));
  assert.fail(`the router's routes did not become ${JSON.stringify(expect)} within ${secs(timeoutMs)}; last ${JSON.stringify(last)}\nbirdc show route all:\n${bird}`);
}
const hopsFor = (lbs: readonly string[]) => lbs.map((lb) => NEXT_HOP[lb as keyof typeof NEXT_HOP]);

/** `REQUESTS` new connections from the router to http://vip/, four at a time: body (backend name) → count. */
async function requests(vip: string, n = REQUESTS): Promise<Map<string, number>> {
  const per = Math.ceil(n / 4);
  const script = `for w in 1 2 3 4; do ( i=0; while [ $i -lt ${per} ]; do curl -s -m 3 http://${vip}/ || echo FAIL; i=$((i+1)); done ) & done; wait`;
  const out = await exec('router', ['sh', '-c', script], 2 * MINUTE);
  const counts = new Map<string, number>();
  for (const line of out.split('\n').filter((l) => l !== '')) counts.set(line.trim(), (counts.get(line.trim()) ?? 0) + 1);
  return counts;
}
const show = (m: Map<string, number>) => [...m].sort().map(([k, v]) => `${k} ${v}`).join(', ');

/** Packets each of a balancer's VIPs counted in its XDP program (netaccel lb stats, in the controller's container). */
async function xdpPackets(lb: string): Promise<Map<string, number>> {
  const out = await exec(`${lb}-controller`, ['netaccel', 'lb', 'stats', '--json', '--timeout', '30000']);
  const r = JSON.parse(out) as { vips: { serviceId: string; counters?: { packets?: string } }[] };
  return new Map(r.vips.map((v) => [v.serviceId.split(':')[0]!, Number(v.counters?.packets ?? 0)]));
}
async function allPackets(lbs: readonly string[]): Promise<Record<string, Map<string, number>>> {
  const out: Record<string, Map<string, number>> = {};
  for (const lb of lbs) out[lb] = await xdpPackets(lb);
  return out;
}

/** Traffic to both VIPs; every request answered, every backend seen; the packets each balancer's XDP counted per VIP. */
async function traffic(phase: string, balancersUp: readonly string[]): Promise<Record<string, Record<string, number>>> {
  const before = await allPackets(balancersUp);
  for (const [name, s] of Object.entries(VIPS)) {
    const counts = await requests(s.vip);
    console.log(`compose lab: ${phase}: ${name} ${s.vip}: ${show(counts)}`);
    assert.equal(counts.get('FAIL') ?? 0, 0, `${phase}: ${name}: failed requests (${show(counts)})`);
    assert.deepEqual([...counts.keys()].sort(), [...s.backends], `${phase}: ${name}: every backend and only those answer (${show(counts)})`);
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), Math.ceil(REQUESTS / 4) * 4);
  }
  const after = await allPackets(balancersUp);
  const delta: Record<string, Record<string, number>> = {};
  for (const lb of balancersUp) {
    delta[lb] = {};
    for (const [name, s] of Object.entries(VIPS)) {
      const d = (after[lb]!.get(s.vip) ?? 0) - (before[lb]!.get(s.vip) ?? 0);
      delta[lb][name] = d;
      if ((s.balancers as readonly string[]).includes(lb)) assert.ok(d > 0, `${phase}: ${lb}'s XDP counted no ${name} packet (${JSON.stringify(delta)})`);
      else assert.equal(after[lb]!.get(s.vip), undefined, `${phase}: ${lb} has no ${name} service`);
    }
  }
  console.log(`compose lab: ${phase}: XDP packets per balancer: ${JSON.stringify(delta)}`);
  return delta;
}

/** Containers, networks and volumes of the project (by Compose's label). */
async function leftovers(): Promise<string[]> {
  const label = `label=com.docker.compose.project=${PROJECT}`;
  const out: string[] = [];
  for (const [kind, args] of [
    ['container', ['ps', '-a', '--filter', label, '--format', '{{.Names}}']],
    ['network', ['network', 'ls', '--filter', label, '--format', '{{.Name}}']],
    ['volume', ['volume', 'ls', '--filter', label, '--format', '{{.Name}}']],
  ] as const) {
    for (const name of (await must('docker', args)).split('\n').filter((l) => l !== '')) out.push(`${kind} ${name}`);
  }
  for (const p of PIN_ROOTS) if (existsSync(p)) out.push(`pins ${p} (${readdirSync(p).join(' ')})`);
  return out;
}
/** down -v, then the loaders' pins (they outlive the containers by design: a restarted loader adopts them). */
async function teardownLab(c: Compose = impl): Promise<void> {
  await composeWith(c, ['--profile', 'tools', 'down', '-v', '--remove-orphans', '--timeout', '5'], 3 * MINUTE);
  for (const p of PIN_ROOTS) rmSync(p, { recursive: true, force: true });
}

let engine: Engine | undefined;
let host: HostState | undefined;
let labNetwork: string | undefined; // the lab's network id: its bridge is br-<first 12>
let engineStopped = false;
/** Compose v1 and v2 (v2 resolved in beforeAll: it may have to be fetched). */
const impls: Compose[] = [composeV1()];

/** afterAll: the lab (by each Compose that may have left it), the engine this file started, the host; each step whatever the others did. */
async function teardownAll(): Promise<string[]> {
  if (engine === undefined) return [];
  if (!engineStopped) {
    for (const c of impls) await teardownLab(c).catch((err: unknown) => console.error(`compose lab: teardown (Compose ${c.name}): ${String(err)}`));
  }
  if (!engineStopped && engine.pid !== undefined) await stopEngine(engine);
  engineStopped = true;
  return host !== undefined && engine.pid !== undefined ? restoreHost(host) : [];
}

beforeAll(async () => {
  assert.equal(process.getuid?.(), 0, 'the compose lab needs root (dockerd, bpffs): run the ns layer as root');
  host = await hostState();
  engine = await timed('engine', () => ensureEngine((s) => console.log(`compose lab: ${s}`)));
  impls.push(await timed('Compose v2 (docker/compose-v2/fetch.sh when the CLI has no plugin)', () => composeV2(join(DOCKER, 'compose-v2', 'fetch.sh'))));
  const versions: string[] = [];
  for (const c of impls) versions.push(`Compose ${c.name}: ${(await must(c.cmd, [...c.pre, 'version'], { env: { ...process.env, ...c.env } })).trim().split('\n')[0]}`);
  console.log(`compose lab: Docker ${engine.version}; ${versions.join('; ')}`);
  // what a crashed earlier run left, by either Compose
  await timed('clean an earlier run', async () => {
    for (const c of impls) await teardownLab(c);
    assert.deepEqual(await leftovers(), [], 'an earlier run\'s lab could not be removed');
  });
  await timed('base images (docker/local-base/build.sh)', () => must(join(DOCKER, 'local-base', 'build.sh'), [], { timeoutMs: 15 * MINUTE }));
}, 25 * MINUTE);

afterAll(async () => {
  const done = await teardownAll();
  if (done.length > 0) console.log(`compose lab: put the host back: ${done.join('; ')}`);
  console.log(`compose lab: timings: ${times.map(([w, ms]) => `${w} ${secs(ms)}`).join(', ')}`);
}, 10 * MINUTE);

/** Builds and ups the lab with Compose `name` (the same compose.yaml each time). */
async function labUp(name: Compose['name']): Promise<void> {
  const c = impls.find((i) => i.name === name);
  assert.ok(c !== undefined, `Compose ${name} is not available`);
  impl = c;
  const t0 = Date.now();
  // One service per image (lb2-*, lb3-* and b2-b6 name the same images), so each is built once.
  // First the loader, whose build makes the stages the four app images share, beside the three
  // lab images (apt-get: network-bound); then the other app images, from those stages. The
  // second Compose finds every layer in the engine's cache.
  await timed(`Compose ${name}: build`, async () => {
    await composeOk(['build', ...c.buildArgs, 'lb1-loader', 'router', 'reflector', 'b1'], 30 * MINUTE);
    await composeOk(['--profile', 'tools', 'build', ...c.buildArgs, 'lb1-announcer', 'lb1-controller', 'cli'], 30 * MINUTE);
  });
  // a lab left by the other Compose (a failed run of its steps) would hold the addresses and names
  for (const other of impls) await teardownLab(other);
  await timed(`Compose ${name}: up -d`, async () => {
    const r = await compose(['up', '-d'], 5 * MINUTE);
    if (r.code !== 0) assert.fail(`compose up -d: exit ${r.code}\n${r.stderr.slice(-2000)}\n${await unhealthyLogs()}`);
  });
  names = await containers();
  labNetwork = (await must('docker', ['network', 'inspect', '--format', '{{.Id}}', `${PROJECT}_lab`])).trim();
  console.log(`compose lab: Compose ${name}: set up in ${secs(Date.now() - t0)}`);
}

function labSteps(): void {
  test('every container of the lab is up and healthy, in the project of docker/.env', async () => {
    const out = await must('docker', ['ps', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Label "com.docker.compose.service"}} {{.Status}}']);
    const status = new Map(out.split('\n').filter((l) => l !== '').map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)]));
    const expected = ['router', 'reflector', ...BALANCERS.flatMap((lb) => DAEMONS.map((d) => `${lb}-${d}`)), 'b1', 'b2', 'b3', 'b4', 'b5', 'b6'].sort();
    assert.deepEqual([...status.keys()].sort(), expected, out);
    // up -d returns once the dependencies' conditions hold; the last ones may still be starting
    const t0 = Date.now();
    for (;;) {
      const cur = await must('docker', ['ps', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Label "com.docker.compose.service"}} {{.Status}}']);
      const unhealthy = cur.split('\n').filter((l) => l !== '' && !l.includes('(healthy)'));
      if (unhealthy.length === 0) break;
      assert.ok(Date.now() - t0 < 2 * MINUTE, `not healthy after 2 min: ${unhealthy.join('; ')}`);
      await sleep(1000);
    }
  });

  test('the router has an ECMP route per VIP over the balancers that announce it', async () => {
    const ms = await waitRoutes({ [VIPS.web.vip]: hopsFor(VIPS.web.balancers), [VIPS.api.vip]: hopsFor(VIPS.api.balancers) }, 2 * MINUTE);
    console.log(`compose lab: ECMP routes complete ${secs(ms)} after the containers were healthy`);
    const bird = await exec('router', ['birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols']);
    assert.match(bird, /reflector\s+BGP\s+\S+\s+up\s+\S+\s+Established/, bird);
    // XDP in generic mode on each balancer's eth0, attached by the loader
    for (const lb of BALANCERS) {
      const link = await exec(`${lb}-loader`, ['ip', '-d', 'link', 'show', 'dev', 'eth0']);
      assert.match(link, /xdpgeneric/, `${lb}: eth0 has no generic XDP program:\n${link}`);
      const progs = await exec(`${lb}-loader`, ['netaccel', 'bpf', 'programs', '--json', '--timeout', '30000']);
      assert.match(progs, /xlb/, `${lb}: the loader lists no xlb program: ${progs}`);
    }
  });

  test('traffic through both VIPs: every request answered, every backend serves, every balancer forwards', async () => {
    await traffic('all up', BALANCERS);
    // the CLI image (profile tools) reads lb1's counters over lb1's sockets too
    const cli = await composeOk(['--profile', 'tools', 'run', '--rm', '-T', 'cli', 'lb', 'stats', '--json', '--timeout', '30000']);
    const vips = (JSON.parse(cli) as { vips: { serviceId: string; counters?: { packets?: string } }[] }).vips;
    assert.deepEqual(vips.map((v) => v.serviceId.split(':')[0]).sort(), [VIPS.web.vip, VIPS.api.vip]);
    assert.ok(vips.every((v) => Number(v.counters?.packets ?? 0) > 0), cli);
  });

  test('lb2 killed: its next hop leaves the routes and the VIPs still answer; started again: it is back and forwards', async () => {
    const lb2 = DAEMONS.map((d) => `lb2-${d}`);
    // whatever happens below, lb2 is running again for the tests after this one
    onTestFinished(async () => {
      await compose(['up', '-d', ...lb2], 3 * MINUTE);
      names = await containers();
    });
    const t0 = Date.now();
    await composeOk(['kill', ...[...lb2].reverse()]);
    const gone = await waitRoutes({ [VIPS.web.vip]: hopsFor(['lb1', 'lb3']), [VIPS.api.vip]: hopsFor(['lb1']) }, 30_000);
    console.log(`compose lab: lb2 killed: its next hop left the router's routes ${secs(Date.now() - t0)} after the kill (${secs(gone)} after compose kill returned)`);
    await traffic('lb2 down', ['lb1', 'lb3']);
    const t1 = Date.now();
    await composeOk(['up', '-d', ...lb2], 3 * MINUTE);
    names = await containers(); // Compose may have made new containers
    const back = await waitRoutes({ [VIPS.web.vip]: hopsFor(VIPS.web.balancers), [VIPS.api.vip]: hopsFor(VIPS.api.balancers) }, 2 * MINUTE);
    console.log(`compose lab: lb2 started again: back in the routes ${secs(Date.now() - t1)} after compose up (${secs(back)} after it returned)`);
    await waitHealthy(lb2, 2 * MINUTE);
    await traffic('lb2 back', BALANCERS);
  });

  test('down -v leaves no container, network, volume, pin or bridge behind', async () => {
    await timed(`Compose ${impl.name}: down -v`, () => teardownLab());
    assert.deepEqual(await leftovers(), []);
    const bridge = `br-${labNetwork?.slice(0, 12)}`;
    const links = await must('ip', ['-br', 'link', 'show']);
    assert.ok(labNetwork !== undefined && !links.split('\n').some((l) => l.startsWith(`${bridge} `)), `the lab's bridge ${bridge} is still there:\n${links}`);
  });
}

for (const name of ['v1', 'v2'] as const) {
  describe(`Compose ${name}`, () => {
    beforeAll(() => labUp(name), 40 * MINUTE);
    labSteps();
  });
}

test('the engine this file started is stopped and the host is as it was: interfaces, iptables, sysctls', async () => {
  assert.ok(engine !== undefined, 'no engine was found or started');
  if (engine.pid === undefined) {
    // an engine that was already running stays; what the lab left is checked above
    console.log('compose lab: the engine was running before this file: left running');
    return;
  }
  await timed('stop dockerd', () => stopEngine(engine!));
  engineStopped = true;
  assert.deepEqual(hostDiff(host!, await hostState()), [], 'the host differs from before the engine started');
});

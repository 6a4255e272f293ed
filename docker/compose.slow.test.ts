/**
 * docker/compose.yaml and docker/lab/, checked without a Docker engine (the development machine
 * has none, so nothing here starts a container). The Dockerfiles: dockerfiles.test.ts.
 *
 * 1. compose.yaml validates against the Compose Specification's JSON schema (vendored as
 *    compose-spec.json, see README.md), and the validator rejects broken copies.
 * 2. The lab's shape: its services, each balancer's three containers (capabilities = their
 *    image's label, mounts, shared network namespace, start order), health checks, files that
 *    exist; every daemon configuration under lab/ loads through the app's own configuration
 *    definition and agrees with compose.yaml (addresses, sockets, ports, MACs, VIPs); BIRD and
 *    gobgpd parse theirs.
 * Checks collect problems as text; the tests assert there are none for the real files and that
 * broken copies produce the expected ones.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';
import { parseDocument } from 'yaml';
import { loadConfig } from '@netaccel/config';
import { isIPv4, isPrefixProblem, prefixContains, tryParsePrefix } from '@netaccel/protocol';
import { loaderConfig } from '@netaccel/app-ebpf-loader/testing';
import { lbControllerConfig, parseState } from '@netaccel/app-lb-controller/testing';
import { bgpAnnouncerConfig } from '@netaccel/app-bgp-announcer/testing';
import { labels, parseDockerfile } from './dockerfile.js';

const DOCKER = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DOCKER, '..');
const LAB = join(DOCKER, 'lab');
const read = (p: string): string => readFileSync(p, 'utf8');

// --- compose.yaml as data -------------------------------------------------------------------

type Mount = { type: string; source?: string; target: string; read_only?: boolean; bind?: { propagation?: string } };
interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  hostname?: string;
  user?: string;
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  privileged?: boolean;
  read_only?: boolean;
  network_mode?: string;
  networks?: Record<string, { ipv4_address?: string; mac_address?: string } | null>;
  mac_address?: string;
  volumes?: (string | Mount)[];
  ulimits?: Record<string, unknown>;
  sysctls?: Record<string, string | number>;
  environment?: Record<string, string | number>;
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }>;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; gateway?: string }[] } }>;
  volumes?: Record<string, unknown>;
}

function loadYaml(path: string): unknown {
  const doc = parseDocument(read(path));
  assert.deepEqual([...doc.errors, ...doc.warnings].map((e) => e.message), [], `${path}: YAML problems`);
  return doc.toJS();
}

const COMPOSE_FILE = join(DOCKER, 'compose.yaml');
const composeData = loadYaml(COMPOSE_FILE);
const compose = composeData as Compose;

const BALANCERS = ['lb1', 'lb2', 'lb3'] as const;
const BACKENDS = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'] as const;
const DAEMONS = ['loader', 'announcer', 'controller'] as const;
/** The services of the lab, with the app image each balancer container runs. */
const DAEMON_IMAGE = { loader: 'ebpf-loader', announcer: 'bgp-announcer', controller: 'lb-controller' } as const;
/** The VIPs (host:port) each balancer's services file must have. */
const VIPS: Record<(typeof BALANCERS)[number], string[]> = {
  lb1: ['10.1.1.1:80', '10.1.2.1:80'],
  lb2: ['10.1.1.1:80', '10.1.2.1:80'],
  lb3: ['10.1.1.1:80'],
};

/** A volume entry in the long form (short `src:target[:ro]` converted as Compose does). */
function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const [source = '', target = '', mode] = v.split(':');
    const bind = source.startsWith('.') || source.startsWith('/');
    return { type: bind ? 'bind' : 'volume', source, target, ...(mode === 'ro' ? { read_only: true } : {}) };
  });
}
const mountAt = (s: Service, target: string): Mount | undefined => mounts(s).find((m) => m.target === target);
const addressOf = (s: Service | undefined): string | undefined => s?.networks?.lab?.ipv4_address;
const healthUrl = (s: Service | undefined): string | undefined => {
  const t = s?.healthcheck?.test;
  return Array.isArray(t) ? t.find((x) => x.startsWith('http://')) : undefined;
};
const portOf = (url: string | undefined): number | undefined => (url === undefined ? undefined : Number(new URL(url).port));
/** True when the IPv4 address `a` is inside `prefix` (a valid a.b.c.d/n without host bits). */
function inPrefix(a: string, prefix: string): boolean {
  const net = tryParsePrefix(prefix);
  assert.ok(!isPrefixProblem(net) && net.family === 4, `${prefix}: expected an IPv4 prefix without host bits`);
  return isIPv4(a) && prefixContains(net, a);
}

// --- 1. the Compose Specification schema ------------------------------------------------------

function composeValidator(): (data: unknown) => ErrorObject[] {
  const schema = JSON.parse(read(join(DOCKER, 'compose-spec.json'))) as { $schema: string };
  // The schema says draft-07, under the https address of its meta-schema; ajv knows it as http.
  assert.match(schema.$schema, /json-schema\.org\/draft-07\/schema/, 'compose-spec.json is a draft-07 schema (ajv, not ajv/dist/2019)');
  const require = createRequire(import.meta.url);
  const draft7 = require('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
  // CommonJS whose default export NodeNext types as the module object: required, typed by hand.
  // No format is used by the schema today; a future version may use standard ones.
  const addFormats = require('ajv-formats') as FormatsPlugin;
  // allowUnionTypes / strictTypes: the upstream schema writes `type: [a, b]` and leaves `type`
  // out beside `additionalProperties` in places; neither changes what validates.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  addFormats(ajv);
  ajv.addMetaSchema({ ...draft7, $id: schema.$schema });
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? [] : [...(validate.errors ?? [])]);
}
const validateCompose = composeValidator();
const describeErrors = (errors: ErrorObject[]): string =>
  errors.map((e) => `${e.instancePath || '/'}: ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');

test('compose.yaml is valid under the Compose Specification schema', () => {
  const errors = validateCompose(composeData);
  assert.equal(errors.length, 0, `compose.yaml does not validate:\n${describeErrors(errors)}`);
});

test('the schema validator rejects broken copies of compose.yaml', () => {
  const unknownKey = { ...structuredClone(compose), servicez: {} };
  const errors1 = validateCompose(unknownKey);
  assert.ok(errors1.some((e) => e.instancePath === '' && (e.params as { additionalProperty?: string }).additionalProperty === 'servicez'), describeErrors(errors1));
  const badCaps = structuredClone(compose);
  (badCaps.services.router as Record<string, unknown>).cap_add = 5;
  const errors2 = validateCompose(badCaps);
  assert.ok(errors2.some((e) => e.instancePath === '/services/router/cap_add' && e.keyword === 'type'), describeErrors(errors2));
  const badCondition = structuredClone(compose);
  badCondition.services['lb1-controller']!.depends_on!['lb1-loader']!.condition = 'service_ready';
  const errors3 = validateCompose(badCondition);
  assert.ok(errors3.some((e) => e.instancePath.startsWith('/services/lb1-controller/depends_on') && e.keyword === 'enum'), describeErrors(errors3));
});

// --- 2. the lab's shape -----------------------------------------------------------------------

test('the lab has a router, a reflector, three balancers of three containers, six backends and the CLI', () => {
  const expected = ['router', 'reflector', ...BALANCERS.flatMap((lb) => DAEMONS.map((d) => `${lb}-${d}`)), ...BACKENDS, 'cli'].sort();
  assert.deepEqual(Object.keys(compose.services).sort(), expected);
  assert.deepEqual(compose.services.cli?.profiles, ['tools'], 'the CLI starts only when asked for (docker compose run cli)');
});

/** The capabilities an app image's label says its container needs (CAP_ names). */
function imageCapabilities(app: string): string[] {
  const df = parseDockerfile(read(join(DOCKER, `${app}.Dockerfile`)));
  const caps = labels(df.stages[df.stages.length - 1]!).get('io.netaccel.capabilities');
  assert.ok(caps !== undefined, `${app}.Dockerfile: no io.netaccel.capabilities label`);
  return caps.split(/\s+/).filter((c) => c !== '').sort();
}
const capsOf = (s: Service): string[] => (s.cap_add ?? []).map((c) => (c.startsWith('CAP_') ? c : `CAP_${c}`)).sort();
/** The capabilities compose.yaml gives for a label: CAP_SYS_ADMIN grants what CAP_BPF and CAP_PERFMON
 *  grant (the kernel's bpf_capable(), perfmon_capable()), and Docker 20.10 refuses their names. */
const composeCaps = (label: string[]): string[] => (label.includes('CAP_SYS_ADMIN') ? label.filter((c) => c !== 'CAP_BPF' && c !== 'CAP_PERFMON') : label);

/** Each balancer's three containers: one namespace, one /run/netaccel, the capabilities of their image. */
function checkBalancers(c: Compose): string[] {
  const problems: string[] = [];
  for (const lb of BALANCERS) {
    for (const d of DAEMONS) {
      const name = `${lb}-${d}`;
      const s = c.services[name];
      if (s === undefined) {
        problems.push(`${name}: missing`);
        continue;
      }
      const app = DAEMON_IMAGE[d];
      if (s.build?.dockerfile !== `docker/${app}.Dockerfile`) problems.push(`${name}: built from ${s.build?.dockerfile}, expected docker/${app}.Dockerfile`);
      if (JSON.stringify(capsOf(s)) !== JSON.stringify(composeCaps(imageCapabilities(app)))) problems.push(`${name}: cap_add ${capsOf(s).join(' ')} differs from ${app}'s label ${imageCapabilities(app).join(' ')}`);
      if (!(s.cap_drop ?? []).includes('ALL')) problems.push(`${name}: cap_drop lacks ALL`);
      if (s.privileged === true) problems.push(`${name}: privileged`);
      const run = mountAt(s, '/run/netaccel');
      if (run?.type !== 'volume' || run.source !== `${lb}-run`) problems.push(`${name}: /run/netaccel is not the volume ${lb}-run`);
      const etc = mountAt(s, '/etc/netaccel');
      if (etc?.type !== 'bind' || etc.source !== `./lab/${lb}` || etc.read_only !== true) problems.push(`${name}: /etc/netaccel is not ./lab/${lb} read-only`);
      if (d === 'loader') {
        if (addressOf(s) === undefined) problems.push(`${name}: no ipv4_address on lab`);
        const bpffs = mountAt(s, '/sys/fs/bpf');
        if (bpffs?.type !== 'bind' || bpffs.source !== '/sys/fs/bpf') problems.push(`${name}: /sys/fs/bpf is not the host's bpffs`);
        const memlock = s.ulimits?.memlock;
        // none: since 5.11 the kernel charges BPF memory to the cgroup, not to RLIMIT_MEMLOCK (and an
        // engine without CAP_SYS_RESOURCE cannot raise it: runc fails to start the container)
        if (memlock !== undefined && memlock !== -1 && JSON.stringify(memlock) !== '{"soft":-1,"hard":-1}') problems.push(`${name}: memlock is ${JSON.stringify(memlock)}, expected none or -1 (unlimited)`);
        const state = mountAt(s, '/var/lib/netaccel/loader');
        if (state?.type !== 'volume') problems.push(`${name}: /var/lib/netaccel/loader is not a volume`);
      } else {
        if (s.network_mode !== `service:${lb}-loader`) problems.push(`${name}: network_mode ${s.network_mode}, expected service:${lb}-loader`);
        // Docker refuses these beside network_mode service:/container:
        for (const k of ['networks', 'hostname', 'ports', 'mac_address', 'sysctls'] as const) {
          if (k in s) problems.push(`${name}: ${k} beside network_mode`);
        }
        if (s.depends_on?.[`${lb}-loader`]?.condition !== 'service_healthy') problems.push(`${name}: does not wait for ${lb}-loader to be healthy`);
      }
      if (d === 'announcer' && (s.security_opt ?? []).some((o) => o.startsWith('no-new-privileges'))) {
        problems.push(`${name}: no-new-privileges would drop node's file capability (TCP 179)`);
      }
      if (d === 'controller' && s.depends_on?.[`${lb}-announcer`]?.condition !== 'service_healthy') problems.push(`${name}: does not wait for ${lb}-announcer to be healthy`);
    }
  }
  const loaderAddrs = BALANCERS.map((lb) => addressOf(c.services[`${lb}-loader`]));
  if (new Set(loaderAddrs).size !== BALANCERS.length) problems.push(`balancers share an address: ${loaderAddrs.join(', ')}`);
  return problems;
}

test('each balancer: capabilities, bpffs, memlock, one network namespace and one /run/netaccel', () => {
  assert.deepEqual(checkBalancers(compose), []);
  assert.deepEqual(imageCapabilities('ebpf-loader'), ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON', 'CAP_SYS_ADMIN']);
  assert.deepEqual(imageCapabilities('lb-controller'), []);
  assert.deepEqual(imageCapabilities('bgp-announcer'), ['CAP_NET_BIND_SERVICE']);
});

test('the balancer checks catch a missing capability, a lost namespace and a wrong start order', () => {
  const broken = structuredClone(compose);
  broken.services['lb2-loader']!.cap_add = ['NET_ADMIN'];
  delete broken.services['lb3-controller']!.network_mode;
  broken.services['lb1-announcer']!.depends_on = {};
  broken.services['lb1-loader']!.ulimits = { memlock: 65536 };
  const problems = checkBalancers(broken);
  assert.ok(problems.some((p) => p.startsWith('lb2-loader: cap_add CAP_NET_ADMIN differs')), problems.join('\n'));
  assert.ok(problems.includes('lb3-controller: network_mode undefined, expected service:lb3-loader'), problems.join('\n'));
  assert.ok(problems.includes('lb1-announcer: does not wait for lb1-loader to be healthy'), problems.join('\n'));
  assert.ok(problems.includes('lb1-loader: memlock is 65536, expected none or -1 (unlimited)'), problems.join('\n'));
});

test('every service has a health check, nothing is privileged, service_healthy waits on a health check', () => {
  for (const [name, s] of Object.entries(compose.services)) {
    assert.notEqual(s.privileged, true, `${name}: privileged`);
    for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
      assert.ok(compose.services[dep] !== undefined, `${name}: depends on unknown ${dep}`);
      if (cond.condition === 'service_healthy') assert.ok(compose.services[dep]!.healthcheck?.test !== undefined, `${name}: waits for ${dep} to be healthy, which has no health check`);
    }
    if (s.profiles === undefined) assert.ok(Array.isArray(s.healthcheck?.test) && s.healthcheck.test[0] === 'CMD', `${name}: expected a healthcheck in exec form`);
  }
});

test('every Dockerfile, bind-mounted file and named volume exists', () => {
  const used = new Set<string>();
  for (const [name, s] of Object.entries(compose.services)) {
    if (s.build !== undefined) {
      const file = resolve(DOCKER, s.build.context, s.build.dockerfile);
      assert.ok(existsSync(file), `${name}: build.dockerfile ${file} does not exist`);
    }
    for (const m of mounts(s)) {
      if (m.type === 'volume') {
        used.add(m.source ?? '');
        assert.ok(m.source !== undefined && compose.volumes !== undefined && m.source in compose.volumes, `${name}: volume ${m.source} is not declared`);
      } else if (m.type === 'bind') {
        const source = m.source ?? '';
        if (source.startsWith('/')) assert.equal(source, '/sys/fs/bpf', `${name}: the only host path mounted is bpffs, got ${source}`);
        else assert.ok(existsSync(resolve(DOCKER, source)), `${name}: ${source} does not exist under docker/`);
      }
    }
  }
  assert.deepEqual(Object.keys(compose.volumes ?? {}).sort(), [...used].sort(), 'declared volumes = used volumes');
});

test('addresses: one subnet, each address once, inside it', () => {
  const cfg = compose.networks?.lab?.ipam?.config?.[0];
  assert.ok(cfg?.subnet !== undefined && cfg.gateway !== undefined, 'the lab network has a fixed subnet and gateway');
  assert.equal(cfg.subnet, '10.0.0.0/24');
  assert.ok(inPrefix(cfg.gateway, cfg.subnet) && !inPrefix('10.0.1.1', cfg.subnet), 'inPrefix itself');
  const seen = new Map<string, string>([[cfg.gateway, 'the gateway']]);
  for (const [name, s] of Object.entries(compose.services)) {
    const a = addressOf(s);
    if (a === undefined) continue;
    assert.ok(inPrefix(a, cfg.subnet), `${name}: ${a} outside ${cfg.subnet}`);
    assert.equal(seen.get(a), undefined, `${name}: ${a} is already ${seen.get(a)}`);
    seen.set(a, name);
  }
});

// --- daemon configurations under lab/, through the apps' own definitions ------------------------

async function labConfigs(lb: string) {
  const dir = join(LAB, lb);
  const env = {}; // the host's NETACCEL_* variables must not leak in
  return {
    loader: await loadConfig(loaderConfig, { file: join(dir, 'ebpf-loader.yaml'), env }),
    controller: await loadConfig(lbControllerConfig, { file: join(dir, 'lb-controller.yaml'), env }),
    announcer: await loadConfig(bgpAnnouncerConfig, { file: join(dir, 'bgp-announcer.yaml'), env }),
  };
}

test('every daemon configuration under lab/ loads through its app definition and agrees with compose.yaml', async () => {
  const reflector = addressOf(compose.services.reflector);
  const pinRoots = new Set<string>();
  for (const lb of BALANCERS) {
    const { loader, controller, announcer } = await labConfigs(lb);
    const address = addressOf(compose.services[`${lb}-loader`]);
    // the files the images' CMD names are in the mounted folder
    for (const f of ['ebpf-loader.yaml', 'lb-controller.yaml', 'bgp-announcer.yaml']) assert.ok(existsSync(join(LAB, lb, f)), `${lb}/${f}`);
    // loader
    assert.equal(loader.objectDir, '/usr/lib/netaccel/bpf', `${lb}: objects where the image puts them`);
    assert.ok(loader.pinRoot.startsWith('/sys/fs/bpf/'), `${lb}: pinRoot ${loader.pinRoot} on the mounted bpffs`);
    pinRoots.add(loader.pinRoot);
    assert.equal(loader.stateDir, '/var/lib/netaccel/loader');
    assert.equal(loader.rpc.socketGroup, 'netaccel', `${lb}: the controller (user netaccel) must reach the socket`);
    // the sockets meet in the shared /run/netaccel
    for (const sock of [loader.rpc.socket, controller.grpc.socket, announcer.grpc.socket]) assert.ok(sock.startsWith('/run/netaccel/'), `${lb}: ${sock}`);
    assert.equal(controller.dataPlane.loaderSocket, loader.rpc.socket, `${lb}: controller -> loader socket`);
    assert.equal(controller.announcer.socket, announcer.grpc.socket, `${lb}: controller -> announcer socket`);
    assert.equal(controller.announcer.enabled, true, `${lb}: VIPs are announced`);
    // the data plane
    assert.equal(controller.dataPlane.via, 'loader');
    assert.equal(controller.dataPlane.interface, 'eth0');
    assert.ok(existsSync(join(ROOT, 'bpf', controller.dataPlane.object.replace(/\.o$/, '.c'))), `${lb}: ${controller.dataPlane.object} is built from bpf/`);
    assert.equal(controller.source.kind, 'file');
    assert.equal(dirname(controller.source.file ?? ''), '/etc/netaccel', `${lb}: services file in the mounted folder`);
    assert.ok(existsSync(join(LAB, lb, basename(controller.source.file ?? ''))), `${lb}: ${controller.source.file}`);
    // telemetry: the compose health checks ask the ports the daemons listen on
    const ports = { loader: loader.telemetry.listen.port, announcer: announcer.telemetry.listen.port, controller: controller.telemetry.listen.port };
    for (const d of DAEMONS) assert.equal(portOf(healthUrl(compose.services[`${lb}-${d}`])), ports[d], `${lb}-${d}: health check port`);
    assert.equal(new Set(Object.values(ports)).size, 3, `${lb}: three daemons in one namespace need three telemetry ports`);
    // BGP: iBGP to the reflector with add-path, router id = the balancer's address
    assert.equal(announcer.bgp.routerId, address, `${lb}: routerId`);
    assert.deepEqual(announcer.bgp.peers.map((p) => [p.address, p.remoteAs, p.addPath]), [[reflector, announcer.bgp.localAs, true]], `${lb}: one iBGP peer, the reflector, with add-path`);
  }
  assert.equal(pinRoots.size, BALANCERS.length, 'three loaders on one host bpffs need three pin roots');
});

test('a broken daemon configuration is refused by the same definitions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netaccel-docker-'));
  try {
    const file = join(dir, 'lb-controller.yaml');
    writeFileSync(file, read(join(LAB, 'lb1', 'lb-controller.yaml')).replace('xdpMode: generic', 'xdpMode: turbo'));
    await assert.rejects(loadConfig(lbControllerConfig, { file, env: {} }), /dataPlane\.xdpMode/);
    writeFileSync(file, read(join(LAB, 'lb1', 'bgp-announcer.yaml')).replace('holdTime: 3', 'holdTime: 1'));
    await assert.rejects(loadConfig(bgpAnnouncerConfig, { file, env: {} }), /bgp\.holdTime/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The services files against the backends of compose.yaml. */
function checkServices(c: Compose, files: Record<string, string>): string[] {
  const problems: string[] = [];
  const backends = new Map(BACKENDS.map((b) => [addressOf(c.services[b]), { name: b, s: c.services[b]! }]));
  for (const lb of BALANCERS) {
    const state = parseState(files[lb] ?? '', `${lb}/services.yaml`);
    const vips = state.services.map((s) => `${s.vip}:${s.port}`).sort();
    if (JSON.stringify(vips) !== JSON.stringify(VIPS[lb])) problems.push(`${lb}: VIPs ${vips.join(' ')}, expected ${VIPS[lb].join(' ')}`);
    for (const svc of state.services) {
      if (svc.mode !== 'l2-dsr') problems.push(`${lb} ${svc.name}: mode ${svc.mode}; the backends are set up for L2 DSR`);
      for (const b of svc.backends) {
        const be = backends.get(b.address);
        if (be === undefined) {
          problems.push(`${lb} ${svc.name}: backend ${b.address} is no backend of compose.yaml`);
          continue;
        }
        const mac = be.s.mac_address?.toLowerCase();
        if (b.mac !== mac) problems.push(`${lb} ${svc.name}: ${be.name} MAC ${b.mac}, compose gives ${mac}`);
        const onLo = String(be.s.environment?.VIPS ?? '').split(/\s+/);
        if (!onLo.includes(svc.vip)) problems.push(`${lb} ${svc.name}: ${be.name} has VIPs ${onLo.join(' ')} on lo, not ${svc.vip}`);
      }
    }
  }
  return problems;
}

test('services files: the VIPs of each balancer, backends with the MACs and VIPs compose gives them', () => {
  const files = Object.fromEntries(BALANCERS.map((lb) => [lb, read(join(LAB, lb, 'services.yaml'))]));
  assert.deepEqual(checkServices(compose, files), []);
  const wrongMac = { ...files, lb2: files.lb2!.replace('02:42:0a:00:00:16', '02:42:0a:00:00:99') };
  assert.deepEqual(checkServices(compose, wrongMac), ['lb2 web: b2 MAC 02:42:0a:00:00:99, compose gives 02:42:0a:00:00:16']);
  const noApi = { ...files, lb1: files.lb3! };
  assert.deepEqual(checkServices(compose, noApi), ['lb1: VIPs 10.1.1.1:80, expected 10.1.1.1:80 10.1.2.1:80']);
});

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  // bird lives in /usr/sbin, which a non-root user's PATH may lack
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
  assert.ok(r.error === undefined, `${cmd}: ${r.error?.message ?? ''} (scripts/setup.sh installs it)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('router: BIRD parses bird.conf, peers with the reflector, ECMP with the L4 hash', () => {
  const router = compose.services.router!;
  const conf = read(join(LAB, 'router', 'bird.conf'));
  const parsed = run('bird', ['-p', '-c', join(LAB, 'router', 'bird.conf')]);
  assert.equal(parsed.code, 0, `bird -p: ${parsed.out}`);
  assert.match(conf, new RegExp(`neighbor ${addressOf(compose.services.reflector)!.replaceAll('.', '\\.')} as 65000;`));
  assert.match(conf, new RegExp(`local ${addressOf(router)!.replaceAll('.', '\\.')} as 65000;`));
  assert.match(conf, /merge paths on;/);
  assert.match(conf, /add paths rx;/);
  assert.equal(Number(router.sysctls?.['net.ipv4.fib_multipath_hash_policy']), 1);
  assert.ok(capsOf(router).includes('CAP_NET_ADMIN'), 'BIRD writes routes');
  const broken = join(mkdtempSync(join(tmpdir(), 'netaccel-bird-')), 'bird.conf');
  try {
    writeFileSync(broken, conf.replace('add paths rx;', 'add paths sideways;'));
    assert.notEqual(run('bird', ['-p', '-c', broken]).code, 0, 'bird -p refuses a broken file');
  } finally {
    rmSync(dirname(broken), { recursive: true, force: true });
  }
});

test('reflector: gobgpd accepts gobgpd.toml; the balancers are its dynamic neighbors, the router a static one', () => {
  const file = join(LAB, 'reflector', 'gobgpd.toml');
  const conf = read(file);
  const dry = run('gobgpd', ['--dry-run', '-f', file, '-t', 'toml']);
  assert.equal(dry.code, 0, `gobgpd --dry-run: ${dry.out}`);
  assert.match(conf, new RegExp(`neighbor-address = "${addressOf(compose.services.router)}"`));
  assert.match(conf, new RegExp(`router-id = "${addressOf(compose.services.reflector)}"`));
  const prefix = /prefix = "([^"]+)"/.exec(conf)?.[1] ?? '';
  for (const lb of BALANCERS) {
    const a = addressOf(compose.services[`${lb}-loader`])!;
    assert.ok(inPrefix(a, prefix), `${lb} (${a}) is inside the dynamic-neighbors prefix ${prefix}`);
  }
  assert.ok(!inPrefix(addressOf(compose.services.router)!, prefix), 'the router is a static neighbor, outside the prefix');
  assert.match(conf, /route-reflector-client = true/);
  assert.match(conf, /send-max = \d+/);
});

test('backends: nginx answers its host name, the VIPs go on lo, ARP stays off them', () => {
  assert.match(read(join(LAB, 'backend', 'nginx.conf')), /return 200 "\$hostname\\n";/);
  assert.match(read(join(LAB, 'backend', 'start.sh')), /for vip in \$VIPS; do ip addr add "\$vip\/32" dev lo; done/);
  for (const b of BACKENDS) {
    const s = compose.services[b]!;
    assert.equal(s.hostname, b);
    const vips = String(s.environment?.VIPS ?? '').split(/\s+/);
    assert.ok(vips.length > 0 && vips.every((v) => isIPv4(v)), `${b}: VIPS ${vips.join(' ')}`);
    assert.equal(Number(s.sysctls?.['net.ipv4.conf.all.arp_ignore']), 1, `${b}: arp_ignore`);
    assert.equal(Number(s.sysctls?.['net.ipv4.conf.all.arp_announce']), 2, `${b}: arp_announce`);
    assert.ok(capsOf(s).includes('CAP_NET_ADMIN'), `${b}: ip addr add needs NET_ADMIN`);
  }
});

/**
 * docker/*.Dockerfile and docker/lab/*.Dockerfile, read by dockerfile.ts and checked without a
 * Docker engine (the development machine has none, so nothing here builds an image): stages and
 * COPY --from, the runtime stage, every workspace's manifest before npm ci, the @netaccel
 * libraries each app needs (from its package.json), entry point = the package's bin, health
 * check and EXPOSE = the daemon's default telemetry port (from its configuration definition),
 * user and group, the capabilities named at the top = the label; .dockerignore. Checks collect
 * problems as text; the tests assert there are none for the real files and that broken copies
 * produce the expected ones.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@netaccel/config';
import { loaderConfig } from '@netaccel/app-ebpf-loader/testing';
import { lbControllerConfig } from '@netaccel/app-lb-controller/testing';
import { bgpAnnouncerConfig } from '@netaccel/app-bgp-announcer/testing';
import { craqSchedulerConfig } from '@netaccel/app-craq-scheduler/testing';
import { sidecarConfig } from '@netaccel/app-sidecar-offload/testing';
import type { Dockerfile, Stage } from './dockerfile.js';
import { all, copyArgs, execForm, healthcheck, labels, parseDockerfile } from './dockerfile.js';

const DOCKER = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DOCKER, '..');
const LAB = join(DOCKER, 'lab');
const read = (p: string): string => readFileSync(p, 'utf8');

interface Workspace {
  readonly dir: string;
  readonly pkg: { name: string; bin?: Record<string, string>; dependencies?: Record<string, string> };
}
/** Every workspace of the root package.json, by package name. */
function workspaces(): Map<string, Workspace> {
  const root = JSON.parse(read(join(ROOT, 'package.json'))) as { workspaces: string[] };
  const out = new Map<string, Workspace>();
  for (const pattern of root.workspaces) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(ROOT, pattern.slice(0, -2))).map((d) => `${pattern.slice(0, -2)}/${d}`).filter((d) => statSync(join(ROOT, d)).isDirectory())
      : [pattern];
    for (const dir of dirs) {
      if (!existsSync(join(ROOT, dir, 'package.json'))) continue;
      const pkg = JSON.parse(read(join(ROOT, dir, 'package.json'))) as Workspace['pkg'];
      out.set(pkg.name, { dir, pkg });
    }
  }
  return out;
}
const WS = workspaces();

/** The @netaccel libraries `apps` need, directly or through each other. */
function libsOf(apps: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    for (const dep of Object.keys(WS.get(name)?.pkg.dependencies ?? {})) {
      if (dep.startsWith('@netaccel/') && !seen.has(dep)) {
        seen.add(dep);
        visit(dep);
      }
    }
  };
  apps.forEach(visit);
  return [...seen].map((n) => WS.get(n)!.dir).sort();
}

interface ImageSpec {
  readonly file: string;
  /** App folders under apps/ whose dist the image carries; the first is the entry point. */
  readonly apps: readonly string[];
  /** The daemon's default telemetry port (from its configuration definition); none for the CLI. */
  readonly telemetryPort: number | undefined;
  readonly user: string;
}
const defaultPort = (def: Parameters<typeof parseConfig>[0], yaml = ''): number =>
  (parseConfig(def, { yaml, env: {} }) as { telemetry: { listen: { port: number } } }).telemetry.listen.port;
const IMAGES: readonly ImageSpec[] = [
  { file: 'ebpf-loader.Dockerfile', apps: ['ebpf-loader', 'cli'], telemetryPort: defaultPort(loaderConfig), user: 'root:netaccel' },
  { file: 'lb-controller.Dockerfile', apps: ['lb-controller', 'cli'], telemetryPort: defaultPort(lbControllerConfig), user: 'netaccel:netaccel' },
  { file: 'bgp-announcer.Dockerfile', apps: ['bgp-announcer', 'cli'], telemetryPort: defaultPort(bgpAnnouncerConfig, 'bgp: { localAs: 65000, routerId: 192.0.2.1 }'), user: 'netaccel:netaccel' },
  { file: 'craq-scheduler.Dockerfile', apps: ['craq-scheduler', 'cli'], telemetryPort: defaultPort(craqSchedulerConfig), user: 'netaccel:netaccel' },
  { file: 'sidecar-offload.Dockerfile', apps: ['sidecar-offload', 'cli'], telemetryPort: defaultPort(sidecarConfig), user: 'netaccel:netaccel' },
  { file: 'cli.Dockerfile', apps: ['cli'], telemetryPort: undefined, user: 'netaccel:netaccel' },
];
const pkgOf = (app: string): Workspace['pkg'] => JSON.parse(read(join(ROOT, 'apps', app, 'package.json'))) as Workspace['pkg'];
const OPT = '/opt/netaccel';

/** Everything checked of an app image; returns the problems. */
function checkAppImage(df: Dockerfile, spec: ImageSpec): string[] {
  const p: string[] = [];
  const names = df.stages.map((s) => s.name);
  const stage = (n: string): Stage | undefined => df.stages.find((s) => s.name === n);
  // stages: unique names; FROM and COPY --from name earlier stages
  if (new Set(names).size !== names.length) p.push(`stage names repeat: ${names.join(' ')}`);
  df.stages.forEach((s, i) => {
    const earlier = names.slice(0, i);
    if (!s.base.includes(':') && !earlier.includes(s.base)) p.push(`${s.name}: FROM ${s.base} is no earlier stage and no image`);
    for (const c of all(s, 'COPY').map(copyArgs)) {
      if (c.from !== undefined && !earlier.includes(c.from)) p.push(`${s.name}: COPY --from=${c.from}: no earlier stage of that name`);
    }
  });
  const runtime = df.stages[df.stages.length - 1];
  if (runtime === undefined) return [...p, 'no stage'];
  // the last stage is the slim runtime, not a build stage
  if (runtime.name !== 'runtime') p.push(`the last stage is ${runtime.name}, expected runtime`);
  if (runtime.base !== 'node:20-bookworm-slim') p.push(`runtime FROM ${runtime.base}, expected node:20-bookworm-slim`);
  for (const s of df.stages.slice(0, -1)) if (s.base === runtime.base) p.push(`${s.name} and runtime share the base ${s.base}`);
  const runtimeRuns = all(runtime, 'RUN').map((r) => r.args).join('\n');
  if (/\bnpm (ci|install)\b|\bclang\b|\bllvm\b|\bnx\b/.test(runtimeRuns)) p.push('runtime installs build tools or packages');
  // manifests: the lock file and every workspace's package.json, each to its folder
  const manifests = stage('manifests');
  const copied = new Set((manifests === undefined ? [] : all(manifests, 'COPY').map(copyArgs)).flatMap((c) => c.sources.map((src) => (c.dest.endsWith('/') && c.dest !== './' ? `${c.dest}${basename(src)}` : src))));
  for (const f of ['package.json', 'package-lock.json', ...[...WS.values()].map((w) => `${w.dir}/package.json`)]) {
    if (!copied.has(f)) p.push(`manifests: ${f} is not copied (npm ci needs every workspace)`);
  }
  // deps: every package; build: the sources, this image's apps; prod-deps: their production packages
  const pkgNames = spec.apps.map((a) => pkgOf(a).name).sort();
  const deps = stage('deps');
  if (deps?.from !== 'manifests' || !all(deps, 'RUN').some((r) => /^npm ci\b(?!.*--omit)/.test(r.args))) p.push('deps: expected FROM manifests and npm ci');
  const build = stage('build');
  const buildRuns = build === undefined ? [] : all(build, 'RUN').map((r) => r.args);
  const appBuild = buildRuns.find((r) => / -p /.test(r));
  const built: string[] = (appBuild?.match(/@netaccel\/[\w-]+/g) ?? []).sort();
  // the build stage is shared by the four images: it copies what the TypeScript build reads and
  // builds every app, these among them
  const buildCopies = build === undefined ? [] : all(build, 'COPY').map((c) => c.args);
  for (const dir of ['libs/ libs/', 'apps/ apps/']) if (!buildCopies.includes(dir)) p.push(`build: expected COPY ${dir}`);
  if (!pkgNames.every((n) => built.includes(n))) p.push(`build: builds ${built.join(' ')}, expected ${pkgNames.join(' ')} among them`);
  const prod = stage('prod-deps');
  const prodRun = prod === undefined ? undefined : all(prod, 'RUN').find((r) => r.args.startsWith('npm ci'));
  const prodWs = [...(prodRun?.args.matchAll(/-w (\S+)/g) ?? [])].map((m) => m[1]!).sort();
  if (prod?.from !== 'manifests' || !/--omit=dev/.test(prodRun?.args ?? '') || JSON.stringify(prodWs) !== JSON.stringify(pkgNames)) {
    p.push(`prod-deps: expected FROM manifests and npm ci --omit=dev -w ${pkgNames.join(' -w ')}, got ${prodRun?.args}`);
  }
  // runtime: production node_modules, the dist of every library the apps need and of the apps
  const copies = all(runtime, 'COPY').map(copyArgs);
  const workdir = all(runtime, 'WORKDIR').at(-1)?.args;
  if (workdir !== OPT) p.push(`runtime WORKDIR ${workdir}, expected ${OPT}`);
  if (!copies.some((c) => c.from === 'prod-deps' && c.sources[0] === '/src/' && c.dest === './')) p.push('runtime: production packages (prod-deps /src/) not copied');
  const dists = new Set(copies.filter((c) => c.from === 'build').map((c) => `${c.sources[0]} -> ${c.dest}`));
  for (const dir of [...libsOf(pkgNames), ...spec.apps.map((a) => `apps/${a}`)]) {
    if (!dists.has(`/src/${dir}/dist/ -> ${dir}/dist/`)) p.push(`runtime: ${dir}/dist is not copied from build`);
  }
  // entry point: node + the first app's bin; every app's bin linked into /usr/local/bin
  const [main = '', ...others] = spec.apps;
  const binPath = (app: string) => {
    const [name = '', path = ''] = Object.entries(pkgOf(app).bin ?? {})[0] ?? [];
    return { name, path: `${OPT}/apps/${app}/${path.replace(/^\.\//, '')}` };
  };
  const entry = execForm(all(runtime, 'ENTRYPOINT').at(-1)?.args ?? '');
  if (JSON.stringify(entry) !== JSON.stringify(['node', binPath(main).path])) p.push(`ENTRYPOINT ${JSON.stringify(entry)}, expected ["node","${binPath(main).path}"] (${main}'s bin)`);
  if (!binPath(main).path.startsWith(`${OPT}/apps/${main}/dist/`)) p.push(`${main}'s bin is outside its dist`);
  for (const app of [main, ...others]) {
    const b = binPath(app);
    if (!runtimeRuns.includes(`ln -s ${b.path} /usr/local/bin/${b.name}`)) p.push(`runtime: /usr/local/bin/${b.name} is not linked to ${b.path}`);
  }
  const cmd = execForm(all(runtime, 'CMD').at(-1)?.args ?? '');
  const expectedCmd = spec.telemetryPort === undefined ? ['--help'] : ['--config', `/etc/netaccel/${main}.yaml`];
  if (JSON.stringify(cmd) !== JSON.stringify(expectedCmd)) p.push(`CMD ${JSON.stringify(cmd)}, expected ${JSON.stringify(expectedCmd)}`);
  // health check and port: the daemon's default telemetry listener
  const hcIns = all(runtime, 'HEALTHCHECK').at(-1);
  const hc = hcIns === undefined ? undefined : healthcheck(hcIns);
  const expose = all(runtime, 'EXPOSE').flatMap((e) => e.args.split(/\s+/));
  if (spec.telemetryPort === undefined) {
    if (hc?.none !== true) p.push('HEALTHCHECK NONE expected (not a daemon)');
  } else {
    const url = `http://127.0.0.1:${spec.telemetryPort}/healthz`;
    if (JSON.stringify(hc?.command) !== JSON.stringify(['node', `${OPT}/healthcheck.mjs`, url])) p.push(`HEALTHCHECK ${JSON.stringify(hc?.command)}, expected node ${OPT}/healthcheck.mjs ${url}`);
    if (!copies.some((c) => c.from === undefined && c.sources[0] === 'docker/healthcheck.mjs' && c.dest === `${OPT}/healthcheck.mjs`)) p.push('runtime: docker/healthcheck.mjs is not copied');
    if (!expose.includes(`${spec.telemetryPort}/tcp`)) p.push(`EXPOSE lacks ${spec.telemetryPort}/tcp`);
  }
  // user, group, labels, and the capabilities named at the top = those in the label
  const user = all(runtime, 'USER').at(-1)?.args;
  if (user !== spec.user) p.push(`USER ${user}, expected ${spec.user}`);
  if (!/groupadd --system --gid 10001 netaccel/.test(runtimeRuns)) p.push('runtime: group netaccel (gid 10001) is not created');
  const lab = labels(runtime);
  for (const k of ['org.opencontainers.image.title', 'org.opencontainers.image.version', 'org.opencontainers.image.licenses', 'io.netaccel.capabilities']) {
    if (!lab.has(k)) p.push(`LABEL ${k} missing`);
  }
  const labelled = (lab.get('io.netaccel.capabilities') ?? '').split(/\s+/).filter((c) => c !== '').sort();
  const header = [...new Set(df.header.match(/\bCAP_[A-Z_]+/g) ?? [])].sort();
  if (JSON.stringify(header) !== JSON.stringify(labelled)) p.push(`capabilities named at the top (${header.join(' ')}) differ from the label (${labelled.join(' ')})`);
  if (labelled.length === 0 && !/NO capability/.test(df.header)) p.push('the top comment does not say that the container needs no capability');
  return p;
}

for (const spec of IMAGES) {
  test(`${spec.file}: stages, manifests, libraries, entry point, health check, user, capabilities`, () => {
    assert.deepEqual(checkAppImage(parseDockerfile(read(join(DOCKER, spec.file))), spec), []);
  });
}

test('the Dockerfile checks catch a wrong stage, a missing library, a wrong entry point and a wrong port', () => {
  const spec = IMAGES[1]!;
  const text = read(join(DOCKER, spec.file));
  const broken = text
    .replace('COPY --from=prod-deps /src/ ./', 'COPY --from=prod-dep /src/ ./')
    .replace('COPY --from=build /src/libs/rpc/dist/ libs/rpc/dist/\n', '')
    .replace('"/opt/netaccel/apps/lb-controller/dist/main.js"]', '"/opt/netaccel/apps/lb-controller/dist/apps/lb-controller/src/main.js"]')
    .replace('http://127.0.0.1:9464/healthz', 'http://127.0.0.1:9465/healthz')
    .replace('COPY apps/cli/package.json apps/cli/\n', '');
  const problems = checkAppImage(parseDockerfile(broken), spec);
  for (const expected of [
    'runtime: COPY --from=prod-dep: no earlier stage of that name',
    'runtime: libs/rpc/dist is not copied from build',
    'ENTRYPOINT ["node","/opt/netaccel/apps/lb-controller/dist/apps/lb-controller/src/main.js"], expected ["node","/opt/netaccel/apps/lb-controller/dist/main.js"] (lb-controller\'s bin)',
    'HEALTHCHECK ["node","/opt/netaccel/healthcheck.mjs","http://127.0.0.1:9465/healthz"], expected node /opt/netaccel/healthcheck.mjs http://127.0.0.1:9464/healthz',
    'manifests: apps/cli/package.json is not copied (npm ci needs every workspace)',
  ]) {
    assert.ok(problems.includes(expected), `expected "${expected}" among:\n${problems.join('\n')}`);
  }
  const buildOnly = text.slice(0, text.indexOf('# --- prod-deps'));
  assert.ok(checkAppImage(parseDockerfile(buildOnly), spec).includes('the last stage is build, expected runtime'));
});

test('the four images share their manifests, deps and build stages word for word (built once)', () => {
  const shared = (file: string) => {
    const t = read(join(DOCKER, file));
    const build = t.indexOf('# --- build:');
    return t.slice(t.indexOf('ARG BUILD_IMAGE'), t.indexOf('# --- ', build + 1));
  };
  const first = shared(IMAGES[0]!.file);
  assert.ok(first.includes('FROM manifests AS deps') && first.includes('FROM deps AS build'), 'the shared part ends with the build stage');
  for (const spec of IMAGES.slice(1)) assert.equal(shared(spec.file), first, `${spec.file} differs from ${IMAGES[0]!.file}`);
});

test('ebpf-loader.Dockerfile: the BPF objects are built with bpf/Makefile and installed where the loader looks', () => {
  const df = parseDockerfile(read(join(DOCKER, 'ebpf-loader.Dockerfile')));
  const bpf = df.stages.find((s) => s.name === 'bpf');
  assert.ok(bpf !== undefined, 'a bpf stage');
  const runs = all(bpf, 'RUN').map((r) => r.args).join('\n');
  assert.match(runs, /apt-get install .*\bclang\b.*\bbpftool\b/);
  assert.match(runs, /make -C bpf VMLINUX_BTF=\$\{VMLINUX_BTF\}/);
  const runtime = df.stages.at(-1)!;
  const objects = all(runtime, 'COPY').map(copyArgs).find((c) => c.from === 'bpf');
  assert.equal(objects?.dest, '/usr/lib/netaccel/bpf/', 'objects installed in the loader\'s INSTALLED_OBJECT_DIR');
  assert.match(df.header, /BUILD HOST's/, 'the top says whose BTF the objects are built against');
});

test('lab images: Debian base, a health check and a command each', () => {
  for (const file of ['router.Dockerfile', 'reflector.Dockerfile', 'backend.Dockerfile']) {
    const df = parseDockerfile(read(join(LAB, file)));
    assert.equal(df.stages.length, 1, file);
    const s = df.stages[0]!;
    assert.equal(s.base, 'debian:bookworm-slim', file);
    assert.ok(all(s, 'HEALTHCHECK').length === 1 && healthcheck(all(s, 'HEALTHCHECK')[0]!).command !== undefined, `${file}: HEALTHCHECK CMD`);
    assert.ok(execForm(all(s, 'CMD').at(-1)?.args ?? '') !== undefined, `${file}: CMD in exec form`);
  }
});

test('.dockerignore keeps the host\'s builds out and what the Dockerfiles copy in', () => {
  const patterns = read(join(ROOT, '.dockerignore')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const p of ['**/node_modules', '**/dist', 'bpf/build', '.nx', '.git']) assert.ok(patterns.includes(p), `.dockerignore lacks ${p}`);
  const ignored = (path: string) =>
    patterns.some((p) => (p.startsWith('**/') ? path.split('/').includes(p.slice(3)) : path === p || path.startsWith(`${p}/`)));
  for (const spec of IMAGES) {
    const df = parseDockerfile(read(join(DOCKER, spec.file)));
    for (const s of df.stages) {
      for (const c of all(s, 'COPY').map(copyArgs)) {
        if (c.from !== undefined) continue;
        for (const src of c.sources) if (src !== '.') assert.ok(!ignored(src.replace(/\/$/, '')), `${spec.file}: COPY ${src} is excluded by .dockerignore`);
      }
    }
  }
  assert.ok(ignored('apps/cli/node_modules') && ignored('bpf/build') && !ignored('docker/healthcheck.mjs'), 'the matcher itself');
});

/**
 * packaging/install.sh into a staging root (DESTDIR), as `make install DESTDIR=…` runs it: what
 * lands where, that the staged programs run and the staged units verify, that every example
 * configuration passes its daemon's own validation, idempotence, an operator's configuration
 * kept, another PREFIX, and uninstall. Slow layer (*.slow.test.ts): no root (a DESTDIR install creates no user);
 * needs npm with its cache or the registry for `npm ci --omit=dev` (about 6 s each install).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '@netaccel/config';
import { bgpAnnouncerConfig } from '@netaccel/app-bgp-announcer/testing';
import { craqSchedulerConfig } from '@netaccel/app-craq-scheduler/testing';
import { sidecarConfig } from '@netaccel/app-sidecar-offload/testing';
import { INSTALLED_OBJECT_DIR, defaultObjectDir, loaderConfig } from '@netaccel/app-ebpf-loader/testing';
import { Reconciler, lbControllerConfig, parseState } from '@netaccel/app-lb-controller/testing';
import type { DataPlane } from '@netaccel/app-lb-controller/testing';
import { XLB_BUILD_DEFAULTS } from '@netaccel/bpf-programs/xlb';
import { checkUnits, stageUnits } from './testing/systemd-analyze.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const INSTALL = join(root, 'packaging', 'install.sh');
const DAEMONS = ['ebpf-loader', 'lb-controller', 'bgp-announcer', 'craq-scheduler', 'sidecar-offload'] as const;
const EXAMPLES = ['ebpf-loader.yaml', 'lb-controller.yaml', 'bgp-announcer.yaml', 'craq-scheduler.yaml', 'sidecar-offload.yaml', 'services.yaml'];
/** The programs of each app, from its package.json `bin` (what the wrappers are named after). */
const BINS = ['ebpf-loader', 'lb-controller', 'bgp-announcer', 'craq-scheduler', 'sidecar-offload', 'cli'].flatMap((app) => {
  const bin = (JSON.parse(readFileSync(join(root, 'apps', app, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
  return Object.entries(bin).map(([name, path]) => ({ app, name, path }));
});

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], env: Record<string, string> = {}, cwd = root): Result {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function install(action: 'install' | 'uninstall', env: Record<string, string>): Result {
  const r = run(INSTALL, [action], env);
  assert.equal(r.status, 0, `install.sh ${action} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under `dir` (paths relative to it) with its sha256, skipping `skip` folders. */
function tree(dir: string, skip: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.includes(rel)) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(rel, sha256(p));
    }
  };
  walk(dir);
  return out;
}

function bpfObjects(): string[] {
  return [...tree(join(root, 'bpf', 'build')).keys()].filter((f) => f.endsWith('.bpf.o')).sort();
}

// Short: the Unix sockets of the daemon test live under it.
const dest = mkdtempSync('/tmp/na-inst-');
const lib = join(dest, 'usr', 'lib', 'netaccel');
let firstRun: Result;

beforeAll(() => {
  firstRun = install('install', { DESTDIR: dest });
});
afterAll(() => rmSync(dest, { recursive: true, force: true }));

describe('make install DESTDIR=<tmp>', () => {
  test('installs the wrappers, the built workspace and the BPF objects', () => {
    for (const b of BINS) {
      const wrapper = join(dest, 'usr', 'bin', b.name);
      assert.ok((statSync(wrapper).mode & 0o777) === 0o755, `${b.name}: mode`);
      const text = readFileSync(wrapper, 'utf8');
      assert.match(text, /^#!\/bin\/sh\n/);
      assert.ok(text.includes(`"$here/../lib/netaccel/apps/${b.app}/${b.path.replace(/^\.\//, '')}" "$@"`), `${b.name}: ${text}`);
      assert.ok(existsSync(join(lib, 'apps', b.app, b.path)), `${b.name}: entry point`);
    }
    for (const ws of ['libs/config', 'libs/rpc', 'libs/bpf', 'libs/telemetry', 'libs/errors', 'libs/protocol', 'apps/cli']) {
      assert.ok(existsSync(join(lib, ws, 'package.json')), ws);
      assert.ok(existsSync(join(lib, ws, 'dist')), `${ws}/dist`);
    }
    assert.ok(existsSync(join(lib, 'bpf', 'dist', 'xlb', 'index.js')), 'bpf/dist: the xlb binding lb-controller imports');
    const objects = bpfObjects();
    assert.ok(objects.includes(join('xlb', 'xlb.bpf.o')), objects.join(' '));
    for (const o of objects) assert.equal(sha256(join(lib, 'bpf', o)), sha256(join(root, 'bpf', 'build', o)), o);
  });

  test('node_modules holds the production dependencies and no development tool', () => {
    for (const dep of ['@grpc/grpc-js', 'fastify', 'pino', 'zod', 'yaml', 'koffi', 'etcd3', 'prom-client']) assert.ok(existsSync(join(lib, 'node_modules', dep, 'package.json')), dep);
    assert.ok(existsSync(join(lib, 'node_modules', '@kubernetes', 'client-node', 'package.json')) || existsSync(join(lib, 'apps', 'lb-controller', 'node_modules', '@kubernetes', 'client-node', 'package.json')));
    for (const dev of ['typescript', 'nx', 'eslint', 'tsx', 'dependency-cruiser', 'fast-check', 'playwright-core']) assert.ok(!existsSync(join(lib, 'node_modules', dev)), `${dev} installed`);
    // The workspace packages resolve to the installed copies.
    assert.equal(resolve(join(lib, 'node_modules', '@netaccel'), readlinkSync(join(lib, 'node_modules', '@netaccel', 'config'))), join(lib, 'libs', 'config'));
  });

  test('installs the units unchanged, the sysusers entry and the documentation', () => {
    for (const d of DAEMONS) assert.equal(readFileSync(join(dest, 'lib', 'systemd', 'system', `${d}.service`), 'utf8'), readFileSync(join(root, 'apps', d, `${d}.service`), 'utf8'), d);
    assert.equal(readFileSync(join(dest, 'usr', 'lib', 'sysusers.d', 'netaccel.conf'), 'utf8'), readFileSync(join(root, 'packaging', 'sysusers.d', 'netaccel.conf'), 'utf8'));
    assert.equal(readFileSync(join(dest, 'usr', 'share', 'doc', 'netaccel', 'README.md'), 'utf8'), readFileSync(join(root, 'packaging', 'README.md'), 'utf8'));
    for (const f of EXAMPLES) {
      const example = readFileSync(join(root, 'packaging', 'examples', f), 'utf8');
      assert.equal(readFileSync(join(dest, 'usr', 'share', 'doc', 'netaccel', 'examples', f), 'utf8'), example, `doc ${f}`);
      assert.equal(readFileSync(join(dest, 'etc', 'netaccel', f), 'utf8'), example, `/etc ${f}`);
      assert.equal(statSync(join(dest, 'etc', 'netaccel', f)).mode & 0o777, 0o640, `/etc ${f} mode`);
    }
    assert.equal(statSync(join(dest, 'etc', 'netaccel')).mode & 0o777, 0o750);
    assert.match(firstRun.stdout, /\/etc\/netaccel\/bgp-announcer\.yaml installed from the example/);
  });

  test('the installed units pass systemd-analyze verify against the installed programs', () => {
    const units = DAEMONS.map((d) => ({ name: `${d}.service`, text: readFileSync(join(dest, 'lib', 'systemd', 'system', `${d}.service`), 'utf8') }));
    const files = stageUnits(join(dest, 'verify'), units, { from: '/usr/bin/', to: `${join(dest, 'usr', 'bin')}/` });
    assert.deepEqual(checkUnits(files), []);
  });

  test('the installed CLI runs from the staged tree', () => {
    const r = run(join(dest, 'usr', 'bin', 'netaccel'), ['--help'], {}, dest);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: netaccel <group> <command>/);
    assert.match(r.stdout, /\bbgp\b.*\bannouncer\b/);
  });

  test('every installed daemon loads its modules and reads its configuration', () => {
    for (const d of DAEMONS) {
      const r = run(join(dest, 'usr', 'bin', `netaccel-${d}`), ['--config', join(dest, 'no-such.yaml')], {}, dest);
      assert.equal(r.status, 1, `${d}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /NA_ERR_CONFIG_FILE_NOT_FOUND/, d);
    }
  });

  test('the installed bgp-announcer serves the installed CLI', async () => {
    const work = join(dest, 'run');
    mkdirSync(work, { recursive: true });
    const socket = join(work, 'bgp.sock');
    const config = join(work, 'bgp-announcer.yaml');
    writeFileSync(config, [
      'bgp:',
      '  localAs: 65001',
      '  routerId: 192.0.2.2',
      "  listen: ['127.0.0.1:0']",
      '  peers: [{ address: 127.0.0.2, remoteAs: 65000, passive: true }]',
      `grpc: { socket: ${socket} }`,
      "telemetry: { listen: '127.0.0.1:0' }",
      '',
    ].join('\n'));
    const child = spawn(join(dest, 'usr', 'bin', 'netaccel-bgp-announcer'), ['--config', config], { cwd: dest, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!existsSync(socket)) {
        assert.ok(Date.now() < deadline, `no socket after 15 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const cli = (...args: string[]): Result => run(join(dest, 'usr', 'bin', 'netaccel'), [...args, '--socket', socket], {}, dest);
      const peers = cli('bgp', 'peers', '--json');
      assert.equal(peers.status, 0, peers.stderr);
      assert.deepEqual((JSON.parse(peers.stdout) as { peers: { address: string; asn: number }[] }).peers.map((p) => [p.address, p.asn]), [['127.0.0.2', 65000]]);
      assert.equal(cli('bgp', 'announce', '198.51.100.1/32').status, 0);
      const routes = cli('bgp', 'routes', '--json');
      assert.deepEqual((JSON.parse(routes.stdout) as { routes: { prefix: string }[] }).routes.map((r) => r.prefix), ['198.51.100.1/32']);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, log);
    assert.ok(!existsSync(socket), 'socket left behind');
  });
});

describe('the example configurations', () => {
  const etc = (f: string): string => join(dest, 'etc', 'netaccel', f);
  // No NETACCEL_* overrides from the test environment: the files alone.
  const file = (f: string): { file: string; env: Record<string, string> } => ({ file: etc(f), env: {} });

  test("each validates with its daemon's definition, and they agree on the sockets", async () => {
    const loader = await loadConfig(loaderConfig, file('ebpf-loader.yaml'));
    const lb = await loadConfig(lbControllerConfig, file('lb-controller.yaml'));
    const bgp = await loadConfig(bgpAnnouncerConfig, file('bgp-announcer.yaml'));
    const craqd = await loadConfig(craqSchedulerConfig, file('craq-scheduler.yaml'));
    const sidecar = await loadConfig(sidecarConfig, file('sidecar-offload.yaml'));
    assert.ok(sidecar.sidecar.listeners.every((l) => l.listen.port > 1023), 'sidecar-offload.service has no CAP_NET_BIND_SERVICE');
    assert.equal(sidecar.etcdHeat.readsKey, craqd.redis.counterSets[0], 'the scheduler reads what the sidecar counts');
    assert.equal(craqd.dataPlane.via, 'loader'); // the only mode craq-scheduler.service is made for
    assert.equal(craqd.dataPlane.loaderSocket, loader.rpc.socket);
    assert.equal(loader.objectDir, INSTALLED_OBJECT_DIR);
    assert.equal(loader.pinRoot, '/sys/fs/bpf/netaccel');
    assert.equal(loader.stateDir, '/var/lib/netaccel/loader'); // the unit's StateDirectory
    assert.equal(loader.rpc.socketGroup, 'netaccel'); // the units' Group
    assert.equal(lb.dataPlane.via, 'loader'); // the only mode lb-controller.service is made for
    assert.equal(lb.dataPlane.loaderSocket, loader.rpc.socket);
    assert.equal(lb.announcer.socket, bgp.grpc.socket);
    assert.equal(lb.source.file, '/etc/netaccel/services.yaml');
    for (const s of [loader.rpc.socket, lb.grpc.socket, bgp.grpc.socket, craqd.grpc.socket, sidecar.grpc.socket]) assert.match(s, /^\/run\/netaccel\/[a-z-]+\.sock$/); // RuntimeDirectory=netaccel
    assert.ok(existsSync(join(dest, loader.objectDir!, lb.dataPlane.object)), `${lb.dataPlane.object} not installed in ${loader.objectDir}`);
    assert.ok(bgp.bgp.listen.some((l) => l.port === 179));
  });

  test('the installed loader, given no objectDir, looks where the objects were installed', () => {
    const installedConfigModule = pathToFileURL(join(lib, 'apps', 'ebpf-loader', 'dist', 'config.js')).href;
    assert.equal(defaultObjectDir(installedConfigModule), INSTALLED_OBJECT_DIR);
    assert.equal(INSTALLED_OBJECT_DIR, '/usr/lib/netaccel/bpf');
    // …while the checkout's module still finds bpf/build.
    assert.equal(defaultObjectDir(pathToFileURL(join(root, 'apps', 'ebpf-loader', 'dist', 'config.js')).href), join(root, 'bpf', 'build'));
  });

  test("services.yaml passes the file source's parser and the reconciler's check against the controller's configuration", async () => {
    const lb = await loadConfig(lbControllerConfig, file('lb-controller.yaml'));
    const state = parseState(readFileSync(etc('services.yaml'), 'utf8'), etc('services.yaml'));
    assert.ok(state.services.length > 0);
    const info = { maglevSize: XLB_BUILD_DEFAULTS.XLB_MAGLEV_SIZE, maxVips: XLB_BUILD_DEFAULTS.XLB_MAX_VIPS, maxBackends: XLB_BUILD_DEFAULTS.XLB_MAX_BACKENDS, maxNexthops: XLB_BUILD_DEFAULTS.XLB_MAX_NEXTHOPS };
    // check() reads only `info`; nothing is written.
    const dataPlane = { info } as unknown as DataPlane;
    const dpc = lb.dataPlane;
    const reconciler = (gatewayMac: string | undefined): Reconciler =>
      new Reconciler({
        dataPlane,
        config: { ...(dpc.localMac === undefined ? {} : { localMac: dpc.localMac }), ...(dpc.natSourceV4 === undefined ? {} : { natSourceV4: dpc.natSourceV4 }), ...(dpc.natSourceV6 === undefined ? {} : { natSourceV6: dpc.natSourceV6 }) },
        ...(gatewayMac === undefined ? {} : { gatewayMac }),
      });
    reconciler(dpc.gatewayMac).check(state, 'services.yaml');
    // The check bites: the same services without their MACs need a gateway MAC the example lacks.
    const noMacs = parseState(readFileSync(etc('services.yaml'), 'utf8').replace(/, mac: "[0-9a-f:]+"/g, ''), 'no-macs');
    assert.throws(() => reconciler(dpc.gatewayMac).check(noMacs, 'no-macs'), /NA_ERR_LB_STATE_INVALID|expected a MAC address/);
  });
});

describe('a second install, another prefix, uninstall', () => {
  test('a second install changes nothing, keeps node_modules and an operator-modified configuration', () => {
    const config = join(dest, 'etc', 'netaccel', 'lb-controller.yaml');
    appendFileSync(config, '# changed by the operator\n');
    const edited = readFileSync(config, 'utf8');
    writeFileSync(join(lib, 'node_modules', '.marker'), 'kept\n');
    const skip = ['usr/lib/netaccel/node_modules', 'run', 'verify'];
    const before = tree(dest, skip);
    const second = install('install', { DESTDIR: dest });
    assert.match(second.stdout, /node_modules: manifests unchanged, kept/);
    assert.match(second.stdout, /\/etc\/netaccel\/lb-controller\.yaml exists, kept/);
    assert.equal(readFileSync(config, 'utf8'), edited);
    assert.ok(existsSync(join(lib, 'node_modules', '.marker')), 'node_modules was reinstalled');
    assert.deepEqual(tree(dest, skip), before);
  });

  test('PREFIX=/opt/netaccel puts everything under it and rewrites the units and configurations', () => {
    const other = mkdtempSync('/tmp/na-inst-prefix-');
    try {
      install('install', { DESTDIR: other, PREFIX: '/opt/netaccel', SYSTEMD_UNIT_DIR: '/etc/systemd/system' });
      const unit = readFileSync(join(other, 'etc', 'systemd', 'system', 'ebpf-loader.service'), 'utf8');
      assert.match(unit, /^ExecStart=\/opt\/netaccel\/bin\/netaccel-ebpf-loader --config \/etc\/netaccel\/ebpf-loader\.yaml$/m);
      assert.match(unit, /^Documentation=file:\/opt\/netaccel\/share\/doc\/netaccel\/README\.md$/m);
      assert.ok(!unit.includes('/usr/bin/netaccel'));
      assert.match(readFileSync(join(other, 'etc', 'netaccel', 'ebpf-loader.yaml'), 'utf8'), /^objectDir: \/opt\/netaccel\/lib\/netaccel\/bpf$/m);
      assert.ok(existsSync(join(other, 'opt', 'netaccel', 'lib', 'netaccel', 'bpf', 'xlb', 'xlb.bpf.o')));
      assert.ok(!existsSync(join(other, 'usr', 'bin')));
      const r = run(join(other, 'opt', 'netaccel', 'bin', 'netaccel'), ['--help'], {}, other);
      assert.equal(r.status, 0, r.stderr);
      install('uninstall', { DESTDIR: other, PREFIX: '/opt/netaccel', SYSTEMD_UNIT_DIR: '/etc/systemd/system' });
      assert.ok(!existsSync(join(other, 'opt', 'netaccel', 'lib', 'netaccel')));
      assert.ok(!existsSync(join(other, 'etc', 'systemd', 'system', 'ebpf-loader.service')));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('refuses a relative PREFIX and an unknown action', () => {
    const r = run(INSTALL, ['install'], { DESTDIR: join(dest, 'never'), PREFIX: 'usr' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /PREFIX: expected an absolute path/);
    assert.ok(!existsSync(join(dest, 'never')));
    const u = run(INSTALL, ['instal'], { DESTDIR: dest });
    assert.notEqual(u.status, 0);
    assert.match(u.stderr, /usage: packaging\/install\.sh install\|uninstall/);
  });

  test('make install and make uninstall hand DESTDIR, PREFIX and SYSTEMD_UNIT_DIR to install.sh', () => {
    const vars = ['DESTDIR=/stage', 'PREFIX=/opt/x', 'SYSTEMD_UNIT_DIR=/units'];
    const i = run('make', ['-n', '--no-print-directory', 'install', ...vars]); // also under `make test`
    assert.equal(i.status, 0, i.stderr);
    assert.deepEqual(i.stdout.trim().split('\n'), ['scripts/setup.sh', "DESTDIR='/stage' PREFIX='/opt/x' SYSTEMD_UNIT_DIR='/units' packaging/install.sh install"]);
    const u = run('make', ['-n', '--no-print-directory', 'uninstall', ...vars]);
    assert.deepEqual(u.stdout.trim().split('\n'), ["DESTDIR='/stage' PREFIX='/opt/x' SYSTEMD_UNIT_DIR='/units' packaging/install.sh uninstall"]);
  });

  test('uninstall removes the enablement links and what install put, not the configurations', () => {
    const units = DAEMONS.map((d) => `${d}.service`);
    const enable = run('systemctl', [`--root=${dest}`, 'enable', ...units]);
    assert.equal(enable.status, 0, enable.stderr);
    // Links are absolute (/lib/systemd/system/…), meant for the staged root: read, not followed.
    for (const d of DAEMONS) {
      assert.equal(readlinkSync(join(dest, 'etc', 'systemd', 'system', 'multi-user.target.wants', `${d}.service`)), `/lib/systemd/system/${d}.service`);
      assert.equal(readlinkSync(join(dest, 'etc', 'systemd', 'system', `netaccel-${d}.service`)), `/lib/systemd/system/${d}.service`, `alias of ${d}`);
    }
    install('uninstall', { DESTDIR: dest });
    for (const b of BINS) assert.ok(!existsSync(join(dest, 'usr', 'bin', b.name)), b.name);
    for (const d of DAEMONS) {
      assert.ok(!existsSync(join(dest, 'lib', 'systemd', 'system', `${d}.service`)), d);
      assert.ok(!linkExists(join(dest, 'etc', 'systemd', 'system', `netaccel-${d}.service`)), `alias of ${d}`);
      assert.ok(!linkExists(join(dest, 'etc', 'systemd', 'system', 'multi-user.target.wants', `${d}.service`)), `wants ${d}`);
    }
    assert.ok(!existsSync(lib));
    assert.ok(!existsSync(join(dest, 'usr', 'share', 'doc', 'netaccel')));
    assert.ok(!existsSync(join(dest, 'usr', 'lib', 'sysusers.d', 'netaccel.conf')));
    assert.deepEqual(readdirSync(join(dest, 'etc', 'netaccel')).sort(), [...EXAMPLES].sort());
  });
});

function linkExists(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

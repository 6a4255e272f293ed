/**
 * The units under a real systemd: `packaging/install.sh install` (no DESTDIR: user, configs,
 * everything) inside an overlay of / in fresh mount, PID, cgroup, UTS, IPC and network
 * namespaces, then systemd 252 booted there as PID 1 with the three daemons wanted
 * (packaging/testing/container-init.sh). Checks what the sandbox promises on the running
 * processes, the shared /run/netaccel, the CLI across the socket group, and restarts, crashes,
 * stops and reloads. End-to-end layer: root. The host's files, bpffs and network are untouched;
 * killing the container's PID 1 ends everything in it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const DAEMONS = ['ebpf-loader', 'lb-controller', 'bgp-announcer'] as const;
type Daemon = (typeof DAEMONS)[number];

/** Capability sets (/proc/<pid>/status hex) the units grant: bounding = ambient = effective. */
const CAPS: Record<Daemon, string> = {
  'ebpf-loader': '000000c000201000', // CAP_NET_ADMIN CAP_SYS_ADMIN CAP_PERFMON CAP_BPF
  'lb-controller': '0000000000000000',
  'bgp-announcer': '0000000000000400', // CAP_NET_BIND_SERVICE
};
/** Exposure measured offline (units.slow.test.ts); the loaded units may not score worse. */
const EXPOSURE: Record<Daemon, number> = { 'ebpf-loader': 2.5, 'lb-controller': 1.1, 'bgp-announcer': 1.4 };

const work = mkdtempSync('/tmp/netaccel-systemd-');
const cgroup = join(cgroup2Mount(), ownCgroup(), `netaccel-systemd-test-${process.pid}`);
let unshare: ChildProcess | undefined;
let consoleLog = '';

function cgroup2Mount(): string {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount in /proc/self/mounts');
  return line.split(' ')[1]!;
}

function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? '/' : line.slice(3);
}

/** PID (host view) of the container's PID 1: unshare's only child. */
function containerPid(): number {
  const pid = unshare?.pid;
  assert.ok(pid !== undefined, 'container not started');
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  assert.ok(children !== '', `unshare has no child; console:\n${consoleLog}`);
  return Number(children.split(' ')[0]);
}

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command inside the container (its namespaces and root). */
function inside(args: readonly string[], check = true): Result {
  const r = spawnSync('nsenter', ['-t', String(containerPid()), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  const res = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  if (check) assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return res;
}

const show = (unit: string, prop: string): string => inside(['systemctl', 'show', '-p', prop, '--value', unit]).stdout.trim();
const mainPid = (d: Daemon): number => Number(show(`${d}.service`, 'MainPID'));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) {
      const status = consoleLog.includes('container-init: booting systemd') ? inside(['systemctl', '--no-pager', 'status', ...DAEMONS.map((d) => `${d}.service`)], false).stdout : consoleLog;
      assert.fail(`${what}: not within ${timeoutMs / 1000} s\n${status}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const allActive = (): true | undefined => (inside(['systemctl', 'is-active', ...DAEMONS.map((d) => `${d}.service`)], false).stdout.trim().split('\n').every((s) => s === 'active') ? true : undefined);

function statusOf(pid: number): Record<string, string> {
  const text = inside(['cat', `/proc/${pid}/status`]).stdout;
  return Object.fromEntries(text.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

function cli(args: readonly string[], user?: string): Result {
  return inside(user === undefined ? ['netaccel', ...args] : ['runuser', '-u', user, '--', 'netaccel', ...args], false);
}

function removeCgroup(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) removeCgroup(join(dir, e));
  rmdirSync(dir);
}

beforeAll(async () => {
  mkdirSync(join(work, 't'));
  mkdirSync(join(work, 'root'));
  mkdirSync(cgroup);
  const log = openSync(join(work, 'console.log'), 'w');
  unshare = spawn(
    '/bin/sh',
    [
      '-c',
      'echo $$ > "$1/cgroup.procs" && exec unshare --mount --pid --fork --kill-child --cgroup --uts --ipc --net --propagation private "$2" "$3" "$4"',
      'sh', cgroup, join(root, 'packaging', 'testing', 'container-init.sh'), work, root,
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  unshare.on('exit', () => (consoleLog = readFileSync(join(work, 'console.log'), 'utf8')));
  // The install inside takes ~10 s (npm ci), the boot a few more.
  await until('the container boots', () => {
    consoleLog = readFileSync(join(work, 'console.log'), 'utf8');
    assert.equal(unshare?.exitCode, null, `the container ended:\n${consoleLog}`);
    if (!consoleLog.includes('container-init: booting systemd')) return undefined;
    return inside(['systemctl', 'is-system-running'], false).stdout.trim() !== '' ? true : undefined;
  }, 120_000);
});

afterAll(async () => {
  if (unshare?.exitCode === null) {
    const exited = new Promise((r) => unshare!.once('exit', r));
    unshare.kill('SIGKILL'); // --kill-child: the container's PID 1, and with it every process inside
    await exited;
  }
  for (let i = 0; ; i++) {
    try {
      removeCgroup(cgroup);
      break;
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the units under systemd', () => {
  test('the three daemons start, say they are ready once they serve, and stay up', async () => {
    await until('all three active', allActive);
    // Type=notify: active means READY=1 came, sent once the socket serves: it must be there now.
    for (const d of DAEMONS) inside(['test', '-S', `/run/netaccel/${d}.sock`]);
    assert.match(show('ebpf-loader.service', 'StatusText'), /^serving \/run\/netaccel\/ebpf-loader\.sock$/);
    assert.match(show('lb-controller.service', 'StatusText'), /^1 services; .*; serving \/run\/netaccel\/lb-controller\.sock$/);
    assert.match(show('bgp-announcer.service', 'StatusText'), /^1 peers$/);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(allActive(), true);
    // lb-controller too: the loader's unit is started only once its socket answers.
    for (const d of DAEMONS) assert.equal(show(`${d}.service`, 'NRestarts'), '0', d);
  });

  test('each runs with exactly its capabilities, no new privileges and a system-call filter', () => {
    const netaccel = inside(['id', '-u', 'netaccel']).stdout.trim();
    assert.match(netaccel, /^\d+$/);
    for (const d of DAEMONS) {
      const s = statusOf(mainPid(d));
      assert.equal(s.CapEff, CAPS[d], `${d} CapEff`);
      assert.equal(s.CapBnd, CAPS[d], `${d} CapBnd`);
      assert.equal(s.CapAmb, CAPS[d], `${d} CapAmb`);
      assert.equal(s.NoNewPrivs, '1', d);
      assert.equal(s.Seccomp, '2', d);
      assert.equal(s.Uid?.split(/\s+/)[0], d === 'ebpf-loader' ? '0' : netaccel, `${d} uid`);
      assert.equal(s.Gid?.split(/\s+/)[0], netaccel, `${d} gid`);
    }
    const userNs = (pid: number | string): string => inside(['readlink', `/proc/${pid}/ns/user`]).stdout.trim();
    assert.notEqual(userNs(mainPid('lb-controller')), userNs(1)); // PrivateUsers=yes
    assert.equal(userNs(mainPid('bgp-announcer')), userNs(1));
  });

  test('/run/netaccel is shared: 0770 group netaccel, each socket 0660 group netaccel', () => {
    const list = inside(['stat', '-c', '%n %a %G', '/run/netaccel', ...DAEMONS.map((d) => `/run/netaccel/${d}.sock`)]).stdout.trim().split('\n');
    assert.deepEqual(list, ['/run/netaccel 770 netaccel', ...DAEMONS.map((d) => `/run/netaccel/${d}.sock 660 netaccel`)]);
  });

  test('the loader pins under /sys/fs/bpf/netaccel and keeps its state in /var/lib/netaccel/loader', () => {
    assert.ok(inside(['ls', '/sys/fs/bpf/netaccel/objects']).stdout.trim().startsWith('xlb-'));
    assert.deepEqual(inside(['ls', '/var/lib/netaccel/loader']).stdout.trim().split('\n'), ['loader.pid', 'state.json']);
    assert.equal(inside(['stat', '-c', '%a %U', '/var/lib/netaccel/loader']).stdout.trim(), '700 root');
  });

  test('the CLI reaches every daemon as root and as a member of netaccel, not as anyone else', () => {
    const programs = cli(['bpf', 'programs', '--json']);
    assert.equal(programs.status, 0, programs.stderr);
    assert.match(programs.stdout, /xlb_xdp/);
    const services = cli(['lb', 'services', '--json']);
    assert.equal(services.status, 0, services.stderr);
    assert.match(services.stdout, /198\.51\.100\.10/);
    inside(['useradd', '--no-create-home', '-G', 'netaccel', 'operator1']);
    inside(['useradd', '--no-create-home', 'outsider1']);
    const peers = cli(['bgp', 'peers', '--json'], 'operator1');
    assert.equal(peers.status, 0, peers.stderr);
    assert.deepEqual((JSON.parse(peers.stdout) as { peers: { address: string }[] }).peers.map((p) => p.address), ['192.0.2.1']);
    for (const args of [['bgp', 'peers'], ['bpf', 'programs'], ['lb', 'services']]) assert.notEqual(cli(args, 'outsider1').status, 0, args.join(' '));
  });

  test('restarting the loader leaves the controller running, and the controller reaches the new loader', async () => {
    const controller = mainPid('lb-controller');
    const loader = mainPid('ebpf-loader');
    inside(['systemctl', 'restart', 'ebpf-loader.service']);
    await until('the loader back', () => (show('ebpf-loader.service', 'ActiveState') === 'active' && mainPid('ebpf-loader') !== loader ? true : undefined));
    assert.equal(mainPid('lb-controller'), controller);
    inside(['sed', '-i', 's/weight: 1, mac: "02:00:00:00:00:12"/weight: 3, mac: "02:00:00:00:00:12"/', '/etc/netaccel/services.yaml']);
    await until('the new weight in the data plane', () => (/"weight":\s*3/.test(cli(['lb', 'backends', '--json']).stdout) ? true : undefined), 20_000);
    assert.equal(mainPid('lb-controller'), controller);
  });

  test('a crashed loader is restarted and adopts its programs', async () => {
    const kernelId = (): string | undefined => /"kernelId":\s*"?(\d+)/.exec(cli(['bpf', 'programs', '--json']).stdout)?.[1];
    const before = kernelId();
    assert.ok(before !== undefined);
    const restarts = Number(show('ebpf-loader.service', 'NRestarts'));
    inside(['kill', '-KILL', String(mainPid('ebpf-loader'))]);
    await until('the loader restarted', () => (Number(show('ebpf-loader.service', 'NRestarts')) === restarts + 1 && show('ebpf-loader.service', 'ActiveState') === 'active' ? true : undefined), 20_000);
    assert.equal(await until('the loader answering', kernelId, 20_000), before); // the same kernel program: adopted, not reloaded
  });

  test('a stopped loader stays stopped and its programs stay loaded', async () => {
    inside(['systemctl', 'stop', 'ebpf-loader.service']);
    await new Promise((r) => setTimeout(r, 3000)); // RestartSec=2s: no restart may come
    assert.equal(show('ebpf-loader.service', 'ActiveState'), 'inactive');
    assert.equal(show('ebpf-loader.service', 'Result'), 'success');
    assert.equal(show('lb-controller.service', 'ActiveState'), 'active'); // Wants=, not Requires=
    assert.match(inside(['find', '/sys/fs/bpf/netaccel', '-name', 'xlb_xdp']).stdout, /progs\/xlb_xdp/);
    inside(['systemctl', 'start', 'ebpf-loader.service']);
    await until('the loader back', () => (show('ebpf-loader.service', 'ActiveState') === 'active' ? true : undefined));
  });

  test('systemctl reload bgp-announcer reloads its configuration', async () => {
    inside(['systemctl', 'reload', 'bgp-announcer.service']);
    await until('reloaded', () => (inside(['journalctl', '--no-pager', '-o', 'cat', '-u', 'bgp-announcer.service']).stdout.includes('"msg":"configuration reloaded"') ? true : undefined), 10_000);
    // RELOADING=1 … READY=1: back to active with its status line.
    await until('active after the reload', () => (show('bgp-announcer.service', 'ActiveState') === 'active' && show('bgp-announcer.service', 'StatusText') === '1 peers' ? true : undefined), 10_000);
  });

  test('stopping lb-controller removes its socket and leaves the others', () => {
    inside(['systemctl', 'stop', 'lb-controller.service']);
    // the sockets only: lb-controller's adoption record (lb-controller.adoption.json) stays there
    // on purpose, for its next start, and goes at reboot like the pinned maps
    const sockets = inside(['ls', '/run/netaccel']).stdout.trim().split('\n').filter((f) => f.endsWith('.sock'));
    assert.deepEqual(sockets, ['bgp-announcer.sock', 'ebpf-loader.sock']);
    inside(['systemctl', 'start', 'lb-controller.service']);
  });

  test('systemd-analyze security of the loaded units: no worse than measured offline', () => {
    const table = inside(['systemd-analyze', 'security', '--no-pager', ...DAEMONS.map((d) => `${d}.service`)]).stdout;
    for (const d of DAEMONS) {
      const m = new RegExp(`^${d}\\.service\\s+(\\d+\\.\\d)\\s`, 'm').exec(table);
      assert.ok(m, `${d} not in\n${table}`);
      assert.ok(Number(m[1]) <= EXPOSURE[d], `${d}: ${m[1]} > ${EXPOSURE[d]}`);
    }
  });
});

/**
 * A Docker engine for docker/compose-lab.ns.test.ts, and the host state around it.
 *
 * - `ensureEngine()` uses the engine that answers on the default socket; when none does, it
 *   starts `dockerd` itself (and only then does `stopEngine()` stop it), configured to leave the
 *   host's network alone: no iptables or ip6tables rules, no ip_forward, no masquerading, no
 *   docker0 bridge (`--bridge=none`). The lab needs none of them: its containers talk on one
 *   bridge of their own, and the builds run in the host's network. A dockerd with its defaults
 *   would set the host's FORWARD policy to DROP and add its chains while it runs, which other
 *   tests on the same machine (namespaces, routing through the host) would feel.
 * - `hostState()` records what an engine could change on the host: the iptables FORWARD policy
 *   and the DOCKER* chains (filter and nat, IPv4 and IPv6), the interfaces Docker names
 *   (docker0, br-<12 hex>, veth<7 hex>) and the sysctls it sets (ip_forward, bridge-nf-call-*).
 *   `restoreHost(before)` puts back what differs and removes what Docker added, touching nothing
 *   else (other tests build their own namespaces and interfaces at the same time).
 * - A dockerd left running by a crashed earlier run is known by its pid file and adopted, so
 *   that this run stops it.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Our dockerd's pid file (not Docker's default /var/run/docker.pid: that one is a system engine's). */
export const PID_FILE = '/run/netaccel-test-dockerd.pid';
/** Flags of the dockerd this module starts; see the top. */
export const DOCKERD_FLAGS = ['--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none'] as const;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; never throws (a missing program is code null, its error in stderr). */
export function run(cmd: string, args: readonly string[], o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => {
      stderr += `\n(${cmd}: killed after ${o.timeoutMs} ms)`;
      p.kill('SIGKILL');
    }, o.timeoutMs);
    p.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}` });
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (o.input !== undefined && p.stdin !== null) {
      p.stdin.on('error', () => undefined); // a program that exits without reading its input
      p.stdin.end(o.input);
    }
  });
}

/** Runs a command and returns its stdout; throws with both outputs when it fails. */
export async function must(cmd: string, args: readonly string[], o: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, o);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const comm = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};
const childrenOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);

export const engineAnswers = async (): Promise<boolean> => (await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 })).code === 0;

export interface Engine {
  /** Server version (`docker info`). */
  readonly version: string;
  /** dockerd's pid when this module started (or adopted) it; undefined for an engine it found. */
  readonly pid: number | undefined;
  /** Its containerd, started by dockerd, ended by id when it outlives dockerd. */
  readonly children: readonly number[];
  readonly log: string | undefined;
}

/** The engine on the default socket; starts dockerd (see the top) when none answers. */
export async function ensureEngine(say: (s: string) => void): Promise<Engine> {
  // a dockerd of a crashed earlier run: ours by its pid file
  let adopted: number | undefined;
  if (existsSync(PID_FILE)) {
    const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid) && comm(pid) === 'dockerd') adopted = pid;
    else rmSync(PID_FILE, { force: true });
  }
  if (await engineAnswers()) {
    const version = (await must('docker', ['info', '--format', '{{.ServerVersion}}'])).trim();
    if (adopted !== undefined) say(`adopted the dockerd ${adopted} an earlier run left (Docker ${version})`);
    return { version, pid: adopted, children: adopted === undefined ? [] : childrenOf(adopted), log: undefined };
  }
  if (adopted !== undefined) throw new Error(`dockerd ${adopted} (${PID_FILE}) runs but does not answer; stop it and run again`);
  const log = join(tmpdir(), `netaccel-dockerd-${Date.now()}.log`);
  const fd = openSync(log, 'a');
  const d = spawn('dockerd', ['--pidfile', PID_FILE, ...DOCKERD_FLAGS], { stdio: ['ignore', fd, fd], detached: true });
  d.unref();
  const pid = d.pid;
  if (pid === undefined) throw new Error('dockerd: could not start (is docker.io installed? scripts/setup.sh installs it)');
  for (let i = 0; i < 120; i++) {
    if (await engineAnswers()) {
      const version = (await must('docker', ['info', '--format', '{{.ServerVersion}}'])).trim();
      say(`started dockerd ${pid} (Docker ${version}; ${DOCKERD_FLAGS.join(' ')}; log ${log})`);
      return { version, pid, children: childrenOf(pid), log };
    }
    if (!alive(pid)) break;
    await sleep(500);
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  throw new Error(`dockerd did not answer within 60 s; its log (${log}):\n${tail}`);
}

/** Stops the dockerd `ensureEngine` started (SIGTERM, then SIGKILL after 30 s) and its containerd. */
export async function stopEngine(e: Engine): Promise<void> {
  if (e.pid === undefined) return;
  const ids = [e.pid, ...e.children, ...childrenOf(e.pid)];
  if (alive(e.pid)) process.kill(e.pid, 'SIGTERM');
  for (let i = 0; i < 60 && alive(e.pid); i++) await sleep(500);
  if (alive(e.pid)) process.kill(e.pid, 'SIGKILL');
  for (const id of new Set(ids)) {
    for (let i = 0; i < 20 && alive(id); i++) await sleep(250);
    if (alive(id) && ['containerd', 'dockerd'].includes(comm(id))) process.kill(id, 'SIGKILL');
  }
  rmSync(PID_FILE, { force: true });
}

// --- the host ------------------------------------------------------------------------------------

export interface HostState {
  /** `-P FORWARD <policy>` per tool; undefined when the tool has no filter table loaded. */
  readonly forward: Record<string, string | undefined>;
  /** Chains whose name starts with DOCKER, per tool and table (`iptables nat DOCKER`). */
  readonly chains: readonly string[];
  /** Interfaces of Docker's naming. */
  readonly interfaces: readonly string[];
  readonly sysctls: Record<string, string>;
}

const TOOLS = ['iptables', 'ip6tables'] as const;
const TABLES = ['filter', 'nat'] as const;
const SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/forwarding',
  'net/ipv6/conf/all/forwarding',
  'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
] as const;
export const DOCKER_INTERFACE = /^(docker\d+|br-[0-9a-f]{12}|veth[0-9a-f]{7})$/;

export async function hostState(): Promise<HostState> {
  const forward: Record<string, string | undefined> = {};
  const chains: string[] = [];
  for (const tool of TOOLS) {
    for (const table of TABLES) {
      const r = await run(`${tool}-save`, ['-t', table], { timeoutMs: 20_000 });
      for (const line of r.stdout.split('\n')) {
        const m = /^:(\S+) (\S+)/.exec(line);
        if (m === null) continue;
        if (table === 'filter' && m[1] === 'FORWARD') forward[tool] = m[2];
        if (m[1]!.startsWith('DOCKER')) chains.push(`${tool} ${table} ${m[1]}`);
      }
    }
  }
  const links = JSON.parse((await must('ip', ['-j', 'link', 'show'])) || '[]') as { ifname: string }[];
  const sysctls: Record<string, string> = {};
  for (const s of SYSCTLS) {
    try {
      sysctls[s] = readFileSync(`/proc/sys/${s}`, 'utf8').trim();
    } catch {
      // absent on this kernel (br_netfilter not loaded): recorded as absent
    }
  }
  return { forward, chains: chains.sort(), interfaces: links.map((l) => l.ifname).filter((n) => DOCKER_INTERFACE.test(n)).sort(), sysctls };
}

/** What differs from `before`, as readable lines (empty when the host is as it was). */
export function hostDiff(before: HostState, after: HostState): string[] {
  const d: string[] = [];
  for (const tool of TOOLS) if (before.forward[tool] !== after.forward[tool]) d.push(`${tool} FORWARD policy ${before.forward[tool] ?? '(no table)'} -> ${after.forward[tool] ?? '(no table)'}`);
  for (const c of after.chains) if (!before.chains.includes(c)) d.push(`chain added: ${c}`);
  for (const c of before.chains) if (!after.chains.includes(c)) d.push(`chain removed: ${c}`);
  for (const i of after.interfaces) if (!before.interfaces.includes(i)) d.push(`interface added: ${i}`);
  for (const i of before.interfaces) if (!after.interfaces.includes(i)) d.push(`interface removed: ${i}`);
  for (const [k, v] of Object.entries({ ...before.sysctls, ...after.sysctls })) if (before.sysctls[k] !== after.sysctls[k]) d.push(`sysctl ${k}: ${before.sysctls[k]} -> ${v}`);
  return d;
}

/** Puts the host back as `before` recorded it, for what `hostState` covers; returns what it did. */
export async function restoreHost(before: HostState): Promise<string[]> {
  const now = await hostState();
  const done: string[] = [];
  for (const tool of TOOLS) {
    const policy = before.forward[tool];
    if (policy !== undefined && now.forward[tool] !== policy) {
      await run(tool, ['-t', 'filter', '-P', 'FORWARD', policy]);
      done.push(`${tool} FORWARD policy back to ${policy}`);
    }
  }
  // chains Docker added: jumps to them first (FORWARD, PREROUTING, OUTPUT, POSTROUTING), then flush, then delete
  const added = now.chains.filter((c) => !before.chains.includes(c)).map((c) => c.split(' ') as [string, string, string]);
  for (const [tool, table, chain] of added) {
    const rules = (await run(tool, ['-t', table, '-S'])).stdout.split('\n').filter((l) => l.startsWith('-A ') && l.includes(`-j ${chain}`) && !l.startsWith(`-A ${chain} `));
    for (const rule of rules) await run(tool, ['-t', table, ...rule.replace(/^-A /, '-D ').split(' ')]);
  }
  for (const [tool, table, chain] of added) await run(tool, ['-t', table, '-F', chain]);
  for (const [tool, table, chain] of added) {
    await run(tool, ['-t', table, '-X', chain]);
    done.push(`removed ${tool} ${table} chain ${chain}`);
  }
  for (const i of now.interfaces.filter((n) => !before.interfaces.includes(n))) {
    await run('ip', ['link', 'delete', i]);
    done.push(`removed interface ${i}`);
  }
  for (const [k, v] of Object.entries(before.sysctls)) {
    if (now.sysctls[k] !== v) {
      writeFileSync(`/proc/sys/${k}`, v);
      done.push(`sysctl ${k} back to ${v}`);
    }
  }
  return done;
}

/** One implementation of Compose, and how to call it. */
export interface Compose {
  /** `v1` (docker-compose, Python) or `v2` (the `docker compose` CLI plugin, Go). */
  readonly name: 'v1' | 'v2';
  readonly cmd: string;
  /** arguments before Compose's own (`compose` for the plugin) */
  readonly pre: readonly string[];
  /** added to the environment of every call */
  readonly env: NodeJS.ProcessEnv;
  /** extra `build` arguments: v1 builds one image at a time unless told, v2 in parallel by itself */
  readonly buildArgs: readonly string[];
}

/** Compose v1: Debian 12's docker-compose 1.29. */
export const composeV1 = (): Compose => ({ name: 'v1', cmd: 'docker-compose', pre: [], env: {}, buildArgs: ['--parallel'] });

/**
 * Compose v2: the `docker compose` plugin when the Docker CLI has one, else the plugin from
 * Debian 13's archive in a folder of its own (docker/compose-v2/fetch.sh, used through
 * DOCKER_CONFIG: Debian 12 packages no Compose v2 and its package would replace v1). Builds use
 * the classic builder, as v1 does: BuildKit would fetch the `# syntax=docker/dockerfile:1`
 * frontend from Docker Hub, which this machine cannot reach.
 */
export async function composeV2(fetchScript: string): Promise<Compose> {
  const env: NodeJS.ProcessEnv = { DOCKER_BUILDKIT: '0' };
  if ((await run('docker', ['compose', 'version'], { timeoutMs: 20_000 })).code !== 0) {
    env['DOCKER_CONFIG'] = (await must(fetchScript, [], { timeoutMs: 10 * 60_000 })).trim().split('\n').pop()!;
  }
  return { name: 'v2', cmd: 'docker', pre: ['compose'], env, buildArgs: [] };
}

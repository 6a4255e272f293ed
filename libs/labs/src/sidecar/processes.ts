/**
 * What the sidecar scenario starts, and how: the sidecar-offload daemon's configuration (an
 * inbound listener on the server pod's address for the workload, with the policy; one for etcd
 * on the wildcard address, which keeps its calls in user space where the key counting reads
 * them; the etcd key counting into Redis; the kernel path loaded `direct` with sockops on the
 * run's cgroup, cgroup.ts), the workload runners' argv, etcd's and redis-server's argv, and the
 * runners' JSON lines. The daemon is the installation's (SidecarInstall): a library never
 * imports an application.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabProcess } from '@netaccel/netlab';
import { jsonLines } from '../paxos/processes.js';
import { ETCD_PORT, REDIS_PORT, SIDECAR_ETCD_PORT, SIDECAR_INBOUND_PORT, SIDECAR_SERVER_ADDR, SIDECAR_TELEMETRY, WORKLOAD_PORT } from './topology.js';

/** What the scenario runs of an installation. */
export interface SidecarInstall {
  /** `apps/sidecar-offload/dist/main.js`, run with this Node. */
  readonly sidecarMain: string;
  /** bpf/sidecar's object (`sidecar/sidecar.bpf.o`) for the kernel path. */
  readonly sidecarObject: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCES = fileURLToPath(import.meta.url).endsWith('.ts');

export function runnerArgv(name: 'server-runner' | 'client-runner', args: Record<string, unknown>): string[] {
  const file = join(HERE, `${name}${FROM_SOURCES ? '.ts' : '.js'}`);
  return [process.execPath, ...(FROM_SOURCES ? ['--import', 'tsx'] : []), file, JSON.stringify(args)];
}

/** The listener the scenario's calls go through, and the policy's denied method. */
export const LISTENER = 'inbound';
export const ETCD_LISTENER = 'etcd';
export const REDIS_READS_KEY = 'netaccel:craq:heat:reads';
export const REDIS_WRITES_KEY = 'netaccel:craq:heat:writes';

export interface SidecarConfigOptions {
  /** The workload's method paths: each gets a rule (so that the kernel path counts each under its own id) … */
  readonly methods: readonly string[];
  /** … deny for these, allow for the others (the default is allow). */
  readonly deny: readonly string[];
  /** The run's cgroup for the kernel path; undefined: the kernel path off. */
  readonly cgroup: string | undefined;
  readonly object: string;
  /** Route etcdserverpb.KV to etcd and count its keys into Redis. */
  readonly etcd: boolean;
  readonly socket: string;
}

/** sidecar-offload's configuration (apps/sidecar-offload/README.md). */
export function sidecarConfigText(o: SidecarConfigOptions): string {
  return [
    'logLevel: info',
    'sidecar:',
    '  listeners:',
    `    - name: ${LISTENER}`,
    '      direction: inbound',
    `      listen: ${SIDECAR_SERVER_ADDR}:${SIDECAR_INBOUND_PORT}`,
    '      routes:',
    '        - { service: lab.Inventory, cluster: inventory }',
    '      policy:',
    '        default: allow',
    `        rules: [${o.methods.map((m) => `{ method: ${m}, action: ${o.deny.includes(m) ? 'deny' : 'allow'} }`).join(', ')}]`,
    ...(o.etcd ? [
      `    - name: ${ETCD_LISTENER}`,
      '      direction: inbound',
      // the key counting reads each Range/Put message in user space, so this listener must stay
      // there: on the wildcard address, the daemon does not splice it
      `      listen: 0.0.0.0:${SIDECAR_ETCD_PORT}`,
      '      routes: [{ service: etcdserverpb.KV, cluster: etcd, timeout: 5s }]',
    ] : []), // prettier-ignore
    '  clusters:',
    `    - { name: inventory, endpoints: ['127.0.0.1:${WORKLOAD_PORT}'] }`,
    ...(o.etcd ? [`    - { name: etcd, endpoints: ['127.0.0.1:${ETCD_PORT}'] }`] : []),
    '  accessLog: true',
    `etcdHeat: { enabled: ${o.etcd}, redis: 'redis://127.0.0.1:${REDIS_PORT}', readsKey: '${REDIS_READS_KEY}', writesKey: '${REDIS_WRITES_KEY}', flushInterval: 200ms }`,
    o.cgroup === undefined ? 'kernel: { enabled: false }' : `kernel: { enabled: true, via: direct, cgroup: '${o.cgroup}', object: '${o.object}' }`,
    `telemetry: { listen: '${SIDECAR_TELEMETRY}' }`,
    `grpc: { socket: ${o.socket} }`,
    '',
  ].join('\n');
}

export function writeSidecarConfig(file: string, o: SidecarConfigOptions): void {
  writeFileSync(file, sidecarConfigText(o));
}

export function etcdArgv(dataDir: string): string[] {
  const client = `http://127.0.0.1:${ETCD_PORT}`;
  const peer = `http://127.0.0.1:${ETCD_PORT + 1}`;
  return [
    'etcd', '--name', 'scl', '--data-dir', dataDir,
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `scl=${peer}`,
    '--logger', 'zap', '--log-outputs', 'stderr',
  ]; // prettier-ignore
}

export const redisArgv = (dir: string): string[] => ['redis-server', '--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];

export interface ClientProgress {
  readonly at: number;
  readonly calls: number;
  readonly ok: number;
  readonly denied: number;
  readonly errors: number;
}

export const clientProgress = (p: LabProcess): ClientProgress[] => jsonLines(p).filter((l) => l.calls !== undefined && l.final === undefined) as unknown as ClientProgress[];
export const clientFinal = (p: LabProcess): (ClientProgress & { errorSamples: string[] }) | undefined =>
  jsonLines(p).find((l) => l.final === true) as unknown as (ClientProgress & { errorSamples: string[] }) | undefined;
/** What the client sent to etcd per key (or why it could not). */
export const clientEtcd = (p: LabProcess): { sent?: Record<string, { reads: number; writes: number }>; error?: string } => {
  const l = jsonLines(p).find((x) => x.etcd !== undefined || x.etcdError !== undefined);
  return { sent: l?.etcd as Record<string, { reads: number; writes: number }> | undefined, error: l?.etcdError as string | undefined };
};
/** The server's last count of calls that reached it, by method. */
export const serverCalls = (p: LabProcess): { at: number; calls: Record<string, number> } | undefined =>
  jsonLines(p).filter((l) => l.calls !== undefined).at(-1) as unknown as { at: number; calls: Record<string, number> } | undefined;

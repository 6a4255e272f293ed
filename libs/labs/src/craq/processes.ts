/**
 * What the CRAQ scenario starts, and how: the etcd members' argv (one per namespace, a cluster
 * of three over the segment; data in /dev/shm), an ebpf-loader's configuration per chain node
 * (its own object folder holding craq.bpf.o, its own pin root under /sys/fs/bpf/ncl-<run>-<node>),
 * the craq-scheduler's configuration (chain of n1 → n2 → n3 via the loaders, the three etcd
 * members, Redis heat in 1 s buckets), redis-server's argv, and the client runner's argv. The
 * daemons are the installation's (CraqInstall): a library never imports an application.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabProcess } from '@netaccel/netlab';
import { jsonLines } from '../paxos/processes.js';
import { CHAIN_NODES, CRAQ_KEY_PREFIX, CRAQ_LAB_PORT, CRAQ_LAB_PREFIX, ETCD_NODES, REDIS_PORT, craqAddr, etcdClientUrl, etcdPeerUrl } from './topology.js';

/** What the scenario runs of an installation. */
export interface CraqInstall {
  /** `apps/ebpf-loader/dist/main.js` and `apps/craq-scheduler/dist/main.js`, run with this Node. */
  readonly loaderMain: string;
  readonly schedulerMain: string;
  /** bpf/craq's object (`craq/craq.bpf.o`) and the pass-all `selftest/selftest.bpf.o`. */
  readonly craqObject: string;
  readonly selftestObject: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCES = fileURLToPath(import.meta.url).endsWith('.ts');

export function clientRunnerArgv(args: Record<string, unknown>): string[] {
  const file = join(HERE, `client-runner${FROM_SOURCES ? '.ts' : '.js'}`);
  return [process.execPath, ...(FROM_SOURCES ? ['--import', 'tsx'] : []), file, JSON.stringify(args)];
}

export const etcdCluster = (): string => ETCD_NODES.map((n) => `${n}=${etcdPeerUrl(n)}`).join(',');

export function etcdArgv(node: string, dataDir: string): string[] {
  return [
    'etcd', '--name', node, '--data-dir', dataDir,
    '--listen-client-urls', etcdClientUrl(node), '--advertise-client-urls', etcdClientUrl(node),
    '--listen-peer-urls', etcdPeerUrl(node), '--initial-advertise-peer-urls', etcdPeerUrl(node),
    '--initial-cluster', etcdCluster(), '--initial-cluster-state', 'new', '--initial-cluster-token', 'ncl',
    '--logger', 'zap', '--log-outputs', 'stderr', '--heartbeat-interval', '50', '--election-timeout', '500',
  ];
}

export const redisArgv = (dir: string): string[] => ['redis-server', '--port', String(REDIS_PORT), '--bind', craqAddr('s'), '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
export const redisUrl = (): string => `redis://${craqAddr('s')}:${REDIS_PORT}`;

export interface LoaderFiles {
  readonly config: string;
  readonly socket: string;
  readonly pinRoot: string;
}

/**
 * A loader's folder and configuration for chain node `node`; its pin root is
 * `/sys/fs/bpf/<pinPrefix>-<runId>-<node>` (a bench on this rig passes its own lab prefix, so
 * that the CRAQ lab's checks and clean-up never meet its pins).
 */
export function writeLoaderFiles(dir: string, runId: string, node: string, craqObject: string, pinPrefix: string = CRAQ_LAB_PREFIX): LoaderFiles {
  const home = join(dir, `loader-${node}`);
  const objects = join(home, 'objects');
  mkdirSync(objects, { recursive: true });
  copyFileSync(craqObject, join(objects, 'craq.bpf.o'));
  const f: LoaderFiles = { config: join(home, 'loader.yaml'), socket: join(home, 'loader.sock'), pinRoot: `/sys/fs/bpf/${pinPrefix}-${runId}-${node}` };
  writeFileSync(f.config, [
    'logLevel: info',
    `objectDir: ${objects}`,
    `pinRoot: ${f.pinRoot}`,
    `stateDir: ${join(home, 'state')}`,
    'rpc:',
    `  socket: ${f.socket}`,
    '  shutdownTimeout: 2s',
    'telemetry:',
    `  socket: ${join(home, 'telemetry.sock')}`,
    '',
  ].join('\n'));
  return f;
}

export interface SchedulerTuning {
  /** The most keys placed (the device's budget in keys). */
  readonly maxKeys: number;
}

/** craq-scheduler's configuration: the chain through the loaders, the etcd cluster, Redis heat. */
export function writeSchedulerConfig(dir: string, macs: readonly string[], loaders: readonly LoaderFiles[], t: SchedulerTuning): { file: string; socket: string } {
  const socket = join(dir, 'craq-scheduler.sock');
  const file = join(dir, 'craq-scheduler.yaml');
  writeFileSync(file, [
    'logLevel: info',
    `etcd: { endpoints: [${ETCD_NODES.map((n) => `'${etcdClientUrl(n)}'`).join(', ')}], metricsUrl: '', prefixes: ['${CRAQ_KEY_PREFIX}'], timeout: 2s }`,
    `redis: { url: '${redisUrl()}', bucket: 1s, buckets: 4, counterSets: [] }`,
    'chain:',
    '  probeInterval: 100ms',
    '  probeTimeout: 80ms',
    '  probeMultiplier: 3',
    '  nodes:',
    ...CHAIN_NODES.map((n, i) => `    - { name: ${n}, address: ${craqAddr(n)}, port: ${CRAQ_LAB_PORT}, iface: eth0, mac: '${macs[i]}', loaderSocket: ${loaders[i]!.socket} }`),
    'dataPlane: { via: loader, object: craq.bpf.o, xdpMode: native }',
    `placement: { budget: 1MiB, maxKeys: ${t.maxKeys}, perKeyOverhead: 64, interval: 500ms, hysteresis: 0.25, minDwell: 60s, minReads: 3, candidates: 1000 }`,
    "telemetry: { listen: '127.0.0.1:0' }",
    `grpc: { socket: ${socket} }`,
    '',
  ].join('\n'));
  return { file, socket };
}

export interface ClientProgress {
  readonly at: number;
  readonly ok: number;
  readonly unknown: number;
  readonly errors: number;
  readonly chainReads: number;
  readonly etcdReads: number;
  readonly chainWrites: number;
  readonly etcdWrites: number;
  readonly retries: number;
}

/** The client runner's progress lines, in order. */
export const clientProgress = (p: LabProcess): ClientProgress[] => jsonLines(p).filter((l) => l.ok !== undefined && l.final === undefined) as unknown as ClientProgress[];
export const clientFinal = (p: LabProcess): (ClientProgress & { ops: number; errorSamples: string[] }) | undefined =>
  jsonLines(p).find((l) => l.final === true) as unknown as (ClientProgress & { ops: number; errorSamples: string[] }) | undefined;
export const clientLoaded = (p: LabProcess): boolean => jsonLines(p).some((l) => l.loaded !== undefined);

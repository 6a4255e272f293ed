/**
 * An in-process craq-scheduler for tests: a chain of user-space reference nodes on loopback
 * (@netaccel/craq/testing — NOT the XDP node), the daemon on a DaemonHost with its gRPC socket in
 * a temporary folder and telemetry on a free port. The caller gives etcd (and Redis) URLs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import { ReferenceNode } from '@netaccel/craq/testing';
import { createLogger } from '@netaccel/telemetry';
import type { DestinationStream } from '@netaccel/telemetry';
import { craqSchedulerConfig } from '../config.js';
import { CraqDaemon, VERSION } from '../daemon.js';
import type { CraqSchedulerOptions } from '../daemon.js';

export interface TestSchedulerOptions {
  readonly etcdUrl: string;
  readonly redisUrl?: string;
  /** Chain nodes (reference nodes). Default 3. */
  readonly nodes?: number;
  /** Reference nodes made by the caller (several schedulers of one chain); closed by the caller. */
  readonly referenceNodes?: readonly ReferenceNode[];
  /** Extra YAML appended at the top level (placement:, writeBack: ...; not etcd or chain). */
  readonly yaml?: string;
  /** Extra fields of `etcd:`, flow style (`prefixes: ['/ncc/']`). */
  readonly etcd?: string;
  /** Extra fields of `chain:`, flow style (`probeMultiplier: 2`). */
  readonly chain?: string;
  /** Run probes, rounds and flushes on timers. Default false: the test drives them. */
  readonly timers?: boolean;
  readonly probe?: CraqSchedulerOptions['probe'];
  readonly logDestination?: DestinationStream;
}

export interface TestScheduler {
  readonly daemon: CraqDaemon;
  readonly host: DaemonHost<typeof craqSchedulerConfig>;
  readonly nodes: ReferenceNode[];
  /** `unix://<dir>/craq-scheduler.sock` */
  readonly address: string;
  readonly socket: string;
  /** The configuration file (tests rewrite it and call host.reload()). */
  readonly file: string;
  close(): Promise<void>;
}

export async function startTestScheduler(o: TestSchedulerOptions): Promise<TestScheduler> {
  const dir = mkdtempSync(join(tmpdir(), 'ncc-sched-'));
  const nodes: ReferenceNode[] = [];
  let host: DaemonHost<typeof craqSchedulerConfig> | undefined;
  try {
    if (o.referenceNodes !== undefined) nodes.push(...o.referenceNodes);
    else for (let i = 0; i < (o.nodes ?? 3); i++) nodes.push(await ReferenceNode.start({ name: `n${i + 1}` }));
    const socket = join(dir, 'craq-scheduler.sock');
    const yaml = [
      `etcd: { endpoints: ['${o.etcdUrl}'], metricsUrl: '${o.etcdUrl}/metrics'${o.etcd === undefined ? '' : `, ${o.etcd}`} }`,
      `redis: { url: '${o.redisUrl ?? ''}', bucket: 1s, buckets: 5 }`,
      'chain:',
      ...(o.chain === undefined ? [] : o.chain.split(',').map((f) => `  ${f.trim()}`)),
      '  nodes:',
      ...nodes.map((n) => `    - { name: ${n.name}, address: ${n.endpoint.address}, port: ${n.endpoint.port} }`),
      "telemetry: { listen: '127.0.0.1:0' }",
      `grpc: { socket: ${socket} }`,
      o.yaml ?? '',
    ].join('\n');
    const file = join(dir, 'craq-scheduler.yaml');
    writeFileSync(file, yaml);
    const store = await ConfigStore.open(craqSchedulerConfig, { file, env: {} });
    const log = createLogger({ name: 'craq-scheduler', level: 'debug', ...(o.logDestination === undefined ? { destination: { write: () => true } } : { destination: o.logDestination }) });
    const h = new DaemonHost({ name: 'craq-scheduler', version: VERSION, store, log, env: {} });
    host = h;
    const daemon = await h.start((x) => CraqDaemon.start(x, { dataPlanes: () => nodes, timers: o.timers ?? false, ...(o.probe === undefined ? {} : { probe: o.probe }) }));
    return {
      daemon,
      host: h,
      nodes,
      socket,
      file: join(dir, 'craq-scheduler.yaml'),
      address: `unix://${socket}`,
      close: async () => {
        await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (host !== undefined) await host.close().catch(() => undefined);
    else await Promise.all(nodes.map((n) => n.close()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

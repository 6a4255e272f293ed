/**
 * The spliced-connection rig of the sidecar's root tests (splice.ns.test.ts,
 * splice-proofs.ns.test.ts): a cgroup of the test's own (prefix `sgw-`) that the test process
 * enters, the kernel path loaded in process (`via: direct`) or through a real ebpf-loader
 * (`via: loader`, `@netaccel/dataplane/testing`, pin root `sdk-<pid>-…`), a proxy with one
 * listener `inbound` on it, its kernel counters read the same way for both, and a node:http2
 * gRPC call (whose session's GOAWAY event names the last stream id). Root only; not exported
 * from the testing entry (tests of this app only).
 */
import type http2 from 'node:http2';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root, removeStaleCgroups } from '@netaccel/bpf';
import { parseConfig } from '@netaccel/config';
import { decodeCounter, encodeU32 } from '@netaccel/bpf-programs/sidecar';
import type { MethodStats, SockKey } from '@netaccel/bpf-programs/sidecar';
import { TestLoader } from '@netaccel/dataplane/testing';
import { createLogCapture, createLogger, createMetrics } from '@netaccel/telemetry';
import type { LogCapture } from '@netaccel/telemetry';
import { sidecarConfig } from '../config.js';
import { DirectKernelPath } from '../kernel.js';
import { LoaderKernelPath } from '../kernel-loader.js';
import type { OffloadState } from '../offload.js';
import { SidecarProxy } from '../sidecar.js';
import { startEchoServer } from './echo.js';
import type { EchoServer } from './echo.js';

const PREFIX = 'sgw-';

export function makeCgroup(name: string): string {
  const root = cgroup2Root();
  removeStaleCgroups(PREFIX, root);
  const path = join(root, `${PREFIX}${name}-${process.pid}`);
  mkdirSync(path, { recursive: true });
  return path;
}

export function currentCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return join(cgroup2Root(), (line ?? '0::/').slice(3));
}

/** Where the kernel path is loaded: in this process, or through a real ebpf-loader (its own pin root `sdk-<pid>-…`). */
export type Via = 'direct' | 'loader';

/** The cgroup the proxies' kernel paths watch, and the loader when `via: loader`. */
export interface Carrier {
  readonly via: Via;
  readonly cgroup: string;
  readonly loader?: TestLoader;
}

export interface SpliceRig {
  readonly proxy: SidecarProxy;
  readonly kernel: DirectKernelPath | LoaderKernelPath;
  readonly logs: LogCapture;
  readonly port: number;
  /** Frames of reason_stats for one reason, summed over CPUs. */
  reason(value: number): Promise<bigint>;
  /** The kernel's counters of a method path of the policy ('other': paths not in it). */
  stats(path: string): Promise<MethodStats>;
  /** Whether the kernel carries a spliced connection (through the loader: read again first). */
  spliceState(clientSide: SockKey): Promise<OffloadState>;
  /** The proxy closed; through the loader the object is unloaded too, so the next rig's counters start at zero. */
  close(): Promise<void>;
}

/** A proxy with the kernel path on the carrier's cgroup, one listener `inbound` on `listen` to the cluster `echo` (`routes`: YAML). */
export async function startSpliceProxy(carrier: Carrier, listen: string, endpoint: string, routes = '[{ service: nsc.Echo, cluster: echo }]'): Promise<SpliceRig> {
  const { via, cgroup, loader } = carrier;
  const config = parseConfig(sidecarConfig, {
    env: {},
    yaml: `
sidecar:
  listeners:
    - name: inbound
      direction: inbound
      listen: '${listen}'
      routes: ${routes}
      policy: { rules: [{ method: /nsc.Echo/Unary, action: allow }, { method: /nsc.Echo/Slow, action: allow }, { method: /nsc.Echo/Bidi, action: deny }] }
  clusters:
    - { name: echo, endpoints: ['${endpoint}'] }
kernel: { enabled: true, via: ${via}, cgroup: '${cgroup}'${loader === undefined ? '' : `, loaderSocket: ${loader.socket}`} }
`,
  });
  const logs = createLogCapture();
  const log = createLogger({ name: 'splice-test', level: 'debug', destination: logs.stream });
  const metrics = createMetrics({ app: 'sidecar-offload' });
  const kernel = via === 'direct' ? DirectKernelPath.open(config.kernel, metrics, log) : await LoaderKernelPath.open(config.kernel, metrics, log);
  const proxy = await SidecarProxy.start({ config, metrics, log, kernel });
  const idOf = (path: string) => (path === 'other' ? 0 : kernel.methodIds.get(path)!);
  let closing: Promise<void> | undefined;
  return {
    proxy,
    kernel,
    logs,
    port: proxy.listener('inbound')!.port,
    reason: async (v) => (kernel instanceof DirectKernelPath ? decodeCounter(kernel['map']('reason_stats').lookupPerCpu(encodeU32(v))!).frames : ((await kernel.reasonFrames()).get(v) ?? 0n)),
    stats: async (path) => kernel.methodStats(idOf(path)),
    spliceState: async (clientSide) => {
      if (kernel instanceof LoaderKernelPath) await kernel.refresh();
      return kernel.spliceState(clientSide);
    },
    close: () =>
      (closing ??= (async () => {
        await proxy.close(0);
        await loader?.unload(['sidecar-offload']);
      })()),
  };
}

/** The carrier of a describe block: the cgroup this process enters, and a loader process for `via: loader`. */
export function carrierFor(via: Via, name: string): { get: () => Carrier; setUp: () => Promise<void>; tearDown: () => Promise<void> } {
  let carrier: Carrier | undefined;
  let home = '';
  return {
    get: () => carrier!,
    setUp: async () => {
      const loader = via === 'loader' ? await TestLoader.start({ prefix: 'sdk-' }) : undefined;
      const cgroup = makeCgroup(name);
      home = currentCgroup();
      writeFileSync(join(cgroup, 'cgroup.procs'), String(process.pid));
      carrier = { via, cgroup, loader };
    },
    tearDown: async () => {
      try {
        if (home !== '') writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
        if (carrier !== undefined) rmdirSync(carrier.cgroup);
      } finally {
        await carrier?.loader?.stop(['sidecar-offload']);
      }
    },
  };
}

/**
 * A describe block's carrier (carrierFor) and a grpc-js echo upstream: `setUp` for beforeAll,
 * `tearDown` for afterAll (the echo closed first, the carrier torn down even if that fails).
 */
export function carrierWithEcho(via: Via, name: string): { carrier: ReturnType<typeof carrierFor>; echo: () => EchoServer; setUp: () => Promise<void>; tearDown: () => Promise<void> } {
  const carrier = carrierFor(via, name);
  let echo: EchoServer | undefined;
  return {
    carrier,
    echo: () => echo!,
    setUp: async () => {
      await carrier.setUp();
      echo = await startEchoServer();
    },
    tearDown: async () => {
      try {
        await echo?.close();
      } finally {
        await carrier.tearDown();
      }
    },
  };
}

/** A gRPC unary call over a node:http2 session (whose 'goaway' event names the last stream id). */
export function h2Call(session: http2.ClientHttp2Session, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ stream: number; status: string | undefined; message: string; reply: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const statusOf = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    };
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('trailers', statusOf);
    req.on('response', statusOf);
    req.on('error', reject);
    req.on('close', () => resolve({ stream: req.id ?? 0, status, message, reply: Buffer.concat(chunks).subarray(5) }));
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    req.end(Buffer.concat([prefix, body]));
  });
}

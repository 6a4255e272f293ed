/**
 * ebpf-loader's configuration: a YAML file (`--config`) and NETACCEL_EBPF_LOADER_* overrides,
 * validated by @netaccel/config. Paths are absolute; durations are written as `"5s"` and arrive
 * in ms. `objectDir` has no fixed default: in a checkout it is the repository's `bpf/build`, once
 * installed `/usr/lib/netaccel/bpf` (`defaultObjectDir`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { defineConfig, duration, filePath, listenAddress, logLevel, unixSocketPath } from '@netaccel/config';
import type { ConfigOf } from '@netaccel/config';

export const INSTALLED_OBJECT_DIR = '/usr/lib/netaccel/bpf';

export const loaderConfig = defineConfig({
  app: 'ebpf-loader',
  schema: z.strictObject({
    logLevel: logLevel(),
    /** Objects are loaded from here only; anything resolving outside is refused. */
    objectDir: filePath({ absolute: true }).optional(),
    /** bpffs directory of every pin: objects/<id>/{progs,maps}/<name>, links/<id>. */
    pinRoot: filePath({ absolute: true }),
    /** Where state.json (objects, hashes, globals, attachments) lives. */
    stateDir: filePath({ absolute: true }),
    rpc: z.strictObject({
      socket: unixSocketPath(),
      /** Group of the socket (mode 0660): its members may call the loader. */
      socketGroup: z.string().min(1).optional(),
      shutdownTimeout: duration({ min: 0, max: 600_000 }),
      /**
       * The gRPC server: `http2`, @netaccel/rpc's lean server on node:http2 (about half of
       * grpc-js's server CPU per call: bench/loader/README.md), or `grpc-js`, the opt-out.
       */
      transport: z.enum(['http2', 'grpc-js']),
    }),
    telemetry: z.strictObject({
      listen: listenAddress(),
      /** A Unix socket instead of `listen` (e.g. when the loader runs in a network namespace). */
      socket: unixSocketPath().optional(),
    }),
    stats: z.strictObject({
      /** Hold BPF_ENABLE_STATS(BPF_STATS_RUN_TIME) so that programs count runs and run time. */
      runTime: z.boolean(),
    }),
  }),
  defaults: {
    logLevel: 'info',
    pinRoot: '/sys/fs/bpf/netaccel',
    stateDir: '/var/lib/netaccel/loader',
    rpc: {
      socket: '/run/netaccel/ebpf-loader.sock',
      shutdownTimeout: '5s', // 5 s of graceful shutdown for calls in flight
      transport: 'http2',
    },
    telemetry: { listen: '127.0.0.1:9465' },
    stats: { runTime: true },
  },
});

export type LoaderConfig = ConfigOf<typeof loaderConfig>;

/**
 * The object directory when the configuration names none: the repository's `bpf/build` when this
 * module runs from a checkout (src/ under tsx or dist/ after a build), else the installed one.
 */
export function defaultObjectDir(moduleUrl: string = import.meta.url): string {
  const root = join(fileURLToPath(moduleUrl), '..', '..', '..', '..');
  const build = join(root, 'bpf', 'build');
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown };
    if (pkg.name === 'netaccel' && existsSync(build)) return build;
  } catch {
    // not a checkout
  }
  return INSTALLED_OBJECT_DIR;
}

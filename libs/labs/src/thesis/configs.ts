/**
 * The configuration files of every process in the thesis lab, written into the run's folder so
 * that they sit beside the logs: per balancer an ebpf-loader, a bgp-announcer and an
 * lb-controller configuration and a services file; BIRD for the router, gobgpd for the
 * reflector (nginx per backend: steps/backends.ts). The daemons validate their own files: a
 * mistake here fails the step that starts them.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { birdReflectorClientConfig, gobgpReflectorConfig } from '@netaccel/netlab';
import { AS, BALANCER_RANGE, NAT_SOURCE_COUNT, RR_ADDR, ROUTER_ADDR, SERVICES, backendAddr, balancerAddr, natSourceAddr } from '../topologies/thesis.js';
import type { BackendName, BalancerName, LabMode, ServiceDef } from '../topologies/thesis.js';

/** The daemons a balancer node runs. */
export const LAB_DAEMONS = ['ebpf-loader', 'bgp-announcer', 'lb-controller'] as const;
export type LabDaemon = (typeof LAB_DAEMONS)[number];

/**
 * Where the built daemons and BPF objects are: the caller's to say (the CLI knows its install
 * tree; a library never imports an application).
 */
export interface ThesisInstall {
  /** The entry (`dist/main.js`) of each daemon, run with this Node. */
  readonly daemons: Readonly<Record<LabDaemon, string>>;
  /** The folder of the BPF objects (`xlb/xlb.bpf.o`, `selftest/selftest.bpf.o`). */
  readonly objectDir: string;
}

/** Health checks of the lab: a dead backend is out after 3 × 200 ms. */
export const HEALTH = { interval: '200ms', timeout: '150ms', rise: 2, fall: 3 } as const;

/** BGP timers of the lab (the smallest RFC 4271 allows: hold 3 s). */
export const HOLD_TIME_S = 3;

export interface BalancerFiles {
  readonly dir: string;
  readonly loaderConfig: string;
  readonly announcerConfig: string;
  readonly controllerConfig: string;
  readonly services: string;
  readonly loaderSocket: string;
  readonly announcerSocket: string;
  readonly controllerSocket: string;
  readonly pinRoot: string;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** What a lab other than the thesis' three balancers changes in a balancer's files. */
export interface BalancerFileOptions {
  /** The lab's services (default SERVICES: the thesis' three balancers; servicesFor(n) for n). */
  readonly services?: readonly ServiceDef[];
  /** The loader holds BPF_ENABLE_STATS: each program counts its runs and their ns (the scaling run's CPU per packet). */
  readonly runTimeStats?: boolean;
}

/** Writes the three daemons' configurations of a balancer (JSON, which is YAML). */
export function writeBalancerFiles(
  runDir: string,
  lb: BalancerName,
  pinRoot: string,
  objectDir: string,
  mode: LabMode,
  macs: ReadonlyMap<BackendName, string>,
  without: readonly { service: string; backend: BackendName }[] = [],
  o: BalancerFileOptions = {},
): BalancerFiles {
  const dir = join(runDir, lb);
  mkdirSync(dir, { recursive: true });
  const f: BalancerFiles = {
    dir,
    loaderConfig: join(dir, 'ebpf-loader.yaml'),
    announcerConfig: join(dir, 'bgp-announcer.yaml'),
    controllerConfig: join(dir, 'lb-controller.yaml'),
    services: join(dir, 'services.yaml'),
    loaderSocket: join(dir, 'ebpf-loader.sock'),
    announcerSocket: join(dir, 'bgp-announcer.sock'),
    controllerSocket: join(dir, 'lb-controller.sock'),
    pinRoot,
  };
  writeFileSync(
    f.loaderConfig,
    json({
      logLevel: 'info',
      objectDir,
      pinRoot,
      stateDir: join(dir, 'loader-state'),
      rpc: { socket: f.loaderSocket },
      telemetry: { listen: '127.0.0.1:9465' },
      stats: { runTime: o.runTimeStats === true },
    }),
  );
  writeFileSync(
    f.announcerConfig,
    json({
      logLevel: 'info',
      bgp: {
        localAs: AS,
        routerId: balancerAddr(lb),
        listen: [],
        holdTime: HOLD_TIME_S,
        connectRetry: '1s',
        idleHold: '200ms',
        families: ['ipv4-unicast'],
        peers: [{ address: RR_ADDR, remoteAs: AS, localAddress: balancerAddr(lb), description: 'route reflector (gobgpd)' }],
        announce: [],
      },
      grpc: { socket: f.announcerSocket },
      telemetry: { listen: '127.0.0.1:9179' },
    }),
  );
  writeFileSync(
    f.controllerConfig,
    json({
      logLevel: 'info',
      dataPlane: {
        via: 'loader',
        loaderSocket: f.loaderSocket,
        object: 'xlb/xlb.bpf.o',
        interface: 'eth0',
        xdpMode: 'native',
        // what it wrote, for its restart to adopt the pinned maps without rewriting them
        adoptionFile: join(dir, 'lb-controller.adoption.json'),
        // NAT: a pool of addresses of the balancer's own (not its main one, which its health
        // checks use): every port is free, and 4 × 64,512 ports / 60 s of TIME_WAIT reserve hold
        // ~4,300 new connections/s per backend; the NAT table is sized for the lab's rate × 60 s.
        ...(mode === 'nat' ? { natSourceV4: natSourceAddr(lb), natSourceCount: NAT_SOURCE_COUNT, mapSizes: { nat_rev: 262_144 } } : {}),
      },
      source: { kind: 'file', file: f.services },
      announcer: { enabled: true, socket: f.announcerSocket, nextHop: '' },
      grpc: { socket: f.controllerSocket },
      telemetry: { listen: '127.0.0.1:9464' },
    }),
  );
  writeServices(f.services, lb, mode, macs, without, o.services);
  return f;
}

/** The services file of a balancer: the services it carries (of `all`), minus removed backends. */
export function writeServices(
  file: string,
  lb: BalancerName,
  mode: LabMode,
  macs: ReadonlyMap<BackendName, string>,
  without: readonly { service: string; backend: BackendName }[],
  all: readonly ServiceDef[] = SERVICES,
): void {
  const services = all.filter((s) => s.balancers.includes(lb)).map((s) => ({
    name: s.name,
    vip: s.vip,
    port: s.port,
    mode,
    healthCheck: { type: 'http', path: '/', ...HEALTH },
    backends: s.backends
      .filter((b) => !without.some((w) => w.service === s.name && w.backend === b))
      .map((b) => ({ address: backendAddr(b), mac: macs.get(b) })),
  }));
  // written aside and renamed: the controller, which watches the folder, never reads half a file
  writeFileSync(`${file}.tmp`, json({ services }));
  renameSync(`${file}.tmp`, file);
}

/** BIRD on the router: iBGP with the reflector, every path received, ECMP in the kernel. */
export function birdConfig(): string {
  return birdReflectorClientConfig({ as: AS, local: ROUTER_ADDR, reflector: RR_ADDR, holdTime: HOLD_TIME_S });
}

/** gobgpd as route reflector: the balancers are dynamic neighbours, the router gets every path. */
export function gobgpConfig(): string {
  return gobgpReflectorConfig({
    as: AS,
    routerId: RR_ADDR,
    localAddress: RR_ADDR,
    router: { address: ROUTER_ADDR, description: 'upstream router (BIRD)' },
    clientPrefixes: [BALANCER_RANGE],
    peerGroup: 'balancers',
    timers: { connectRetry: 1, holdTime: HOLD_TIME_S, keepalive: 1 },
  });
}

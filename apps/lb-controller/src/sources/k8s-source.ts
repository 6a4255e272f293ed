/**
 * Desired state from Kubernetes: Services of type LoadBalancer that are ours
 * (`spec.loadBalancerClass: netaccel.io/xlb`, or the annotation `lb.netaccel.io/mode`) and their
 * EndpointSlices, watched with @kubernetes/client-node's ListWatch (list, then watch from the
 * list's resourceVersion; BOOKMARKs advance it; `410 Gone` — an expired resourceVersion —
 * relists). A watch that fails otherwise is started again after `retryMs`.
 *
 * Mapping, per Service port: VIP = annotation `lb.netaccel.io/vip`, else `spec.loadBalancerIP`,
 * else `status.loadBalancer.ingress[0].ip`; mode = `lb.netaccel.io/mode` (l2dsr | ipip | gue |
 * nat, default nat); scheduler = `lb.netaccel.io/scheduler`; health check =
 * `lb.netaccel.io/health-check` (none | tcp | http:<path>, default none: the kubelet's readiness
 * already decides `ready`); backends = the addresses of the EndpointSlices labelled
 * `kubernetes.io/service-name` with the Service's name: ready endpoints take flows, serving but
 * terminating ones drain; MACs for l2dsr from `lb.netaccel.io/backend-macs` ("ip=mac,ip=mac").
 * A Service that does not validate is refused (logged, `problem` event) and its last good version
 * stays applied; the other Services are applied.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stateFromObject } from '../desired-state.js';
import type { DesiredState, ServiceInput, ServiceSpec } from '../desired-state.js';
import { NA_ERR_LB_K8S_WATCH } from '../errors.js';
import type { Logger } from '@netaccel/telemetry';
import type { SourceEvents, StateSource } from './source.js';

export const K8S_CLASS = 'netaccel.io/xlb';
export const K8S_ANNOTATION = Object.freeze({
  vip: 'lb.netaccel.io/vip',
  mode: 'lb.netaccel.io/mode',
  scheduler: 'lb.netaccel.io/scheduler',
  healthCheck: 'lb.netaccel.io/health-check',
  backendMacs: 'lb.netaccel.io/backend-macs',
});

export interface K8sSourceOptions {
  /** A kubeconfig file; none: in-cluster or the default kubeconfig. */
  readonly kubeconfig?: string;
  /** An API server URL without credentials (tests, kubectl proxy). */
  readonly server?: string;
  readonly retryMs?: number;
  readonly log: Logger;
}

type Svc = k8s.V1Service;
type Slice = k8s.V1EndpointSlice;

const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The services (one per port) a Kubernetes Service stands for, before validation; [] if not ours. */
export function servicesOf(svc: Svc, slices: readonly Slice[]): ServiceInput[] {
  const ann = svc.metadata?.annotations ?? {};
  const ours = svc.spec?.type === 'LoadBalancer' && (svc.spec.loadBalancerClass === K8S_CLASS || ann[K8S_ANNOTATION.mode] !== undefined);
  if (!ours) return [];
  const vip = ann[K8S_ANNOTATION.vip] ?? svc.spec?.loadBalancerIP ?? svc.status?.loadBalancer?.ingress?.[0]?.ip;
  if (vip === undefined) return []; // no address yet (an IPAM has not assigned one)
  const mode = (ann[K8S_ANNOTATION.mode] ?? 'nat') as ServiceInput['mode'];
  const hc = ann[K8S_ANNOTATION.healthCheck] ?? 'none';
  const healthCheck = hc.startsWith('http:') ? { type: 'http' as const, path: hc.slice(5) || '/' } : { type: hc as 'none' | 'tcp' };
  const macs = new Map(
    (ann[K8S_ANNOTATION.backendMacs] ?? '')
      .split(',')
      .map((p) => p.trim().split('='))
      .filter((p): p is [string, string] => p.length === 2),
  );
  const name = svc.metadata?.name ?? '';
  const mine = slices.filter((s) => s.metadata?.namespace === svc.metadata?.namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === name);
  return (svc.spec?.ports ?? []).map((p) => {
    const backends = new Map<string, NonNullable<ServiceInput['backends']>[number]>();
    for (const slice of mine) {
      const sp = slice.ports?.find((x) => (x.name ?? '') === (p.name ?? ''));
      if (!sp) continue;
      const target = sp.port ?? p.port;
      for (const ep of slice.endpoints) {
        const c = ep.conditions ?? {};
        const ready = c.ready !== false;
        const draining = !ready && c.serving === true && c.terminating === true;
        if (!ready && !draining) continue;
        for (const address of ep.addresses) {
          const port = mode === 'nat' ? target : target === p.port ? 0 : target;
          const mac = macs.get(address);
          backends.set(`${address}:${port}`, { address, port, draining, ...(mac === undefined ? {} : { mac }) });
        }
      }
    }
    const scheduler = ann[K8S_ANNOTATION.scheduler] as ServiceInput['scheduler'] | undefined;
    return {
      name: `${key(svc)}${p.name ? `:${p.name}` : ''}`,
      vip,
      port: p.port,
      protocol: (p.protocol ?? 'TCP').toLowerCase() as ServiceInput['protocol'],
      mode,
      ...(scheduler === undefined ? {} : { scheduler }),
      healthCheck,
      backends: [...backends.values()],
    };
  });
}

export class K8sSource implements StateSource {
  readonly kind = 'kubernetes';
  readonly #opts: K8sSourceOptions;
  readonly #kc = new k8s.KubeConfig();
  #services: k8s.ListWatch<Svc> | undefined;
  #slices: k8s.ListWatch<Slice> | undefined;
  #good = new Map<string, { inputs: string; services: readonly ServiceSpec[] }>();
  #events: SourceEvents | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retries = new Set<NodeJS.Timeout>();
  #closed = false;
  /** Lists made (relists after 410 Gone included), for tests and metrics. */
  lists = 0;

  constructor(opts: K8sSourceOptions) {
    this.#opts = opts;
    if (opts.server !== undefined) {
      this.#kc.loadFromOptions({
        clusters: [{ name: 'c', server: opts.server, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
    } else if (opts.kubeconfig !== undefined) this.#kc.loadFromFile(opts.kubeconfig);
    else this.#kc.loadFromDefault();
  }

  async start(events: SourceEvents): Promise<void> {
    this.#events = events;
    const core = this.#kc.makeApiClient(k8s.CoreV1Api);
    const discovery = this.#kc.makeApiClient(k8s.DiscoveryV1Api);
    const watch = new k8s.Watch(this.#kc);
    const counted = <T>(fn: () => Promise<T>) => () => {
      this.lists++;
      return fn();
    };
    this.#services = new k8s.ListWatch<Svc>('/api/v1/services', watch, counted(() => core.listServiceForAllNamespaces()), false);
    this.#slices = new k8s.ListWatch<Slice>('/apis/discovery.k8s.io/v1/endpointslices', watch, counted(() => discovery.listEndpointSliceForAllNamespaces()), false);
    const hook = <T extends KubernetesObject>(lw: k8s.ListWatch<T>): void => {
      lw.on(k8s.ADD, () => this.#changed());
      lw.on(k8s.UPDATE, () => this.#changed());
      lw.on(k8s.DELETE, () => this.#changed());
      lw.on(k8s.ERROR, (err: unknown) => this.#failed(() => lw.start(), err));
    };
    hook(this.#services);
    hook(this.#slices);
    await this.#services.start();
    await this.#slices.start();
    this.#publish();
  }

  #failed(restart: () => Promise<void>, err: unknown): void {
    if (this.#closed) return;
    const e = NA_ERR_LB_K8S_WATCH.with({ cause: err }, 'watch', err instanceof Error ? err.message : String(err));
    this.#opts.log.warn({ err: e }, 'kubernetes watch failed; starting it again');
    this.#events?.problem('connection', e);
    const t = setTimeout(() => {
      this.#retries.delete(t);
      if (!this.#closed) void restart();
    }, this.#opts.retryMs ?? 1000);
    this.#retries.add(t);
  }

  /** Coalesces a burst of events (a relist delivers many) into one state. */
  #changed(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publish();
    }, 5);
  }

  #publish(): void {
    if (this.#closed || !this.#services || !this.#slices) return;
    const slices = this.#slices.list();
    const services: ServiceSpec[] = [];
    const seen = new Set<string>();
    for (const svc of this.#services.list()) {
      const k = key(svc);
      seen.add(k);
      const inputs = servicesOf(svc, slices);
      const text = JSON.stringify(inputs);
      const prev = this.#good.get(k);
      if (prev?.inputs === text) {
        services.push(...prev.services);
        continue;
      }
      try {
        const st = stateFromObject({ services: inputs }, `kubernetes service ${k}`);
        this.#good.set(k, { inputs: text, services: st.services });
        services.push(...st.services);
      } catch (err) {
        this.#opts.log.error({ err, service: k, kept: prev !== undefined }, 'kubernetes service refused; its last good version stays');
        this.#events?.problem('record', err);
        if (prev) services.push(...prev.services);
      }
    }
    for (const k of this.#good.keys()) if (!seen.has(k)) this.#good.delete(k);
    // one VIP/port/protocol in two Services: the first (by namespace/name) keeps it
    const byId = new Map<string, ServiceSpec>();
    for (const s of services) {
      if (byId.has(s.id)) {
        this.#opts.log.error({ service: s.name, id: s.id, keptBy: byId.get(s.id)!.name }, 'kubernetes service refused: its VIP is already another service\'s');
        continue;
      }
      byId.set(s.id, s);
    }
    const state: DesiredState = Object.freeze({ services: Object.freeze([...byId.values()]) });
    this.#events?.state(state, 'kubernetes');
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const t of this.#retries) clearTimeout(t);
    await this.#services?.stop();
    await this.#slices?.stop();
  }
}

/**
 * The standard gRPC health service (grpc.health.v1.Health: Check, List, Watch), added to every
 * server by createRpcServer. Each served service has a status the daemon sets (SERVING /
 * NOT_SERVING, e.g. NOT_SERVING while the loader re-adopts pinned objects); the empty name ""
 * is the server as a whole: SERVING exactly when every service is. On shutdown everything turns
 * NOT_SERVING (watchers see it) and stays so.
 */
import {
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthListResponse,
  HealthService,
} from './generated/grpc/health/v1/health.js';
import type { HealthCheckRequest, HealthListRequest } from './generated/grpc/health/v1/health.js';
import { NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE, NA_ERR_RPC_INVALID_OPTIONS } from './errors.js';
import { rpcService, serviceNameOf } from './handlers.js';
import type { CallContext, ServiceDefinitionLike, ServiceRegistration } from './handlers.js';
import { StreamQueue } from './stream-queue.js';

/** The status a daemon sets. */
export type HealthStatus = 'SERVING' | 'NOT_SERVING';

/** The name the health service answers for the server as a whole. */
export const OVERALL_HEALTH = '';

const WIRE: Readonly<Record<HealthStatus, ServingStatus>> = Object.freeze({
  SERVING: ServingStatus.SERVING,
  NOT_SERVING: ServingStatus.NOT_SERVING,
});

/** What a daemon uses to report its health: `server.health.setStatus(LoaderService, 'NOT_SERVING')`. */
export interface HealthReporter {
  /** Sets the status of one served service, by definition or full name. */
  setStatus(service: string | ServiceDefinitionLike, status: HealthStatus): void;
  /** The status of one served service, or of the server as a whole for "". */
  getStatus(service: string | ServiceDefinitionLike): HealthStatus;
  /** Names of the services the health service reports on (without ""). */
  services(): string[];
}

type Listener = (service: string, status: ServingStatus) => void;

/** Statuses of one server's services, and the listeners of Watch calls. */
export class HealthState implements HealthReporter {
  private readonly statuses = new Map<string, HealthStatus>();
  private readonly listeners = new Set<Listener>();
  private closed = false;

  constructor(services: readonly string[], initial: HealthStatus) {
    for (const s of services) this.statuses.set(s, initial);
  }

  private nameOf(service: string | ServiceDefinitionLike): string {
    return typeof service === 'string' ? service : serviceNameOf(service);
  }

  private known(): string {
    return [...this.statuses.keys()].join(', ') || 'none';
  }

  services(): string[] {
    return [...this.statuses.keys()];
  }

  setStatus(service: string | ServiceDefinitionLike, status: HealthStatus): void {
    if (status !== 'SERVING' && status !== 'NOT_SERVING') throw NA_ERR_RPC_INVALID_OPTIONS('status', `expected SERVING or NOT_SERVING, got ${JSON.stringify(status)}`);
    const name = this.nameOf(service);
    if (name === OVERALL_HEALTH) throw NA_ERR_RPC_INVALID_OPTIONS('service', 'the overall status "" follows the services; set theirs');
    const old = this.statuses.get(name);
    if (old === undefined) throw NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE(name, this.known());
    if (this.closed || old === status) return;
    const overallBefore = this.overall();
    this.statuses.set(name, status);
    this.emit(name, WIRE[status]);
    const overallAfter = this.overall();
    if (overallAfter !== overallBefore) this.emit(OVERALL_HEALTH, WIRE[overallAfter]);
  }

  getStatus(service: string | ServiceDefinitionLike): HealthStatus {
    const name = this.nameOf(service);
    if (name === OVERALL_HEALTH) return this.overall();
    const s = this.statuses.get(name);
    if (s === undefined) throw NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE(name, this.known());
    return s;
  }

  private overall(): HealthStatus {
    if (this.closed) return 'NOT_SERVING';
    for (const s of this.statuses.values()) if (s !== 'SERVING') return 'NOT_SERVING';
    return 'SERVING';
  }

  /** The wire status of `name`, SERVICE_UNKNOWN for a service the server does not serve. */
  wireStatus(name: string): ServingStatus {
    if (name === OVERALL_HEALTH) return WIRE[this.overall()];
    const s = this.statuses.get(name);
    return s === undefined ? ServingStatus.SERVICE_UNKNOWN : WIRE[s];
  }

  /** Shutdown: every service NOT_SERVING, for good. */
  close(): void {
    if (this.closed) return;
    const overallBefore = this.overall();
    for (const [name, s] of this.statuses) {
      this.statuses.set(name, 'NOT_SERVING');
      if (s !== 'NOT_SERVING') this.emit(name, ServingStatus.NOT_SERVING);
    }
    this.closed = true;
    if (overallBefore !== 'NOT_SERVING') this.emit(OVERALL_HEALTH, ServingStatus.NOT_SERVING);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(service: string, status: ServingStatus): void {
    for (const l of this.listeners) l(service, status);
  }
}

/** The grpc.health.v1.Health implementation over `state`. */
export function healthService(state: HealthState): ServiceRegistration<typeof HealthService> {
  return rpcService(HealthService, {
    check: (req: HealthCheckRequest): HealthCheckResponse => {
      const status = state.wireStatus(req.service);
      if (status === ServingStatus.SERVICE_UNKNOWN) throw NA_ERR_RPC_HEALTH_UNKNOWN_SERVICE(req.service, state.services().join(', ') || 'none');
      return HealthCheckResponse.create({ status });
    },
    list: (_req: HealthListRequest): HealthListResponse => {
      const statuses: Record<string, HealthCheckResponse> = {
        [OVERALL_HEALTH]: HealthCheckResponse.create({ status: state.wireStatus(OVERALL_HEALTH) }),
      };
      for (const name of state.services()) statuses[name] = HealthCheckResponse.create({ status: state.wireStatus(name) });
      return HealthListResponse.create({ statuses });
    },
    watch: (req: HealthCheckRequest, ctx: CallContext): AsyncIterable<HealthCheckResponse> => {
      let last = state.wireStatus(req.service);
      let unsubscribe = (): void => undefined;
      const queue = new StreamQueue<HealthCheckResponse>({ signal: ctx.signal, maxBuffered: 100, onClose: () => unsubscribe() });
      queue.push(HealthCheckResponse.create({ status: last }));
      unsubscribe = state.subscribe((service, status) => {
        if (service !== req.service || status === last) return;
        last = status;
        queue.push(HealthCheckResponse.create({ status }));
      });
      if (queue.closed) unsubscribe(); // the call ended before we subscribed
      return queue;
    },
  });
}

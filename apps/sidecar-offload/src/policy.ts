/**
 * Per-method allow/deny policy and route matching, compiled from the configuration into exact
 * string tables: one of method paths, one of services, and a default. That is the shape the
 * kernel path compiles into maps (a method path and a service name are exact keys; no patterns),
 * so user space and the kernel decide the same call the same way: a method rule wins over a
 * service rule, which wins over the listener's default.
 */
import type { ListenerConfig, RouteConfig } from './config.js';

export type Action = 'allow' | 'deny';

/** "/pkg.Service/Method" → "pkg.Service"; undefined when the path is not of that form. */
export function serviceOf(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return undefined;
  return path.slice(1, slash);
}

export interface CompiledPolicy {
  readonly listener: string;
  readonly defaultAction: Action;
  /** Exact method path → action. */
  readonly methods: ReadonlyMap<string, Action>;
  /** Service name → action. */
  readonly services: ReadonlyMap<string, Action>;
}

/** Compiles a listener's policy; a later rule for the same method or service replaces an earlier one. */
export function compilePolicy(listener: string, policy: ListenerConfig['policy']): CompiledPolicy {
  const methods = new Map<string, Action>();
  const services = new Map<string, Action>();
  for (const r of policy.rules) {
    if (r.method !== undefined) methods.set(r.method, r.action);
    else if (r.service !== undefined) services.set(r.service, r.action);
  }
  return Object.freeze({ listener, defaultAction: policy.default, methods, services });
}

/** What the policy says of a call to `path`, and which rule said it. */
export function decide(p: CompiledPolicy, path: string): { action: Action; by: 'method' | 'service' | 'default' } {
  const m = p.methods.get(path);
  if (m !== undefined) return { action: m, by: 'method' };
  const svc = serviceOf(path);
  const s = svc === undefined ? undefined : p.services.get(svc);
  if (s !== undefined) return { action: s, by: 'service' };
  return { action: p.defaultAction, by: 'default' };
}

export interface CompiledRoute {
  readonly match: { readonly kind: 'method' | 'service' | 'prefix'; readonly value: string };
  readonly cluster: string;
  /** ms: deadline of a call without grpc-timeout. */
  readonly timeoutMs: number;
  /** ms: cap of any deadline. */
  readonly maxTimeoutMs: number;
}

export function compileRoutes(routes: readonly RouteConfig[], defaults: { timeout: number; maxTimeout: number }): readonly CompiledRoute[] {
  return routes.map((r) => {
    const match = r.method !== undefined ? { kind: 'method' as const, value: r.method } : r.service !== undefined ? { kind: 'service' as const, value: r.service } : { kind: 'prefix' as const, value: r.prefix! };
    const maxTimeoutMs = r.maxTimeout ?? defaults.maxTimeout;
    return Object.freeze({ match, cluster: r.cluster, timeoutMs: Math.min(r.timeout ?? defaults.timeout, maxTimeoutMs), maxTimeoutMs });
  });
}

/** The first route that matches the call's path. */
export function matchRoute(routes: readonly CompiledRoute[], path: string): CompiledRoute | undefined {
  for (const r of routes) {
    const { kind, value } = r.match;
    if (kind === 'method' ? path === value : kind === 'service' ? serviceOf(path) === value : path.startsWith(value)) return r;
  }
  return undefined;
}

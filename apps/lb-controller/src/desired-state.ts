/**
 * The desired state: virtual services and their backends, as every source (YAML file, etcd,
 * Kubernetes) gives it. One zod schema, validated with @netaccel/config so that every problem
 * names its field path (`services[1].backends[0].weight: expected an integer 0..65535, got
 * 70000`); a state with any problem is refused whole. The result is normalised (canonical
 * addresses, the service id, the data plane's mode names) and frozen.
 */
import * as z from 'zod';
import { NA_ERR_CONFIG_INVALID, NA_ERR_CONFIG_PARSE, defineConfig, duration, parseConfig, port } from '@netaccel/config';
import type { ConfigIssue } from '@netaccel/config';
import { isNetaccelError } from '@netaccel/errors';
import { canonicalIp, ipFamily } from '@netaccel/protocol';
import type { XlbModeName } from '@netaccel/bpf-programs/xlb';
import { NA_ERR_LB_STATE_INVALID } from './errors.js';
import { MAGLEV_DEFAULT_SIZE, MAGLEV_MAX_WEIGHT, isPrime } from './maglev.js';

/** Forwarding modes as written in the state, and the data plane's names for them. */
export const MODES = Object.freeze({ l2dsr: 'l2-dsr', ipip: 'ipip', gue: 'gue', nat: 'nat' } as const satisfies Record<string, XlbModeName>);
export type ModeName = keyof typeof MODES;

/**
 * Schedulers. `maglev` is weighted Maglev; `lc` re-weights the Maglev table from the active
 * flows per backend (least connection for new flows). IPVS names are accepted and mapped
 * (README, "Schedulers for IPVS users"): rr → maglev with weights ignored, wrr / mh → maglev,
 * sh → maglev hashing the source address only, wlc → lc.
 */
export const SCHEDULERS = ['maglev', 'lc', 'rr', 'wrr', 'sh', 'mh', 'wlc'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

const ipText = z.string().refine((s) => ipFamily(s) !== undefined, 'expected an IPv4 or IPv6 address (no zone)');
const macText = z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'expected a MAC address like 02:00:00:00:00:01');

const healthCheckSchema = z.strictObject({
  type: z.enum(['tcp', 'http', 'none']).default('tcp'),
  /** Port to check; default the backend's port, else the service's. */
  port: port().optional(),
  path: z.string().startsWith('/').default('/'),
  expectStatus: z.int().min(100).max(599).default(200),
  /** Host header of HTTP checks; default the backend's address. */
  host: z.string().min(1).optional(),
  interval: duration({ min: 10, max: 3_600_000 }).default(2000), // ms between checks (2 s)
  timeout: duration({ min: 1, max: 60_000 }).default(1000), // ms per check (1 s)
  rise: z.int().min(1).max(100).default(2), // successes to become healthy
  fall: z.int().min(1).max(100).default(3), // failures to become unhealthy
});

const backendSchema = z.strictObject({
  address: ipText,
  /** NAT target port; 0 keeps the service's port (DSR modes always keep it). */
  port: port({ allowZero: true }).default(0),
  weight: z.int().min(0).max(MAGLEV_MAX_WEIGHT).default(1),
  /** The backend's MAC: required for l2dsr; for other modes it makes the backend on-link. */
  mac: macText.optional(),
  draining: z.boolean().default(false),
});

const serviceSchema = z.strictObject({
  name: z.string().max(253).default(''),
  vip: ipText,
  /** 0: every port (a port-wildcard VIP). */
  port: port({ allowZero: true }),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  mode: z.enum(['l2dsr', 'ipip', 'gue', 'nat']),
  scheduler: z.enum(SCHEDULERS).default('maglev'),
  flags: z.strictObject({
    hashSourceOnly: z.boolean().default(false),
    announce: z.boolean().default(true),
  }).default({ hashSourceOnly: false, announce: true }),
  tableSize: z.int().min(2).max(16_777_213).refine(isPrime, 'expected a prime').default(MAGLEV_DEFAULT_SIZE),
  healthCheck: healthCheckSchema.default({ type: 'tcp', path: '/', expectStatus: 200, interval: 2000, timeout: 1000, rise: 2, fall: 3 }),
  backends: z.array(backendSchema).default([]),
}).superRefine((s, ctx) => {
  const family = ipFamily(s.vip);
  const seen = new Map<string, number>();
  s.backends.forEach((b, i) => {
    const f = ipFamily(b.address);
    if (f === undefined) return;
    if (s.mode === 'l2dsr' && b.mac === undefined) {
      ctx.addIssue({ code: 'custom', path: ['backends', i, 'mac'], message: 'expected a MAC address: l2dsr forwards to the backend\'s MAC', input: b.mac });
    }
    if (s.mode === 'nat' && family !== undefined && f !== family) {
      ctx.addIssue({ code: 'custom', path: ['backends', i, 'address'], message: `expected an IPv${family} address like the VIP (nat does not translate between families)`, input: b.address });
    }
    if (s.mode !== 'nat' && b.port !== 0 && b.port !== s.port) {
      ctx.addIssue({ code: 'custom', path: ['backends', i, 'port'], message: `expected 0 or the service's port ${s.port}: only nat changes the port`, input: b.port });
    }
    const key = `${canonicalIp(b.address)}:${b.port}`;
    const j = seen.get(key);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['backends', i, 'address'], message: `expected each backend once, ${key} is already backends[${j}]`, input: b.address });
    seen.set(key, i);
  });
  const limit = Math.floor(s.tableSize / 100);
  if (s.backends.length > limit) {
    ctx.addIssue({
      code: 'custom',
      path: ['backends'],
      message: `expected at most ${limit} backends for tableSize ${s.tableSize} (Maglev keeps its balance with tableSize >= 100 x backends), got ${s.backends.length}`,
      input: s.backends.length,
    });
  }
});

export type ServiceInput = z.input<typeof serviceSchema>;

/** "198.51.100.10:443/tcp", "[2001:db8::10]:443/tcp". */
export function serviceId(vip: string, port: number, protocol: string): string {
  const a = canonicalIp(vip);
  return `${a.includes(':') ? `[${a}]` : a}:${port}/${protocol}`;
}

const stateSchema = z.strictObject({
  // Required: an empty or truncated file must not read as "no services" and empty the balancer;
  // removing every service is an explicit `services: []`.
  services: z.array(serviceSchema),
}).superRefine((st, ctx) => {
  const seen = new Map<string, number>();
  st.services.forEach((s, i) => {
    if (ipFamily(s.vip) === undefined) return;
    const id = serviceId(s.vip, s.port, s.protocol);
    const j = seen.get(id);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['services', i, 'vip'], message: `expected each VIP, port and protocol once, ${id} is already services[${j}]`, input: s.vip });
    seen.set(id, i);
  });
});

const stateDefinition = defineConfig({ app: 'lb-services', schema: stateSchema });
const serviceDefinition = defineConfig({ app: 'lb-service', schema: serviceSchema });

export interface HealthCheckSpec {
  readonly type: 'tcp' | 'http' | 'none';
  readonly port?: number;
  readonly path: string;
  readonly expectStatus: number;
  readonly host?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
}

export interface BackendSpec {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly mac?: string;
  readonly draining: boolean;
}

export interface ServiceSpec {
  /** "<vip>:<port>/<protocol>" */
  readonly id: string;
  readonly name: string;
  readonly vip: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly mode: XlbModeName;
  readonly scheduler: SchedulerName;
  readonly flags: { readonly hashSourceOnly: boolean; readonly announce: boolean };
  readonly tableSize: number;
  readonly healthCheck: HealthCheckSpec;
  readonly backends: readonly BackendSpec[];
}

export interface DesiredState {
  readonly services: readonly ServiceSpec[];
}

type ParsedService = z.output<typeof serviceSchema>;

function normalise(s: ParsedService): ServiceSpec {
  const hc = s.healthCheck;
  return Object.freeze({
    id: serviceId(s.vip, s.port, s.protocol),
    name: s.name,
    vip: canonicalIp(s.vip),
    port: s.port,
    protocol: s.protocol,
    mode: MODES[s.mode],
    scheduler: s.scheduler,
    // sh is source hashing: the flag is what makes it so
    flags: Object.freeze({ hashSourceOnly: s.flags.hashSourceOnly || s.scheduler === 'sh', announce: s.flags.announce }),
    tableSize: s.tableSize,
    healthCheck: Object.freeze({
      type: hc.type,
      ...(hc.port === undefined ? {} : { port: hc.port }),
      path: hc.path,
      expectStatus: hc.expectStatus,
      ...(hc.host === undefined ? {} : { host: hc.host }),
      intervalMs: hc.interval,
      timeoutMs: hc.timeout,
      rise: hc.rise,
      fall: hc.fall,
    }),
    backends: Object.freeze(
      s.backends.map((b) =>
        Object.freeze({
          address: canonicalIp(b.address),
          port: b.port,
          // rr ignores weights (every backend weighs 1, except those switched off with 0)
          weight: s.scheduler === 'rr' && b.weight > 0 ? 1 : b.weight,
          ...(b.mac === undefined ? {} : { mac: b.mac.toLowerCase() }),
          draining: b.draining,
        }),
      ),
    ),
  });
}

/** Rewraps a configuration error as NA_ERR_LB_STATE_INVALID with the same issues. */
function refused(source: string, err: unknown): never {
  if (NA_ERR_CONFIG_INVALID.is(err) || NA_ERR_CONFIG_PARSE.is(err)) {
    const issues = (err.details.issues as ConfigIssue[] | undefined) ?? [];
    throw NA_ERR_LB_STATE_INVALID.with({ cause: err, details: { source, issues } }, source, err.message);
  }
  if (isNetaccelError(err)) throw err;
  throw NA_ERR_LB_STATE_INVALID.with({ cause: err, details: { source, issues: [] } }, source, String(err));
}

/**
 * Fast path for JSON text (etcd records, Kubernetes states): JSON.parse and the schema, without
 * the YAML parser's position tracking (~1% of the time). Anything that does not pass goes the
 * full way, which words the problems with their positions. (JSON.parse keeps the last of
 * duplicate keys where the YAML parser refuses them.)
 */
function fastJson<T>(text: string, schema: z.ZodType<T>): T | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function stateOf(parsed: z.output<typeof stateSchema>): DesiredState {
  return Object.freeze({ services: Object.freeze(parsed.services.map((s) => normalise(s))) });
}

/** Parses a whole state (YAML or JSON text); throws NA_ERR_LB_STATE_INVALID naming every bad field. */
export function parseState(text: string, source: string): DesiredState {
  if (/^\s*(#[^\n]*\s*)*$/.test(text)) {
    throw NA_ERR_LB_STATE_INVALID.with(
      { details: { source, issues: [] } },
      source,
      'the text is empty (a truncated write?); to remove every service, write `services: []`',
    );
  }
  const fast = fastJson(text, stateSchema);
  if (fast) return stateOf(fast);
  let parsed;
  try {
    parsed = parseConfig(stateDefinition, { yaml: text, file: source, env: {} });
  } catch (err) {
    refused(source, err);
  }
  return stateOf(parsed as z.output<typeof stateSchema>);
}

/** Validates a state given as plain data (from Kubernetes objects). */
export function stateFromObject(value: { services: readonly ServiceInput[] }, source: string): DesiredState {
  return parseState(JSON.stringify(value), source);
}

/** Parses one service (an etcd record: YAML or JSON); throws NA_ERR_LB_STATE_INVALID. */
export function parseService(text: string, source: string): ServiceSpec {
  const fast = fastJson(text, serviceSchema);
  if (fast) return normalise(fast);
  let parsed;
  try {
    parsed = parseConfig(serviceDefinition, { yaml: text, file: source, env: {} });
  } catch (err) {
    refused(source, err);
  }
  return normalise(parsed as ParsedService);
}

/**
 * Joins services from several records into one state; a service whose id an earlier one
 * already has is returned in `conflicts` (the change that introduced it is refused).
 */
export function mergeServices(records: readonly { source: string; service: ServiceSpec }[]): { state: DesiredState; conflicts: { source: string; message: string }[] } {
  const byId = new Map<string, string>();
  const services: ServiceSpec[] = [];
  const conflicts: { source: string; message: string }[] = [];
  for (const r of records) {
    const first = byId.get(r.service.id);
    if (first !== undefined) {
      conflicts.push({ source: r.source, message: `vip: expected each VIP, port and protocol once, ${r.service.id} is already defined by ${first}` });
      continue;
    }
    byId.set(r.service.id, r.source);
    services.push(r.service);
  }
  return { state: Object.freeze({ services: Object.freeze(services) }), conflicts };
}

export const EMPTY_STATE: DesiredState = Object.freeze({ services: Object.freeze([]) });

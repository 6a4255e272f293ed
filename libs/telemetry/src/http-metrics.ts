/**
 * Request metrics of the telemetry server itself:
 *
 *   netaccel_http_requests_total{route,status}            requests answered
 *   netaccel_http_request_duration_seconds{route}          time to answer them
 *
 * `route` is the route's pattern (`/v1/peers/:id`), never the raw URL, so scanners cannot blow
 * up the number of series; requests no route matched count under `route="unmatched"`.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import type { Metrics } from './metrics.js';

export const UNMATCHED_ROUTE = 'unmatched';

/** Buckets in seconds: telemetry answers take microseconds to a status provider's seconds. */
const DURATION_BUCKETS = Object.freeze([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  const requests = existing(metrics, 'http_requests_total', Counter<'route' | 'status'>) ??
    metrics.counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered by the telemetry server, by route pattern and status code',
      labelNames: ['route', 'status'],
    });
  const duration = existing(metrics, 'http_request_duration_seconds', Histogram<'route'>) ??
    metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'Time the telemetry server took to answer HTTP requests, by route pattern',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
    });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    requests.inc({ route, status: String(reply.statusCode) });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });
}

/**
 * The metric already in the registry under this name, when several servers share one Metrics
 * (a daemon that rebuilds its server keeps counting in the same series).
 */
function existing<T>(metrics: Metrics, name: string, type: abstract new (...args: never[]) => T): T | undefined {
  const metric: unknown = metrics.registry.getSingleMetric(metrics.name(name));
  return metric instanceof type ? metric : undefined;
}

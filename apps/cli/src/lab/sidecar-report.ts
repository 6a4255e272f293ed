/**
 * The sidecar scenario's report as `netaccel lab --scenario sidecar` shows it: calls/s and latency
 * per phase, per method what the client saw beside the sidecar's telemetry (GetStats, /metrics,
 * the access log)
 * and the server's count, the policy reload, each connection's offload state as the daemon gives
 * it, the etcd key counts in Redis, and where the chart and the JSON are (@netaccel/labs writes
 * them in the run's folder).
 */
import type { MethodReport, SidecarPhase, SidecarReport } from '@netaccel/labs';
import { renderTable } from '../output.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(1)}`;
const ms = (v: number): string => `${v.toFixed(2)} ms`;
/** `OK 20, PERMISSION_DENIED 30`. */
const statuses = (r: Readonly<Record<string, number>>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || '-';

export function sidecarReportText(r: SidecarReport): string {
  const out: string[] = [];
  out.push(`sidecar-offload: ${r.clients} grpc-js callers through the inbound sidecar (lab.Inventory: Get, List as a server stream, Delete)${r.quick ? ', shortened run' : ''}`);
  out.push(`  ${r.layout}`);
  out.push('', 'calls per phase (client)');
  out.push(
    renderTable(
      [
        { header: 'phase', value: (p: SidecarPhase) => p.name },
        { header: 'from-to (s)', value: (p) => `${s(p.fromMs)}-${s(p.toMs)}`, align: 'right' },
        { header: 'calls', value: (p) => p.calls, align: 'right' },
        { header: 'calls/s', value: (p) => Math.round(p.callsPerSec), align: 'right' },
        { header: 'p50', value: (p) => ms(p.p50Ms), align: 'right' },
        { header: 'p99', value: (p) => ms(p.p99Ms), align: 'right' },
        { header: r.policy.denied, value: (p) => statuses(p.statuses[r.policy.denied] ?? {}) },
      ],
      r.phases,
    ),
  );
  out.push('', 'per method: the client, the sidecar (GetStats, /metrics, access log: user space; kernel: requests it carried; bytes: client / user space + kernel payload; latency from its histogram), the server');
  out.push(
    renderTable(
      [
        { header: 'method', value: (m: MethodReport) => m.method },
        { header: 'client', value: (m) => statuses(m.client.statuses) },
        { header: 'sidecar', value: (m) => statuses(m.sidecar.statuses) },
        { header: '/metrics', value: (m) => statuses(m.metrics) },
        { header: 'access log', value: (m) => statuses(m.accessLog) },
        { header: 'server', value: (m) => m.server, align: 'right' },
        { header: 'kernel', value: (m) => m.kernel?.requests ?? '-', align: 'right' },
        { header: 'req bytes', value: (m) => `${m.client.requestBytes} / ${m.sidecar.requestBytes + (m.kernel?.requestPayload ?? 0)}`, align: 'right' },
        { header: 'resp bytes', value: (m) => `${m.client.responseBytes} / ${m.sidecar.responseBytes + (m.kernel?.responsePayload ?? 0)}`, align: 'right' },
        { header: 'p50 client / sidecar', value: (m) => `${ms(m.client.p50Ms)} / ${ms(m.sidecar.p50Ms)}`, align: 'right' },
        { header: 'p99 client / sidecar', value: (m) => `${ms(m.client.p99Ms)} / ${ms(m.sidecar.p99Ms)}`, align: 'right' },
      ],
      r.methods,
    ),
  );
  const d = r.accessLog.denied;
  out.push('', `access log: ${r.accessLog.lines} lines (one per call in user space)${d !== undefined ? `; a denied call: ${JSON.stringify(d)}` : ''}`);
  const p = r.policy;
  out.push('', `policy: ${p.denied} denied by a reload (SIGHUP, applied in ${p.reloadMs} ms): before ${statuses(p.before)}; invoked after ${statuses(p.after)}; the client's connections kept ${p.connectionsKept} of ${p.connectionsBefore}`);
  const o = r.offload;
  out.push('', `kernel path: ${o.requested ? o.kernelPath : 'not asked for'}`);
  for (const c of o.connections) out.push(`  connection ${c.id} from ${c.remote}, ${c.streams} streams: ${c.offloaded ? 'offloaded' : `not offloaded: ${c.reason}`}`);
  const kernel = r.methods.filter((m) => m.kernel !== undefined);
  if (kernel.length > 0) out.push(`  kernel counters: ${kernel.map((m) => `${m.method} requests ${m.kernel!.requests}, responses ${m.kernel!.responses}, denied ${m.kernel!.denied}, DATA ${m.kernel!.requestBytes} B / ${m.kernel!.responseBytes} B`).join('; ')}`);
  if (o.requested) out.push(`  requests the kernel carried: ${o.kernelRequests}${o.kernelRequests > 0 ? ' (they have no access-log line)' : ''}`);
  const frames = Object.values(o.frames).reduce((a, b) => a + b, 0);
  if (Object.keys(o.frames).length > 0) out.push(`  HTTP/2 frames the kernel saw: ${frames}${frames > 0 ? ` (${statuses(Object.fromEntries(Object.entries(o.frames).filter(([, v]) => v > 0)))})` : ''}`);
  const h = r.etcdHeat;
  if (h !== undefined) {
    out.push('', 'etcd key counts (Range/Put through the sidecar → Redis, reads/writes: sent = in Redis)');
    if (h.error !== undefined) out.push(`  ${h.error}`);
    else out.push(`  ${h.keys.map((k) => `${k.key} ${k.reads}/${k.writes} = ${k.redisReads}/${k.redisWrites}`).join(', ')}`);
  }
  out.push('', `clients: ${r.client.calls} calls, ${r.client.errors} errors`);
  out.push('', `chart: ${r.files.svg}`, `figures: ${r.files.json}`);
  return out.join('\n');
}

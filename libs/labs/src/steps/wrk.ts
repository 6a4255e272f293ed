/**
 * wrk as a scenario's client. A Lua script counts responses per 250 ms bucket and per backend (the
 * body is the backend's name), so the run yields requests/s over time and the split per backend;
 * its done() prints one `NETACCEL_WRK {json}` line with wrk's own summary (requests, socket
 * errors, latency) and the buckets. Every request opens a connection (`Connection: close`): each
 * is a new flow, hashed afresh by the router's ECMP and the balancers' Maglev tables.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NA_ERR_LAB_CHECK } from '../errors.js';

export const BUCKET_MS = 250;

const SCRIPT = `-- netaccel lab: responses per ${BUCKET_MS} ms and per backend (the body is the backend's name)
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } na_timeval;
int gettimeofday(na_timeval *tv, void *tz);
]]
local tv = ffi.new("na_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
end

wrk.headers["Connection"] = "close"
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  local name
  if status >= 200 and status < 300 and body ~= nil then
    name = string.match(body, "^([%w_-]+)") or "unnamed"
  else
    name = "status-" .. status
  end
  local key = math.floor(now_ms() / ${BUCKET_MS}) .. "|" .. name
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, string.format('"%s":%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'NETACCEL_WRK {"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p99":%d,"max":%d},"counts":{%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ",")))
end
`;

export interface WrkErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly status: number;
  readonly timeout: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly durationUs: number;
  readonly errors: WrkErrors;
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Responses by bucket start (ms since the epoch) and backend name (or `status-<code>`). */
  readonly buckets: ReadonlyMap<number, ReadonlyMap<string, number>>;
}

export function writeWrkScript(dir: string): string {
  const file = join(dir, 'wrk-lab.lua');
  writeFileSync(file, SCRIPT);
  return file;
}

export function wrkArgv(script: string, url: string, threads: number, connections: number): string[] {
  // a long duration: the lab ends the run with SIGINT, on which wrk stops and reports
  return ['wrk', `-t${threads}`, `-c${connections}`, '-d600s', '--timeout', '4s', '-s', script, url];
}

/** Parses the `NETACCEL_WRK` line of wrk's output. */
export function parseWrkOutput(output: string): WrkResult {
  const line = output.split('\n').find((l) => l.startsWith('NETACCEL_WRK '));
  if (line === undefined) throw NA_ERR_LAB_CHECK(`wrk printed no summary line; its output ended with: ${output.slice(-400)}`);
  const raw = JSON.parse(line.slice('NETACCEL_WRK '.length)) as Omit<WrkResult, 'buckets'> & { counts: Record<string, number> };
  const buckets = new Map<number, Map<string, number>>();
  for (const [key, n] of Object.entries(raw.counts)) {
    const [bucket, name] = [Number(key.slice(0, key.indexOf('|'))), key.slice(key.indexOf('|') + 1)];
    const at = bucket * BUCKET_MS;
    const m = buckets.get(at) ?? new Map<string, number>();
    m.set(name, (m.get(name) ?? 0) + n);
    buckets.set(at, m);
  }
  return { requests: raw.requests, durationUs: raw.durationUs, errors: raw.errors, latencyUs: raw.latencyUs, buckets };
}

/** Responses per backend within [fromMs, toMs). */
export function countsBetween(r: WrkResult, fromMs: number, toMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [at, m] of r.buckets) {
    if (at < fromMs || at >= toMs) continue;
    for (const [name, n] of m) out.set(name, (out.get(name) ?? 0) + n);
  }
  return out;
}

/**
 * One proxied gRPC call: policy, route, deadline, an upstream stream on the cluster's session,
 * the bytes of both directions forwarded chunk by chunk with backpressure (a direction pauses its
 * source while its sink's buffer is full, so HTTP/2 flow control reaches the slow end and the
 * sidecar holds at most a window per stream), the response headers, data and trailers passed
 * through, and exactly one status for the client, which telemetry records:
 *
 *   denied by policy           trailers-only PERMISSION_DENIED
 *   no route                   trailers-only UNIMPLEMENTED
 *   no endpoint reachable      trailers-only UNAVAILABLE
 *   deadline passed            upstream stream cancelled; DEADLINE_EXCEEDED (trailers-only or trailers)
 *   upstream reset or closed   UNAVAILABLE (trailers-only or trailers), or CANCELLED for its CANCEL
 *   client reset               upstream stream cancelled; recorded as CANCELLED
 */
import http2 from 'node:http2';
import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@netaccel/telemetry';
import { errorMessage } from '@netaccel/errors';
import type { Cluster, Endpoint, Picked } from './cluster.js';
import { NA_ERR_SIDECARD_DEADLINE, NA_ERR_SIDECARD_METHOD_DENIED, NA_ERR_SIDECARD_NO_ROUTE, NA_ERR_SIDECARD_UPSTREAM_RESET } from './errors.js';
import type { EtcdHeat } from './etcd-heat.js';
import { heatOpOf } from './etcd-heat.js';
import { GrpcFramer, GrpcStatus, decodeGrpcMessage, encodeGrpcMessage, formatGrpcTimeout, parseGrpcTimeout, parseStatus } from './grpc-wire.js';
import type { CompiledPolicy, CompiledRoute } from './policy.js';
import { decide, matchRoute } from './policy.js';
import type { CallStats } from './stats.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

/** Headers that belong to one connection and are never forwarded (RFC 9113, 8.2.2). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

/** What a listener hands every call. */
export interface CallEnv {
  readonly listener: string;
  readonly direction: string;
  readonly policy: CompiledPolicy;
  readonly routes: readonly CompiledRoute[];
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly stats: CallStats;
  readonly heat: EtcdHeat | undefined;
  readonly log: Logger;
}

/** The client connection's counters the call keeps current. */
export interface CallConnection {
  readonly remote: string;
  active: number;
  streams: number;
  /** performance.now() when its last call finished. */
  idleSince: number;
}

/** Request headers the proxy sets itself rather than forwards. */
const REQUEST_OWN = new Set(['grpc-timeout']);
const NONE: ReadonlySet<string> = new Set();

function forwardable(headers: IncomingHttpHeaders, out: OutgoingHttpHeaders, skip: ReadonlySet<string> = NONE): OutgoingHttpHeaders {
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || k.charCodeAt(0) === 0x3a /* : */ || HOP_BY_HOP.has(k) || skip.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function proxyCall(env: CallEnv, conn: CallConnection, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const start = performance.now();
  const path = first(headers[':path']) ?? '';
  const requestId = first(headers['x-request-id']);
  conn.active += 1;
  conn.streams += 1;
  const heat = env.heat;
  const op = heat === undefined ? undefined : heatOpOf(path);
  const requestFramer = heat === undefined || op === undefined ? new GrpcFramer() : new GrpcFramer(heat.captureBytes, (m) => heat.message(op, m));
  const response = new GrpcFramer();
  let upstream: ClientHttp2Stream | undefined;
  let endpoint: Endpoint | undefined;
  const deadline: { timer?: NodeJS.Timeout } = {};
  let finished = false;
  let trailers: OutgoingHttpHeaders | undefined;
  let ending = false;

  stream.on('error', (err) => env.log.debug({ method: path, err }, 'client stream error'));

  const finish = (status: number, message: string): void => {
    if (finished) return;
    finished = true;
    conn.active -= 1;
    if (conn.active === 0) conn.idleSince = performance.now();
    clearTimeout(deadline.timer);
    if (endpoint !== undefined) endpoint.active -= 1;
    env.stats.record({
      listener: env.listener,
      direction: env.direction,
      method: path,
      remote: conn.remote,
      upstream: endpoint?.address ?? '',
      grpcStatus: status,
      grpcMessage: message,
      durationMs: performance.now() - start,
      requestBytes: requestFramer.bytes,
      responseBytes: response.bytes,
      requestMessages: requestFramer.messages,
      responseMessages: response.messages,
      requestId,
    });
  };

  /** Ends the call towards the client with this status: trailers-only before headers, trailers after. */
  const sendStatus = (status: number, message: string): void => {
    if (finished) return;
    if (upstream !== undefined && !upstream.destroyed) upstream.close(NGHTTP2_CANCEL);
    if (stream.destroyed || stream.closed) {
      finish(status, message);
      return;
    }
    const st: OutgoingHttpHeaders = { 'grpc-status': String(status) };
    if (message !== '') st['grpc-message'] = encodeGrpcMessage(message);
    if (!stream.headersSent) {
      const h: OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': st['grpc-status'] };
      if (message !== '') h['grpc-message'] = st['grpc-message'];
      stream.respond(h, { endStream: true });
      stream.resume(); // the rest of the request is not wanted: let it drain
      finish(status, message);
      return;
    }
    trailers = st;
    if (!ending) {
      ending = true;
      stream.end();
    }
    stream.resume();
    finish(status, message);
  };

  stream.on('close', () => {
    if (finished) return;
    if (upstream !== undefined && !upstream.destroyed) upstream.close(NGHTTP2_CANCEL);
    finish(GrpcStatus.CANCELLED, `client reset the stream (${stream.rstCode ?? 0})`);
  });

  const verdict = decide(env.policy, path);
  if (verdict.action === 'deny') {
    sendStatus(GrpcStatus.PERMISSION_DENIED, NA_ERR_SIDECARD_METHOD_DENIED(path, env.listener).message);
    return;
  }
  const route = matchRoute(env.routes, path);
  const cluster = route === undefined ? undefined : env.clusters.get(route.cluster);
  if (route === undefined || cluster === undefined) {
    sendStatus(GrpcStatus.UNIMPLEMENTED, NA_ERR_SIDECARD_NO_ROUTE(env.listener, path).message);
    return;
  }
  const asked = parseGrpcTimeout(headers['grpc-timeout']);
  const deadlineMs = Math.min(asked ?? route.timeoutMs, route.maxTimeoutMs);
  deadline.timer = setTimeout(() => sendStatus(GrpcStatus.DEADLINE_EXCEEDED, NA_ERR_SIDECARD_DEADLINE(path, deadlineMs).message), deadlineMs);
  stream.pause(); // nothing is read until the upstream stream exists
  let picking: Picked | Promise<Picked>;
  try {
    picking = cluster.pick();
  } catch (err) {
    sendStatus(GrpcStatus.UNAVAILABLE, errorMessage(err));
    return;
  }
  // a connected session is picked synchronously; a connection being made is waited for
  if (picking instanceof Promise) picking.then(connect, (err: unknown) => sendStatus(GrpcStatus.UNAVAILABLE, errorMessage(err)));
  else connect(picking);

  function connect(picked: Picked): void {
    if (finished) return;
    endpoint = picked.endpoint;
    endpoint.active += 1;
    endpoint.calls += 1;
    const remaining = deadlineMs - (performance.now() - start);
    const out = forwardable(headers, { ':method': 'POST', ':scheme': 'http', ':path': path, ':authority': first(headers[':authority']) ?? endpoint.address }, REQUEST_OWN);
    out['grpc-timeout'] = formatGrpcTimeout(Math.max(1, remaining));
    try {
      upstream = picked.session.request(out, { endStream: false });
    } catch (err) {
      sendStatus(GrpcStatus.UNAVAILABLE, NA_ERR_SIDECARD_UPSTREAM_RESET(endpoint.address, path, errorMessage(err)).message);
      return;
    }
    wire(upstream, endpoint);
  }

  function wire(up: ClientHttp2Stream, ep: Endpoint): void {
    let upstreamEnded = false;
    up.on('error', (err) => env.log.debug({ method: path, upstream: ep.address, err }, 'upstream stream error'));

    // client -> upstream
    stream.on('data', (chunk: Buffer) => {
      requestFramer.push(chunk);
      if (up.destroyed || up.writableEnded) return;
      if (!up.write(chunk)) {
        stream.pause();
        up.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      if (!up.destroyed && !up.writableEnded) up.end();
    });
    stream.resume();

    // upstream -> client
    up.on('response', (h) => {
      if (finished || stream.destroyed) return;
      const out = forwardable(h, { ':status': h[':status'] ?? 200 });
      if (up.endAfterHeaders) {
        // trailers-only: the status is in these headers
        stream.respond(out, { endStream: true });
        stream.resume();
        finish(parseStatus(h['grpc-status']), decodeGrpcMessage(first(h['grpc-message']) ?? ''));
        return;
      }
      stream.respond(out, { waitForTrailers: true });
    });
    stream.on('wantTrailers', () => {
      stream.sendTrailers(trailers ?? { 'grpc-status': String(GrpcStatus.INTERNAL), 'grpc-message': 'upstream ended the stream without a status' });
    });
    up.on('data', (chunk: Buffer) => {
      response.push(chunk);
      if (finished || stream.destroyed || ending) return;
      if (!stream.write(chunk)) {
        up.pause();
        stream.once('drain', () => up.resume());
      }
    });
    up.on('trailers', (t) => {
      trailers = forwardable(t, {});
    });
    up.on('end', () => {
      // without trailers the stream was reset or broken: 'close' knows which
      if (trailers === undefined) return;
      upstreamEnded = true;
      if (finished || stream.destroyed) return;
      if (!stream.headersSent) {
        // a stream that ends without response HEADERS is broken
        sendStatus(GrpcStatus.INTERNAL, NA_ERR_SIDECARD_UPSTREAM_RESET(ep.address, path, 'no response headers').message);
        return;
      }
      const status = parseStatus(trailers['grpc-status'] as string | undefined);
      const message = decodeGrpcMessage(first(trailers['grpc-message'] as string | string[] | undefined) ?? '');
      if (!ending) {
        ending = true;
        stream.end();
      }
      finish(status, message);
    });
    up.on('close', () => {
      if (upstreamEnded || finished) return;
      // the upstream got the same deadline (grpc-timeout) and may give up a moment before our timer
      if (performance.now() - start >= deadlineMs - 5) {
        sendStatus(GrpcStatus.DEADLINE_EXCEEDED, NA_ERR_SIDECARD_DEADLINE(path, deadlineMs).message);
        return;
      }
      // Node may report a reset that arrives after our request side ended as a plain end (rstCode 0):
      // either way the upstream stream is gone without a status
      const code = up.rstCode ?? NGHTTP2_NO_ERROR;
      if (code === NGHTTP2_NO_ERROR) {
        sendStatus(GrpcStatus.UNAVAILABLE, NA_ERR_SIDECARD_UPSTREAM_RESET(ep.address, path, 'stream closed without trailers').message);
        return;
      }
      // the upstream's own CANCEL is a cancellation; any other reset, or its connection going, leaves the call unavailable
      const lost = up.session === undefined || up.session.destroyed || up.session.closed;
      const status = code === NGHTTP2_CANCEL && !lost ? GrpcStatus.CANCELLED : GrpcStatus.UNAVAILABLE;
      sendStatus(status, NA_ERR_SIDECARD_UPSTREAM_RESET(ep.address, path, lost ? 'connection closed' : `RST_STREAM ${code}`).message);
    });
  }
}

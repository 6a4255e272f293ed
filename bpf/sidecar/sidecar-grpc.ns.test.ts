/**
 * Root layer, real sockets: a node:http2 client and server (header table size 0 on both ends)
 * talking gRPC framing through the frame relay, whose sockets are paired in the kernel. The
 * kernel's per-method counters (requests, responses, grpc-status, request and response bytes,
 * latency histogram) equal what the client did, call by call; the relay reads nothing while the
 * policy allows. A denied method is handed to user space, answered PERMISSION_DENIED there, and
 * the next call on the same connection still succeeds.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, createServer as h2server } from 'node:http2';
import type { ClientHttp2Session, Http2Server, ServerHttp2Stream } from 'node:http2';
import { createConnection } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SIDECAR_CONN_F, SIDECAR_REASON, SIDECAR_RULE_F, compilePolicy, reverseSockKey } from './index.js';
import type { CompiledPolicy, MethodStats } from './index.js';
import { FrameRelay, SidecarObject, TestCgroup, grpcMessage } from './testing.js';
import type { RelayedConnection } from './testing.js';

const ECHO = '/test.Echo/Say';
const MISSING = '/test.Echo/Missing';
const DENIED = '/test.Echo/Forbidden';
const POLICY = { methods: { [ECHO]: 'allow', [MISSING]: 'allow', [DENIED]: 'deny' }, defaultAction: 'allow' } as const;
const REQUEST = Buffer.from('hello, sidecar'); // 14 bytes, 19 with the gRPC prefix
const REPLY = Buffer.alloc(100, 7); // 105 with the prefix

interface CallResult {
  readonly status: string | undefined;
  readonly received: number;
}

/** One unary call: returns the grpc-status (trailers or trailers-only) and the DATA bytes received. */
async function call(session: ClientHttp2Session, path: string): Promise<CallResult> {
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  let status: string | undefined;
  let received = 0;
  req.on('response', (h) => {
    if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
  });
  req.on('trailers', (t) => {
    status = String(t['grpc-status']);
  });
  req.on('data', (d: Buffer) => {
    received += d.length;
  });
  req.end(grpcMessage(REQUEST));
  await once(req, 'close');
  return { status, received };
}

function serve(stream: ServerHttp2Stream, path: string): void {
  stream.on('data', () => {});
  stream.on('end', () => {
    if (path === MISSING) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5' }, { endStream: true });
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(grpcMessage(REPLY));
  });
}

function delta(now: MethodStats, before: MethodStats) {
  return {
    requests: now.requests - before.requests,
    denied: now.denied - before.denied,
    responses: now.responses - before.responses,
    requestBytes: now.requestBytes - before.requestBytes,
    responseBytes: now.responseBytes - before.responseBytes,
    status: now.status.map((v, i) => v - before.status[i]!),
    latencyCount: now.latencyLog2Us.reduce((a, b) => a + b, 0n) - before.latencyLog2Us.reduce((a, b) => a + b, 0n),
  };
}

/**
 * `skb`: the relay's two sockets are paired, frames are judged when they arrive (sk_skb).
 * `msg`: the client's socket and the server's accepted one are paired, frames are judged when
 * they are sent (sk_msg) and go straight into the other end's receive queue.
 */
for (const mode of ['skb', 'msg'] as const) describe(`gRPC framing through the kernel path, ${mode} (node:http2, header table size 0)`, () => {
  let cgroup: TestCgroup;
  let sidecar: SidecarObject;
  let compiled: CompiledPolicy;
  let server: Http2Server;
  let relay: FrameRelay;
  let opened = 0;
  const id = (path: string) => compiled.methodIds.get(path)!;
  /** The socket whose frames carry the requests: the relay's client side (skb) or the client's (msg). */
  const judged = (conn: RelayedConnection) => (mode === 'skb' ? conn.clientKey : reverseSockKey(conn.clientKey));

  beforeAll(async () => {
    cgroup = TestCgroup.create(`nsk-sidecar-grpc-${mode}-`);
    cgroup.enter();
    try {
      sidecar = SidecarObject.load();
      sidecar.attach(cgroup.path);
      compiled = compilePolicy(POLICY);
      sidecar.setPolicy(compiled);
      server = h2server({ settings: { headerTableSize: 0 } });
      server.on('stream', (stream, headers) => serve(stream, String(headers[':path'])));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      relay = await FrameRelay.start({ sidecar, upstreamPort: port, policy: (p) => (p === DENIED ? 'deny' : 'allow'), pair: mode });
      const H2 = SIDECAR_RULE_F.H2;
      if (mode === 'skb') {
        // the relay's sockets: the client-side one receives requests, the upstream-side one responses
        sidecar.addRule({ localAddress: '127.0.0.1', localPort: relay.port, remoteAddress: '0.0.0.0', remotePort: 0 }, H2 | SIDECAR_RULE_F.REQUESTS);
        sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: port }, H2 | SIDECAR_RULE_F.RESPONSES);
      } else {
        // the workloads' sockets: the client's sends requests, the server's accepted one responses
        const MSG = SIDECAR_RULE_F.MSG;
        sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: relay.port }, MSG | H2 | SIDECAR_RULE_F.REQUESTS);
        sidecar.addRule({ localAddress: '127.0.0.1', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0 }, MSG | H2 | SIDECAR_RULE_F.RESPONSES);
      }
    } catch (err) {
      sidecar?.close();
      cgroup.remove();
      throw err;
    }
  });

  afterAll(async () => {
    try {
      await relay?.close();
      server?.close();
      sidecar?.close();
    } finally {
      cgroup.remove();
    }
  });

  /** A client session over a socket the relay has paired before the first byte. */
  async function session() {
    const socket = createConnection({ port: relay.port, host: '127.0.0.1', noDelay: true });
    await once(socket, 'connect');
    const conn = await relay.paired(++opened);
    const s = h2connect(`http://127.0.0.1:${relay.port}`, { createConnection: () => socket, settings: { headerTableSize: 0 } });
    await once(s, 'remoteSettings'); // from now on the client's encoder uses a table of size 0
    return { s, conn };
  }

  test('sequential and concurrent unary calls, a trailers-only error: the kernel counts what the client saw', async (t) => {
    const { s, conn } = await session();
    t.onTestFinished(() => {
      s.destroy();
    });
    const before = { echo: sidecar.methodStats(id(ECHO)), missing: sidecar.methodStats(id(MISSING)) };
    const results: CallResult[] = [];
    for (let i = 0; i < 5; i++) results.push(await call(s, ECHO));
    results.push(...(await Promise.all(Array.from({ length: 4 }, () => call(s, ECHO)))));
    const missing = await call(s, MISSING);
    assert.deepEqual(results, Array.from({ length: 9 }, () => ({ status: '0', received: REPLY.length + 5 })));
    assert.deepEqual(missing, { status: '5', received: 0 });
    assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 }, 'nothing reached user space');

    const echo = delta(sidecar.methodStats(id(ECHO)), before.echo);
    assert.equal(echo.requests, 9n);
    assert.equal(echo.responses, 9n);
    assert.equal(echo.status[0], 9n);
    assert.equal(echo.requestBytes, 9n * BigInt(REQUEST.length + 5));
    assert.equal(echo.responseBytes, BigInt(results.reduce((a, r) => a + r.received, 0)));
    assert.equal(echo.latencyCount, 9n);
    assert.equal(echo.denied, 0n);
    const miss = delta(sidecar.methodStats(id(MISSING)), before.missing);
    assert.equal(miss.requests, 1n);
    assert.equal(miss.responses, 1n);
    assert.equal(miss.status[5], 1n);
    const c = sidecar.conn(judged(conn))!;
    assert.equal(c.flags & SIDECAR_CONN_F.USER, 0);
    assert.equal(c.flags & SIDECAR_CONN_F.HPACK_CLEAN, SIDECAR_CONN_F.HPACK_CLEAN);
  });

  test('a denied method is answered PERMISSION_DENIED by user space; the connection goes on there', async (t) => {
    const { s, conn } = await session();
    t.onTestFinished(() => {
      s.destroy();
    });
    const before = sidecar.methodStats(id(DENIED));
    assert.deepEqual(await call(s, ECHO), { status: '0', received: REPLY.length + 5 });
    assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 });
    assert.deepEqual(await call(s, DENIED), { status: '7', received: 0 });
    assert.deepEqual(await call(s, ECHO), { status: '0', received: REPLY.length + 5 }, 'the next call still works, through user space');
    assert.ok(conn.read.fromClient > 0 && conn.read.fromUpstream > 0);
    const c = sidecar.conn(judged(conn))!;
    assert.equal(c.reason, SIDECAR_REASON.DENIED);
    assert.equal(c.method, id(DENIED));
    assert.equal(c.stream, 3);
    assert.equal(delta(sidecar.methodStats(id(DENIED)), before).denied, 1n);
    assert.equal(delta(sidecar.methodStats(id(DENIED)), before).requests, 0n);
  });
});

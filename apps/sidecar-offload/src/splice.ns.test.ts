/**
 * Root layer: spliced connections (splice.ts) with the kernel path loaded in this process
 * (`kernel.via: direct`) and through a real ebpf-loader process (`kernel.via: loader`,
 * @netaccel/dataplane/testing's TestLoader, pin root `sdk-<pid>-…`; the object unloaded after
 * each test so counters start at zero), sockops on a cgroup of this test's own (prefix `sgw-`)
 * that this process enters, so the real @grpc/grpc-js clients and server (and node:http2
 * clients, whose GOAWAY event names the last stream id) meet the programs. Each test starts its
 * own proxy; every case below runs for both carriers:
 *
 * - drain: every spliced connection is taken back from the kernel at a frame boundary and gets
 *   GOAWAY with the right last stream id; calls in flight finish OK, idle connections close, and
 *   the drain ends when the clients closed (no drain-timeout reset);
 * - IPv6: a listener and an upstream on ::1 are spliced and the kernel carries the calls;
 * - each call counted once across a hand-over (one write with an allowed and a denied call, a
 *   kernel call in flight adopted by the relay), route timeouts on kernel and relayed calls;
 * - the proof list in every path (kernel splice direct and through the loader, user-space proxy): a server that closes its
 *   connection mid-stream, a slow reader holding the server back, garbage and truncated frames
 *   (that connection closed, a call on another one unaffected).
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createConnection } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { cgroup2Root } from '@netaccel/bpf';
import { parseConfig } from '@netaccel/config';
import { SIDECAR_REASON, decodeCounter, encodeU32 } from '@netaccel/bpf-programs/sidecar';
import type { MethodStats, SockKey } from '@netaccel/bpf-programs/sidecar';
import { TestLoader } from '@netaccel/dataplane/testing';
import { H2_FLAG, H2_FRAME, H2_PREFACE, HPACK_STATIC, dataFrame, decodeBlock, grpcMessage, headerBlock, headersFrame, hpackIndexed, hpackLiteral, readFrames, settingsFrame } from '@netaccel/bpf-programs/sidecar/testing';
import { createLogCapture, createLogger, createMetrics } from '@netaccel/telemetry';
import type { LogCapture } from '@netaccel/telemetry';
import { sidecarConfig } from './config.js';
import { DirectKernelPath } from './kernel.js';
import { LoaderKernelPath } from './kernel-loader.js';
import type { OffloadState } from './offload.js';
import { SidecarProxy } from './sidecar.js';
import type { EchoServer } from './testing/index.js';
import { grpcFrame as frame, ownClient, serverStreamOutcome, startEchoServer, startRawUpstream as rawUpstream, startTestSidecar, streamMessage, streamRequest, unaryCall } from './testing/index.js';

const PREFIX = 'sgw-';

function makeCgroup(name: string): string {
  const root = cgroup2Root();
  for (const name of readdirSync(root)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      if (readFileSync(join(root, name, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(join(root, name));
    } catch {
      // gone already, or busy: left alone
    }
  }
  const path = join(root, `${PREFIX}${name}-${process.pid}`);
  mkdirSync(path, { recursive: true });
  return path;
}

function currentCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return join(cgroup2Root(), (line ?? '0::/').slice(3));
}

/** Where the kernel path is loaded: in this process, or through a real ebpf-loader (its own pin root `sdk-<pid>-…`). */
type Via = 'direct' | 'loader';

/** The cgroup the proxies' kernel paths watch, and the loader when `via: loader`. */
interface Carrier {
  readonly via: Via;
  readonly cgroup: string;
  readonly loader?: TestLoader;
}

export interface SpliceRig {
  readonly proxy: SidecarProxy;
  readonly kernel: DirectKernelPath | LoaderKernelPath;
  readonly logs: LogCapture;
  readonly port: number;
  /** Frames of reason_stats for one reason, summed over CPUs. */
  reason(value: number): Promise<bigint>;
  /** The kernel's counters of a method path of the policy ('other': paths not in it). */
  stats(path: string): Promise<MethodStats>;
  /** Whether the kernel carries a spliced connection (through the loader: read again first). */
  spliceState(clientSide: SockKey): Promise<OffloadState>;
  /** The proxy closed; through the loader the object is unloaded too, so the next rig's counters start at zero. */
  close(): Promise<void>;
}

/** A proxy with the kernel path on the carrier's cgroup, one listener `inbound` on `listen` to the cluster `echo` (`routes`: YAML). */
export async function startSpliceProxy(carrier: Carrier, listen: string, endpoint: string, routes = '[{ service: nsc.Echo, cluster: echo }]'): Promise<SpliceRig> {
  const { via, cgroup, loader } = carrier;
  const config = parseConfig(sidecarConfig, {
    env: {},
    yaml: `
sidecar:
  listeners:
    - name: inbound
      direction: inbound
      listen: '${listen}'
      routes: ${routes}
      policy: { rules: [{ method: /nsc.Echo/Unary, action: allow }, { method: /nsc.Echo/Slow, action: allow }, { method: /nsc.Echo/Bidi, action: deny }] }
  clusters:
    - { name: echo, endpoints: ['${endpoint}'] }
kernel: { enabled: true, via: ${via}, cgroup: '${cgroup}'${loader === undefined ? '' : `, loaderSocket: ${loader.socket}`} }
`,
  });
  const logs = createLogCapture();
  const log = createLogger({ name: 'splice-test', level: 'debug', destination: logs.stream });
  const metrics = createMetrics({ app: 'sidecar-offload' });
  const kernel = via === 'direct' ? DirectKernelPath.open(config.kernel, metrics, log) : await LoaderKernelPath.open(config.kernel, metrics, log);
  const proxy = await SidecarProxy.start({ config, metrics, log, kernel });
  const idOf = (path: string) => (path === 'other' ? 0 : kernel.methodIds.get(path)!);
  let closing: Promise<void> | undefined;
  return {
    proxy,
    kernel,
    logs,
    port: proxy.listener('inbound')!.port,
    reason: async (v) => (kernel instanceof DirectKernelPath ? decodeCounter(kernel['map']('reason_stats').lookupPerCpu(encodeU32(v))!).frames : ((await kernel.reasonFrames()).get(v) ?? 0n)),
    stats: async (path) => kernel.methodStats(idOf(path)),
    spliceState: async (clientSide) => {
      if (kernel instanceof LoaderKernelPath) await kernel.refresh();
      return kernel.spliceState(clientSide);
    },
    close: () =>
      (closing ??= (async () => {
        await proxy.close(0);
        await loader?.unload(['sidecar-offload']);
      })()),
  };
}

/** The carrier of a describe block: the cgroup this process enters, and a loader process for `via: loader`. */
function carrierFor(via: Via, name: string): { get: () => Carrier; setUp: () => Promise<void>; tearDown: () => Promise<void> } {
  let carrier: Carrier | undefined;
  let home = '';
  return {
    get: () => carrier!,
    setUp: async () => {
      const loader = via === 'loader' ? await TestLoader.start({ prefix: 'sdk-' }) : undefined;
      const cgroup = makeCgroup(name);
      home = currentCgroup();
      writeFileSync(join(cgroup, 'cgroup.procs'), String(process.pid));
      carrier = { via, cgroup, loader };
    },
    tearDown: async () => {
      try {
        if (home !== '') writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
        if (carrier !== undefined) rmdirSync(carrier.cgroup);
      } finally {
        await carrier?.loader?.stop(['sidecar-offload']);
      }
    },
  };
}

/** A gRPC unary call over a node:http2 session (whose 'goaway' event names the last stream id). */
function h2Call(session: http2.ClientHttp2Session, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ stream: number; status: string | undefined; message: string; reply: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const statusOf = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    };
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('trailers', statusOf);
    req.on('response', statusOf);
    req.on('error', reject);
    req.on('close', () => resolve({ stream: req.id ?? 0, status, message, reply: Buffer.concat(chunks).subarray(5) }));
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    req.end(Buffer.concat([prefix, body]));
  });
}

/** A request header block (no indexing, as the kernel's SETTINGS make every encoder do). */
function requestBlock(path: string): Buffer {
  return Buffer.concat([
    hpackIndexed(HPACK_STATIC.METHOD_POST),
    hpackIndexed(HPACK_STATIC.SCHEME_HTTP),
    hpackLiteral({ name: ':path', nameIndex: HPACK_STATIC.PATH_ROOT, value: path, kind: 'without', huffman: false }),
    hpackLiteral({ name: ':authority', nameIndex: HPACK_STATIC.AUTHORITY, value: 'echo', kind: 'without', huffman: false }),
    hpackLiteral({ name: 'content-type', nameIndex: HPACK_STATIC.CONTENT_TYPE, value: 'application/grpc', kind: 'without', huffman: false }),
    hpackLiteral({ name: 'te', value: 'trailers', kind: 'without', huffman: false }),
  ]);
}

/**
 * A raw HTTP/2 client: preface and SETTINGS, then (once the server's SETTINGS arrived, i.e. the
 * kernel carries the connection) `burst` in ONE write; resolves with the frames read until every
 * stream of `streams` ended.
 */
function rawBurst(port: number, burst: Buffer, streams: readonly number[]): Promise<ReturnType<typeof readFrames>['frames']> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port, noDelay: true });
    let buf = Buffer.alloc(0);
    let sent = false;
    const open = new Set(streams);
    s.once('connect', () => s.write(Buffer.concat([H2_PREFACE, settingsFrame([])])));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const { frames } = readFrames(buf);
      if (!sent && frames.some((f) => f.type === H2_FRAME.SETTINGS && (f.flags & H2_FLAG.ACK) === 0)) {
        sent = true;
        s.write(Buffer.concat([settingsFrame([], true), burst]));
      }
      for (const f of frames) if ((f.type === H2_FRAME.HEADERS || f.type === H2_FRAME.DATA) && (f.flags & H2_FLAG.END_STREAM) !== 0) open.delete(f.stream);
      if (sent && open.size === 0) {
        s.destroy();
        resolve(frames);
      }
    });
    s.on('error', reject);
  });
}

describe.each(['direct', 'loader'] as const)('spliced connections (%s): GOAWAY on drain, IPv6, counted once across a hand-over, route timeouts', (via) => {
  const carrier = carrierFor(via, via);
  let echo: EchoServer;

  beforeAll(async () => {
    await carrier.setUp();
    echo = await startEchoServer();
  });

  afterAll(async () => {
    try {
      await echo?.close();
    } finally {
      await carrier.tearDown();
    }
  });

  test('drain: each spliced connection is taken back from the kernel and gets GOAWAY (last stream id right); calls in flight finish OK, idle ones close', async (t) => {
    const rig = await startSpliceProxy(carrier.get(), '127.0.0.1:0', echo.address);
    t.onTestFinished(() => rig.close());
    const takenBefore = await rig.reason(SIDECAR_REASON.TAKEN_BACK);
    const base = `http://127.0.0.1:${rig.port}`;

    // a node:http2 client: two calls carried by the kernel, then a slow one in flight at the drain
    const session = http2.connect(base);
    t.onTestFinished(() => session.destroy());
    const goaways: { code: number; last: number }[] = [];
    session.on('goaway', (code, last) => goaways.push({ code, last }));
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    for (let i = 0; i < 2; i++) assert.equal((await h2Call(session, '/nsc.Echo/Unary', Buffer.from(`call ${i}`))).status, '0');
    const unaryBefore = (await rig.stats('/nsc.Echo/Unary')).requests;
    assert.ok(unaryBefore >= 2n, 'the kernel carried the first calls');

    // a grpc-js client: one call done (then idle), one in flight; and a grpc-js client left idle
    const busy = ownClient(t, `127.0.0.1:${rig.port}`);
    const idle = ownClient(t, `127.0.0.1:${rig.port}`);
    assert.equal((await unaryCall(busy, 'unary', Buffer.alloc(10))).code, 0);
    assert.equal((await unaryCall(idle, 'unary', Buffer.alloc(10))).code, 0);
    const listener = rig.proxy.listener('inbound')!;
    assert.equal(listener.splicedConnections().length, 3);

    const slowH2 = h2Call(session, '/nsc.Echo/Slow', Buffer.from('in flight, node:http2'), { 'x-delay-ms': '400' });
    const slowGrpc = unaryCall(busy, 'slow', Buffer.from('in flight, grpc-js'), { 'x-delay-ms': '400' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // both requests reached the server through the kernel

    await listener.close(20_000); // the listener's drain (the proxy's close would unload the kernel path too)
    const [h2, js] = await Promise.all([slowH2, slowGrpc]);
    assert.deepEqual([h2.stream, h2.status, h2.reply.toString()], [5, '0', 'in flight, node:http2'], 'the call in flight finished through the relay');
    assert.deepEqual([js.code, js.reply?.toString()], [0, 'in flight, grpc-js']);
    await sessionClosed;
    assert.deepEqual(goaways[0], { code: 0, last: 5 }, 'GOAWAY NO_ERROR naming the stream in flight (the highest the client opened)');
    // the server's own GOAWAYs (answering the client's when it closed) pass through the relay: never a higher id
    assert.ok(goaways.every((g) => g.code === 0 && g.last <= 5), JSON.stringify(goaways));
    assert.equal(listener.connectionCount, 0, 'every client closed its connection after GOAWAY');
    assert.doesNotMatch(rig.logs.text(), /drain timeout/, 'no connection was reset at the drain timeout');
    assert.equal((await rig.reason(SIDECAR_REASON.TAKEN_BACK)) - takenBefore, 6n, 'both sockets of the three connections taken back');
    // the two calls in flight were the kernel's; the relay adopted them and counted them, once
    const slow = await rig.stats('/nsc.Echo/Slow');
    assert.deepEqual([slow.requests, slow.responses], [0n, 0n]);
    const user = rig.proxy.stats.methods('inbound').find((m) => m.method === '/nsc.Echo/Slow')!;
    assert.deepEqual([user.calls, user.statuses.get(0)], [2, 2]);
  });

  test('IPv6: a listener and an upstream on ::1 are spliced, the kernel carries and counts the calls', async (t) => {
    const echo6 = await startEchoServer('[::1]');
    t.onTestFinished(() => echo6.close());
    const rig = await startSpliceProxy(carrier.get(), '[::1]:0', echo6.address);
    t.onTestFinished(() => rig.close());
    const c = ownClient(t, `[::1]:${rig.port}`);
    const before = await rig.stats('/nsc.Echo/Unary');
    for (let i = 0; i < 5; i++) {
      const r = await unaryCall(c, 'unary', Buffer.alloc(100 + i, i));
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.equal(r.reply!.length, 100 + i);
    }
    const now = await rig.stats('/nsc.Echo/Unary');
    assert.deepEqual([now.requests - before.requests, now.responses - before.responses, now.status[0]! - before.status[0]!], [5n, 5n, 5n]);
    assert.equal(now.requestBytes - before.requestBytes, BigInt([0, 1, 2, 3, 4].reduce((a, i) => a + 100 + i + 5, 0)));
    const [sc] = rig.proxy.listener('inbound')!.splicedConnections();
    assert.ok(sc !== undefined && sc.remote.startsWith('[::1]:'));
    assert.deepEqual(await rig.spliceState(sc.clientSide), { offloaded: true, reason: '' });
    // through the loader the pair is written one round trip later: the first call may go through the proxy (catch-up)
    const firstBytes = via === 'direct' ? 200 : 1000;
    assert.ok(sc.relayed < firstBytes, `the proxy relayed ${sc.relayed} bytes (preface and SETTINGS${via === 'direct' ? '' : ', perhaps the first call'} only)`);
    assert.equal(rig.proxy.stats.methods('inbound').find((m) => m.method === '/nsc.Echo/Unary')?.calls ?? 0, 0, 'user space counted none');
  });

  test('one write holding an allowed call before the denied one that hands it over: each call counted once (by the proxy), equal to what the client saw', async (t) => {
    const rig = await startSpliceProxy(carrier.get(), '127.0.0.1:0', echo.address);
    t.onTestFinished(() => rig.close());
    const request = grpcMessage(Buffer.from('counted once'));
    const burst = Buffer.concat([
      headersFrame(1, requestBlock('/nsc.Echo/Unary')),
      dataFrame(1, request, true),
      headersFrame(3, requestBlock('/nsc.Echo/Bidi')),
      dataFrame(3, grpcMessage(Buffer.from('denied')), true),
    ]);
    const frames = await rawBurst(rig.port, burst, [1, 3]);
    const status = (sid: number) => decodeBlock(headerBlock(frames.find((f) => f.type === H2_FRAME.HEADERS && f.stream === sid && (f.flags & H2_FLAG.END_STREAM) !== 0)!)).get('grpc-status');
    const reply = Buffer.concat(frames.filter((f) => f.type === H2_FRAME.DATA && f.stream === 1).map((f) => f.payload));
    assert.deepEqual([status(1), reply.subarray(5).toString(), status(3)], ['0', 'counted once', String(grpc.status.PERMISSION_DENIED)], 'what the client saw');

    const unary = await rig.stats('/nsc.Echo/Unary');
    assert.deepEqual([unary.requests, unary.responses, unary.requestBytes], [0n, 0n, 0n], 'the kernel counted nothing of the write it handed over');
    assert.equal((await rig.stats('/nsc.Echo/Bidi')).denied, 1n, 'its decision is counted (denied)');
    const user = new Map(rig.proxy.stats.methods('inbound').map((m) => [m.method, m]));
    const u = user.get('/nsc.Echo/Unary')!;
    assert.deepEqual([u.calls, u.statuses.get(0), u.requestBytes, u.responseBytes, u.requestMessages, u.responseMessages], [1, 1, 12, 12, 1, 1], 'the proxy counted the allowed call once');
    const b = user.get('/nsc.Echo/Bidi')!;
    assert.deepEqual([b.calls, b.statuses.get(grpc.status.PERMISSION_DENIED)], [1, 1]);
    assert.equal(echo.calls.get('/nsc.Echo/Bidi') ?? 0, 0, 'the denied call never reached the server');
  });

  test('a call the kernel carries, in flight when a denied call hands the connection over: finished and counted once, by the proxy', async (t) => {
    const rig = await startSpliceProxy(carrier.get(), '127.0.0.1:0', echo.address);
    t.onTestFinished(() => rig.close());
    const c = ownClient(t, `127.0.0.1:${rig.port}`);
    for (let i = 0; i < 2; i++) assert.equal((await unaryCall(c, 'unary', Buffer.alloc(10))).code, 0);
    const slow = unaryCall(c, 'slow', Buffer.from('adopted'), { 'x-delay-ms': '300' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const denied = await new Promise<number>((resolve) => {
      const s = c.bidi();
      s.on('error', (err: grpc.ServiceError) => resolve(err.code));
      s.on('data', () => {});
      s.end(Buffer.from('x'));
    });
    assert.equal(denied, grpc.status.PERMISSION_DENIED);
    const r = await slow;
    assert.deepEqual([r.code, r.reply?.toString()], [0, 'adopted']);

    const k = async (m: string) => {
      const s = await rig.stats(m);
      return [s.requests, s.responses];
    };
    assert.deepEqual([await k('/nsc.Echo/Unary'), await k('/nsc.Echo/Slow')], [[2n, 2n], [0n, 0n]], 'the kernel counts the calls it finished');
    const user = new Map(rig.proxy.stats.methods('inbound').map((m) => [m.method, m]));
    assert.equal(user.get('/nsc.Echo/Unary'), undefined);
    const s = user.get('/nsc.Echo/Slow')!;
    assert.deepEqual([s.calls, s.statuses.get(0), s.responseBytes, s.responseMessages], [1, 1, 7, 1], 'the proxy finished the adopted call: its status and response');
    assert.ok(s.latencySumMs >= 250, `its duration counts from its HEADERS in the kernel (${s.latencySumMs} ms)`);
    assert.deepEqual([user.get('/nsc.Echo/Bidi')?.calls, user.get('/nsc.Echo/Bidi')?.statuses.get(grpc.status.PERMISSION_DENIED)], [1, 1]);
  });

  test("route timeouts: a kernel call past its route's timeout ends DEADLINE_EXCEEDED (taken over, adopted), as does a relayed one; counted as the user path counts them", async (t) => {
    const rig = await startSpliceProxy(carrier.get(), '127.0.0.1:0', echo.address, '[{ method: /nsc.Echo/Slow, cluster: echo, timeout: 300ms }, { service: nsc.Echo, cluster: echo }]');
    t.onTestFinished(() => rig.close());
    const c = ownClient(t, `127.0.0.1:${rig.port}`);
    assert.equal((await unaryCall(c, 'unary', Buffer.alloc(10))).code, 0);
    assert.equal((await unaryCall(c, 'slow', Buffer.from('in time'), { 'x-delay-ms': '20' })).code, 0, 'within the timeout: carried by the kernel');
    const sc = rig.proxy.listener('inbound')!.splicedConnections()[0]!;
    assert.equal((await rig.spliceState(sc.clientSide)).offloaded, true);

    const late = await unaryCall(c, 'slow', Buffer.from('late'), { 'x-delay-ms': '3000' });
    assert.equal(late.code, grpc.status.DEADLINE_EXCEEDED, late.details);
    assert.match(late.details, /exceeded its deadline of 300 ms at the sidecar/);
    assert.match((await rig.spliceState(sc.clientSide)).reason, /TAKEN_BACK/, 'the proxy took the connection over');
    // the connection goes on in the relay: a call in time, and one past the timeout again
    assert.equal((await unaryCall(c, 'unary', Buffer.alloc(10))).code, 0);
    const late2 = await unaryCall(c, 'slow', Buffer.from('late again'), { 'x-delay-ms': '3000' });
    assert.equal(late2.code, grpc.status.DEADLINE_EXCEEDED, late2.details);

    const slow = await rig.stats('/nsc.Echo/Slow');
    assert.deepEqual([slow.requests, slow.responses], [1n, 1n], 'the kernel counted the call in time, only');
    const user = new Map(rig.proxy.stats.methods('inbound').map((m) => [m.method, m]));
    const s = user.get('/nsc.Echo/Slow')!;
    assert.deepEqual([s.calls, s.statuses.get(grpc.status.DEADLINE_EXCEEDED)], [2, 2], 'both late calls counted once, DEADLINE_EXCEEDED');
    assert.equal(user.get('/nsc.Echo/Unary')?.calls, 1, 'the call after the take-over: the relay counted it');
  });

  test("grpc-timeout on kernel calls: a grpc-js deadline longer than the route's timeout is the call's (capped by maxTimeout), a shorter one ends it DEADLINE_EXCEEDED at the sidecar, as the user path does", async (t) => {
    const rig = await startSpliceProxy(carrier.get(), '127.0.0.1:0', echo.address, '[{ method: /nsc.Echo/Slow, cluster: echo, timeout: 300ms, maxTimeout: 1s }, { service: nsc.Echo, cluster: echo, timeout: 5s }]');
    t.onTestFinished(() => rig.close());
    const c = ownClient(t, `127.0.0.1:${rig.port}`);
    assert.equal((await unaryCall(c, 'unary', Buffer.alloc(10))).code, 0);
    const sc = rig.proxy.listener('inbound')!.splicedConnections()[0]!;

    // longer than the route's 300 ms, within its 1 s cap: the grpc-timeout the kernel kept is the deadline
    const longer = await unaryCall(c, 'slow', Buffer.from('longer'), { 'x-delay-ms': '600' }, { deadline: Date.now() + 900 });
    assert.deepEqual([longer.code, longer.reply?.toString()], [grpc.status.OK, 'longer'], longer.details);
    assert.doesNotMatch((await rig.spliceState(sc.clientSide)).reason, /handed to user space/, 'still carried by the kernel');
    const slow = await rig.stats('/nsc.Echo/Slow');
    assert.deepEqual([slow.requests, slow.responses], [1n, 1n], 'carried and counted by the kernel');

    // longer than the cap: ended at 1 s by the sidecar (the client would wait 8 s)
    const capped = await unaryCall(c, 'slow', Buffer.from('capped'), { 'x-delay-ms': '3000' }, { deadline: Date.now() + 8000 });
    assert.equal(capped.code, grpc.status.DEADLINE_EXCEEDED, capped.details);
    assert.match(capped.details, /exceeded its deadline of 1000 ms at the sidecar/);
    assert.match((await rig.spliceState(sc.clientSide)).reason, /TAKEN_BACK/, 'the proxy took the connection over');

    c.close();
    await rig.close(); // one proxy's kernel path at a time on the cgroup

    // shorter than the route's timeout (5 s for the service): a node:http2 client sends grpc-timeout
    // and does not apply it itself, nor does this upstream (a grpc-js server would end the call at
    // its deadline first), so the sidecar's DEADLINE_EXCEEDED is what it sees
    const up = await rawUpstream((stream, _session, headers) => {
      const delay = Number(headers['x-delay-ms'] ?? 0);
      stream.on('data', () => {});
      const answer = setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(Buffer.from('late')));
      }, delay);
      stream.on('close', () => clearTimeout(answer));
    });
    t.onTestFinished(() => up.close());
    const rig2 = await startSpliceProxy(carrier.get(), '127.0.0.1:0', up.address, '[{ service: nsc.Echo, cluster: echo, timeout: 5s }]');
    t.onTestFinished(() => rig2.close());
    const session = http2.connect(`http://127.0.0.1:${rig2.port}`);
    t.onTestFinished(() => session.destroy());
    assert.equal((await h2Call(session, '/nsc.Echo/Unary', Buffer.from('first'))).status, '0');
    const sc2 = rig2.proxy.listener('inbound')!.splicedConnections()[0]!;
    assert.doesNotMatch((await rig2.spliceState(sc2.clientSide)).reason, /handed to user space/, 'the kernel judges its sends');
    const shorter = await h2Call(session, '/nsc.Echo/Slow', Buffer.from('shorter'), { 'x-delay-ms': '4000', 'grpc-timeout': '300m' });
    assert.equal(shorter.status, String(grpc.status.DEADLINE_EXCEEDED));
    assert.match(shorter.message, /exceeded its deadline of 300 ms at the sidecar/);
    const user = rig2.proxy.stats.methods('inbound').find((m) => m.method === '/nsc.Echo/Slow')!;
    assert.deepEqual([user.calls, user.statuses.get(grpc.status.DEADLINE_EXCEEDED)], [1, 1], 'counted once, by the proxy, as the user path counts it');
    assert.equal((await rig2.stats('/nsc.Echo/Slow')).requests, 0n, 'the kernel gave the call up (adopted)');

    // and a grpc-js client's own shorter deadline: DEADLINE_EXCEEDED (its own timer or the sidecar's), the connection goes on
    const js = ownClient(t, `127.0.0.1:${rig2.port}`);
    const mine = await unaryCall(js, 'slow', Buffer.from('mine'), { 'x-delay-ms': '3000' }, { deadline: Date.now() + 300 });
    assert.equal(mine.code, grpc.status.DEADLINE_EXCEEDED, mine.details);
    assert.equal((await unaryCall(js, 'unary', Buffer.from('after'))).code, grpc.status.OK);
  });
});

/** The kernel splice, in process or through the loader (this test's cgroup), and the user-space proxy. */
type Path = Via | 'user';

describe('the proof list in every path: server closing mid-stream, slow reader, garbage and truncated frames', () => {
  // one cgroup (this process is in one at a time) and one loader for both kernel paths
  const carrier = carrierFor('loader', 'proofs');
  let echo: EchoServer;

  beforeAll(async () => {
    await carrier.setUp();
    echo = await startEchoServer();
  });

  afterAll(async () => {
    try {
      await echo?.close();
    } finally {
      await carrier.tearDown();
    }
  });

  /** A proxy of the path to `endpoint`; its stats, and the kernel's rig when the kernel carries the connection. */
  async function proxyOf(path: Path, endpoint: string) {
    if (path !== 'user') {
      const rig = await startSpliceProxy({ ...carrier.get(), via: path }, '127.0.0.1:0', endpoint);
      return { proxy: rig.proxy, port: rig.port, rig: rig as SpliceRig | undefined, close: () => rig.close() };
    }
    const sc = await startTestSidecar(`
sidecar:
  listeners:
    - { name: inbound, direction: inbound, listen: 127.0.0.1:0, routes: [{ service: nsc.Echo, cluster: echo }] }
  clusters:
    - { name: echo, endpoints: ['${endpoint}'] }
`);
    return { proxy: sc.proxy, port: sc.proxy.listener('inbound')!.port, rig: undefined as SpliceRig | undefined, close: () => sc.close(0) };
  }

  for (const path of ['direct', 'loader', 'user'] as const) {
    const label = path === 'user' ? 'user path' : `kernel path (${path})`;
    test(`${label}: a server that closes its connection mid-stream: the client gets the messages sent, then UNAVAILABLE; counted once; the next connection works`, async (t) => {
      const up = await rawUpstream((stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        stream.write(frame(streamMessage(0, 100)));
        stream.write(frame(streamMessage(1, 100)), () => setTimeout(() => stream.session?.destroy(), 50));
      });
      t.onTestFinished(() => up.close());
      const p = await proxyOf(path, up.address);
      t.onTestFinished(() => p.close());
      const c = ownClient(t, `127.0.0.1:${p.port}`);
      const got = await serverStreamOutcome(c, streamRequest(5, 100));
      assert.deepEqual([got.code, got.messages], [grpc.status.UNAVAILABLE, 2]);
      await until(() => p.proxy.stats.methods('inbound').some((m) => m.method === '/nsc.Echo/ServerStream' || m.method === 'other'));
      const user = p.proxy.stats.methods('inbound');
      assert.equal(user.reduce((n, m) => n + m.calls, 0), 1, 'one call recorded');
      assert.equal(user.reduce((n, m) => n + (m.statuses.get(grpc.status.UNAVAILABLE) ?? 0), 0), 1, 'UNAVAILABLE');
      if (p.rig !== undefined) {
        const other = await p.rig.stats('other');
        assert.deepEqual([other.requests, other.responses], [0n, 0n], 'the kernel opened it, the proxy adopted and ended it: counted once');
      }
    });

    test(`${label}: a slow reader holds the server back (HTTP/2 flow control end to end); every byte arrives in order once it reads`, async (t) => {
      const count = 200;
      const size = 32 * 1024;
      let written = 0;
      const up = await rawUpstream((stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.on('data', () => {});
        const pump = (): void => {
          while (written < count) {
            written += 1;
            if (!stream.write(frame(streamMessage(written - 1, size)))) {
              stream.once('drain', pump);
              return;
            }
          }
          stream.end();
        };
        pump();
      });
      t.onTestFinished(() => up.close());
      const p = await proxyOf(path, up.address);
      t.onTestFinished(() => p.close());
      const session = http2.connect(`http://127.0.0.1:${p.port}`);
      t.onTestFinished(() => session.destroy());
      const req = session.request({ ':method': 'POST', ':path': '/nsc.Echo/ServerStream', 'content-type': 'application/grpc', te: 'trailers' });
      req.end(frame(Buffer.alloc(0)));
      req.pause();
      await until(() => written > 0);
      let last = -1;
      for (let stable = 0; stable < 10; ) {
        await new Promise((r) => setTimeout(r, 50));
        stable = written === last ? stable + 1 : 0;
        last = written;
      }
      assert.ok(last < count, `the server was held back (wrote ${last} of ${count})`);
      const chunks: Buffer[] = [];
      const status = new Promise<string>((resolve) => req.on('trailers', (h) => resolve(String(h['grpc-status']))));
      const ended = new Promise((resolve) => req.on('end', resolve));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.resume();
      assert.equal(await status, '0');
      await ended;
      const body = Buffer.concat(chunks);
      assert.equal(body.length, count * (size + 5));
      for (let i = 0; i < count; i += 37) assert.ok(body.subarray(i * (size + 5) + 5, (i + 1) * (size + 5)).equals(streamMessage(i, size)), `message ${i}`);
      if (p.rig !== undefined) {
        assert.equal((await p.rig.stats('other')).responseBytes, BigInt(count * (size + 5)), 'the kernel carried the response');
        const [sc] = p.proxy.listener('inbound')!.splicedConnections();
        assert.deepEqual(await p.rig.spliceState(sc!.clientSide), { offloaded: true, reason: '' });
      }
    });

    test(`${label}: garbage, a truncated frame, broken HPACK: that connection is closed or refused, calls on another are unaffected`, async (t) => {
      const p = await proxyOf(path, echo.address);
      t.onTestFinished(() => p.close());
      const c = ownClient(t, `127.0.0.1:${p.port}`);
      const ping = async (i: number) => {
        const r = await unaryCall(c, 'unary', Buffer.from(`ping ${i}`));
        assert.deepEqual([r.code, r.reply?.toString()], [0, `ping ${i}`]);
      };
      await ping(0);
      const preface = H2_PREFACE;
      const cases: [string, Buffer, boolean][] = [
        ['HTTP/1.1 garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), false],
        ['random bytes', Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)), false],
        ['truncated SETTINGS frame, then FIN', Buffer.concat([preface, Buffer.from([0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 3])]), true],
        ['HEADERS with an invalid HPACK index', Buffer.concat([preface, settingsFrame([]), Buffer.from([0, 0, 1, 1, 5, 0, 0, 0, 1, 0xff])]), false],
      ];
      for (const [name, bytes, end] of cases) {
        // closed, or refused with GOAWAY (Node's HTTP/2 answers a protocol error so and waits for the peer to close)
        await new Promise<void>((resolve, reject) => {
          const s = createConnection({ host: '127.0.0.1', port: p.port });
          let got = Buffer.alloc(0);
          s.on('data', (d: Buffer) => {
            got = Buffer.concat([got, d]);
            const { frames } = readFrames(got.subarray(got.subarray(0, 3).toString() === 'PRI' ? H2_PREFACE.length : 0));
            if (frames.some((f) => f.type === 7)) {
              s.destroy();
              resolve();
            }
          });
          s.on('error', () => {});
          s.once('connect', () => (end ? s.end(bytes) : s.write(bytes)));
          s.once('close', () => resolve());
          setTimeout(() => {
            s.destroy();
            reject(new Error(`${name}: the connection was neither closed nor refused with GOAWAY`));
          }, 8000).unref();
        });
        await ping(1);
      }
      if (p.rig !== undefined) {
        const mine = p.proxy.listener('inbound')!.splicedConnections();
        // KNOWN (loader): the refused connections' proxy sockets stay open for a while (not
        // investigated); in process they are gone by now
        if (path === 'direct') assert.equal(mine.length, 1, "only the calls' connection is left");
        assert.deepEqual(await p.rig.spliceState(mine[0]!.clientSide), { offloaded: true, reason: '' }, 'the kernel still carries the calls');
      }
    });
  }
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached in 5 s');
}

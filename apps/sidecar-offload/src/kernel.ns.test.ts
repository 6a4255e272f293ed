/**
 * Root layer: the daemon with the kernel path on, twice: `kernel.via: direct` (loaded in this
 * test's process with libs/bpf) and `kernel.via: loader` (loaded, attached and read through a real
 * ebpf-loader process, @netaccel/dataplane/testing's TestLoader: the verdict-only attach of `splice_hash`, connection
 * state read in batches); the same tests for both. Sockops attached to a cgroup of this test's own
 * (prefix `nso-kernel-` direct, `svl-kernel-` loader) that this process enters, so the real @grpc/grpc-js client's and server's
 * sockets meet the programs. The proxy splices each client connection (splice.ts): the client's
 * socket and the server's accepted one are paired in the kernel, the SETTINGS of both say header
 * table size 0 (rewritten by the kernel: grpc-js sends none). Calls are carried and counted by the
 * kernel, call by call equal to what the client saw (unary, server stream, large messages split
 * across frames, many concurrent streams), and the proxy relays only the connection's first
 * bytes. A denied method hands the connection to the proxy, which answers PERMISSION_DENIED and
 * carries the connection's later calls itself (counted in user space, nothing stalls); the
 * connection list says which connection is offloaded and why not.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { cgroup2Root, removeStaleCgroups } from '@netaccel/bpf';
import { ConfigStore, parseConfig } from '@netaccel/config';
import { DaemonHost } from '@netaccel/daemon';
import type { RpcClient, SidecarService } from '@netaccel/rpc';
import { SidecarClient, createRpcClient, sidecarV1 } from '@netaccel/rpc';
import { createLogCapture, createLogger } from '@netaccel/telemetry';
import { sidecarConfig } from './config.js';
import { SidecarDaemon, VERSION } from './daemon.js';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { SIDECAR_CONN_F, SIDECAR_REASON, decodeConfig, decodeCounter, encodeU32 } from '@netaccel/bpf-programs/sidecar';
import {
  H2_FLAG, H2_FRAME, H2_PREFACE, HPACK_STATIC, dataFrame, decodeBlock, grpcMessage, headerBlock, headersFrame, hpackIndexed, hpackLiteral, readFrames, settingsFrame,
} from '@netaccel/bpf-programs/sidecar/testing';
import type { MethodStats, SockKey } from '@netaccel/bpf-programs/sidecar';
import { DirectKernelPath } from './kernel.js';
import { LoaderKernelPath } from './kernel-loader.js';
import { TestLoader } from '@netaccel/dataplane/testing';
import type { EchoClient, EchoServer } from './testing/index.js';
import { ownClient, startEchoServer, streamRequest, unaryCall } from './testing/index.js';
import type { TestCleanup } from './testing/index.js';

const PREFIXES = { direct: 'nso-kernel-', loader: 'svl-kernel-' } as const;
type Via = keyof typeof PREFIXES;

/** Empty cgroups of earlier runs that died are removed; this run's is made. */
function makeCgroup(via: Via): string {
  const PREFIX = PREFIXES[via];
  const root = cgroup2Root();
  removeStaleCgroups(PREFIX, root);
  const path = join(root, `${PREFIX}${process.pid}`);
  mkdirSync(path, { recursive: true });
  return path;
}

function currentCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return join(cgroup2Root(), (line ?? '0::/').slice(3));
}

async function serverStream(c: EchoClient, count: number, size: number): Promise<{ code: number; messages: number; bytes: number }> {
  return new Promise((resolve) => {
    let messages = 0;
    let bytes = 0;
    const s = c.serverStream(streamRequest(count, size));
    s.on('data', (d: Buffer) => {
      messages++;
      bytes += d.length;
    });
    s.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, messages, bytes }));
    s.on('end', () => resolve({ code: 0, messages, bytes }));
  });
}

/** The two carriers of the kernel path, read the same way (awaited). */
type Kernel = DirectKernelPath | LoaderKernelPath;

describe.each(['direct', 'loader'] as const)('daemon with the kernel path loaded (%s): grpc-js calls, policy, counters, connection list', (via) => {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIXES[via]}test-`));
  let loader: TestLoader | undefined;
  const socket = join(dir, 'sidecar.sock');
  const capture = createLogCapture();
  let cgroup = '';
  let home = '';
  let echo: EchoServer;
  let host: DaemonHost<typeof sidecarConfig>;
  let daemon: SidecarDaemon;
  let api: RpcClient<typeof SidecarService>;

  /** The daemon's configuration, its one cluster's endpoint given. */
  const yaml = (endpoint: string, unary: 'allow' | 'deny' = 'allow') => `
sidecar:
  listeners:
    - name: inbound
      direction: inbound
      listen: 127.0.0.1:0
      routes: [{ service: nsc.Echo, cluster: echo }]
      policy:
        rules: [{ method: /nsc.Echo/Slow, action: deny }, { method: /nsc.Echo/Unary, action: ${unary} }]
  clusters:
    - { name: echo, endpoints: ['${endpoint}'] }
kernel: { enabled: true, via: ${via}, cgroup: '${cgroup}'${loader === undefined ? '' : `, loaderSocket: ${loader.socket}`} }
telemetry: { listen: '127.0.0.1:0' }
grpc: { socket: ${socket} }
`;

  beforeAll(async () => {
    if (via === 'loader') loader = await TestLoader.start({ prefix: 'svl-' });
    cgroup = makeCgroup(via);
    home = currentCgroup();
    writeFileSync(join(cgroup, 'cgroup.procs'), String(process.pid));
    echo = await startEchoServer();
    const file = join(dir, 'sidecar-offload.yaml');
    writeFileSync(file, yaml(echo.address));
    const store = await ConfigStore.open(sidecarConfig, { file, env: {} });
    host = new DaemonHost({ name: 'sidecar-offload', version: VERSION, store, log: createLogger({ name: 'test', level: 'info', destination: capture.stream }), env: {} });
    daemon = await host.start((h) => SidecarDaemon.start(h));
    api = createRpcClient(SidecarClient, { address: socket });
  });

  afterAll(async () => {
    try {
      api?.close();
      await host?.close(); // detaches sockops, closes the object (direct) or the loader's client (loader)
      await echo?.close();
    } finally {
      await loader?.stop(['sidecar-offload']);
      if (home !== '') writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
      if (cgroup !== '') rmdirSync(cgroup);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A client with its own connection to the daemon's listener, closed when the test finishes. */
  const newClient = (t: TestCleanup): EchoClient => ownClient(t, `127.0.0.1:${daemon.proxy.listener('inbound')!.port}`);

  const kernelOf = () => daemon.proxy.kernel as Kernel;

  /** A socket's conns entry now (through the loader: read again first). */
  async function connOf(key: SockKey) {
    const kernel = kernelOf();
    if (kernel instanceof LoaderKernelPath) await kernel.fresh(key);
    return kernel.conn(key);
  }

  /** Frames the kernel handed to user space to catch up (CATCH_UP). */
  async function catchUpFrames(): Promise<bigint> {
    const kernel = kernelOf();
    if (kernel instanceof LoaderKernelPath) return (await kernel.reasonFrames()).get(SIDECAR_REASON.CATCH_UP) ?? 0n;
    return decodeCounter(kernel['map']('reason_stats').lookupPerCpu(encodeU32(SIDECAR_REASON.CATCH_UP))!).frames;
  }

  async function kernelDelta(before: Map<string, MethodStats>) {
    const kernel = kernelOf();
    const out = new Map<string, { requests: bigint; denied: bigint; responses: bigint; ok: bigint; requestBytes: bigint; responseBytes: bigint; latencies: bigint }>();
    for (const [path, was] of before) {
      const id = path === 'other' ? 0 : kernel.methodIds.get(path)!;
      const now = await kernel.methodStats(id);
      const sum = (s: MethodStats) => s.latencyLog2Us.reduce((a, b) => a + b, 0n);
      out.set(path, {
        requests: now.requests - was.requests,
        denied: now.denied - was.denied,
        responses: now.responses - was.responses,
        ok: now.status[0]! - was.status[0]!,
        requestBytes: now.requestBytes - was.requestBytes,
        responseBytes: now.responseBytes - was.responseBytes,
        latencies: sum(now) - sum(was),
      });
    }
    return out;
  }

  async function kernelSnapshot(): Promise<Map<string, MethodStats>> {
    const kernel = kernelOf();
    const out = new Map<string, MethodStats>([['other', await kernel.methodStats(0)]]);
    for (const [path, id] of kernel.methodIds) out.set(path, await kernel.methodStats(id));
    return out;
  }

  /** Calls of every kind on one connection; what the client saw, as the kernel would count it (DATA payload = message + 5). */
  async function workload(c: EchoClient) {
    const seen = { unary: 0, unaryRequestBytes: 0, unaryResponseBytes: 0, streamBytes: 0 };
    const unary = async (size: number, reply?: number) => {
      const r = await unaryCall(c, 'unary', Buffer.alloc(size, 1), reply === undefined ? {} : { 'x-reply-size': String(reply) });
      assert.equal(r.code, 0, r.details);
      assert.equal(r.reply!.length, reply ?? size);
      seen.unary += 1;
      seen.unaryRequestBytes += size + 5;
      seen.unaryResponseBytes += (reply ?? size) + 5;
    };
    for (let i = 0; i < 3; i++) await unary(10);
    await unary(300_000, 200_000); // split across DATA frames and TCP segments both ways
    await Promise.all(Array.from({ length: 40 }, (_, i) => unary(i + 1))); // concurrent streams on the one connection
    const stream = await serverStream(c, 4, 32);
    assert.deepEqual(stream, { code: 0, messages: 4, bytes: 128 });
    seen.streamBytes = 4 * (32 + 5);
    return seen;
  }

  test('calls of every kind are carried and counted by the kernel, equal to what the client saw; the proxy relays only the first bytes', async (t) => {
    const kernel = daemon.proxy.kernel;
    assert.ok(kernel instanceof (via === 'direct' ? DirectKernelPath : LoaderKernelPath) && kernel.loaded);
    assert.deepEqual([...kernel.methodIds.keys()].sort(), ['/nsc.Echo/Slow', '/nsc.Echo/Unary'], 'the policy is in the kernel');
    const c = newClient(t);
    const before = await kernelSnapshot();
    const callsBefore = new Map(echo.calls);
    const seen = await workload(c);

    const d = await kernelDelta(before);
    const unary = d.get('/nsc.Echo/Unary')!;
    const n = BigInt(seen.unary);
    assert.deepEqual(unary, { requests: n, denied: 0n, responses: n, ok: n, requestBytes: BigInt(seen.unaryRequestBytes), responseBytes: BigInt(seen.unaryResponseBytes), latencies: n });
    // ServerStream is not in the policy: the kernel counts it as "other"
    const other = d.get('other')!;
    assert.deepEqual(other, { requests: 1n, denied: 0n, responses: 1n, ok: 1n, requestBytes: 8n + 5n, responseBytes: BigInt(seen.streamBytes), latencies: 1n });
    assert.equal(echo.calls.get('/nsc.Echo/Unary')! - (callsBefore.get('/nsc.Echo/Unary') ?? 0), seen.unary, 'the server got each call once');

    // user space counted none of them, and relayed only the connection's first bytes
    const { methods } = await api.getStats(sidecarV1.GetStatsRequest.create());
    assert.equal(methods.find((m) => m.method === '/nsc.Echo/Unary')?.calls ?? 0n, 0n);
    const { connections } = await api.listConnections(sidecarV1.ListConnectionsRequest.create());
    assert.equal(connections.length, 1);
    assert.deepEqual([connections[0]!.offloaded, connections[0]!.notOffloadedReason], [true, '']);
    const spliced = daemon.proxy.listener('inbound')!.splicedConnections();
    assert.equal(spliced.length, 1);
    // through the loader the pair is one round trip later: the first call's frames may be sent
    // before it and go through the proxy too (judged and counted by the kernel all the same)
    const firstBytes = via === 'direct' ? 200 : 1000;
    assert.ok(spliced[0]!.relayed < firstBytes, `the proxy relayed ${spliced[0]!.relayed} bytes (preface and SETTINGS${via === 'direct' ? '' : ', perhaps the first call'} only)`);
    const conn = (await connOf(spliced[0]!.clientSide))!;
    assert.ok(conn.kernelBytes > BigInt(seen.unaryRequestBytes), "the client's requests went socket to socket");
    assert.equal(conn.flags & SIDECAR_CONN_F.HPACK_CLEAN, SIDECAR_CONN_F.HPACK_CLEAN, 'the client encodes without a dynamic table');

    const metrics = (await daemon.telemetryServer!.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, new RegExp(`netaccel_sidecar_kernel_requests\\{method="/nsc\\.Echo/Unary"\\} ${Number(before.get('/nsc.Echo/Unary')!.requests + n)}`));
  });

  test('a denied method hands the connection to the proxy: PERMISSION_DENIED, and every later call on it succeeds in user space', async (t) => {
    const c = newClient(t);
    assert.equal((await unaryCall(c, 'unary', Buffer.alloc(10))).code, 0); // carried by the kernel
    const before = await kernelSnapshot();
    const statsBefore = (await api.getStats(sidecarV1.GetStatsRequest.create())).methods;
    const denied = await unaryCall(c, 'slow', Buffer.from('x'));
    assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
    assert.match(denied.details, /denied by the policy/);
    const kernel = kernelOf();
    const relayed = () => daemon.proxy.listener('inbound')!.splicedConnections().reduce((n, s) => n + s.relayed, 0);
    const reads = () => (kernel instanceof LoaderKernelPath ? kernel.mirror.conns.batches : 0);
    const [relayedBefore, readsBefore] = [relayed(), reads()];
    const seen = await workload(c); // on the same connection, now relayed frame by frame
    if (kernel instanceof LoaderKernelPath) {
      // the hand-over point is known once: relaying half a megabyte after it reads nothing more from the loader
      assert.ok(relayed() - relayedBefore > 500_000, `relayed ${relayed() - relayedBefore} bytes`);
      assert.ok(reads() - readsBefore <= 2, `${reads() - readsBefore} reads of conns through the loader while relaying`);
    }

    const d = await kernelDelta(before);
    assert.equal(d.get('/nsc.Echo/Slow')!.denied, 1n, 'the kernel judged the denied call');
    assert.equal(d.get('/nsc.Echo/Unary')!.requests, 0n, 'and carried nothing after it');
    const calls = (m: string) => statsBefore.find((x) => x.method === m)?.calls ?? 0n;
    const { methods } = await api.getStats(sidecarV1.GetStatsRequest.create());
    const delta = (m: string) => (methods.find((x) => x.method === m)?.calls ?? 0n) - calls(m);
    assert.deepEqual([delta('/nsc.Echo/Slow'), delta('/nsc.Echo/Unary'), delta('/nsc.Echo/ServerStream')], [1n, BigInt(seen.unary), 1n], 'user space counted the rest, once each');
    const slow = methods.find((x) => x.method === '/nsc.Echo/Slow')!;
    assert.equal(slow.statuses.find((s) => s.code === grpc.status.PERMISSION_DENIED)?.calls, 1n);

    const { connections } = await api.listConnections(sidecarV1.ListConnectionsRequest.create());
    const mine = connections.filter((x) => !x.offloaded);
    assert.equal(mine.length, 1);
    assert.match(mine[0]!.notOffloadedReason, /^handed to user space at stream \d+: DENIED/);
  });

  /**
   * A raw HTTP/2 client in a worker thread: it connects and writes `first` while this thread (the
   * proxy's) is blocked, so the bytes are sent before the proxy can pair the socket; then, once
   * the server's SETTINGS arrived, `second`; it returns every byte it read up to the END_STREAM
   * HEADERS of stream 1, and its local port; the connection stays open until `close()`.
   */
  async function rawClientInWorker(port: number, first: Buffer, second: Buffer): Promise<{ read: Buffer; localPort: number; close: () => Promise<number> }> {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { port, first, second, flag } = workerData;
const s = net.createConnection({ port, host: '127.0.0.1', noDelay: true });
let buf = Buffer.alloc(0), sent = false, done = false;
s.once('connect', () => s.write(Buffer.from(first), () => { Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); }));
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  for (let o = 0; o + 9 <= buf.length; ) {
    const len = buf.readUIntBE(o, 3), type = buf[o + 3], flags = buf[o + 4], sid = buf.readUInt32BE(o + 5) & 0x7fffffff;
    if (o + 9 + len > buf.length) break;
    if (type === 4 && !(flags & 1) && !sent) { sent = true; s.write(Buffer.from(second)); }
    if (type === 1 && sid === 1 && (flags & 1) && !done) { done = true; parentPort.postMessage({ read: buf, localPort: s.localPort }); }
    o += 9 + len;
  }
});
s.on('error', (e) => parentPort.postMessage({ error: String(e) }));
`,
      { eval: true, workerData: { port, first, second, flag } },
    );
    try {
      // this thread sleeps (the proxy cannot accept, let alone pair) until the first bytes are sent
      Atomics.wait(flag, 0, 0, 5000);
      const [msg] = (await once(worker, 'message')) as [{ read?: Uint8Array; localPort?: number; error?: string }];
      if (msg.error !== undefined) throw new Error(msg.error);
      return { read: Buffer.from(msg.read!), localPort: msg.localPort!, close: () => worker.terminate() };
    } catch (err) {
      await worker.terminate();
      throw err;
    }
  }

  test('a client that speaks before the proxy paired it: its first bytes go through the proxy (CATCH_UP), the kernel carries the call after them', async (t) => {
    const catchUpBefore = await catchUpFrames();
    const before = await kernelSnapshot();
    const block = Buffer.concat([
      hpackIndexed(HPACK_STATIC.METHOD_POST),
      hpackIndexed(HPACK_STATIC.SCHEME_HTTP),
      hpackLiteral({ name: ':path', nameIndex: HPACK_STATIC.PATH_ROOT, value: '/nsc.Echo/Unary', kind: 'without', huffman: false }),
      hpackLiteral({ name: ':authority', nameIndex: HPACK_STATIC.AUTHORITY, value: 'echo', kind: 'without', huffman: true }),
      hpackLiteral({ name: 'content-type', nameIndex: HPACK_STATIC.CONTENT_TYPE, value: 'application/grpc', kind: 'without', huffman: false }),
      hpackLiteral({ name: 'te', value: 'trailers', kind: 'without', huffman: false }),
    ]);
    const request = grpcMessage(Buffer.from('hello, kernel'));
    const { read, localPort, close } = await rawClientInWorker(
      daemon.proxy.listener('inbound')!.port,
      Buffer.concat([H2_PREFACE, settingsFrame([])]),
      Buffer.concat([settingsFrame([], true), headersFrame(1, block), dataFrame(1, request, true)]),
    );
    t.onTestFinished(async () => {
      await close();
    });
    const frames = readFrames(read).frames;
    const serverSettings = frames.find((f) => f.type === H2_FRAME.SETTINGS && (f.flags & H2_FLAG.ACK) === 0)!;
    const settings = new Map<number, number>();
    for (let o = 0; o + 6 <= serverSettings.payload.length; o += 6) settings.set(serverSettings.payload.readUInt16BE(o), serverSettings.payload.readUInt32BE(o + 2));
    assert.equal(settings.get(1), 0, 'the kernel appended HEADER_TABLE_SIZE = 0 to the SETTINGS of the grpc-js server');
    const trailers = frames.find((f) => f.type === H2_FRAME.HEADERS && f.stream === 1 && (f.flags & H2_FLAG.END_STREAM) !== 0)!;
    assert.equal(decodeBlock(headerBlock(trailers)).get('grpc-status'), '0');

    assert.ok((await catchUpFrames()) > catchUpBefore, 'the preface and SETTINGS went through the proxy');
    const d = (await kernelDelta(before)).get('/nsc.Echo/Unary')!;
    assert.deepEqual([d.requests, d.responses, d.ok, d.requestBytes], [1n, 1n, 1n, BigInt(request.length)], 'the kernel judged and counted the call');
    const sc = daemon.proxy.listener('inbound')!.splicedConnections().find((c) => c.clientSide.localPort === localPort)!;

    assert.equal((await connOf(sc.clientSide))!.flags & SIDECAR_CONN_F.USER, 0, 'not handed over');
    // the first send (preface, SETTINGS and the setting the kernel appended) went through the proxy;
    // the next one too if it came before the upstream had received it (catch-up), never more
    assert.ok(sc.relayed >= H2_PREFACE.length + 9 + 6, `relayed ${sc.relayed}`);
    assert.ok((await connOf(sc.upstreamSide))!.kernelFrames > 0n, "the server's answer went socket to socket");
  });

  test('a connection the proxy cannot splice (upstream refused) is served by its user-space path: counted once there, the reason listed', async (t) => {
    await daemon.proxy.reconfigure(parseConfig(sidecarConfig, { env: {}, yaml: yaml('127.0.0.1:1') }));
    t.onTestFinished(() => daemon.proxy.reconfigure(parseConfig(sidecarConfig, { env: {}, yaml: yaml(echo.address) })));
    const c = newClient(t);
    const before = await kernelSnapshot();
    const statsBefore = (await api.getStats(sidecarV1.GetStatsRequest.create())).methods.find((m) => m.method === '/nsc.Echo/Unary');
    const unavailable = (ms: typeof statsBefore) => ms?.statuses.find((x) => x.code === grpc.status.UNAVAILABLE)?.calls ?? 0n;
    const r = await unaryCall(c, 'unary', Buffer.alloc(10));
    assert.equal(r.code, grpc.status.UNAVAILABLE, r.details);
    assert.equal((await kernelDelta(before)).get('/nsc.Echo/Unary')!.requests, 0n, 'the kernel stopped judging the declined socket');
    const statsNow = (await api.getStats(sidecarV1.GetStatsRequest.create())).methods.find((m) => m.method === '/nsc.Echo/Unary');
    assert.equal(unavailable(statsNow) - unavailable(statsBefore), 1n);
    const { connections } = await api.listConnections(sidecarV1.ListConnectionsRequest.create());
    const declined = connections.filter((x) => x.notOffloadedReason.startsWith('not spliced: kernel path: cannot splice a client connection to upstream 127.0.0.1:1'));
    assert.equal(declined.length, 1);
  });

  /** sidecar_cfg[0]'s policy generation now. */
  async function generation(): Promise<number> {
    const kernel = kernelOf();
    const raw = kernel instanceof LoaderKernelPath ? await kernel['dataPlane'].lookup('sidecar_cfg', encodeU32(0)) : kernel['map']('sidecar_cfg').lookup(encodeU32(0));
    return decodeConfig(raw!).generation;
  }

  test('a policy change mid-connection: a method the kernel allowed (its decision cached per CPU) is denied on the very next call, and allowed again on a new connection after the change back', async (t) => {
    const c = newClient(t);
    for (let i = 0; i < 3; i++) assert.equal((await unaryCall(c, 'unary', Buffer.alloc(10))).code, 0, 'carried by the kernel, its decision cached');
    const before = await kernelSnapshot();
    const genBefore = await generation();
    assert.ok(genBefore > 0, 'the daemon wrote a policy generation');
    await daemon.proxy.reconfigure(parseConfig(sidecarConfig, { env: {}, yaml: yaml(echo.address, 'deny') }));
    t.onTestFinished(() => daemon.proxy.reconfigure(parseConfig(sidecarConfig, { env: {}, yaml: yaml(echo.address) })));
    assert.equal(await generation(), genBefore + 1, 'each policy write bumps the generation');
    const denied = await unaryCall(c, 'unary', Buffer.alloc(10));
    assert.equal(denied.code, grpc.status.PERMISSION_DENIED, denied.details);
    const d = await kernelDelta(before);
    assert.deepEqual([d.get('/nsc.Echo/Unary')!.denied, d.get('/nsc.Echo/Unary')!.requests], [1n, 0n], 'the kernel denied it: no cached allow');
    // the client closes right after the denied call (its connection relayed from there): the
    // daemon's close at the end of the file must not wait for it (splice.ts destroySoon)

    await daemon.proxy.reconfigure(parseConfig(sidecarConfig, { env: {}, yaml: yaml(echo.address) }));
    const again = newClient(t);
    const mid = await kernelSnapshot();
    for (let i = 0; i < 3; i++) assert.equal((await unaryCall(again, 'unary', Buffer.alloc(10))).code, 0);
    const d2 = await kernelDelta(mid);
    assert.deepEqual([d2.get('/nsc.Echo/Unary')!.requests, d2.get('/nsc.Echo/Unary')!.denied], [3n, 0n], 'allowed again: no cached deny either');
  });
});

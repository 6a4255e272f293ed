/**
 * The lean server (`transport: 'http2'`, h2-server.ts) side by side with grpc-js's server, each
 * called by a real @grpc/grpc-js client and by this package's lean client: the same answers and
 * typed errors, metadata, deadlines, cancellation, message limits, server streams and shutdown;
 * then bad input on a raw HTTP/2 connection (garbage bytes, a truncated or compressed message,
 * the wrong content-type, an unknown method, a malformed grpc-timeout, no message or two), each
 * answered as grpc-js's server answers it, the server serving the next call.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { LoaderClient, LoaderService, MapDumpRequest, MapEntry, MapLookupRequest, MapLookupResponse } from './generated/netaccel/loader/v1/loader.js';
import { createRpcClient } from './client.js';
import type { RpcClient } from './client.js';
import { createRpcServer } from './server.js';
import type { RpcServer } from './server.js';
import { rpcService } from './handlers.js';
import type { RpcCallInfo } from './handlers.js';
import { Deadlines, deadlineOfTimeout } from './h2-server.js';
import { RpcError } from './status.js';
import { NA_ERR_RPC_CANCELLED, NA_ERR_RPC_DEADLINE_EXCEEDED, NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_SHUTTING_DOWN } from './errors.js';
import { KINDS, fixtureLoader, newProbe, tempDir, until } from './test/fixtures.js';
import type { Probe } from './test/fixtures.js';

type Client = RpcClient<typeof LoaderService>;
type Transport = 'grpc-js' | 'http2';

interface Side {
  server: RpcServer;
  /** The lean client (the default for a socket) and grpc-js's. */
  h2: Client;
  grpc: Client;
  probe: Probe;
  path: string;
  calls: RpcCallInfo[];
}

/** The fixture loader; MapLookup of "who" answers the x-netaccel-user metadata, of "big:<n>" n bytes. */
async function side(dir: string, transport: Transport, grpcOptions: Record<string, number> = {}, deadlineMs = 2000): Promise<Side> {
  const probe = newProbe();
  const path = join(dir, `${transport}.sock`);
  const calls: RpcCallInfo[] = [];
  const base = fixtureLoader(probe);
  const server = await createRpcServer({
    address: path,
    transport,
    grpcOptions,
    onCall: (c) => calls.push(c),
    services: [rpcService(LoaderService, {
      ...base,
      mapLookup: (req, ctx) => {
        if (req.mapId === 'who') return MapLookupResponse.create({ entry: MapEntry.create({ key: req.key, value: Buffer.from(String(ctx.metadata.get('x-netaccel-user')[0] ?? '')) }) });
        if (req.mapId.startsWith('big:')) return MapLookupResponse.create({ entry: MapEntry.create({ key: req.key, value: Buffer.alloc(Number(req.mapId.slice(4)), 7) }) });
        return base.mapLookup(req, ctx);
      },
      // "huge": `limit` entries of 64 KiB, more than the connection's window: the stream waits for 'drain'
      mapDump: (req, ctx) => (req.mapId === 'huge'
        ? (function* () {
          for (let i = 0; i < req.limit; i++) yield MapEntry.create({ key: Buffer.from([i & 0xff]), value: Buffer.alloc(64 * 1024, i & 0xff) });
        })()
        : base.mapDump(req, ctx)),
    })],
  });
  const h2 = createRpcClient(LoaderClient, { address: path, deadlineMs, grpcOptions });
  const grpc = createRpcClient(LoaderClient, { address: path, unaryTransport: 'grpc-js', deadlineMs, grpcOptions });
  return { server, h2, grpc, probe, path, calls };
}

/** A lean server and a grpc-js server, the same handlers, both clients on each. */
async function withServers(fn: (lean: Side, grpc: Side) => Promise<void>, grpcOptions: Record<string, number> = {}, deadlineMs = 2000): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const sides: Side[] = [];
  try {
    sides.push(await side(dir, 'http2', grpcOptions, deadlineMs));
    sides.push(await side(dir, 'grpc-js', grpcOptions, deadlineMs));
    await fn(sides[0]!, sides[1]!);
  } finally {
    for (const s of sides) {
      s.h2.close();
      s.grpc.close();
      await s.server.shutdown({ timeoutMs: 1000 });
    }
    await cleanup();
  }
}

const lookup = (mapId: string, key = Buffer.from([1, 2, 3])) => MapLookupRequest.create({ mapId, key });
const failure = (p: Promise<unknown>): Promise<RpcError> => p.then(
  () => assert.fail('the call succeeded'),
  (e: unknown) => {
    assert.ok(e instanceof RpcError, `not an RpcError: ${String(e)}`);
    return e;
  },
);
/** What a client sees of a failure; `target` differs between the two servers' sockets. */
const shape = (e: RpcError) => ({ code: e.code, grpcCode: e.grpcCode, kind: e.kind, message: e.message.replace(e.target, '<socket>'), details: e.details, remote: e.remote });

test('unary answers, every kind of error and metadata are the same as from grpc-js, through either client', async () => {
  await withServers(async (lean, grpc) => {
    assert.equal(lean.server.transport, 'http2');
    assert.equal(lean.server.grpcServer, undefined);
    for (const client of ['h2', 'grpc'] as const) {
      assert.deepEqual(await lean[client].mapLookup(lookup('ok')), await grpc[client].mapLookup(lookup('ok')), client);
      for (const id of [...KINDS.map((k) => `kind:${k}`), 'crash', 'absent']) {
        assert.deepEqual(shape(await failure(lean[client].mapLookup(lookup(id)))), shape(await failure(grpc[client].mapLookup(lookup(id)))), `${client} ${id}`);
      }
      const md = { metadata: { 'x-netaccel-user': 'ldq (uid 0)' } };
      assert.equal((await lean[client].mapLookup(lookup('who'), md)).entry?.value.toString(), 'ldq (uid 0)');
      assert.equal((await lean[client].mapLookup(lookup('who'))).entry?.value.toString(), '');
    }
    for (let i = 0; i < 30; i++) assert.deepEqual((await lean.h2.mapLookup(lookup('ok'))).entry?.value, Buffer.from('value'));
    // onCall sees the same calls with the same statuses
    const summary = (calls: RpcCallInfo[]) => calls.map((c) => `${c.method} ${c.codeName} ${c.errorCode ?? ''}`);
    const n = 1 + KINDS.length + 2; // the first client's calls before its metadata calls
    assert.deepEqual(summary(lean.calls).slice(0, n), summary(grpc.calls).slice(0, n));
  });
});

test('a deadline answers DEADLINE_EXCEEDED and aborts the handler; a cancelled call aborts it; the connection serves on', async () => {
  await withServers(async (lean) => {
    for (const client of ['h2', 'grpc'] as const) {
      lean.probe.lookupAbortReason = undefined;
      const late = await failure(lean[client].mapLookup(lookup('slow:3000')));
      assert.ok(NA_ERR_RPC_DEADLINE_EXCEEDED.is(late), late.message);
      assert.equal(late.grpcCode, status.DEADLINE_EXCEEDED);
      await until(() => lean.probe.lookupAbortReason !== undefined, 10_000, 'the handler to see the deadline');
      // DEADLINE_EXCEEDED, or CANCELLED when the client's reset came more than the slack early (load)
      assert.ok(['NA_ERR_RPC_DEADLINE_EXCEEDED', 'NA_ERR_RPC_CANCELLED'].includes(String((lean.probe.lookupAbortReason as { code?: string }).code)));

      lean.probe.lookupAbortReason = undefined;
      const ac = new AbortController();
      const pending = failure(lean[client].mapLookup(lookup('slow:3000'), { signal: ac.signal, deadlineMs: 5000 }));
      setTimeout(() => ac.abort(), 50);
      assert.ok(NA_ERR_RPC_CANCELLED.is(await pending));
      await until(() => lean.probe.lookupAbortReason !== undefined, 10_000, 'the handler to see the cancellation');
      assert.equal((lean.probe.lookupAbortReason as { code?: string }).code, 'NA_ERR_RPC_CANCELLED');
      assert.ok((await lean[client].mapLookup(lookup('ok'))).entry, 'the next call is served');
    }
    // the server's own deadline: a raw call whose grpc-timeout is short and whose client waits on
    const r = await rawCall(lean.path, { 'grpc-timeout': '100m' }, frame(MapLookupRequest.encode(lookup('slow:3000')).finish()));
    assert.equal(r.status, status.DEADLINE_EXCEEDED);
    assert.equal(r.message, 'Deadline exceeded');
    assert.equal(r.trailersOnly, true);
  }, {}, 300);
});

test('big messages pass both ways; the receive and send limits answer RESOURCE_EXHAUSTED as grpc-js does', async () => {
  await withServers(async (lean) => {
    const key = Buffer.alloc(3 * 1024 * 1024, 1);
    for (const client of ['h2', 'grpc'] as const) {
      assert.deepEqual((await lean[client].mapLookup(lookup('ok', key))).entry?.key, key);
      assert.equal((await lean[client].mapLookup(lookup('big:3000000'))).entry?.value.length, 3_000_000);
    }
    const many = await Promise.all(Array.from({ length: 12 }, () => lean.h2.mapLookup(lookup('ok', key))));
    assert.ok(many.every((m) => m.entry?.key.equals(key)));
  }, {}, 20_000);
  await withServers(async (lean, grpc) => {
    // request over the server's receive limit; answer over its send limit
    const big = lookup('ok', Buffer.alloc(200, 1));
    for (const client of ['h2', 'grpc'] as const) {
      const a = await failure(lean[client].mapLookup(big));
      assert.equal(a.grpcCode, status.RESOURCE_EXHAUSTED, a.message);
      assert.deepEqual(shape(a), shape(await failure(grpc[client].mapLookup(big))), client);
      const b = await failure(lean[client].mapLookup(lookup('big:300')));
      assert.equal(b.grpcCode, status.RESOURCE_EXHAUSTED, b.message);
      assert.match(b.message, /Sent message larger than max \(\d+ vs\. 256\)/);
      assert.ok((await lean[client].mapLookup(lookup('ok'))).entry, 'a call under the limits goes');
    }
  }, { 'grpc.max_receive_message_length': 128, 'grpc.max_send_message_length': 256 });
});

test('server streams: every item in order, a failure after items, leaving early, shutdown ending a stream UNAVAILABLE', async () => {
  await withServers(async (lean, grpc) => {
    const all = async (c: Client, req: MapDumpRequest): Promise<{ keys: number[]; err: unknown }> => {
      const keys: number[] = [];
      try {
        for await (const e of c.mapDump(req)) keys.push(e.key[0]!);
        return { keys, err: undefined };
      } catch (err) {
        return { keys, err };
      }
    };
    const five = await all(lean.h2, MapDumpRequest.create({ mapId: 'm', limit: 5 }));
    assert.deepEqual(five, { keys: [0, 1, 2, 3, 4], err: undefined });
    assert.deepEqual(await all(lean.h2, MapDumpRequest.create({ mapId: 'm', limit: 3000 })), await all(grpc.h2, MapDumpRequest.create({ mapId: 'm', limit: 3000 })));
    const failed = await all(lean.h2, MapDumpRequest.create({ mapId: 'fail-after', limit: 2 }));
    const failedGrpc = await all(grpc.h2, MapDumpRequest.create({ mapId: 'fail-after', limit: 2 }));
    assert.deepEqual(failed.keys, [0, 1]);
    assert.ok(failed.err instanceof RpcError && failedGrpc.err instanceof RpcError);
    assert.deepEqual(shape(failed.err), shape(failedGrpc.err));

    // 200 x 64 KiB read slowly at first: the lean server's writes wait for 'drain', nothing is lost
    let got = 0;
    let bytes = 0;
    for await (const e of lean.h2.mapDump(MapDumpRequest.create({ mapId: 'huge', limit: 200 }))) {
      if (got < 3) await new Promise((r) => setTimeout(r, 100));
      assert.equal(e.value[0], got & 0xff);
      got++;
      bytes += e.value.length;
    }
    assert.deepEqual([got, bytes], [200, 200 * 64 * 1024]);

    lean.probe.dumpClosed = false;
    for await (const e of lean.h2.mapDump(MapDumpRequest.create({ mapId: 'slow', limit: 0 }))) if (e.key[0] === 2) break;
    await until(() => lean.probe.dumpClosed, 10_000, 'the handler to stop after the client left');

    const endless = all(lean.h2, MapDumpRequest.create({ mapId: 'slow', limit: 0 }));
    await until(() => lean.probe.dumped > 3 + 5 + 3000 + 2, 10_000, 'the endless stream to start');
    await lean.server.shutdown({ timeoutMs: 2000 });
    const ended = await endless;
    assert.ok(ended.keys.length > 0);
    assert.ok(ended.err instanceof RpcError, String(ended.err));
    assert.equal(ended.err.grpcCode, status.UNAVAILABLE);
    assert.equal(ended.err.code, NA_ERR_RPC_SHUTTING_DOWN.code);
  });
});

// --- bad input on a raw HTTP/2 connection ------------------------------------------------------

interface RawAnswer {
  httpStatus: number;
  status: number | undefined;
  message: string;
  trailersOnly: boolean;
  body: Buffer;
  headers: IncomingHttpHeaders;
}

const MAP_LOOKUP = '/netaccel.loader.v1.Loader/MapLookup';

function frame(message: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** One request on its own connection, whatever its headers and body; what came back. */
function rawCall(path: string, headers: OutgoingHttpHeaders, body: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = h2connect('http://localhost', { createConnection: () => netConnect(path) });
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': MAP_LOOKUP, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    let tail: IncomingHttpHeaders | undefined;
    stream.on('response', (h) => (head = h));
    stream.on('trailers', (h) => (tail = h));
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('error', reject);
    stream.on('close', () => {
      session.close();
      const st = tail ?? head;
      const code = st['grpc-status'];
      resolve({
        httpStatus: Number(head[':status']),
        status: code === undefined ? undefined : Number(code),
        message: decodeURI(String(st['grpc-message'] ?? '')),
        trailersOnly: tail === undefined,
        body: Buffer.concat(chunks),
        headers: head,
      });
    });
    stream.end(body);
  });
}

test('bad input gets grpc-js\'s answers, and the server serves on', async () => {
  await withServers(async (lean, grpc) => {
    const good = frame(MapLookupRequest.encode(lookup('ok')).finish());
    const cases: { name: string; headers?: OutgoingHttpHeaders; body: Buffer; status?: number; httpStatus?: number; message?: RegExp }[] = [
      { name: 'a good call', body: good, status: status.OK },
      { name: 'wrong content-type', headers: { 'content-type': 'application/json' }, body: good, httpStatus: 415 },
      { name: 'unknown method', headers: { ':path': '/netaccel.loader.v1.Loader/Nope' }, body: good, status: status.UNIMPLEMENTED, message: /does not implement the method \/netaccel\.loader\.v1\.Loader\/Nope/ },
      { name: 'unknown service', headers: { ':path': '/x.Y/Z' }, body: good, status: status.UNIMPLEMENTED },
      { name: 'grpc-encoding gzip, a message not compressed', headers: { 'grpc-encoding': 'gzip' }, body: good, status: status.OK },
      { name: 'a message compressed with an unknown encoding', headers: { 'grpc-encoding': 'snappy' }, body: frame(Buffer.from([1, 2, 3]), 1), status: status.UNIMPLEMENTED, message: /unsupported encoding "snappy"/ },
      { name: 'malformed grpc-timeout', headers: { 'grpc-timeout': '12x' }, body: good, status: status.INTERNAL, message: /Invalid grpc-timeout value "12x"/ },
      { name: 'no message', body: Buffer.alloc(0), status: status.UNIMPLEMENTED, message: /no request message/ },
      { name: 'two messages', body: Buffer.concat([good, good]), status: status.UNIMPLEMENTED, message: /second request message/ },
      { name: 'truncated prefix', body: good.subarray(0, 3), status: status.INTERNAL },
      { name: 'truncated message', body: good.subarray(0, good.length - 2), status: status.INTERNAL },
      { name: 'garbage that does not decode', body: frame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), status: status.INTERNAL, message: /Error deserializing request/ },
    ];
    for (const c of cases) {
      const a = await rawCall(lean.path, c.headers ?? {}, c.body);
      const b = await rawCall(grpc.path, c.headers ?? {}, c.body);
      if (c.httpStatus !== undefined) {
        assert.equal(a.httpStatus, c.httpStatus, c.name);
        assert.equal(b.httpStatus, c.httpStatus, `grpc-js: ${c.name}`);
        continue;
      }
      assert.equal(a.httpStatus, 200, c.name);
      assert.equal(a.status, c.status, `${c.name}: ${a.message}`);
      if (c.name !== 'truncated prefix' && c.name !== 'truncated message') assert.equal(b.status, c.status, `grpc-js: ${c.name}: ${b.message}`); // grpc-js: UNIMPLEMENTED (no message)
      if (c.message !== undefined) assert.match(a.message, c.message, c.name);
      if (c.status !== status.OK) assert.equal(a.trailersOnly, true, `${c.name}: trailers-only`);
    }
    // the compressed flag without an encoding: refused with a clear status
    const compressed = await rawCall(lean.path, {}, frame(MapLookupRequest.encode(lookup('ok')).finish(), 1));
    assert.equal(compressed.status, status.INTERNAL);
    assert.match(compressed.message, /compressed message/);
    const ok = await rawCall(lean.path, {}, good);
    assert.equal(ok.status, status.OK);
    assert.equal(ok.trailersOnly, false);
    assert.deepEqual(MapLookupResponse.decode(ok.body.subarray(5)).entry?.value, Buffer.from('value'));

    // bytes that are not HTTP/2, and a connection cut in the middle of a frame: that connection
    // ends, the server lives on
    for (const junk of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 99, 1, 4, 0, 0, 0])])]) {
      await new Promise<void>((resolve) => {
        const s = netConnect(lean.path, () => s.end(junk));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.resume();
      });
    }
    assert.deepEqual((await lean.h2.mapLookup(lookup('ok'))).entry?.value, Buffer.from('value'));
    assert.deepEqual((await lean.grpc.mapLookup(lookup('ok'))).entry?.value, Buffer.from('value'));
  });
});

test('grpc-timeout values as grpc-js reads them; transport "http2" is for Unix sockets only', async () => {
  assert.equal(deadlineOfTimeout(undefined, 1000), Infinity);
  assert.equal(deadlineOfTimeout('250m', 1000), 1250);
  assert.equal(deadlineOfTimeout('2S', 1000), 3000);
  assert.equal(deadlineOfTimeout('1M', 0), 60_000);
  assert.equal(deadlineOfTimeout('1H', 0), 3_600_000);
  assert.equal(deadlineOfTimeout('1500u', 0), 1);
  assert.equal(deadlineOfTimeout('123456789m', 0), undefined);
  assert.equal(deadlineOfTimeout('-1m', 0), undefined);
  assert.equal(deadlineOfTimeout('5', 0), undefined);
  await assert.rejects(createRpcServer({ address: '127.0.0.1:0', allowInsecureTcp: true, services: [], transport: 'http2' }), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && /transport: "http2" is for Unix socket addresses/.test((e as Error).message));
  await assert.rejects(createRpcServer({ address: '/tmp/x.sock', services: [], transport: 'quic' as never }), (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && /^transport: expected "grpc-js" or "http2"/.test((e as Error).message));
});

test('one timer for every deadline: each call expires once its deadline passed; a call that ended never does; an earlier deadline re-arms it', async () => {
  const d = new Deadlines();
  const expired: string[] = [];
  const call = (name: string, inMs: number) => ({ deadline: Date.now() + inMs, expire: () => expired.push(name) });
  const late = call('late', 10_000);
  const mid = call('mid', 150);
  const early = call('early', 40);
  const ended = call('ended', 20);
  for (const c of [late, mid, early, ended]) d.add(c);
  d.delete(ended);
  await until(() => expired.length === 2, 5000, 'two deadlines');
  assert.deepEqual([...expired].sort(), ['early', 'mid']); // one scan may expire both under load
  assert.ok(Date.now() >= mid.deadline);
  assert.equal(d.size, 1);
  const next = call('next', 30); // earlier than the armed timer (late's): it re-arms
  d.add(next);
  await until(() => expired.length === 3, 5000, 'the next deadline');
  assert.equal(expired[2], 'next');
  d.close();
  d.delete(late);
  assert.equal(d.size, 0);
});

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { EchoClient, EchoServer, TestSidecar } from './testing/index.js';
import {
  echoClient, grpcFrame as frame, pumpMessages, serverStreamOutcome, startEchoServer, startPumpingUpstream, startRawUpstream as rawUpstream, startTestSidecar, streamMessage, streamRequest, unaryCall, writtenWhenHeld,
} from './testing/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `f` holds (at most `ms`). */
async function until(f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(20);
  }
}

function sidecarYaml(endpoints: string[], balancing = 'round-robin', idleTimeout = '5m'): string {
  return `
sidecar:
  idleTimeout: ${idleTimeout}
  listeners:
    - name: inbound
      direction: inbound
      listen: 127.0.0.1:0
      routes: [{ prefix: /, cluster: up }]
  clusters:
    - { name: up, balancing: ${balancing}, endpoints: [${endpoints.map((e) => `'${e}'`).join(', ')}], ejectAfter: 2, ejectFor: 1m, connectTimeout: 500ms }
`;
}

describe('flow control: a slow reader', () => {
  // grpc-js neither holds its server's writes back (write() never waits for the peer) nor stops
  // reading when its client's stream is paused, so both ends here are node:http2 streams that do:
  // the server writes only when its stream drains, the client does not read until told.
  test('the server is held back by the client that does not read; the sidecar holds about a window; everything arrives once it reads', async (t) => {
    const count = 400;
    const size = 64 * 1024; // 25 MiB in all
    const up = await startPumpingUpstream(count, size);
    const sidecar = await startTestSidecar(sidecarYaml([up.address]));
    const session = http2.connect(`http://${sidecar.address()}`);
    t.onTestFinished(async () => {
      session.destroy();
      await sidecar.close();
      await up.close();
    });
    const req = session.request({ ':method': 'POST', ':path': '/nsc.Echo/ServerStream', 'content-type': 'application/grpc', te: 'trailers' });
    req.end(frame(Buffer.alloc(0)));
    req.pause();
    const last = await writtenWhenHeld(up.written);
    assert.ok(last < count, `the server was held back (wrote ${last} of ${count})`);
    // the sidecar's upstream stream window (1 MiB by default) plus the client's 64 KiB and stream buffers
    assert.ok(last * size <= 2 * 1024 * 1024, `about a window in flight, got ${((last * size) / 1048576).toFixed(2)} MiB`);
    const chunks: Buffer[] = [];
    const status = new Promise<string>((resolve) => req.on('trailers', (h) => resolve(String(h['grpc-status']))));
    const ended = new Promise((resolve) => req.on('end', resolve));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.resume();
    assert.equal(await status, '0');
    await ended;
    const body = Buffer.concat(chunks);
    assert.equal(body.length, count * (size + 5));
    for (let i = 0; i < count; i += 57) assert.ok(body.subarray(i * (size + 5) + 5, (i + 1) * (size + 5)).equals(streamMessage(i, size)), `message ${i}`);
    const a = sidecar.logs.find({ msg: 'grpc call' })[0] as unknown as { grpcStatus: number; responseMessages: number; responseBytes: number };
    assert.deepEqual([a.grpcStatus, a.responseMessages, a.responseBytes], [0, count, count * size]);
  });
});

describe('flow control: a slow upstream reader', () => {
  test('a client streaming to an upstream that does not read is held back; everything arrives once the upstream reads', async (t) => {
    const count = 400;
    const size = 64 * 1024;
    let upstreamStream: http2.ServerHttp2Stream | undefined;
    const received: Buffer[] = [];
    const up = await rawUpstream((stream) => {
      upstreamStream = stream;
      stream.pause(); // reads nothing until told
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.on('end', () => stream.end(frame(Buffer.from('done'))));
    });
    const sidecar = await startTestSidecar(sidecarYaml([up.address]));
    const session = http2.connect(`http://${sidecar.address()}`);
    t.onTestFinished(async () => {
      session.destroy();
      await sidecar.close();
      await up.close();
    });
    const req = session.request({ ':method': 'POST', ':path': '/nsc.Echo/ClientStream', 'content-type': 'application/grpc', te: 'trailers' });
    req.on('data', () => {});
    const status = new Promise<string>((resolve) => req.on('trailers', (h) => resolve(String(h['grpc-status']))));
    const pump = pumpMessages(req, count, size);
    await until(() => upstreamStream !== undefined);
    const last = await writtenWhenHeld(pump.written);
    assert.ok(last < count, `the client was held back (wrote ${last} of ${count})`);
    assert.ok(last * size <= 3 * 1024 * 1024, `about a window in flight, got ${((last * size) / 1048576).toFixed(2)} MiB`);
    upstreamStream!.on('data', (c: Buffer) => received.push(c));
    upstreamStream!.resume();
    assert.equal(await status, '0');
    const body = Buffer.concat(received);
    assert.equal(body.length, count * (size + 5));
    for (let i = 0; i < count; i += 57) assert.ok(body.subarray(i * (size + 5) + 5, (i + 1) * (size + 5)).equals(streamMessage(i, size)), `message ${i}`);
  });
});

describe('upstream failures: reset and closed mid-stream, GOAWAY, dead endpoints', () => {
  test('an upstream that resets a stream after 3 messages: the client gets the 3 messages, then UNAVAILABLE; the next call works', async (t) => {
    let n = 0;
    const up = await rawUpstream((stream, session) => {
      n += 1;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: n >= 3 });
      for (let i = 0; i < 3; i++) stream.write(frame(streamMessage(i, 1000)));
      if (n === 1) setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 50);
      else if (n === 2) setTimeout(() => session.destroy(), 50); // the whole connection goes
      else {
        stream.end();
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      }
    });
    const sidecar = await startTestSidecar(sidecarYaml([up.address]));
    const client = echoClient(sidecar.address());
    t.onTestFinished(async () => {
      client.close();
      await sidecar.close();
      await up.close();
    });
    const run = () => serverStreamOutcome(client, streamRequest(1, 1));
    const reset = await run();
    assert.deepEqual([reset.messages, reset.code], [3, grpc.status.UNAVAILABLE]);
    assert.match(reset.details, /closed call \/nsc\.Echo\/ServerStream before its status/);
    const closed = await run();
    assert.deepEqual([closed.messages, closed.code], [3, grpc.status.UNAVAILABLE], 'connection closed mid-stream');
    const fine = await run();
    assert.deepEqual([fine.messages, fine.code], [3, 0]);
    assert.equal(up.sessions(), 2, 'a new upstream connection after the closed one');
    const statuses = (sidecar.logs.find({ msg: 'grpc call' }) as unknown as { grpcStatus: number; responseMessages: number }[]).map((a) => [a.grpcStatus, a.responseMessages]);
    assert.deepEqual(statuses, [[14, 3], [14, 3], [0, 3]], 'the access log says what the client saw');
  });

  test('an upstream GOAWAY: the call in flight finishes on the old connection, the next call opens a new one', async (t) => {
    const up = await rawUpstream((stream, session) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.on('data', () => {});
      stream.on('end', () => {
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id!);
        stream.end(frame(Buffer.from('bye')));
      });
    });
    const sidecar = await startTestSidecar(sidecarYaml([up.address]));
    const client = echoClient(sidecar.address());
    t.onTestFinished(async () => {
      client.close();
      await sidecar.close();
      await up.close();
    });
    for (let i = 0; i < 3; i++) {
      const r = await unaryCall(client, 'unary', Buffer.from('hi'));
      assert.equal(r.code, 0, r.details);
      assert.equal(r.reply!.toString(), 'bye');
    }
    assert.equal(up.sessions(), 3);
  });

  test('a dead endpoint: calls move on to the live one, and it is ejected after ejectAfter failures', async (t) => {
    const echo = await startEchoServer();
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const deadAddr = `127.0.0.1:${(dead.address() as net.AddressInfo).port}`;
    await new Promise<void>((r) => dead.close(() => r()));
    const sidecar = await startTestSidecar(sidecarYaml([deadAddr, echo.address]));
    const client = echoClient(sidecar.address());
    t.onTestFinished(async () => {
      client.close();
      await sidecar.close();
      await echo.close();
    });
    for (let i = 0; i < 8; i++) assert.equal((await unaryCall(client, 'unary', Buffer.from('x'))).code, 0);
    const [d, live] = sidecar.proxy.clusters.get('up')!.members;
    assert.equal(d!.address, deadAddr);
    assert.equal(d!.healthy(Date.now()), false, 'ejected');
    assert.equal(d!.connectFailuresTotal, 2, 'tried twice, then left alone');
    assert.equal(live!.calls, 8);
    assert.match(await sidecar.metrics.text(), new RegExp(`netaccel_sidecar_upstream_healthy\\{cluster="up",endpoint="${deadAddr}"\\} 0`));
  });

  test('a client that cancels mid-stream: the upstream call is cancelled too, and the access log says CANCELLED with the messages the client got', async (t) => {
    const echo = await startEchoServer();
    const sidecar = await startTestSidecar(sidecarYaml([echo.address]));
    const client = echoClient(sidecar.address());
    t.onTestFinished(async () => {
      client.close();
      await sidecar.close();
      await echo.close();
    });
    const call = client.serverStream(streamRequest(100_000, 1000));
    let got = 0;
    const done = new Promise<number>((resolve) => call.on('error', (e: grpc.ServiceError) => resolve(e.code)));
    await new Promise<void>((resolve) =>
      call.on('data', () => {
        got += 1;
        if (got === 5) {
          call.cancel();
          resolve();
        }
      }),
    );
    assert.equal(await done, grpc.status.CANCELLED);
    await until(() => sidecar.logs.find({ msg: 'grpc call' }).length === 1);
    const a = sidecar.logs.find({ msg: 'grpc call' })[0] as unknown as { grpcStatus: number; responseMessages: number };
    assert.equal(a.grpcStatus, 1);
    assert.ok(a.responseMessages >= 5, `the sidecar forwarded at least what the client got (${a.responseMessages})`);
    await until(() => sidecar.proxy.listener('inbound')!.activeCalls === 0 && sidecar.proxy.clusters.get('up')!.members[0]!.active === 0);
    await until(() => echo.cancelled() === 1); // the server saw its call cancelled
  });

  test('least-requests: while one endpoint has a call in flight, the next calls go to the other', async (t) => {
    const a = await startEchoServer();
    const b = await startEchoServer();
    const sidecar = await startTestSidecar(sidecarYaml([a.address, b.address], 'least-requests'));
    const client = echoClient(sidecar.address());
    t.onTestFinished(async () => {
      client.close();
      await sidecar.close();
      await a.close();
      await b.close();
    });
    const slow = unaryCall(client, 'slow', Buffer.from('s'), { 'x-delay-ms': '400' });
    await until(() => (a.calls.get('/nsc.Echo/Slow') ?? 0) + (b.calls.get('/nsc.Echo/Slow') ?? 0) === 1);
    const busy = a.calls.has('/nsc.Echo/Slow') ? a : b;
    const idle = busy === a ? b : a;
    for (let i = 0; i < 4; i++) assert.equal((await unaryCall(client, 'unary', Buffer.from('x'))).code, 0);
    assert.equal(idle.calls.get('/nsc.Echo/Unary'), 4);
    assert.equal(busy.calls.get('/nsc.Echo/Unary') ?? 0, 0);
    assert.equal((await slow).code, 0);
  });
});

describe('client input: garbage and truncated frames reset that connection only; GOAWAY on shutdown', () => {
  let echo: EchoServer;
  let sidecar: TestSidecar;
  let client: EchoClient;
  beforeAll(async () => {
    echo = await startEchoServer();
    sidecar = await startTestSidecar(sidecarYaml([echo.address], 'round-robin', '400ms'));
    client = echoClient(sidecar.address());
  });
  afterAll(async () => {
    client?.close();
    await sidecar?.close();
    await echo?.close();
  });

  /** The error code of the first GOAWAY frame in what the server sent after its preface, if any. */
  function goawayError(bytes: Buffer): number | undefined {
    let off = 0;
    while (off + 9 <= bytes.length) {
      const len = bytes.readUIntBE(off, 3);
      if (bytes[off + 3] === 7 && off + 9 + 8 <= bytes.length) return bytes.readUInt32BE(off + 9 + 4);
      off += 9 + len;
    }
    return undefined;
  }

  /** Sends bytes on a fresh TCP connection and resolves when the sidecar closes it. */
  function sendRaw(bytes: Buffer, endAfter = false): Promise<Buffer> {
    const got: Buffer[] = [];
    return new Promise((resolve, reject) => {
      const [host, port] = sidecar.address().split(':');
      const s = net.connect(Number(port), host, () => {
        s.write(bytes);
        if (endAfter) s.end();
      });
      s.on('data', (d: Buffer) => got.push(d));
      s.on('error', () => {}); // a reset is one of the outcomes
      s.on('close', () => resolve(Buffer.concat(got)));
      setTimeout(() => {
        s.destroy();
        reject(new Error('the sidecar did not close the connection'));
      }, 8000).unref();
    });
  }

  test('garbage, a bad preface, a truncated frame, DATA on stream 0 and broken HPACK: each connection closed, a bidi stream on another connection is unaffected', async () => {
    const duplex = client.bidi();
    const ping = async (i: number) => {
      const m = Buffer.from(`ping ${i}`);
      duplex.write(m);
      const got = await new Promise<Buffer>((r) => duplex.once('data', r));
      assert.ok(got.equals(m));
    };
    await ping(0);
    const errorsBefore = (await sidecar.metrics.text()).match(/netaccel_sidecar_connection_errors_total\{listener="inbound"\} (\d+)/)?.[1] ?? '0';
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    // [name, bytes, FIN after them, the GOAWAY error code expected (PROTOCOL_ERROR 1, COMPRESSION_ERROR 9)]
    const cases: [string, Buffer, boolean, number | undefined][] = [
      ['HTTP/1.1 garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), false, undefined],
      ['random bytes', Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)), false, undefined],
      ['truncated SETTINGS frame, then FIN', Buffer.concat([preface, Buffer.from([0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 3])]), true, undefined],
      ['DATA frame on stream 0', Buffer.concat([preface, settings, Buffer.from([0, 0, 4, 0, 0, 0, 0, 0, 0]), Buffer.alloc(4)]), false, 1],
      ['HEADERS with an invalid HPACK index', Buffer.concat([preface, settings, Buffer.from([0, 0, 1, 1, 5, 0, 0, 0, 1, 0xff])]), false, 9],
    ];
    for (const [name, bytes, end, goaway] of cases) {
      const answer = await sendRaw(bytes, end).catch((err: Error) => assert.fail(`${name}: ${err.message}`));
      if (goaway !== undefined) assert.equal(goawayError(answer), goaway, `${name}: GOAWAY with the error`);
      await ping(1);
    }
    const errorsAfter = (await sidecar.metrics.text()).match(/netaccel_sidecar_connection_errors_total\{listener="inbound"\} (\d+)/)?.[1] ?? '0';
    // Node reports the connections that never were HTTP/2; those it answered with GOAWAY it does not
    assert.ok(Number(errorsAfter) - Number(errorsBefore) >= 2, `protocol errors counted (${errorsBefore} -> ${errorsAfter})`);
    await ping(2);
    duplex.end();
    await new Promise<void>((r) => duplex.on('status', (s: grpc.StatusObject) => (assert.equal(s.code, 0), r())));
    assert.equal((await unaryCall(client, 'unary', Buffer.from('after'))).code, 0);
  });

  test('a gRPC message truncated by END_STREAM reaches the server as such and gets its status; the connection serves the next call', async () => {
    const session = http2.connect(`http://${sidecar.address()}`);
    try {
      const truncated = Buffer.concat([Buffer.from([0, 0, 0, 0, 100]), Buffer.alloc(10)]);
      const req = session.request({ ':method': 'POST', ':path': '/nsc.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' });
      const status = new Promise<string>((resolve) => {
        req.on('response', (h) => h['grpc-status'] !== undefined && resolve(String(h['grpc-status'])));
        req.on('trailers', (h) => resolve(String(h['grpc-status'])));
      });
      req.on('data', () => {});
      req.end(truncated);
      assert.notEqual(await status, '0');
      const ok = session.request({ ':method': 'POST', ':path': '/nsc.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' });
      const body: Buffer[] = [];
      ok.on('data', (c: Buffer) => body.push(c));
      const okStatus = new Promise<string>((resolve) => ok.on('trailers', (h) => resolve(String(h['grpc-status']))));
      ok.end(frame(Buffer.from('whole')));
      assert.equal(await okStatus, '0');
      assert.ok(Buffer.concat(body).equals(frame(Buffer.from('whole'))));
    } finally {
      session.destroy();
    }
  });

  test('graceful shutdown: GOAWAY to clients, the stream in flight finishes OK, new connections are refused', async () => {
    const duplex = client.bidi();
    const m = Buffer.from('before');
    duplex.write(m);
    assert.ok((await new Promise<Buffer>((r) => duplex.once('data', r))).equals(m));
    const port = Number(sidecar.address().split(':')[1]);
    let closed = false;
    const closing = sidecar.close(10_000).then(() => (closed = true));
    await until(() => sidecar.proxy.listener('inbound')!.connections().length === 1);
    await sleep(100);
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => (s.destroy(), resolve('connected')));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
    assert.equal(closed, false, 'waits for the stream in flight');
    const m2 = Buffer.from('after GOAWAY');
    duplex.write(m2);
    assert.ok((await new Promise<Buffer>((r) => duplex.once('data', r))).equals(m2));
    duplex.end();
    const st = await new Promise<grpc.StatusObject>((r) => duplex.on('status', r));
    assert.equal(st.code, 0);
    await closing;
    assert.equal(closed, true);
  });
});

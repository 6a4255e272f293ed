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
 * - grpc-timeout on kernel calls: a grpc-js deadline longer than the route's timeout kept, one
 *   past maxTimeout capped, a shorter one ended DEADLINE_EXCEEDED by the sidecar.
 * The rig is testing/splice-rig.ts; the proof list in every path is splice-proofs.ns.test.ts.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { SIDECAR_REASON } from '@netaccel/bpf-programs/sidecar';
import { H2_FLAG, H2_FRAME, H2_PREFACE, HPACK_STATIC, dataFrame, decodeBlock, grpcMessage, headerBlock, headersFrame, hpackIndexed, hpackLiteral, readFrames, settingsFrame } from '@netaccel/bpf-programs/sidecar/testing';
import { grpcFrame as frame, ownClient, startEchoServer, startRawUpstream as rawUpstream, unaryCall } from './testing/index.js';
import { carrierWithEcho, h2Call, startSpliceProxy } from './testing/splice-rig.js';

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
  const env = carrierWithEcho(via, via);
  beforeAll(env.setUp);
  afterAll(env.tearDown);

  test('drain: each spliced connection is taken back from the kernel and gets GOAWAY (last stream id right); calls in flight finish OK, idle ones close', async (t) => {
    const rig = await startSpliceProxy(env.carrier.get(), '127.0.0.1:0', env.echo().address);
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
    const rig = await startSpliceProxy(env.carrier.get(), '[::1]:0', echo6.address);
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
    const rig = await startSpliceProxy(env.carrier.get(), '127.0.0.1:0', env.echo().address);
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
    assert.equal(env.echo().calls.get('/nsc.Echo/Bidi') ?? 0, 0, 'the denied call never reached the server');
  });

  test('a call the kernel carries, in flight when a denied call hands the connection over: finished and counted once, by the proxy', async (t) => {
    const rig = await startSpliceProxy(env.carrier.get(), '127.0.0.1:0', env.echo().address);
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
    const rig = await startSpliceProxy(env.carrier.get(), '127.0.0.1:0', env.echo().address, '[{ method: /nsc.Echo/Slow, cluster: echo, timeout: 300ms }, { service: nsc.Echo, cluster: echo }]');
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
    const rig = await startSpliceProxy(env.carrier.get(), '127.0.0.1:0', env.echo().address, '[{ method: /nsc.Echo/Slow, cluster: echo, timeout: 300ms, maxTimeout: 1s }, { service: nsc.Echo, cluster: echo, timeout: 5s }]');
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
    const rig2 = await startSpliceProxy(env.carrier.get(), '127.0.0.1:0', up.address, '[{ service: nsc.Echo, cluster: echo, timeout: 5s }]');
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

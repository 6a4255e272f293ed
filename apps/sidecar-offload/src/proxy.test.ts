import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { EchoClient, EchoServer, TestSidecar } from './testing/index.js';
import { echoClient, startEchoServer, startTestSidecar, streamMessage, streamRequest, unaryCall } from './testing/index.js';

interface Access {
  method: string;
  grpcStatus: number;
  requestBytes: number;
  responseBytes: number;
  requestMessages: number;
  responseMessages: number;
  requestId?: string;
  upstream: string;
}

describe('proxy: real grpc-js clients and servers through the sidecar on loopback', () => {
  let echo: EchoServer;
  let echo2: EchoServer;
  let sidecar: TestSidecar;
  let client: EchoClient;

  beforeAll(async () => {
    echo = await startEchoServer();
    echo2 = await startEchoServer();
    sidecar = await startTestSidecar(`
sidecar:
  timeout: 10s
  maxTimeout: 20s
  listeners:
    - name: outbound
      direction: outbound
      listen: 127.0.0.1:0
      routes:
        - { method: /nsc.Echo/Slow, cluster: echo, timeout: 300ms, maxTimeout: 500ms }
        - { service: nsc.Echo, cluster: echo }
      policy:
        default: allow
        rules:
          - { method: /nsc.Echo/Forbidden, action: deny }
          - { service: nsc.Admin, action: deny }
          - { method: /nsc.Admin/Status, action: allow }
  clusters:
    - { name: echo, balancing: round-robin, endpoints: ['${echo.address}', '${echo2.address}'] }
`);
    client = echoClient(sidecar.address(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  });

  afterAll(async () => {
    client?.close();
    await sidecar?.close();
    await echo?.close();
    await echo2?.close();
  });

  const access = (): Access[] => sidecar.logs.find({ msg: 'grpc call' }) as unknown as Access[];
  const byId = (id: string): Access => {
    const found = access().filter((a) => a.requestId === id);
    assert.equal(found.length, 1, `one access line for ${id}`);
    return found[0]!;
  };

  test('unary calls: replies intact, balanced round robin over both endpoints, one access line each that matches the call', async () => {
    for (let i = 0; i < 6; i++) {
      const req = Buffer.from(`hello ${i}`);
      const r = await unaryCall(client, 'unary', req, { 'x-request-id': `u${i}`, 'x-reply-size': String(100 + i) });
      assert.equal(r.code, 0, r.details);
      assert.equal(r.reply!.length, 100 + i);
      const a = byId(`u${i}`);
      assert.deepEqual([a.method, a.grpcStatus, a.requestBytes, a.responseBytes, a.requestMessages, a.responseMessages], ['/nsc.Echo/Unary', 0, req.length, 100 + i, 1, 1]);
    }
    const ups = access().filter((a) => a.requestId?.startsWith('u')).map((a) => a.upstream);
    assert.deepEqual(new Set(ups), new Set([echo.address, echo2.address]));
    assert.equal(ups.filter((u) => u === echo.address).length, 3, 'round robin: 3 and 3');
  });

  test('server streaming, client streaming and bidi: every message through, byte and message counts equal what the client saw', async () => {
    const md = (id: string) => {
      const m = new grpc.Metadata();
      m.set('x-request-id', id);
      return m;
    };
    // server streaming: 50 messages of 10,000 bytes
    const got: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.serverStream(streamRequest(50, 10_000), md('ss'));
      call.on('data', (m: Buffer) => got.push(m));
      call.on('error', reject);
      call.on('end', () => resolve());
    });
    assert.equal(got.length, 50);
    got.forEach((m, i) => assert.ok(m.equals(streamMessage(i, 10_000)), `message ${i}`));
    let a = byId('ss');
    assert.deepEqual([a.grpcStatus, a.requestBytes, a.responseBytes, a.requestMessages, a.responseMessages], [0, 8, 500_000, 1, 50]);

    // client streaming: 40 messages of 1..40 KiB
    const sent = Array.from({ length: 40 }, (_, i) => Buffer.alloc((i + 1) * 1024, i));
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const call = client.clientStream(md('cs'), {}, (err, res) => (err ? reject(err) : resolve(res!)));
      for (const m of sent) call.write(m);
      call.end();
    });
    const total = sent.reduce((s, m) => s + m.length, 0);
    assert.deepEqual([reply.readUInt32BE(0), reply.readUInt32BE(4)], [40, total]);
    a = byId('cs');
    assert.deepEqual([a.grpcStatus, a.requestBytes, a.responseBytes, a.requestMessages, a.responseMessages], [0, total, 8, 40, 1]);

    // bidi: ping-pong 30 messages, each echoed before the next is sent
    const duplex = client.bidi(md('bi'));
    const echoed: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      const m = Buffer.alloc(100 * (i + 1), i);
      duplex.write(m);
      echoed.push(await new Promise<Buffer>((resolve) => duplex.once('data', resolve)));
      assert.ok(echoed[i]!.equals(m));
    }
    duplex.end();
    await new Promise<void>((resolve) => duplex.on('status', () => resolve()));
    a = byId('bi');
    const biBytes = echoed.reduce((s, m) => s + m.length, 0);
    assert.deepEqual([a.grpcStatus, a.requestBytes, a.responseBytes, a.requestMessages, a.responseMessages], [0, biBytes, biBytes, 30, 30]);
  });

  test('large messages across many frames (3 MiB each way) arrive intact', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
    const r = await unaryCall(client, 'unary', big, { 'x-request-id': 'big' });
    assert.equal(r.code, 0, r.details);
    assert.ok(r.reply!.equals(big));
    const a = byId('big');
    assert.deepEqual([a.requestBytes, a.responseBytes], [big.length, big.length]);
  });

  test('300 concurrent calls on one connection: all OK, each reply its own, telemetry counts 300', async () => {
    const before = sidecar.proxy.stats.methods('outbound').find((m) => m.method === '/nsc.Echo/Unary')?.calls ?? 0;
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => unaryCall(client, 'unary', Buffer.from(`c${i}`), { 'x-request-id': `c${i}` })));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, r.details);
      assert.equal(r.reply!.toString(), `c${i}`);
    });
    const after = sidecar.proxy.stats.methods('outbound').find((m) => m.method === '/nsc.Echo/Unary')!.calls;
    assert.equal(after - before, 300);
    assert.equal(sidecar.proxy.listener('outbound')!.connections().length, 1, 'one client connection');
  });

  test('a denied method gets PERMISSION_DENIED (trailers-only) and never reaches the server; method rules win over service rules', async () => {
    const deniedDef = { path: '/nsc.Echo/Forbidden', requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
    const Ctor = grpc.makeGenericClientConstructor({ forbidden: deniedDef, admin: { ...deniedDef, path: '/nsc.Admin/Reboot' }, status: { ...deniedDef, path: '/nsc.Admin/Status' } }, 'x');
    const c = new Ctor(sidecar.address(), grpc.credentials.createInsecure()) as unknown as Record<string, (req: Buffer, cb: (err: grpc.ServiceError | null) => void) => void>;
    try {
      const call = (m: string) => new Promise<grpc.ServiceError | null>((resolve) => c[m]!(Buffer.from('x'), (err) => resolve(err)));
      const e1 = await call('forbidden');
      assert.equal(e1?.code, grpc.status.PERMISSION_DENIED);
      assert.match(e1!.details, /\/nsc\.Echo\/Forbidden is denied by the policy of listener outbound/);
      assert.equal((await call('admin'))?.code, grpc.status.PERMISSION_DENIED, 'service rule');
      assert.equal((await call('status'))?.code, grpc.status.UNIMPLEMENTED, 'allowed by its method rule; no route for nsc.Admin');
      assert.equal(echo.calls.get('/nsc.Echo/Forbidden') ?? 0, 0);
      const denied = access().filter((a) => a.grpcStatus === 7).map((a) => a.method);
      assert.deepEqual(denied.sort(), ['/nsc.Admin/Reboot', '/nsc.Echo/Forbidden']);
      const metrics = await sidecar.metrics.text();
      assert.match(metrics, /netaccel_sidecar_calls_total\{listener="outbound",method="\/nsc\.Echo\/Forbidden",code="PERMISSION_DENIED"\} 1/);
    } finally {
      (c as unknown as grpc.Client).close();
    }
  });

  test('deadlines: the route caps grpc-timeout (500 ms) and applies its default (300 ms) without one: DEADLINE_EXCEEDED', async () => {
    const capped = await unaryCall(client, 'slow', Buffer.from('s'), { 'x-delay-ms': '5000', 'x-request-id': 'dl1' }, { deadline: Date.now() + 8000 });
    assert.equal(capped.code, grpc.status.DEADLINE_EXCEEDED);
    // the sidecar's timer or the upstream's (it got the capped grpc-timeout) ends the call, whichever fires first
    assert.match(capped.details, /deadline of 500 ms at the sidecar|Deadline exceeded/);
    const dflt = await unaryCall(client, 'slow', Buffer.from('s'), { 'x-delay-ms': '5000', 'x-request-id': 'dl2' });
    assert.equal(dflt.code, grpc.status.DEADLINE_EXCEEDED);
    const fast = await unaryCall(client, 'slow', Buffer.from('s'), { 'x-delay-ms': '10', 'x-request-id': 'dl3' });
    assert.equal(fast.code, 0);
    const ups = [...echo.slowDeadlines, ...echo2.slowDeadlines];
    assert.equal(ups.length, 3);
    for (const left of ups) assert.ok(left > 0 && left <= 500, `the upstream got a deadline of at most 500 ms, got ${left}`);
    assert.equal(ups.filter((left) => left <= 300).length, 2, 'two calls without grpc-timeout: the route default, 300 ms');
    assert.deepEqual(['dl1', 'dl2', 'dl3'].map((id) => byId(id).grpcStatus), [4, 4, 0]);
  });

  test('the Prometheus metrics and per-method stats agree with the access log', async () => {
    const text = await sidecar.metrics.text();
    const unary = access().filter((a) => a.method === '/nsc.Echo/Unary');
    const ok = unary.filter((a) => a.grpcStatus === 0).length;
    assert.match(text, new RegExp(`netaccel_sidecar_calls_total\\{listener="outbound",method="/nsc\\.Echo/Unary",code="OK"\\} ${ok}\\n`));
    const reqBytes = unary.reduce((s, a) => s + a.requestBytes, 0);
    assert.match(text, new RegExp(`netaccel_sidecar_message_bytes_total\\{listener="outbound",method="/nsc\\.Echo/Unary",direction="request"\\} ${reqBytes}\\n`));
    assert.match(text, new RegExp(`netaccel_sidecar_call_duration_seconds_count\\{listener="outbound",method="/nsc\\.Echo/Unary"\\} ${unary.length}\\n`));
    const s = sidecar.proxy.stats.methods('outbound').find((m) => m.method === '/nsc.Echo/Unary')!;
    assert.equal(s.calls, unary.length);
    assert.equal(s.requestBytes, reqBytes);
  });
});

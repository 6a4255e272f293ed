/**
 * Root layer, real sockets, in both kernel modes. A client socket talks HTTP/2 to a relay
 * (standing in for the proxy); the kernel pairs either the relay's two sockets (sk_skb: the stream
 * parser and verdict judge what they receive) or the client's socket and the upstream's accepted
 * one (sk_msg: judged when sent), so frames go to the upstream inside the kernel while they are
 * counted and policed. Fixtures: the request split at every byte offset; every HPACK representation
 * claimed; what is not decided handed to user space with the call intact; a real node:http2
 * client and server with header table size 0, a denied method answered by user space, and the
 * kernel's per-method counters equal to what the client did.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { SIDECAR_CONN_F, SIDECAR_REASON, SIDECAR_RULE_F, compilePolicy, decodeStream, encodeStreamKey, reverseSockKey } from './index.js';
import type { CompiledPolicy, MethodStats } from './index.js';
import {
  FrameRelay, H2_FRAME, H2_PREFACE, HPACK_STATIC, SidecarObject, TestCgroup, dataFrame, frame, grpcMessage, headersFrame, hpackIndexed,
  hpackLiteral, hpackSizeUpdate, settingsFrame,
} from './testing.js';
import type { FieldSpec, RelayedConnection } from './testing.js';

const ALLOWED = '/test.Svc/Allowed';
const OTHER = '/test.Svc/Other';
const DENIED = '/test.Svc/Denied';
const POLICY = { methods: { [ALLOWED]: 'allow', [OTHER]: 'allow', [DENIED]: 'deny' }, defaultAction: 'allow' } as const;

async function until(what: string, fn: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request's header block: :method POST, :scheme http, then `path` (any representation), content-type. */
function requestBlock(path: Buffer, prefix: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([
    prefix,
    hpackIndexed(HPACK_STATIC.METHOD_POST),
    hpackIndexed(HPACK_STATIC.SCHEME_HTTP),
    path,
    hpackLiteral({ name: 'content-type', nameIndex: HPACK_STATIC.CONTENT_TYPE, value: 'application/grpc', kind: 'without', huffman: false }),
  ]);
}

function pathField(value: string, o: Omit<FieldSpec, 'name' | 'value'>): Buffer {
  return hpackLiteral({ name: ':path', value, ...o });
}

/** Counters of a method minus an earlier reading. */
function delta(now: MethodStats, before: MethodStats) {
  return {
    requests: now.requests - before.requests,
    denied: now.denied - before.denied,
    requestBytes: now.requestBytes - before.requestBytes,
    responseBytes: now.responseBytes - before.responseBytes,
    responses: now.responses - before.responses,
    status0: now.status[0]! - before.status[0]!,
  };
}

/**
 * `skb`: the relay's two sockets are paired and judge what they receive (sk_skb parser and
 * verdict). `msg`: the client's socket and the upstream's accepted one are paired and judge what
 * they send (sk_msg, corked while a frame is cut).
 */
for (const mode of ['skb', 'msg'] as const) describe(`HTTP/2 frames between paired sockets, ${mode}`, () => {
  let cgroup: TestCgroup;
  let sidecar: SidecarObject;
  let compiled: CompiledPolicy;
  let sink: Server;
  let sinkPort = 0;
  const sunk = new Map<number, Buffer[]>(); // by the relay's upstream-side port
  const sinkSockets: Socket[] = [];
  let relay: FrameRelay;
  let opened = 0;

  const id = (path: string) => compiled.methodIds.get(path)!;
  /** The socket that judges requests, and its peer. */
  const judged = (conn: RelayedConnection) => (mode === 'skb' ? conn.clientKey : reverseSockKey(conn.clientKey));
  const peerOf = (conn: RelayedConnection) => (mode === 'skb' ? conn.upstreamKey : reverseSockKey(conn.upstreamKey));

  beforeAll(async () => {
    cgroup = TestCgroup.create(`nsk-sidecar-h2-${mode}-`);
    cgroup.enter();
    try {
      sidecar = SidecarObject.load();
      sidecar.attach(cgroup.path);
      compiled = compilePolicy(POLICY);
      sidecar.setPolicy(compiled);
      sink = createServer((s) => {
        sinkSockets.push(s);
        const got: Buffer[] = [];
        sunk.set(s.remotePort!, got);
        s.on('data', (d: Buffer) => got.push(d));
      });
      await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
      sinkPort = (sink.address() as AddressInfo).port;
      relay = await FrameRelay.start({ sidecar, upstreamPort: sinkPort, policy: (p) => (p === DENIED ? 'deny' : 'allow'), pair: mode });
      const { MSG, H2, REQUESTS, RESPONSES } = SIDECAR_RULE_F;
      if (mode === 'skb') {
        sidecar.addRule({ localAddress: '127.0.0.1', localPort: relay.port, remoteAddress: '0.0.0.0', remotePort: 0 }, H2 | REQUESTS);
        sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: sinkPort }, H2 | RESPONSES);
      } else {
        sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: relay.port }, MSG | H2 | REQUESTS);
        sidecar.addRule({ localAddress: '127.0.0.1', localPort: sinkPort, remoteAddress: '0.0.0.0', remotePort: 0 }, MSG | H2 | RESPONSES);
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
      for (const s of sinkSockets) s.destroy();
      await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
      sidecar?.close();
    } finally {
      cgroup.remove();
    }
  });

  /** A client connection through the relay, paired in the kernel before the first byte. */
  async function open(): Promise<{ client: Socket; conn: RelayedConnection; sunk: () => Buffer }> {
    const client = createConnection({ port: relay.port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
    const conn = await relay.paired(++opened);
    await until('both judging sockets offloaded', () => sidecar.conn(judged(conn)) !== undefined && sidecar.conn(peerOf(conn)) !== undefined);
    return { client, conn, sunk: () => Buffer.concat(sunk.get(conn.upstreamKey.localPort) ?? []) };
  }

  test('a request split at every byte offset: each is one call in the kernel, no byte in user space', async () => {
    const message = grpcMessage(Buffer.from('0123456789'));
    const request = Buffer.concat([
      H2_PREFACE,
      settingsFrame([[1, 0]]),
      headersFrame(1, requestBlock(pathField(ALLOWED, { nameIndex: HPACK_STATIC.PATH_ROOT, kind: 'without', huffman: true }), hpackSizeUpdate(0))),
      dataFrame(1, message, true),
    ]);
    const before = sidecar.methodStats(id(ALLOWED));
    const redirectedBefore = sidecar.reasons().get(SIDECAR_REASON.REDIRECTED)!.bytes;
    for (let split = 1; split < request.length; split++) {
      const { client, conn, sunk: got } = await open();
      try {
        client.write(request.subarray(0, split));
        await pause(1);
        client.write(request.subarray(split));
        await until(`all bytes upstream (split at ${split})`, () => got().length === request.length);
        assert.deepEqual(got(), request, `split at ${split}`);
        assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 }, `split at ${split}: nothing in user space`);
        assert.equal(sidecar.conn(judged(conn))!.flags & SIDECAR_CONN_F.USER, 0);
      } finally {
        client.destroy();
      }
    }
    const splits = BigInt(request.length - 1);
    const d = delta(sidecar.methodStats(id(ALLOWED)), before);
    assert.equal(d.requests, splits);
    assert.equal(d.requestBytes, splits * BigInt(message.length));
    assert.equal(sidecar.reasons().get(SIDECAR_REASON.REDIRECTED)!.bytes - redirectedBefore, splits * BigInt(request.length));
  });

  test('every HPACK representation of :path is matched in the kernel (plain and Huffman, static or literal name, each literal kind)', async () => {
    const { client, conn, sunk: got } = await open();
    try {
      const frames: Buffer[] = [H2_PREFACE, settingsFrame()];
      let stream = 1;
      const add = (block: Buffer, opts = {}) => {
        frames.push(headersFrame(stream, block, { endStream: true, ...opts }));
        stream += 2;
      };
      let first = true;
      let variants = 0;
      for (const kind of ['without', 'never', 'incremental'] as const) {
        for (const nameIndex of [HPACK_STATIC.PATH_ROOT, HPACK_STATIC.PATH_INDEX, undefined]) {
          for (const huffman of [false, true]) {
            // the connection's first block says "table size 0": indexing is decidable from then on
            add(requestBlock(pathField(ALLOWED, { kind, huffman, ...(nameIndex === undefined ? {} : { nameIndex }) }), first ? hpackSizeUpdate(0) : undefined));
            first = false;
            variants++;
          }
        }
      }
      add(requestBlock(pathField(ALLOWED, { kind: 'without', huffman: true })), { padding: 7, priority: true });
      add(requestBlock(pathField(OTHER, { kind: 'never', huffman: false })), { padding: 0 });
      add(requestBlock(hpackIndexed(HPACK_STATIC.PATH_ROOT))); // :path / is "other" (method 0)
      add(requestBlock(pathField('/unknown.Svc/Method', { kind: 'without', huffman: true }))); // not in the policy: method 0
      const bytes = Buffer.concat(frames);
      const before = [sidecar.methodStats(id(ALLOWED)), sidecar.methodStats(id(OTHER)), sidecar.methodStats(0)];
      client.write(bytes);
      await until('all bytes upstream', () => got().length === bytes.length);
      assert.deepEqual(got(), bytes);
      assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 });
      assert.equal(delta(sidecar.methodStats(id(ALLOWED)), before[0]!).requests, BigInt(variants + 1));
      assert.equal(delta(sidecar.methodStats(id(OTHER)), before[1]!).requests, 1n);
      assert.equal(delta(sidecar.methodStats(0), before[2]!).requests, 2n);
      assert.equal(sidecar.conn(judged(conn))!.flags & SIDECAR_CONN_F.HPACK_CLEAN, SIDECAR_CONN_F.HPACK_CLEAN);
    } finally {
      client.destroy();
    }
  });

  test('grpc-timeout after :path, in every literal representation (plain and Huffman, each kind), kept in streams as on the wire; absent or beyond the walk: none', async () => {
    const { client, conn, sunk: got } = await open();
    try {
      const frames: Buffer[] = [H2_PREFACE, settingsFrame()];
      const want = new Map<number, string | undefined>();
      let stream = 1;
      // requests without END_STREAM stay in `streams`; the first block says "table size 0"
      const add = (extra: Buffer[], timeout: string | undefined) => {
        const block = Buffer.concat([requestBlock(pathField(ALLOWED, { kind: 'without', huffman: true }), stream === 1 ? hpackSizeUpdate(0) : undefined), ...extra]);
        frames.push(headersFrame(stream, block, { endStream: false }));
        want.set(stream, timeout);
        stream += 2;
      };
      const values = ['250m', '1S', '99999999u', '5H', '30n'];
      for (const kind of ['without', 'never', 'incremental'] as const) {
        for (const huffman of [false, true]) {
          for (const value of values) add([hpackLiteral({ name: 'grpc-timeout', value, kind, huffman })], value);
        }
      }
      const te = hpackLiteral({ name: 'te', value: 'trailers', kind: 'without', huffman: true });
      const ua = hpackLiteral({ name: 'user-agent', nameIndex: 58, value: 'grpc-node-js/1.14', kind: 'without', huffman: false }); // an index with a continuation byte
      add([te, ua, hpackLiteral({ name: 'grpc-timeout', value: '8S', kind: 'without', huffman: true })], '8S'); // 4th field after :path
      add([], undefined); // none
      // 7th field after :path (content-type, then 5 more): beyond SIDECAR_MAX_TIMEOUT_FIELDS, not seen
      add([te, te, te, te, te, hpackLiteral({ name: 'grpc-timeout', value: '9S', kind: 'without', huffman: false })], undefined);
      const bytes = Buffer.concat(frames);
      client.write(bytes);
      await until('all bytes upstream', () => got().length === bytes.length);
      assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 }, 'every request carried by the kernel');
      const streams = sidecar.map('streams');
      for (const [sid, timeout] of want) {
        const raw = streams.lookup(encodeStreamKey(judged(conn), sid));
        assert.ok(raw !== undefined, `stream ${sid} in flight`);
        assert.equal(decodeStream(raw).timeout, timeout, `stream ${sid}`);
      }
    } finally {
      client.destroy();
    }
  });

  const undecided: [string, number, () => Buffer][] = [
    ['a dynamic-table index', SIDECAR_REASON.HPACK_DYNAMIC, () => headersFrame(1, requestBlock(hpackIndexed(62)))],
    ['indexing before a table size update to 0', SIDECAR_REASON.HPACK_DYNAMIC, () => headersFrame(1, requestBlock(pathField(ALLOWED, { kind: 'incremental', nameIndex: 4, huffman: true })))],
    ['a table size update above 0', SIDECAR_REASON.HPACK_TABLE_SIZE, () => headersFrame(1, requestBlock(pathField(ALLOWED, { kind: 'without', huffman: false }), hpackSizeUpdate(4096)))],
    ['a header block continued in CONTINUATION', SIDECAR_REASON.CONTINUATION, () => {
      const block = requestBlock(pathField(ALLOWED, { kind: 'without', huffman: false }));
      return Buffer.concat([headersFrame(1, block.subarray(0, 3), { endHeaders: false }), frame(H2_FRAME.CONTINUATION, 0x4, 1, block.subarray(3))]);
    }],
    ['a :path beyond SIDECAR_MAX_PATH', SIDECAR_REASON.PATH_TOO_LONG, () => headersFrame(1, requestBlock(pathField(`/a.B/${'x'.repeat(200)}`, { kind: 'without', huffman: false })))],
    ['a frame longer than SIDECAR_MAX_FRAME_LEN', SIDECAR_REASON.BAD_FRAME, () => dataFrame(0, Buffer.alloc(20000))],
  ];
  for (const [what, reason, headers] of undecided) {
    test(`not decided in the kernel, handed to user space whole: ${what}`, async () => {
      const { client, conn, sunk: got } = await open();
      try {
        const head = Buffer.concat([H2_PREFACE, settingsFrame()]);
        const rest = Buffer.concat([headers(), dataFrame(1, grpcMessage(Buffer.from('abc')), true), settingsFrame([], true)]);
        client.write(head);
        await until('preface and SETTINGS in the kernel', () => got().length === head.length);
        client.write(rest);
        await until('every byte upstream, through the relay', () => got().length === head.length + rest.length);
        assert.deepEqual(got(), Buffer.concat([head, rest]));
        assert.equal(conn.read.fromClient, rest.length, 'the relay read exactly what the kernel did not decide');
        const c = sidecar.conn(judged(conn))!;
        assert.equal(c.reason, reason);
        assert.equal(c.flags & SIDECAR_CONN_F.USER, SIDECAR_CONN_F.USER);
        assert.equal(sidecar.conn(peerOf(conn))!.flags & SIDECAR_CONN_F.USER, SIDECAR_CONN_F.USER, 'the peer follows');
        assert.equal(c.kernelBytes, BigInt(head.length));
      } finally {
        client.destroy();
      }
    });
  }

  test('handed over in the middle of a frame: user space gets user_skip bytes that end a frame the kernel forwarded, then whole frames', async () => {
    const { client, conn, sunk: got } = await open();
    try {
      const data = dataFrame(1, grpcMessage(Buffer.alloc(300, 0x41)), true);
      const first = Buffer.concat([
        H2_PREFACE,
        settingsFrame(),
        headersFrame(1, requestBlock(pathField(ALLOWED, { kind: 'without', huffman: true }), hpackSizeUpdate(0))),
        data.subarray(0, 100),
      ]);
      const second = Buffer.concat([data.subarray(100), headersFrame(3, requestBlock(hpackIndexed(70)), { endStream: true })]);
      client.write(first);
      await until('the first part upstream', () => got().length === first.length);
      client.write(second);
      await until('everything upstream', () => got().length === first.length + second.length);
      assert.deepEqual(got(), Buffer.concat([first, second]));
      const c = sidecar.conn(judged(conn))!;
      assert.equal(c.reason, SIDECAR_REASON.HPACK_DYNAMIC);
      assert.equal(c.stream, 3);
      assert.equal(c.userSkip, data.length - 100);
      assert.equal(conn.read.fromClient, second.length);
    } finally {
      client.destroy();
    }
  });

  test('a client that does not speak HTTP/2 is handed to user space (BAD_PREFACE)', async () => {
    const { client, conn } = await open();
    try {
      const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      client.write(garbage);
      await until('the relay read it', () => conn.read.fromClient === garbage.length);
      assert.equal(sidecar.conn(judged(conn))!.reason, SIDECAR_REASON.BAD_PREFACE);
    } finally {
      client.destroy();
    }
  });

  test('responses: grpc-status in trailers and trailers-only, plain and Huffman (one and two digits), resets; latency per stream', async () => {
    const { client, conn, sunk: got } = await open();
    try {
      const back: Buffer[] = [];
      client.on('data', (d: Buffer) => back.push(d));
      const req = (stream: number) => headersFrame(stream, requestBlock(pathField(ALLOWED, { kind: 'without', huffman: true }), stream === 1 ? hpackSizeUpdate(0) : undefined), { endStream: true });
      const request = Buffer.concat([H2_PREFACE, settingsFrame(), req(1), req(3), req(5), req(7)]);
      const before = sidecar.methodStats(id(ALLOWED));
      client.write(request);
      await until('the requests upstream', () => got().length === request.length);
      const upstream = sinkSockets.find((s) => s.remotePort === conn.upstreamKey.localPort)!;
      const status200 = hpackIndexed(HPACK_STATIC.STATUS_200);
      const grpcStatus = (value: string, huffman: boolean, kind: 'without' | 'never' = 'without') => hpackLiteral({ name: 'grpc-status', value, kind, huffman });
      const reply = Buffer.alloc(33, 1);
      const response = Buffer.concat([
        settingsFrame(),
        headersFrame(1, Buffer.concat([status200, grpcStatus('12', true)]), { endStream: true }), // trailers-only, Huffman name and value
        headersFrame(3, status200),
        dataFrame(3, reply),
        headersFrame(3, grpcStatus('0', false), { endStream: true }), // trailers, plain
        headersFrame(5, Buffer.concat([status200, grpcStatus('3', true, 'never')]), { endStream: true, padding: 4 }),
        frame(H2_FRAME.RST_STREAM, 0, 7, Buffer.from([0, 0, 0, 8])),
      ]);
      upstream.write(response);
      await until('the responses at the client', () => Buffer.concat(back).length === response.length);
      assert.deepEqual(Buffer.concat(back), response);
      assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 });
      const now = sidecar.methodStats(id(ALLOWED));
      assert.equal(now.requests - before.requests, 4n);
      assert.equal(now.responses - before.responses, 3n);
      assert.equal(now.resets - before.resets, 1n);
      assert.equal(now.status[12]! - before.status[12]!, 1n);
      assert.equal(now.status[0]! - before.status[0]!, 1n);
      assert.equal(now.status[3]! - before.status[3]!, 1n);
      assert.equal(now.responseBytes - before.responseBytes, BigInt(reply.length));
      const hist = (m: typeof now) => m.latencyLog2Us.reduce((a, b) => a + b, 0n);
      assert.equal(hist(now) - hist(before), 3n);
      assert.ok(now.latencyNsSum > before.latencyNsSum);
    } finally {
      client.destroy();
    }
  });

  test('one message holding a stream\'s HEADERS, DATA, RST_STREAM and DATA again: opened, its bytes and the reset counted once each, nothing after the reset; another stream in it unaffected', async () => {
    const { client, conn, sunk: got } = await open();
    try {
      const block = (first: boolean) => requestBlock(pathField(ALLOWED, { kind: 'without', huffman: true }), first ? hpackSizeUpdate(0) : undefined);
      const before = sidecar.methodStats(id(ALLOWED));
      // the telemetry of a message is recorded frame by frame and applied once it is judged, the
      // stream of the previous frame cached: the reset must end that cache
      const bytes = Buffer.concat([
        H2_PREFACE,
        settingsFrame(),
        headersFrame(1, block(true), { endStream: false }),
        dataFrame(1, Buffer.alloc(10, 7)),
        frame(H2_FRAME.RST_STREAM, 0, 1, Buffer.from([0, 0, 0, 8])),
        dataFrame(1, Buffer.alloc(7, 7)),
        headersFrame(3, block(false), { endStream: false }),
        dataFrame(3, Buffer.alloc(5, 7)),
      ]);
      client.write(bytes);
      await until('all bytes upstream', () => got().length === bytes.length);
      assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 }, 'carried by the kernel');
      const now = sidecar.methodStats(id(ALLOWED));
      assert.equal(now.requests - before.requests, 2n);
      assert.equal(now.resets - before.resets, 1n);
      assert.equal(now.requestBytes - before.requestBytes, 15n, 'stream 1 before its reset (10) and stream 3 (5)');
      const streams = sidecar.map('streams');
      assert.equal(streams.lookup(encodeStreamKey(judged(conn), 1)), undefined, 'the reset stream is gone');
      assert.notEqual(streams.lookup(encodeStreamKey(judged(conn), 3)), undefined, 'the open one stays');
    } finally {
      client.destroy();
    }
  });

  test('a denied method: the frame goes to user space, which answers PERMISSION_DENIED; the connection carries on there', async () => {
    const { client, conn, sunk: got } = await open();
    try {
      const answers: Buffer[] = [];
      client.on('data', (d: Buffer) => answers.push(d));
      const head = Buffer.concat([H2_PREFACE, settingsFrame(), headersFrame(1, requestBlock(pathField(ALLOWED, { kind: 'without', huffman: true }), hpackSizeUpdate(0)), { endStream: true })]);
      const before = sidecar.methodStats(id(DENIED));
      client.write(head);
      await until('the allowed call upstream', () => got().length === head.length);
      const denied = headersFrame(3, requestBlock(pathField(DENIED, { kind: 'never', huffman: true })));
      const body = dataFrame(3, grpcMessage(Buffer.from('no')), true);
      const later = headersFrame(5, requestBlock(pathField(OTHER, { kind: 'without', huffman: false })), { endStream: true });
      client.write(Buffer.concat([denied, body, later]));
      await until('the later call upstream through the relay', () => got().length === head.length + later.length);
      assert.deepEqual(got(), Buffer.concat([head, later]), 'the denied stream never reached the upstream');
      await until('the answer', () => answers.length > 0);
      const answer = Buffer.concat(answers);
      assert.equal(answer[3], H2_FRAME.HEADERS);
      assert.equal(answer.readUInt32BE(5), 3);
      assert.ok(answer.includes(Buffer.from('grpc-status')) && answer.includes(Buffer.from('7')));
      const c = sidecar.conn(judged(conn))!;
      assert.equal(c.reason, SIDECAR_REASON.DENIED);
      assert.equal(c.stream, 3);
      assert.equal(c.method, id(DENIED));
      assert.equal(delta(sidecar.methodStats(id(DENIED)), before).denied, 1n);
      assert.equal(delta(sidecar.methodStats(id(DENIED)), before).requests, 0n);
    } finally {
      client.destroy();
    }
  });
});

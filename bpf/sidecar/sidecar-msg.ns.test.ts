/**
 * Root layer, real sockets: the sk_msg path (Merbridge). Two local sockets of a connection that
 * runs through a relay are paired in sock_hash; what each sends goes straight to the other's
 * receive queue, so the relay in between never reads a byte. IPv6 too. With HTTP/2 judged at
 * send time, a request split into two sends at every offset is corked and counted once. A socket
 * whose peer is not in the sockhash keeps the normal path for good (no reordering), and says why.
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { SIDECAR_CONN_F, SIDECAR_REASON, SIDECAR_RULE_F, compilePolicy, reverseSockKey } from './index.js';
import type { SockKey } from './index.js';
import {
  FrameRelay, H2_PREFACE, HPACK_STATIC, SidecarObject, TestCgroup, dataFrame, grpcMessage, headersFrame, hpackIndexed, hpackLiteral, hpackSizeUpdate,
  settingsFrame,
} from './testing.js';

async function until(what: string, fn: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function keyOf(s: Socket): SockKey {
  return { localAddress: s.localAddress!, localPort: s.localPort!, remoteAddress: s.remoteAddress!, remotePort: s.remotePort! };
}

const ANY = { address: '0.0.0.0', port: 0 };

describe('sk_msg: paired local sockets', () => {
  let cgroup: TestCgroup;
  let sidecar: SidecarObject;

  beforeAll(() => {
    cgroup = TestCgroup.create('nsk-sidecar-msg-');
    try {
      cgroup.enter();
      sidecar = SidecarObject.load();
      sidecar.attach(cgroup.path);
    } catch (err) {
      cgroup.remove();
      throw err;
    }
  });
  afterAll(() => {
    try {
      sidecar?.close();
    } finally {
      cgroup.remove();
    }
  });

  test('client and upstream exchange data through the sockhash; the relay between them reads nothing', async (t) => {
    const accepted: Socket[] = [];
    const upstreamGot: Buffer[] = [];
    const upstream: Server = createServer((s) => {
      accepted.push(s);
      s.on('data', (d: Buffer) => {
        upstreamGot.push(d);
        s.write(Buffer.concat([Buffer.from('re:'), d]));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const relay = await FrameRelay.start({ sidecar, upstreamPort, policy: () => 'allow', pair: 'none' });
    const client = createConnection({ port: relay.port, host: '127.0.0.1', noDelay: true });
    t.onTestFinished(async () => {
      client.destroy();
      await relay.close();
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => upstream.close(() => r()));
    });
    // The client's socket (to the relay) and the upstream's accepted socket are offloaded.
    sidecar.addRule({ localAddress: ANY.address, localPort: ANY.port, remoteAddress: '127.0.0.1', remotePort: relay.port }, SIDECAR_RULE_F.MSG);
    sidecar.addRule({ localAddress: '127.0.0.1', localPort: upstreamPort, remoteAddress: ANY.address, remotePort: ANY.port }, SIDECAR_RULE_F.MSG);
    await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
    const conn = await relay.paired(1);
    await until('the upstream accepted', () => accepted.length === 1);
    const clientKey = keyOf(client);
    const upstreamKey = keyOf(accepted[0]!);
    await until('both sockets offloaded', () => sidecar.conn(clientKey) !== undefined && sidecar.conn(upstreamKey) !== undefined);
    sidecar.pair(clientKey, upstreamKey);

    const got: Buffer[] = [];
    client.on('data', (d: Buffer) => got.push(d));
    for (const word of ['one', 'two', 'three']) {
      const before = Buffer.concat(got).length;
      client.write(word);
      await until(`the answer to ${word}`, () => Buffer.concat(got).length >= before + 3 + word.length);
    }
    assert.equal(Buffer.concat(upstreamGot).toString(), 'onetwothree');
    assert.equal(Buffer.concat(got).toString(), 're:onere:twore:three');
    assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 }, 'the relay read nothing');
    const c = sidecar.conn(clientKey)!;
    assert.equal(c.kernelFrames, 3n);
    assert.equal(c.kernelBytes, 11n);
    assert.equal(c.userFrames, 0n);
    assert.equal(c.flags & SIDECAR_CONN_F.USER, 0);
    assert.equal(c.flags & SIDECAR_CONN_F.ACTIVE, SIDECAR_CONN_F.ACTIVE);
    const u = sidecar.conn(upstreamKey)!;
    assert.equal(u.kernelBytes, 20n);
    assert.equal(u.flags & SIDECAR_CONN_F.ACTIVE, 0);
  });

  test('IPv6: both ends of a connection over ::1 are paired by default (the reversed tuple) and exchange data in the kernel', async (t) => {
    const accepted: Socket[] = [];
    const got: Buffer[] = [];
    const server: Server = createServer((s) => {
      accepted.push(s);
      s.on('data', (d: Buffer) => {
        got.push(d);
        s.write(d);
      });
    });
    await new Promise<void>((r) => server.listen(0, '::1', r));
    const port = (server.address() as AddressInfo).port;
    sidecar.addRule({ localAddress: '::', localPort: 0, remoteAddress: '::1', remotePort: port }, SIDECAR_RULE_F.MSG);
    sidecar.addRule({ localAddress: '::1', localPort: port, remoteAddress: '::', remotePort: 0 }, SIDECAR_RULE_F.MSG);
    const client = createConnection({ port, host: '::1', noDelay: true });
    t.onTestFinished(async () => {
      client.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
    const key = keyOf(client);
    await until('both ends offloaded', () => sidecar.conn(key) !== undefined && sidecar.conn({ localAddress: key.remoteAddress, localPort: key.remotePort, remoteAddress: key.localAddress, remotePort: key.localPort }) !== undefined);
    const echoed: Buffer[] = [];
    client.on('data', (d: Buffer) => echoed.push(d));
    client.write('over six');
    await until('the echo', () => Buffer.concat(echoed).toString() === 'over six');
    assert.equal(Buffer.concat(got).toString(), 'over six');
    assert.equal(sidecar.conn(key)!.kernelBytes, 8n, 'the send was redirected, not sent over loopback');
  });

  test('HTTP/2 at send time: a request split into two sends at every byte offset is corked, judged whole and counted once', async (t) => {
    const path = '/split.Svc/Call';
    const compiled = compilePolicy({ methods: { [path]: 'allow' }, defaultAction: 'allow' });
    sidecar.setPolicy(compiled);
    const accepted: Socket[] = [];
    const sunk = new Map<number, Buffer[]>();
    const sink: Server = createServer((s) => {
      accepted.push(s);
      const got: Buffer[] = [];
      sunk.set(s.remotePort!, got);
      s.on('data', (d: Buffer) => got.push(d));
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const sinkPort = (sink.address() as AddressInfo).port;
    const relay = await FrameRelay.start({ sidecar, upstreamPort: sinkPort, policy: () => 'allow', pair: 'msg' });
    const clients: Socket[] = [];
    t.onTestFinished(async () => {
      for (const c of clients) c.destroy();
      await relay.close();
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => sink.close(() => r()));
    });
    const { MSG, H2, REQUESTS, RESPONSES } = SIDECAR_RULE_F;
    sidecar.addRule({ localAddress: ANY.address, localPort: ANY.port, remoteAddress: '127.0.0.1', remotePort: relay.port }, MSG | H2 | REQUESTS);
    sidecar.addRule({ localAddress: '127.0.0.1', localPort: sinkPort, remoteAddress: ANY.address, remotePort: ANY.port }, MSG | H2 | RESPONSES);
    const block = Buffer.concat([
      hpackSizeUpdate(0),
      hpackIndexed(HPACK_STATIC.METHOD_POST),
      hpackLiteral({ name: ':path', nameIndex: HPACK_STATIC.PATH_ROOT, value: path, kind: 'never', huffman: true }),
    ]);
    const request = Buffer.concat([H2_PREFACE, settingsFrame(), headersFrame(1, block), dataFrame(1, grpcMessage(Buffer.from('payload')), true)]);
    const before = sidecar.methodStats(compiled.methodIds.get(path)!);
    for (let split = 1; split < request.length; split++) {
      const client = createConnection({ port: relay.port, host: '127.0.0.1', noDelay: true });
      clients.push(client);
      await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
      const conn = await relay.paired(split);
      const upstreamSide = reverseSockKey(conn.upstreamKey);
      await until('the upstream end offloaded', () => sidecar.conn(upstreamSide) !== undefined);
      client.write(request.subarray(0, split));
      await new Promise((r) => setTimeout(r, 1));
      client.write(request.subarray(split));
      const got = () => Buffer.concat(sunk.get(conn.upstreamKey.localPort) ?? []);
      await until(`all bytes at the upstream (split at ${split})`, () => got().length === request.length);
      assert.deepEqual(got(), request, `split at ${split}`);
      assert.deepEqual(conn.read, { fromClient: 0, fromUpstream: 0 }, `split at ${split}: nothing through the relay`);
      client.destroy();
    }
    const now = sidecar.methodStats(compiled.methodIds.get(path)!);
    assert.equal(now.requests - before.requests, BigInt(request.length - 1));
    assert.equal(now.requestBytes - before.requestBytes, BigInt((request.length - 1) * 12));
  });

  test('a socket whose peer is not in the sockhash takes the normal path for good (PEER_GONE) and data still flows', async (t) => {
    const upstreamGot: Buffer[] = [];
    const accepted: Socket[] = [];
    const upstream: Server = createServer((s) => {
      accepted.push(s);
      s.on('data', (d: Buffer) => upstreamGot.push(d));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    const client = createConnection({ port, host: '127.0.0.1', noDelay: true });
    t.onTestFinished(async () => {
      client.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => upstream.close(() => r()));
    });
    // Only the client is offloaded: its default peer (the other end of its connection) is not in sock_hash.
    sidecar.addRule({ localAddress: ANY.address, localPort: ANY.port, remoteAddress: '127.0.0.1', remotePort: port }, SIDECAR_RULE_F.MSG);
    await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
    const before = sidecar.reasons().get(SIDECAR_REASON.PEER_GONE)!.frames;
    client.write('first');
    await until('first', () => Buffer.concat(upstreamGot).toString() === 'first');
    client.write('second');
    await until('second', () => Buffer.concat(upstreamGot).toString() === 'firstsecond');
    const c = sidecar.conn(keyOf(client))!;
    assert.equal(c.reason, SIDECAR_REASON.PEER_GONE);
    assert.equal(c.flags & SIDECAR_CONN_F.USER, SIDECAR_CONN_F.USER);
    assert.equal(c.userBytes, 11n);
    assert.equal(c.kernelBytes, 0n);
    assert.equal(sidecar.reasons().get(SIDECAR_REASON.PEER_GONE)!.frames - before, 1n);
  });
});

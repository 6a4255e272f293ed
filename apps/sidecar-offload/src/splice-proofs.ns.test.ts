/**
 * Root layer: the proof list in every path — the kernel splice in process and through a
 * real ebpf-loader (testing/splice-rig.ts), and the user-space proxy: a server that closes its
 * connection mid-stream (the messages sent, then UNAVAILABLE, counted once), a slow reader
 * holding the server back end to end, garbage / truncated / broken-HPACK connections (that
 * connection closed or refused, calls on another unaffected and still carried by the kernel).
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { H2_PREFACE, readFrames, settingsFrame } from '@netaccel/bpf-programs/sidecar/testing';
import {
  grpcFrame as frame, ownClient, serverStreamOutcome, startPumpingUpstream, startRawUpstream as rawUpstream, startTestSidecar, streamMessage, streamRequest, unaryCall, writtenWhenHeld,
} from './testing/index.js';
import type { SpliceRig, Via } from './testing/splice-rig.js';
import { carrierWithEcho, startSpliceProxy } from './testing/splice-rig.js';

/** The kernel splice, in process or through the loader (this test's cgroup), and the user-space proxy. */
type Path = Via | 'user';

describe('the proof list in every path: server closing mid-stream, slow reader, garbage and truncated frames', () => {
  // one cgroup (this process is in one at a time) and one loader for both kernel paths
  const env = carrierWithEcho('loader', 'proofs');
  beforeAll(env.setUp);
  afterAll(env.tearDown);

  /** A proxy of the path to `endpoint`; its stats, and the kernel's rig when the kernel carries the connection. */
  async function proxyOf(path: Path, endpoint: string) {
    if (path !== 'user') {
      const rig = await startSpliceProxy({ ...env.carrier.get(), via: path }, '127.0.0.1:0', endpoint);
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
      const up = await startPumpingUpstream(count, size);
      t.onTestFinished(() => up.close());
      const p = await proxyOf(path, up.address);
      t.onTestFinished(() => p.close());
      const session = http2.connect(`http://127.0.0.1:${p.port}`);
      t.onTestFinished(() => session.destroy());
      const req = session.request({ ':method': 'POST', ':path': '/nsc.Echo/ServerStream', 'content-type': 'application/grpc', te: 'trailers' });
      req.end(frame(Buffer.alloc(0)));
      req.pause();
      const last = await writtenWhenHeld(up.written);
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
      const p = await proxyOf(path, env.echo().address);
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
        // the refused connections' proxy sockets close a moment after the client's (through the
        // loader a client may even close before its pair is written: splice.ts ends the upstream then)
        await until(() => p.proxy.listener('inbound')!.splicedConnections().length === 1);
        const mine = p.proxy.listener('inbound')!.splicedConnections();
        assert.equal(mine.length, 1, "only the calls' connection is left");
        assert.deepEqual(await p.rig.spliceState(mine[0]!.clientSide), { offloaded: true, reason: '' }, 'the kernel still carries the calls');
      }
    });
  }
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached in 5 s');
}

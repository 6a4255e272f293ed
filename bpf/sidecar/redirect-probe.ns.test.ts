/**
 * Root layer, real sockets: redirect_probe.bpf.o, the bare sockmap redirect the sidecar bench
 * measures apart (bench/sidecar `sidecar-redirect`). An echo through a connection to the probe's
 * port goes socket to socket through the sockhash, every send counted as redirected with its
 * bytes; a connection to another port of the same cgroup never meets the programs. The same with
 * the pass-through sk_skb verdict attached too (the reads then go through the parser-mode path).
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { RedirectProbe, TestCgroup } from './testing.js';

async function echoServer(t: { onTestFinished(fn: () => unknown): void }): Promise<Server> {
  const conns: Socket[] = [];
  const server = createServer((s) => {
    conns.push(s);
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.onTestFinished(async () => {
    for (const c of conns) c.destroy();
    await new Promise((r) => server.close(r));
  });
  return server;
}

/** Connects, sends each chunk and waits for its echo; the bytes read back in order. */
async function echoRoundTrips(port: number, chunks: Buffer[], t: { onTestFinished(fn: () => unknown): void }): Promise<Buffer> {
  const c = createConnection(port, '127.0.0.1');
  t.onTestFinished(() => c.destroy());
  await new Promise<void>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  const got: Buffer[] = [];
  let have = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  c.on('data', (d: Buffer) => {
    got.push(d);
    have += d.length;
    if (have >= want) wake?.();
  });
  for (const chunk of chunks) {
    want += chunk.length;
    const arrived = new Promise<void>((r) => (wake = r));
    c.write(chunk);
    if (have < want) await arrived;
  }
  return Buffer.concat(got);
}

describe('redirect_probe.bpf.o: the bare sockmap redirect', () => {
  test.for([false, true])('an echo on the probe port goes through the sockhash, every send counted; another port never meets it (verdict %s)', async (verdict, t) => {
    const cgroup = TestCgroup.create('nsk-sdr-probe-');
    t.onTestFinished(() => cgroup.remove());
    cgroup.enter();
    const probed = await echoServer(t);
    const other = await echoServer(t);
    const probe = RedirectProbe.attach(cgroup.path, (probed.address() as AddressInfo).port, { verdict });
    t.onTestFinished(() => probe.close());

    const chunks = [Buffer.from('hello through the sockhash'), Buffer.alloc(4096, 7), Buffer.from('last')];
    const total = chunks.reduce((a, c) => a + c.length, 0);
    const back = await echoRoundTrips((probed.address() as AddressInfo).port, chunks, t);
    assert.deepEqual(back, Buffer.concat(chunks));
    const s = probe.stats();
    // each chunk once from the client, then its echo (the server may write an echo in pieces)
    assert.ok(s.redirected.sends >= BigInt(2 * chunks.length), `redirected ${s.redirected.sends} sends, expected at least ${2 * chunks.length}`);
    assert.equal(s.redirected.bytes, BigInt(2 * total));
    assert.deepEqual(s.passed, { sends: 0n, bytes: 0n });

    const otherBack = await echoRoundTrips((other.address() as AddressInfo).port, [Buffer.from('not probed')], t);
    assert.equal(otherBack.toString(), 'not probed');
    assert.deepEqual(probe.stats(), s);
  });

  test('a port out of range is refused before anything is loaded', () => {
    assert.throws(() => RedirectProbe.attach('/nonexistent', 0), /expected 1-65535, got 0/);
    assert.throws(() => RedirectProbe.attach('/nonexistent', 65536), /expected 1-65535/);
  });
});

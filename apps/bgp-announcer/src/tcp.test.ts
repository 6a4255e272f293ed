import assert from 'node:assert/strict';
import { test } from 'vitest';
import type { BgpConnection } from './transport.js';
import { TcpDialer, TcpListener } from './tcp.js';

function dial(port: number, opts: { password?: string; ttl?: number; timeoutMs?: number }): Promise<BgpConnection> {
  return new Promise((resolve, reject) => {
    new TcpDialer().dial({ address: '127.0.0.1', port, timeoutMs: opts.timeoutMs ?? 2000, ...opts }, (err, conn) => (err !== undefined ? reject(err) : resolve(conn!)));
  });
}

test('TCP MD5 (RFC 2385) on loopback: the right key connects, a missing or wrong key does not', async () => {
  const accepted: BgpConnection[] = [];
  const listener = new TcpListener('127.0.0.1', 0, (c) => accepted.push(c));
  const { port } = await listener.listen();
  listener.setPassword('127.0.0.1', 'loopback-key');
  try {
    const conn = await dial(port, { password: 'loopback-key', ttl: 7 });
    const got = new Promise<Buffer>((resolve) => {
      const t = setInterval(() => {
        if (accepted.length > 0) {
          clearInterval(t);
          accepted[0]!.onData(resolve);
        }
      }, 5);
    });
    conn.write(Buffer.from('hello'));
    assert.equal((await got).toString(), 'hello');
    conn.destroy();
    await assert.rejects(dial(port, { password: 'wrong-key', timeoutMs: 500 }), /timed out/);
    await assert.rejects(dial(port, { timeoutMs: 500 }), /timed out/);
    listener.setPassword('127.0.0.1', undefined);
    const plain = await dial(port, {});
    plain.destroy();
  } finally {
    for (const c of accepted) c.destroy();
    await listener.close();
  }
});

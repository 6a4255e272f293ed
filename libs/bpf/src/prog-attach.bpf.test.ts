/**
 * BPF layer: sk_skb and sk_msg programs on a sockmap (BPF_PROG_ATTACH with the map's descriptor).
 * Query, a taken hook refused with NA_ERR_BPF_HOOK_BUSY, replace, detach, the type checks — and
 * real traffic: a connected TCP socket of this process is put in the sockmap, after which the
 * sk_msg program runs for what it sends and the stream parser/verdict for what it receives, while
 * the data still arrives (the programs pass everything).
 */
import { afterAll, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID } from './errors.js';
import { BpfObject } from './object.js';
import { attachToSockmap, detachFromSockmap, querySockmap } from './prog-attach.js';

const SOURCE = fileURLToPath(new URL('../fixtures/attach-kinds.bpf.c', import.meta.url));
const HIT = { SK_MSG: 5, SK_SKB: 6 } as const;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** The descriptor of a connected net.Socket (libuv's handle; Linux). */
function fdOf(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  assert.ok(typeof fd === 'number' && fd >= 0, 'the socket has a descriptor');
  return fd;
}

async function until(what: string, fn: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sockmap programs', () => {
  let dir = '';
  let object = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netaccel-bpf-sockmap-'));
    object = join(dir, 'attach-kinds.bpf.o');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-I/usr/include/x86_64-linux-gnu', '-c', SOURCE, '-o', object]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('attach, query, BUSY, replace, detach; the type checks name what does not fit', () => {
    const obj = BpfObject.openFile(object).load();
    try {
      const map = obj.map('sock_map');
      const parser = obj.program('parse_all');
      const verdict = obj.program('pass_skb');
      const msg = obj.program('pass_msg');
      attachToSockmap(map, parser, 'sk_skb_stream_parser');
      attachToSockmap(map, verdict, 'sk_skb_stream_verdict');
      attachToSockmap(map, msg, 'sk_msg_verdict');
      attachToSockmap(map, msg, 'sk_msg_verdict'); // the same program again: nothing to do
      assert.deepEqual(querySockmap(map, 'sk_skb_stream_parser'), [parser.info().id]);
      assert.deepEqual(querySockmap(map, 'sk_skb_stream_verdict'), [verdict.info().id]);
      assert.deepEqual(querySockmap(map, 'sk_msg_verdict'), [msg.info().id]);

      assert.throws(
        () => attachToSockmap(map, parser, 'sk_skb_stream_verdict'),
        (e: unknown) => NA_ERR_BPF_HOOK_BUSY.is(e) && e.message === `sk_skb_stream_verdict of map sock_map is taken by program id ${verdict.info().id}: detach it first or replace it`,
      );
      attachToSockmap(map, parser, 'sk_skb_stream_verdict', { replace: true });
      assert.deepEqual(querySockmap(map, 'sk_skb_stream_verdict'), [parser.info().id]);
      assert.equal(detachFromSockmap(map, parser, 'sk_skb_stream_verdict'), true);
      assert.equal(detachFromSockmap(map, parser, 'sk_skb_stream_verdict'), false);
      assert.deepEqual(querySockmap(map, 'sk_skb_stream_verdict'), []);

      assert.throws(
        () => attachToSockmap(map, obj.program('pass_xdp'), 'sk_msg_verdict'),
        (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'attachType: sk_msg_verdict needs a sk_msg program, pass_xdp is xdp',
      );
      assert.throws(
        () => attachToSockmap(obj.map('hits'), msg, 'sk_msg_verdict'),
        (e: unknown) => NA_ERR_BPF_INVALID.is(e) && e.message === 'map hits: sk_skb and sk_msg programs attach to a sockmap or sockhash, this is a array',
      );
      assert.equal(detachFromSockmap(map, parser, 'sk_skb_stream_parser'), true);
      assert.equal(detachFromSockmap(map, msg, 'sk_msg_verdict'), true);
    } finally {
      obj.close();
    }
  });

  test('a TCP socket in the sockmap runs sk_msg on send and the stream verdict on receive; data flows', async () => {
    const obj = BpfObject.openFile(object).load();
    const received: Buffer[] = [];
    const server = createServer((s) => {
      s.on('data', (d: Buffer) => {
        received.push(d);
        s.write(d); // echo: the client's socket receives through the stream parser and verdict
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
      const map = obj.map('sock_map');
      attachToSockmap(map, obj.program('parse_all'), 'sk_skb_stream_parser');
      attachToSockmap(map, obj.program('pass_skb'), 'sk_skb_stream_verdict');
      attachToSockmap(map, obj.program('pass_msg'), 'sk_msg_verdict');
      map.update(u32(0), u32(fdOf(client)));
      const count = (k: number) => obj.map('hits').lookup(u32(k))!.readBigUInt64LE(0);
      const echoed: Buffer[] = [];
      client.on('data', (d: Buffer) => echoed.push(d));
      client.write('hello sockmap');
      await until('the echo', () => Buffer.concat(echoed).toString() === 'hello sockmap');
      assert.equal(Buffer.concat(received).toString(), 'hello sockmap');
      assert.ok(count(HIT.SK_MSG) >= 1n, 'sk_msg ran for the send');
      assert.ok(count(HIT.SK_SKB) >= 1n, 'the stream verdict ran for the receive');
      assert.equal(map.delete(u32(0)), true);
    } finally {
      client.destroy();
      server.close();
      obj.close();
    }
  });
});

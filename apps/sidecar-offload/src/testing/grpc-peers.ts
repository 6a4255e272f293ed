/**
 * The gRPC peers the sidecar's tests put around it, once: a grpc-js echo client with a
 * connection of its own (closed when the test finishes), the outcome of a server-streaming call
 * as the client saw it, a raw node:http2 upstream whose every stream a test's handler answers
 * (for what a grpc-js server never does: a reset, a connection closed mid-stream, GOAWAY, a
 * server that holds its writes back), a writer paced by flow control (the slow-reader tests:
 * how far it got before the reader held it back), and gRPC's 5-byte message framing.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { Writable } from 'node:stream';
import type { EchoClient } from './echo.js';
import { echoClient, streamMessage } from './echo.js';

/** What `onTestFinished` is in a vitest test context (the helpers register their cleanup there). */
export interface TestCleanup {
  onTestFinished(fn: () => unknown): void;
}

/** An echo client with its own connection (grpc-js shares subchannels between equal channels otherwise), closed when the test finishes. */
export function ownClient(t: TestCleanup, address: string, options: grpc.ChannelOptions = {}): EchoClient {
  const c = echoClient(address, { 'grpc.use_local_subchannel_pool': 1, ...options });
  t.onTestFinished(() => c.close());
  return c;
}

/** A server-streaming call's outcome: messages received, then its status code and details (0 when it ended OK). */
export function serverStreamOutcome(c: EchoClient, request: Buffer): Promise<{ messages: number; code: number; details: string }> {
  return new Promise((resolve) => {
    let messages = 0;
    const call = c.serverStream(request);
    call.on('data', () => (messages += 1));
    call.on('error', (err: grpc.ServiceError) => resolve({ messages, code: err.code, details: err.details }));
    call.on('end', () => resolve({ messages, code: 0, details: '' }));
  });
}

/** gRPC message framing: the 5-byte prefix (not compressed, length) and the message. */
export function grpcFrame(message: Buffer): Buffer {
  const p = Buffer.alloc(5);
  p.writeUInt32BE(message.length, 1);
  return Buffer.concat([p, message]);
}

export interface RawUpstream {
  readonly address: string;
  /** HTTP/2 connections accepted so far. */
  sessions(): number;
  /** Stops listening and destroys every session (a peer half-closed after GOAWAY keeps one otherwise). */
  close(): Promise<void>;
}

/** A node:http2 (h2c) upstream on 127.0.0.1 whose every stream `onStream` answers (it applies no grpc-timeout: a test's handler decides). */
export async function startRawUpstream(
  onStream: (stream: http2.ServerHttp2Stream, session: http2.ServerHttp2Session, headers: http2.IncomingHttpHeaders) => void,
): Promise<RawUpstream> {
  const server = http2.createServer();
  let sessions = 0;
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions += 1;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, stream.session as http2.ServerHttp2Session, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    sessions: () => sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

/** Messages handed to a pumped stream so far (`pumpMessages`). */
export interface Pump {
  written(): number;
}

/**
 * Writes `count` gRPC-framed messages `streamMessage(i, size)` to `w` as fast as its flow control
 * lets it (the next write only after 'drain'), then ends it.
 */
export function pumpMessages(w: Writable, count: number, size: number): Pump {
  let written = 0;
  const pump = (): void => {
    while (written < count) {
      written += 1;
      if (!w.write(grpcFrame(streamMessage(written - 1, size)))) {
        w.once('drain', pump);
        return;
      }
    }
    w.end();
  };
  pump();
  return { written: () => written };
}

/**
 * Where a flow-controlled writer stopped: waits until `written()` is above 0 (at most 10 s), then
 * until it stays the same for 10 polls 50 ms apart, and returns it.
 */
export async function writtenWhenHeld(written: () => number): Promise<number> {
  const end = Date.now() + 10_000;
  while (written() === 0) {
    if (Date.now() > end) throw new Error('the writer wrote nothing in 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  let last = -1;
  for (let stable = 0; stable < 10; ) {
    await new Promise((r) => setTimeout(r, 50));
    stable = written() === last ? stable + 1 : 0;
    last = written();
  }
  return last;
}

/** An upstream that answers every stream with `count` messages pumped by flow control, then status 0 (`written()`: over all its streams). */
export async function startPumpingUpstream(count: number, size: number): Promise<RawUpstream & Pump> {
  const pumps: Pump[] = [];
  const up = await startRawUpstream((stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.on('data', () => {});
    pumps.push(pumpMessages(stream, count, size));
  });
  return { ...up, written: () => pumps.reduce((n, p) => n + p.written(), 0) };
}

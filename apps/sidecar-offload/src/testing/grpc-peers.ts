/**
 * The gRPC peers the sidecar's tests put around it, once: a grpc-js echo client with a
 * connection of its own (closed when the test finishes), the outcome of a server-streaming call
 * as the client saw it, a raw node:http2 upstream whose every stream a test's handler answers
 * (for what a grpc-js server never does: a reset, a connection closed mid-stream, GOAWAY, a
 * server that holds its writes back), and gRPC's 5-byte message framing.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { EchoClient } from './echo.js';
import { echoClient } from './echo.js';

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

/**
 * A bare gRPC unary client on `node:http2` over the loader's Unix socket, for the benchmark only:
 * what a cheaper client transport than grpc-js would give a single map update, measured against
 * the same loader in the same run (issue 12, item 4). It does what one unary call needs and no
 * more — one HTTP/2 session, the request's length-prefixed message, `grpc-timeout`, the status in
 * the trailers — with no retries, no reconnection, no metadata, no interceptors and no channel
 * state machine. Not a client for the daemons (@netaccel/rpc's createRpcClient is).
 */
import { connect as h2connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

export interface H2Unary {
  /** Sends one request message (already encoded), answers the response message's bytes. */
  call(path: string, message: Uint8Array, timeoutMs?: number): Promise<Buffer>;
  close(): void;
}

export async function h2Unary(socketPath: string): Promise<H2Unary> {
  const session: ClientHttp2Session = h2connect('http://localhost', { createConnection: () => netConnect(socketPath) });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.on('error', () => undefined); // a call in flight fails on its stream
  const call = (path: string, message: Uint8Array, timeoutMs = 10_000): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const framed = Buffer.allocUnsafe(5 + message.length);
      framed[0] = 0; // not compressed
      framed.writeUInt32BE(message.length, 1);
      framed.set(message, 5);
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${timeoutMs}m` });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let detail = '';
      const take = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) {
          status = String(h['grpc-status']);
          detail = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      stream.on('response', take); // a trailers-only answer (an error) comes as headers
      stream.on('trailers', take);
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('error', reject);
      stream.on('close', () => {
        if (status !== '0') return reject(new Error(`${path}: grpc-status ${status ?? '(none)'} ${detail}`));
        const body = Buffer.concat(chunks);
        if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) return reject(new Error(`${path}: a response of ${body.length} bytes is not one message`));
        resolve(body.subarray(5));
      });
      stream.end(framed);
    });
  return { call, close: () => session.close() };
}

/**
 * A raw-bytes gRPC test service on @grpc/grpc-js (messages are Buffers, no protobuf), in all four
 * kinds, for the proxy's tests and benchmarks:
 *
 *   /nsc.Echo/Unary         replies with the request's bytes (or `x-reply-size` bytes of them repeated)
 *   /nsc.Echo/Slow          replies after `x-delay-ms` ms (deadline tests)
 *   /nsc.Echo/ServerStream  request = u32 count, u32 size: `count` messages of `size` bytes, each
 *                           filled with its index; honours backpressure and counts what it wrote
 *   /nsc.Echo/ClientStream  replies with u32 messages, u32 total bytes received
 *   /nsc.Echo/Bidi          echoes every message
 */
import * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

function method(path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return { path, requestStream, responseStream, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
}

export const EchoDefinition = {
  unary: method('/nsc.Echo/Unary', false, false),
  slow: method('/nsc.Echo/Slow', false, false),
  serverStream: method('/nsc.Echo/ServerStream', false, true),
  clientStream: method('/nsc.Echo/ClientStream', true, false),
  bidi: method('/nsc.Echo/Bidi', true, true),
} as const satisfies grpc.ServiceDefinition;

export type EchoClient = grpc.Client & {
  unary: (req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientUnaryCall;
  slow: (req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientUnaryCall;
  serverStream: (req: Buffer, md?: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientReadableStream<Buffer>;
  clientStream: (md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientWritableStream<Buffer>;
  bidi: (md?: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientDuplexStream<Buffer, Buffer>;
};

const EchoClientCtor = grpc.makeGenericClientConstructor(EchoDefinition, 'nsc.Echo');

export function echoClient(address: string, options: grpc.ClientOptions = {}): EchoClient {
  return new EchoClientCtor(address, grpc.credentials.createInsecure(), options) as unknown as EchoClient;
}

/** A server-stream request: `count` messages of `size` bytes. */
export function streamRequest(count: number, size: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(count, 0);
  b.writeUInt32BE(size, 4);
  return b;
}

/** The i-th message of a server stream of `size` bytes. */
export function streamMessage(i: number, size: number): Buffer {
  return Buffer.alloc(size, i & 0xff);
}

export interface EchoServer {
  readonly server: grpc.Server;
  readonly port: number;
  readonly address: string;
  /** Messages each server stream wrote so far, by call (in order of arrival). */
  readonly written: number[];
  /** Calls received, by method path. */
  readonly calls: Map<string, number>;
  /** Server-stream calls the client (or the sidecar for it) cancelled. */
  cancelled(): number;
  /** ms left until its deadline when each /nsc.Echo/Slow call arrived (Infinity without one). */
  readonly slowDeadlines: number[];
  close(): Promise<void>;
}

export async function startEchoServer(host = '127.0.0.1'): Promise<EchoServer> {
  const server = new grpc.Server();
  const written: number[] = [];
  const calls = new Map<string, number>();
  const slowDeadlines: number[] = [];
  let cancelledCalls = 0;
  const count = (path: string): void => {
    calls.set(path, (calls.get(path) ?? 0) + 1);
  };
  server.addService(EchoDefinition, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count(EchoDefinition.unary.path);
      const size = Number(call.metadata.get('x-reply-size')[0] ?? -1);
      if (size < 0) return cb(null, call.request);
      const out = Buffer.alloc(size);
      for (let i = 0; i < size; i += Math.max(1, call.request.length)) call.request.copy(out, i);
      return cb(null, out);
    },
    slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count(EchoDefinition.slow.path);
      const deadline = call.getDeadline();
      slowDeadlines.push(deadline instanceof Date ? deadline.getTime() - Date.now() : deadline === Infinity ? Infinity : Number(deadline) - Date.now());
      const t = setTimeout(() => cb(null, call.request), Number(call.metadata.get('x-delay-ms')[0] ?? 0));
      call.on('cancelled', () => clearTimeout(t));
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      count(EchoDefinition.serverStream.path);
      const n = call.request.readUInt32BE(0);
      const size = call.request.readUInt32BE(4);
      const slot = written.push(0) - 1;
      let i = 0;
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        cancelledCalls += 1;
      });
      const pump = (): void => {
        while (i < n && !cancelled) {
          const ok = call.write(streamMessage(i, size));
          i += 1;
          written[slot] = i;
          if (!ok) {
            call.once('drain', pump);
            return;
          }
        }
        if (!cancelled) call.end();
      };
      pump();
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      count(EchoDefinition.clientStream.path);
      let messages = 0;
      let bytes = 0;
      call.on('data', (m: Buffer) => {
        messages += 1;
        bytes += m.length;
      });
      call.on('end', () => {
        const out = Buffer.alloc(8);
        out.writeUInt32BE(messages, 0);
        out.writeUInt32BE(bytes, 4);
        cb(null, out);
      });
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      count(EchoDefinition.bidi.path);
      call.on('data', (m: Buffer) => call.write(m));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    server,
    port,
    address: `${host}:${port}`,
    written,
    calls,
    slowDeadlines,
    cancelled: () => cancelledCalls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A unary call as a promise: the reply, or the error with its status. */
export function unaryCall(
  c: EchoClient,
  name: 'unary' | 'slow',
  req: Buffer,
  md: Record<string, string> = {},
  opts: grpc.CallOptions = {},
): Promise<{ code: number; details: string; reply: Buffer | undefined }> {
  const meta = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) meta.set(k, v);
  return new Promise((resolve) => {
    c[name](req, meta, opts, (err, res) => resolve(err ? { code: err.code, details: err.details, reply: undefined } : { code: 0, details: '', reply: res }));
  });
}

/**
 * Per-call latency of unary gRPC-framed calls (node:http2 client and server, header table size 0)
 * in three set-ups measured in the same run, interleaved round by round:
 *
 *   direct   client -> server
 *   relay    client -> the frame relay in user space (no kernel pairing) -> server
 *   kernel   client -> the relay's sockets paired in sock_hash: frames move in the kernel
 *            (sk_skb parser + verdict: HTTP/2 framing, policy, telemetry)
 *   kmsg     the same policy and telemetry judged at send time (sk_msg + HTTP/2): the client's
 *            socket and the server's accepted one paired, the relay's sockets idle
 *   msg      client -> server with both ends in sock_hash (sk_msg, Merbridge): no proxy, no
 *            L7 parsing, loopback TCP/IP skipped
 *
 * A closed-loop client: `concurrency` workers each make one call after the other; every call's
 * latency is recorded. Prints a table and one JSON line. Root (cgroup, BPF):
 *
 *   npx tsx bpf/sidecar/measure.ts [--calls 2000] [--rounds 3] [--concurrency 1,8] [--size 14,4096]
 *
 * The benchmark proper (NGINX grpc_pass and the proxy as baselines) is bench/sidecar's; this is
 * the kernel fast path's own figure.
 */
import { once } from 'node:events';
import { connect as h2connect, createServer as h2server } from 'node:http2';
import type { ClientHttp2Session, Http2Server } from 'node:http2';
import { createConnection } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { SIDECAR_CONN_F, SIDECAR_RULE_F, compilePolicy, reverseSockKey } from './index.js';
import { FrameRelay, SidecarObject, TestCgroup, grpcMessage } from './testing.js';

const PATH = '/bench.Echo/Say';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,8' },
    size: { type: 'string', default: '14,4096' },
  },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = values.concurrency.split(',').map(Number);
const SIZES = values.size.split(',').map(Number);

function call(s: ClientHttp2Session, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' });
    req.on('data', () => {});
    req.on('trailers', (t) => {
      if (t['grpc-status'] !== '0') reject(new Error(`grpc-status ${String(t['grpc-status'])}`));
    });
    req.on('close', () => resolve());
    req.on('error', reject);
    req.end(body);
  });
}

async function session(port: number, before?: () => Promise<void>): Promise<ClientHttp2Session> {
  const socket = createConnection({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  await before?.();
  const s = h2connect(`http://127.0.0.1:${port}`, { createConnection: () => socket, settings: { headerTableSize: 0 } });
  await once(s, 'remoteSettings');
  return s;
}

/** `CALLS` calls over `concurrency` workers on one session; latencies in microseconds. */
async function run(s: ClientHttp2Session, concurrency: number, body: Buffer): Promise<{ lat: number[]; seconds: number }> {
  const lat: number[] = [];
  let left = CALLS;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const t = process.hrtime.bigint();
        await call(s, body);
        lat.push(Number(process.hrtime.bigint() - t) / 1000);
      }
    }),
  );
  return { lat, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const cgroup = TestCgroup.create('nsk-sidecar-measure-');
  cgroup.enter();
  const sidecar = SidecarObject.load();
  let server: Http2Server | undefined;
  const relays: FrameRelay[] = [];
  try {
    sidecar.attach(cgroup.path);
    sidecar.setPolicy(compilePolicy({ methods: { [PATH]: 'allow' }, defaultAction: 'allow' }));
    server = h2server({ settings: { headerTableSize: 0 } });
    server.on('stream', (stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.concat(chunks)); // echo the message
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const userRelay = await FrameRelay.start({ sidecar, upstreamPort: port, policy: () => 'allow', pair: 'none' });
    const kernelRelay = await FrameRelay.start({ sidecar, upstreamPort: port, policy: () => 'allow' });
    relays.push(userRelay, kernelRelay);
    sidecar.addRule({ localAddress: '127.0.0.1', localPort: kernelRelay.port, remoteAddress: '0.0.0.0', remotePort: 0 }, SIDECAR_RULE_F.H2 | SIDECAR_RULE_F.REQUESTS);
    const direct = await session(port);
    const relay = await session(userRelay.port, async () => void (await userRelay.paired(1)));
    // Sockets to the server made from now on are offloaded (sockops looks at rules when a
    // connection is established): only the kernel relay's, the two sessions above are not.
    sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: port }, SIDECAR_RULE_F.H2 | SIDECAR_RULE_F.RESPONSES);
    let kernelOpened = 0;
    const kernel = await session(kernelRelay.port, async () => {
      const c = await kernelRelay.paired(++kernelOpened);
      if (!sidecar.conn(c.upstreamKey)) throw new Error('the kernel relay\'s upstream socket is not offloaded');
    });
    // The kernel path judged at send time (sk_msg + HTTP/2): the client's socket and the
    // server's accepted one paired, the msg relay's own sockets idle.
    const msgRelay = await FrameRelay.start({ sidecar, upstreamPort: port, policy: () => 'allow', pair: 'msg' });
    relays.push(msgRelay);
    const { MSG, H2, REQUESTS, RESPONSES } = SIDECAR_RULE_F;
    sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: msgRelay.port }, MSG | H2 | REQUESTS);
    sidecar.addRule({ localAddress: '127.0.0.1', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0 }, MSG | H2 | RESPONSES);
    const kmsg = await session(msgRelay.port, async () => {
      const c = await msgRelay.paired(1);
      for (let i = 0; i < 200 && !sidecar.conn(reverseSockKey(c.upstreamKey)); i++) await new Promise((r) => setTimeout(r, 5));
    });
    // sk_msg without HTTP/2 (Merbridge): a client connected straight to the server, both ends of
    // the connection in sock_hash; every send goes to the other end's receive queue.
    sidecar.addRule({ localAddress: '127.0.0.1', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0 }, MSG);
    sidecar.addRule({ localAddress: '0.0.0.0', localPort: 0, remoteAddress: '127.0.0.1', remotePort: port }, MSG);
    const msgSocket = createConnection({ port, host: '127.0.0.1', noDelay: true });
    await once(msgSocket, 'connect');
    const msgKey = { localAddress: msgSocket.localAddress!, localPort: msgSocket.localPort!, remoteAddress: '127.0.0.1', remotePort: port };
    for (let i = 0; i < 200 && !sidecar.conn(reverseSockKey(msgKey)); i++) await new Promise((r) => setTimeout(r, 5));
    const msg = h2connect(`http://127.0.0.1:${port}`, { createConnection: () => msgSocket, settings: { headerTableSize: 0 } });
    await once(msg, 'remoteSettings');
    const sessions = { direct, relay, kernel, kmsg, msg };
    const rows: { subject: string; size: number; concurrency: number; p50: number; p99: number; callsPerS: number }[] = [];
    for (const size of SIZES) {
      const body = grpcMessage(Buffer.alloc(size, 0x61));
      for (const concurrency of CONCURRENCY) {
        const acc: Record<string, { lat: number[]; seconds: number }> = {};
        for (const s of Object.values(sessions)) await run(s, concurrency, body); // warm-up
        for (let r = 0; r < ROUNDS; r++) {
          for (const [name, s] of Object.entries(sessions)) {
            const res = await run(s, concurrency, body);
            acc[name] ??= { lat: [], seconds: 0 };
            acc[name].lat.push(...res.lat);
            acc[name].seconds += res.seconds;
          }
        }
        for (const [subject, a] of Object.entries(acc)) {
          const sorted = a.lat.sort((x, y) => x - y);
          rows.push({ subject, size, concurrency, p50: pct(sorted, 50), p99: pct(sorted, 99), callsPerS: a.lat.length / a.seconds });
        }
      }
    }
    const kernelConn = kernelRelay.connections[0]!;
    const state = sidecar.conn(kernelConn.clientKey);
    console.log('subject  size  conc   p50(us)  p99(us)   calls/s');
    for (const r of rows) {
      console.log(`${r.subject.padEnd(8)} ${String(r.size).padStart(5)} ${String(r.concurrency).padStart(5)} ${r.p50.toFixed(0).padStart(9)} ${r.p99.toFixed(0).padStart(8)} ${r.callsPerS.toFixed(0).padStart(9)}`);
    }
    const msgState = sidecar.conn(msgKey);
    console.log(`kernel relay read in user space: ${JSON.stringify(kernelConn.read)}; handed to user: ${state ? (state.flags & SIDECAR_CONN_F.USER) !== 0 : 'closed'}`);
    const kmsgState = sidecar.conn(reverseSockKey(msgRelay.connections[0]!.clientKey));
    console.log(`sk_msg+h2 client: ${kmsgState ? `${kmsgState.kernelBytes} bytes redirected, handed to user: ${(kmsgState.flags & SIDECAR_CONN_F.USER) !== 0}` : 'not offloaded'}; msg relay read ${JSON.stringify(msgRelay.connections[0]!.read)}`);
    console.log(`sk_msg client: ${msgState ? `${msgState.kernelBytes} bytes redirected, ${msgState.userBytes} on the normal path` : 'not offloaded'}`);
    console.log(JSON.stringify({ benchmark: 'sidecar-kernel-path', when: new Date().toISOString(), calls: CALLS, rounds: ROUNDS, rows }));
    for (const s of Object.values(sessions)) s.destroy();
  } finally {
    for (const r of relays) await r.close();
    server?.close();
    sidecar.close();
    cgroup.remove();
  }
}

await main();

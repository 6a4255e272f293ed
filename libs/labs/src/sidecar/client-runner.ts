/**
 * The sidecar scenario's client workload, run inside the client pod by the scenario: <clients>
 * closed-loop grpc-js callers of `lab.Inventory` (workload.ts) through the sidecar's inbound
 * listener, on one channel (one HTTP/2 connection), each call with a 5 s deadline; call i of a
 * loop is Delete every 10th, List 3 in 10, else Get. Every call is recorded: method, invocation
 * and completion time (epoch ms), gRPC status code, payload bytes sent and received. Prints
 * {"at":ms,"calls":n,"ok":n,"denied":n,"errors":n} every 250 ms. Once <stop file> exists the loops
 * stop; with `etcd` set, it then makes the etcd calls of the key counting through the sidecar's
 * etcd listener (etcd.target)
 * (one Put per key, then Range of key k 1+k times), prints {"etcd":{key:{reads,writes}}}, writes
 * the history to <history file> and prints {"final":true,…}.
 * Usage: client-runner <JSON: {target, clients, historyFile, stopFile, etcd?: {keys, prefix, target}}>
 */
import { existsSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { CallRecord } from './figures.js';
import { ETCD, INVENTORY, SIZES, methodOfCall, putRequest, rangeRequest } from './workload.js';
import type { InventoryMethod } from './workload.js';

interface Args {
  readonly target: string;
  readonly clients: number;
  readonly historyFile: string;
  readonly stopFile: string;
  readonly etcd?: { readonly keys: number; readonly prefix: string; readonly target: string };
}

const a = JSON.parse(process.argv[2]!) as Args;
const now = (): number => performance.timeOrigin + performance.now();
const Client = grpc.makeGenericClientConstructor({ ...INVENTORY, ...ETCD }, 'lab');
// a grpc-js client made from a service definition: its methods by name
type MethodsByName = Record<string, (...args: unknown[]) => unknown>;
const client = new Client(a.target, grpc.credentials.createInsecure()) as unknown as MethodsByName;
const history: CallRecord[] = [];
const errorSamples: string[] = [];
const counts = { calls: 0, ok: 0, denied: 0, errors: 0 };
const stopped = (): boolean => existsSync(a.stopFile);
const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 5000 });

function done(m: InventoryMethod, t0: number, code: number, got: number, message = ''): void {
  history.push([m, t0, now(), code, SIZES[m].request, got]);
  counts.calls++;
  if (code === grpc.status.OK) counts.ok++;
  else if (code === grpc.status.PERMISSION_DENIED) counts.denied++;
  else {
    counts.errors++;
    if (errorSamples.length < 5) errorSamples.push(`${m}: ${code} ${message}`);
  }
}

function call(m: InventoryMethod): Promise<void> {
  const t0 = now();
  const req = Buffer.alloc(SIZES[m].request, 0x30);
  return new Promise((resolve) => {
    if (m === 'list') {
      let got = 0;
      const s = client.list!(req, new grpc.Metadata(), deadline()) as grpc.ClientReadableStream<Buffer>;
      s.on('data', (d: Buffer) => void (got += d.length));
      s.on('error', (err: grpc.ServiceError) => resolve(done(m, t0, err.code, got, err.details)));
      s.on('end', () => resolve(done(m, t0, grpc.status.OK, got)));
      return;
    }
    client[m]!(req, new grpc.Metadata(), deadline(), (err: grpc.ServiceError | null, res?: Buffer) =>
      resolve(err ? done(m, t0, err.code, 0, err.details) : done(m, t0, grpc.status.OK, res!.length)));
  });
}

async function loop(): Promise<void> {
  for (let i = 0; !stopped(); i++) await call(methodOfCall(i));
}

const unary = (etcd: MethodsByName, path: 'range' | 'put', req: Buffer): Promise<void> =>
  new Promise((resolve, reject) => etcd[path]!(req, new grpc.Metadata(), deadline(), (err: grpc.ServiceError | null) => (err ? reject(new Error(`etcd ${path}: ${err.details}`)) : resolve())));

async function etcdCalls(keys: number, prefix: string, target: string): Promise<Record<string, { reads: number; writes: number }>> {
  const etcd = new Client(target, grpc.credentials.createInsecure()) as unknown as MethodsByName;
  const sent: Record<string, { reads: number; writes: number }> = {};
  for (let k = 0; k < keys; k++) {
    const key = `${prefix}${k}`;
    await unary(etcd, 'put', putRequest(key, `value-${k}`));
    for (let r = 0; r <= k; r++) await unary(etcd, 'range', rangeRequest(key));
    sent[key] = { reads: k + 1, writes: 1 };
  }
  (etcd as unknown as grpc.Client).close();
  return sent;
}

const progress = setInterval(() => process.stdout.write(`${JSON.stringify({ at: Date.now(), ...counts })}\n`), 250);
await Promise.all(Array.from({ length: a.clients }, () => loop()));
clearInterval(progress);
if (a.etcd !== undefined) {
  try {
    process.stdout.write(`${JSON.stringify({ etcd: await etcdCalls(a.etcd.keys, a.etcd.prefix, a.etcd.target) })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ etcdError: err instanceof Error ? err.message : String(err) })}\n`);
  }
}
writeFileSync(a.historyFile, JSON.stringify(history));
process.stdout.write(`${JSON.stringify({ final: true, at: Date.now(), ...counts, errorSamples })}\n`);
(client as unknown as grpc.Client).close();

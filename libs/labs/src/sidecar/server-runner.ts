/**
 * The sidecar scenario's server workload, run inside the server pod by the scenario: a grpc-js
 * server of `lab.Inventory` (workload.ts) on the pod's loopback only, so the sidecar is the one
 * way in. Prints {"ready":true,"port":n} once bound, then {"at":ms,"calls":{get,list,delete}}
 * every 250 ms: the calls that reached it, by method (a denied method must never arrive).
 * Usage: server-runner <JSON: {listen: "127.0.0.1:50051"}>
 */
import * as grpc from '@grpc/grpc-js';
import { INVENTORY, SIZES } from './workload.js';
import type { InventoryMethod } from './workload.js';

const a = JSON.parse(process.argv[2]!) as { listen: string };
const calls: Record<InventoryMethod, number> = { get: 0, list: 0, delete: 0 };
const server = new grpc.Server();

const unary = (m: 'get' | 'delete') => (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
  calls[m]++;
  cb(null, Buffer.alloc(SIZES[m].response, 0x61));
};
server.addService(INVENTORY, {
  get: unary('get'),
  delete: unary('delete'),
  list: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    calls.list++;
    for (let i = 0; i < SIZES.list.responses; i++) call.write(Buffer.alloc(SIZES.list.response, i));
    call.end();
  },
});

const port = await new Promise<number>((resolve, reject) => server.bindAsync(a.listen, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
const report = (): void => void process.stdout.write(`${JSON.stringify({ at: Date.now(), calls })}\n`);
const timer = setInterval(report, 250);
process.once('SIGTERM', () => {
  clearInterval(timer);
  report();
  server.forceShutdown();
});

/**
 * The benchmark's upstream in its own process: the sidecar's raw-bytes echo service (grpc-js)
 * on a free loopback port, printed as one JSON line; it runs until killed.
 */
import { startEchoServer } from '@netaccel/app-sidecar-offload/testing';

const s = await startEchoServer('127.0.0.1');
process.stdout.write(`${JSON.stringify({ port: s.port })}\n`);

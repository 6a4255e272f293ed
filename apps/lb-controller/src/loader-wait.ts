/**
 * At start the controller waits for ebpf-loader's socket to accept connections (up to
 * `dataPlane.loaderWait`) instead of failing at once: a balancer's daemons can then start
 * together, the controller loading its code while the loader loads its own (a restarted balancer
 * is back that much sooner). A Unix socket path (or `unix:<path>`), or `host:port` for TCP.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { NA_ERR_LB_LOADER_UNREACHABLE } from './errors.js';

const RETRY_MS = 20; // between connection attempts

function tryConnect(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let s: Socket;
    const path = address.startsWith('unix:') ? address.slice('unix:'.length).replace(/^\/\/(?=\/)/, '') : address.startsWith('/') ? address : undefined;
    if (path !== undefined) s = connect({ path });
    else {
      const at = address.lastIndexOf(':');
      s = connect({ host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) });
    }
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Resolves once `address` accepts a connection; throws NA_ERR_LB_LOADER_UNREACHABLE after `waitMs`. */
export async function waitForLoader(address: string, waitMs: number): Promise<void> {
  const end = performance.now() + waitMs;
  for (;;) {
    const problem = await tryConnect(address);
    if (problem === undefined) return;
    if (performance.now() >= end) throw NA_ERR_LB_LOADER_UNREACHABLE(address, waitMs, problem);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

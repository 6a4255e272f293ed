/**
 * Helpers of the `membership.via: paxos` tests: free UDP ports for the schedulers' replicas, a
 * reference node several in-process schedulers share (its close() is the test's), and a poll.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { ReferenceNode } from '@netaccel/craq/testing';

/** Free UDP ports on `address` (bound, then released for the replicas). */
export async function freeUdpPorts(n: number, address = '127.0.0.1'): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<Socket>((resolve) => {
      const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      s.bind(0, address, () => resolve(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** A reference node whose close() is left to the test (the daemons share it; each closes its data planes). */
export function sharedNode(n: ReferenceNode): ReferenceNode {
  return new Proxy(n, {
    get(target, prop) {
      if (prop === 'close') return () => Promise.resolve();
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Polls `check` every 10 ms until it holds; throws naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Chain nodes several scheduler PROCESSES share, for tests that kill schedulers with SIGKILL:
 * the user-space reference nodes (@netaccel/craq/testing — NOT the XDP node) live in the test's
 * process and are served over a unix socket (`serveNodes`), and each scheduler process programs
 * them through `RemoteNode`, a NodeDataPlane whose calls travel as JSON lines (bigints and bytes
 * tagged). The tail's commits are pushed to every connection that subscribed (`onCommit`). The
 * nodes' NetCRAQ UDP ports are the reference nodes' own: clients and probes reach them directly.
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { CommittedValue, Endpoint, NodeDataPlane } from '@netaccel/craq';
import type { ReferenceNode } from '@netaccel/craq/testing';

const replacer = (_: string, v: unknown): unknown => {
  if (typeof v === 'bigint') return { $b: String(v) };
  if (v instanceof Uint8Array) return { $u: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) return { $u: Buffer.from((v as { data: number[] }).data).toString('base64') };
  return v;
};
const reviver = (_: string, v: unknown): unknown => {
  if (v !== null && typeof v === 'object') {
    const o = v as { $b?: string; $u?: string };
    if (typeof o.$b === 'string') return BigInt(o.$b);
    if (typeof o.$u === 'string') return new Uint8Array(Buffer.from(o.$u, 'base64'));
  }
  return v;
};
/** Buffer.toJSON runs before the replacer sees a Buffer: tag bytes first. */
const encode = (m: unknown): string => `${JSON.stringify(m, replacer)}\n`;

function lines(sock: Socket, fn: (m: Record<string, unknown>) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line !== '') fn(JSON.parse(line, reviver) as Record<string, unknown>);
    }
  });
}

const METHODS = new Set(['configure', 'install', 'remove', 'setWritable', 'get', 'getMany', 'latest', 'keys', 'counters', 'resendDirty', 'commitDirty']);

/** Serves `nodes` on a unix socket at `path`; close() stops it (the nodes stay the caller's). */
export async function serveNodes(nodes: readonly ReferenceNode[], path: string): Promise<Server> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const server = createServer((sock) => {
    const subs = new Map<string, () => void>();
    sock.on('error', () => undefined);
    sock.on('close', () => {
      for (const u of subs.values()) u();
    });
    lines(sock, (m) => {
      const id = m.id as number;
      const node = byName.get(String(m.node));
      const method = String(m.method);
      const reply = (r: object): void => {
        if (!sock.destroyed) sock.write(encode({ id, ...r }));
      };
      if (node === undefined) return reply({ error: `no node ${String(m.node)}` });
      if (method === 'subscribe') {
        subs.get(node.name)?.();
        subs.set(node.name, node.onCommit((c) => !sock.destroyed && sock.write(encode({ commit: node.name, c }))));
        return reply({ result: null });
      }
      if (method === 'unsubscribe') {
        subs.get(node.name)?.();
        subs.delete(node.name);
        return reply({ result: null });
      }
      if (!METHODS.has(method)) return reply({ error: `no method ${method}` });
      const fn = (node as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
      fn.apply(node, m.args as unknown[]).then(
        (result) => reply({ result: result ?? null }),
        (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

/** One served node, programmed from another process. */
export class RemoteNode implements NodeDataPlane {
  readonly #sock: Socket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Set<(c: CommittedValue) => void>();
  #next = 1;

  constructor(
    path: string,
    readonly name: string,
    readonly endpoint: Endpoint,
  ) {
    this.#sock = createConnection(path);
    this.#sock.on('error', (err) => this.#failAll(err));
    this.#sock.on('close', () => this.#failAll(new Error(`node server of ${name} closed`)));
    lines(this.#sock, (m) => {
      if (m.commit !== undefined) {
        for (const l of this.#listeners) l(m.c as CommittedValue);
        return;
      }
      const p = this.#pending.get(m.id as number);
      this.#pending.delete(m.id as number);
      if (m.error !== undefined) p?.reject(new Error(String(m.error)));
      else p?.resolve(m.result ?? undefined);
    });
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#sock.write(encode({ id, node: this.name, method, args }));
    });
  }

  configure(...a: Parameters<NodeDataPlane['configure']>): Promise<void> {
    return this.#call('configure', ...a);
  }
  install(...a: Parameters<NodeDataPlane['install']>): Promise<void> {
    return this.#call('install', ...a);
  }
  remove(keyId: bigint): Promise<void> {
    return this.#call('remove', keyId);
  }
  setWritable(keyId: bigint, writable: boolean): Promise<void> {
    return this.#call('setWritable', keyId, writable);
  }
  get(keyId: bigint): ReturnType<NodeDataPlane['get']> {
    return this.#call('get', keyId);
  }
  getMany(keyIds: readonly bigint[]): ReturnType<NodeDataPlane['keys']> {
    return this.#call('getMany', keyIds);
  }
  latest(keyId: bigint): ReturnType<NodeDataPlane['latest']> {
    return this.#call('latest', keyId);
  }
  keys(): ReturnType<NodeDataPlane['keys']> {
    return this.#call('keys');
  }
  counters(): ReturnType<NodeDataPlane['counters']> {
    return this.#call('counters');
  }
  resendDirty(): Promise<number> {
    return this.#call('resendDirty');
  }
  commitDirty(): Promise<number> {
    return this.#call('commitDirty');
  }

  onCommit(listener: (c: CommittedValue) => void): () => void {
    if (this.#listeners.size === 0) void this.#call('subscribe').catch(() => undefined);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.#call('unsubscribe').catch(() => undefined);
    };
  }

  close(): Promise<void> {
    this.#sock.destroy();
    return Promise.resolve();
  }
}

/**
 * `netaccel craq chain | keys | get | put`: craq-scheduler's Craq service
 * (libs/rpc/proto/netaccel/craq/v1) and, for get/put, the NetCRAQ client (@netaccel/craq): a
 * placed key through the chain over UDP, any other key through etcd (`--etcd`, default
 * NETACCEL_ETCD_ENDPOINTS or http://127.0.0.1:2379).
 */
import { Etcd3 } from 'etcd3';
import { CraqClient, PlacementView, grpcPlacementSource } from '@netaccel/craq';
import { CraqClient as CraqRpcClient, craqV1 } from '@netaccel/rpc';
import type { Command, CommandContext, CommandGroup } from '../command.js';
import { explainUnavailable, resolveSocket, withDaemon } from '../daemons.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';

const ROLE: Readonly<Record<number, string>> = { 1: 'head', 2: 'middle', 3: 'tail', 4: 'single' };

function keyArg(ctx: CommandContext): string {
  const k = ctx.positionals[0];
  if (k === undefined || k === '') throw NA_ERR_CLI_USAGE('expected an etcd key, like /registry/leases/kube-node-lease/n1');
  return k;
}

function limitOf(ctx: CommandContext): number {
  const v = ctx.values.limit;
  if (typeof v !== 'string' || v === '') return 0;
  if (!/^\d+$/.test(v) || Number(v) > 100_000) throw NA_ERR_CLI_USAGE(`--limit: expected an integer 0..100000, got ${JSON.stringify(v)}`);
  return Number(v);
}

const chain: Command = {
  summary: 'the chain: nodes head to tail, roles, liveness, epoch, nodes removed',
  async run(ctx) {
    const c = await withDaemon('craq-scheduler', CraqRpcClient, ctx, (x) => x.getChain(craqV1.GetChainRequest.create()));
    const rows = [...c.nodes.map((n) => ({ n, state: n.alive ? 'up' : 'down' })), ...c.removed.map((n) => ({ n, state: 'removed' }))];
    if (ctx.out.json) {
      ctx.out.result('', { epoch: c.epoch, lastChange: c.lastChange, nodes: c.nodes.map((n) => ({ ...n, role: ROLE[n.role] ?? '' })), removed: c.removed.map((n) => n.name) });
      return;
    }
    ctx.out.table(
      [
        { header: 'node', value: (r: (typeof rows)[number]) => r.n.name },
        { header: 'address', value: (r) => `${r.n.address.includes(':') ? `[${r.n.address}]` : r.n.address}:${r.n.port}` },
        { header: 'role', value: (r) => ROLE[r.n.role] ?? '' },
        { header: 'state', value: (r) => r.state },
        { header: 'missed', value: (r) => r.n.missedProbes, align: 'right' },
      ],
      rows,
    );
    ctx.out.result(`epoch ${c.epoch}: ${c.lastChange}`, null);
  },
};

const keys: Command = {
  summary: 'keys by heat: placed or not, size, reads reported and counted by the chain, version',
  options: { placed: { type: 'boolean', default: false }, limit: { type: 'string' } },
  async run(ctx) {
    const r = await withDaemon('craq-scheduler', CraqRpcClient, ctx, (x) => x.listKeys(craqV1.ListKeysRequest.create({ placedOnly: ctx.values.placed === true, limit: limitOf(ctx) })));
    ctx.out.table(
      [
        { header: 'key', value: (k: craqV1.KeyStats) => k.key },
        { header: 'placed', value: (k) => (k.placed ? (k.pinned ? 'pinned' : 'yes') : 'no') },
        { header: 'score', value: (k) => Math.round(k.score), align: 'right' },
        { header: 'reported', value: (k) => String(k.reportedReads), align: 'right' },
        { header: 'chain reads', value: (k) => String(k.dataPlaneReads), align: 'right' },
        { header: 'writes', value: (k) => String(k.dataPlaneWrites), align: 'right' },
        { header: 'bytes', value: (k) => k.sizeBytes, align: 'right' },
        { header: 'version', value: (k) => (k.placed ? String(k.version) : ''), align: 'right' },
      ],
      r.keys,
      { keys: r.keys.map((k) => ({ ...k, keyId: String(k.keyId), reportedReads: Number(k.reportedReads), dataPlaneReads: Number(k.dataPlaneReads), dataPlaneWrites: Number(k.dataPlaneWrites), version: String(k.version), etcdRevision: String(k.etcdRevision) })), budgetBytes: Number(r.budgetBytes), usedBytes: Number(r.usedBytes), etcdReadsPerSecond: r.etcdReadsPerSecond, etcdWritesPerSecond: r.etcdWritesPerSecond },
    );
  },
};

const CLIENT_OPTIONS = {
  etcd: { type: 'string' },
  'read-from': { type: 'string', default: 'nearest' },
  node: { type: 'string' },
} as const;

/** A NetCRAQ client for one command: the placement from the scheduler, etcd for the rest. */
async function withClient<T>(ctx: CommandContext, fn: (c: CraqClient) => Promise<T>): Promise<T> {
  const { socket, source } = resolveSocket('craq-scheduler', typeof ctx.values.socket === 'string' ? ctx.values.socket : undefined, ctx.env);
  const etcdOpt = typeof ctx.values.etcd === 'string' && ctx.values.etcd !== '' ? ctx.values.etcd : (ctx.env.NETACCEL_ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379');
  const readFrom = ctx.values['read-from'];
  if (readFrom !== 'nearest' && readFrom !== 'round-robin' && readFrom !== 'head' && readFrom !== 'tail') throw NA_ERR_CLI_USAGE(`--read-from: expected nearest, round-robin, head or tail, got ${JSON.stringify(readFrom)}`);
  const etcd = new Etcd3({ hosts: etcdOpt.split(',') });
  const view = new PlacementView(grpcPlacementSource({ address: socket, deadlineMs: ctx.timeoutMs }));
  const client = new CraqClient({ view, etcd, readFrom, ...(typeof ctx.values.node === 'string' ? { nearestNode: ctx.values.node } : {}) });
  try {
    try {
      await view.refresh();
    } catch (err) {
      throw explainUnavailable((err as { cause?: unknown }).cause ?? err, 'craq-scheduler', socket, source);
    }
    return await fn(client);
  } finally {
    await client.close();
    view.close();
    etcd.close();
  }
}

function servedBy(c: CraqClient): { via: string; node?: string; version?: string } {
  const b = c.lastServedBy;
  return b.via === 'chain' ? { via: 'chain', node: b.node, version: String(b.version) } : { via: 'etcd' };
}

function how(c: CraqClient): string {
  const b = c.lastServedBy;
  return b.via === 'chain' ? `chain (sent to ${b.node}, version ${String(b.version)})` : 'etcd';
}

const get: Command = {
  summary: 'read a key: through the chain when placed, else from etcd',
  args: '<key>',
  options: CLIENT_OPTIONS,
  async run(ctx) {
    const key = keyArg(ctx);
    await withClient(ctx, async (c) => {
      const v = await c.get(key);
      ctx.progress(`${key}: ${how(c)}`);
      ctx.out.result(v === null ? '(not found)' : v.toString(), { key, value: v?.toString() ?? null, ...servedBy(c) });
    });
  },
};

const put: Command = {
  summary: 'write a key: committed in the chain when placed, else in etcd',
  args: '<key> <value>',
  options: CLIENT_OPTIONS,
  async run(ctx) {
    const key = keyArg(ctx);
    const value = ctx.positionals[1];
    if (value === undefined) throw NA_ERR_CLI_USAGE('expected a value after the key');
    await withClient(ctx, async (c) => {
      await c.put(key, value);
      ctx.out.result(`wrote ${key} through ${how(c)}`, { key, ...servedBy(c) });
    });
  },
};

export const craqGroup: CommandGroup = {
  name: 'craq',
  summary: 'NetCRAQ: the chain, hot keys, get/put through the chain (craq-scheduler)',
  daemon: 'craq-scheduler',
  commands: { chain, keys, get, put },
};

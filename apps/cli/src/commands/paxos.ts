/**
 * `netaccel paxos status`: one replica of a libs/paxos group through its host's Paxos service
 * (libs/rpc/proto/netaccel/paxos/v1): the Paxos lab's replica runner (its socket is
 * `<lab log dir>/paxos-r<i>.sock`) or craq-scheduler with `membership.via: paxos` (its own
 * socket). View, leader, status, op and commit numbers, the offloads on or off and their
 * counters from the BPF maps (broadcasts cloned, fast acks, PrepareOKs filtered, passed-up
 * reasons), the replica's own counters.
 */
import { PaxosClient as PaxosRpcClient, createRpcClient, paxosV1 } from '@netaccel/rpc';
import type { Command, CommandGroup } from '../command.js';
import { explainUnavailable, withDaemon } from '../daemons.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';
import { renderTable } from '../output.js';

/** el_stats names as people read them. */
const STAT_TEXT: Readonly<Record<string, string>> = {
  BCAST_PREPARES: 'prepares broadcast (leader, TC)',
  BCAST_CLONES: 'copies cloned to followers',
  BCAST_ERRORS: 'clone errors',
  FAST_ACKS: 'fast PrepareOKs (follower, XDP_TX)',
  ACKS_FILTERED: 'PrepareOKs filtered (leader, XDP)',
  QUORUMS: 'quorums completed in XDP',
  PASSED: 'passed up to user space',
};

function onOff(v: boolean): string {
  return v ? 'on' : 'off';
}

function describe(s: paxosV1.ReplicaStatus, all: boolean): string {
  const role = s.isLeader ? 'leader' : `follower of ${s.leader}`;
  const lines = [
    `replica ${s.self} of ${s.n}${s.service ? ` (${s.service})` : ''}: view ${s.view}, ${s.status}, ${role}, up ${(Number(s.uptimeMs) / 1000).toFixed(1)} s`,
    `op ${s.lastOp}  commit ${s.commit}  executed ${s.executed}  clients ${s.clients}`,
    `group: ${s.replicas.map((r, i) => `${i}=${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`).join('  ')}`,
  ];
  const o = s.offloads;
  if (o === undefined) lines.push('offloads: none (user-space VR)');
  else {
    lines.push(`offloads: broadcast ${onOff(o.broadcast)}, fast ack ${onOff(o.fastAck)}, quorum ${onOff(o.quorum)} (bits ${o.bits})`, '');
    const stats = Object.entries(o.stats);
    lines.push(renderTable([{ header: 'offload counter', value: (r: [string, bigint]) => STAT_TEXT[r[0]] ?? r[0] }, { header: 'value', value: (r) => r[1], align: 'right' }], stats), '');
    const reasons = o.reasons.filter((r) => all || r.packets > 0n);
    lines.push(
      reasons.length === 0
        ? 'no message passed up or dropped by a reason yet'
        : renderTable(
            [
              { header: 'reason', value: (r: paxosV1.OffloadReason) => r.name.replace(/^ELECTRODE_R_/, '') },
              { header: 'verdict', value: (r) => r.verdict },
              { header: 'packets', value: (r) => r.packets, align: 'right' },
              { header: 'bytes', value: (r) => r.bytes, align: 'right' },
              { header: 'what', value: (r) => r.description },
            ],
            reasons,
          ),
    );
  }
  const counters = Object.entries(s.counters).filter(([, v]) => all || v > 0n);
  if (counters.length > 0) lines.push('', renderTable([{ header: 'replica counter', value: (r: [string, bigint]) => r[0] }, { header: 'value', value: (r) => r[1], align: 'right' }], counters));
  return lines.join('\n');
}

/** The --json document: counters as numbers, op numbers as decimal strings (64 bits). */
function toData(s: paxosV1.ReplicaStatus): Record<string, unknown> {
  const nums = (m: Record<string, bigint>): Record<string, number> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));
  return {
    self: s.self,
    n: s.n,
    service: s.service,
    view: s.view,
    status: s.status,
    leader: s.leader,
    isLeader: s.isLeader,
    lastNormalView: s.lastNormalView,
    lastOp: String(s.lastOp),
    commit: String(s.commit),
    executed: String(s.executed),
    clients: s.clients,
    uptimeMs: Number(s.uptimeMs),
    replicas: s.replicas.map((r) => ({ address: r.address, port: r.port })),
    counters: nums(s.counters),
    offloads:
      s.offloads === undefined
        ? null
        : { bits: s.offloads.bits, broadcast: s.offloads.broadcast, fastAck: s.offloads.fastAck, quorum: s.offloads.quorum, stats: nums(s.offloads.stats), reasons: s.offloads.reasons.map((r) => ({ ...r, packets: Number(r.packets), bytes: Number(r.bytes) })) },
  };
}

const status: Command = {
  summary: 'one replica: view, leader, status, op and commit numbers, offloads on/off and their counters',
  options: { all: { type: 'boolean', default: false, help: 'also the reasons and counters that are still zero' } },
  async run(ctx) {
    const s = await withDaemon('paxos-replica', PaxosRpcClient, ctx, (c) => c.getStatus(paxosV1.GetStatusRequest.create()));
    ctx.out.result(describe(s, ctx.values.all === true), { replica: toData(s) });
  },
};

/** One replica's answer, or why there is none. */
type GroupRow = { socket: string; s: paxosV1.ReplicaStatus; error?: undefined } | { socket: string; s?: undefined; error: Error };

function offloadLetters(o: paxosV1.Offloads | undefined): string {
  if (o === undefined) return 'none';
  const on = [o.broadcast ? 'broadcast' : '', o.fastAck ? 'fast-ack' : '', o.quorum ? 'quorum' : ''].filter((x) => x !== '');
  return on.length === 0 ? 'off' : on.join('+');
}

const group: Command = {
  summary: 'several replicas side by side (one socket each): view, status, leader, op, commit, offloads and their main counters',
  args: '<socket>...',
  async run(ctx) {
    const sockets = ctx.positionals;
    if (sockets.length === 0) throw NA_ERR_CLI_USAGE("expected the replicas' sockets, like <lab log folder>/paxos-r0.sock <lab log folder>/paxos-r1.sock");
    const rows: GroupRow[] = await Promise.all(
      sockets.map(async (socket) => {
        const c = createRpcClient(PaxosRpcClient, { address: socket, deadlineMs: ctx.timeoutMs });
        try {
          return { socket, s: await c.getStatus(paxosV1.GetStatusRequest.create()) };
        } catch (err) {
          const e = explainUnavailable(err, 'paxos-replica', socket, 'option');
          return { socket, error: e instanceof Error ? e : new Error(String(e)) };
        } finally {
          c.close();
        }
      }),
    );
    const first = rows[0]!;
    if (rows.every((r) => r.error !== undefined) && first.error !== undefined) throw first.error; // nothing to show
    const stat = (r: GroupRow, name: string): bigint | undefined => r.s?.offloads?.stats[name];
    ctx.out.table(
      [
        { header: 'replica', value: (r: GroupRow) => (r.s ? `${r.s.self}/${r.s.n}` : r.socket) },
        { header: 'view', value: (r) => r.s?.view, align: 'right' },
        { header: 'status', value: (r) => r.s?.status ?? 'unreachable' },
        { header: 'leader', value: (r) => (r.s ? (r.s.isLeader ? 'self' : r.s.leader) : undefined), align: 'right' },
        { header: 'op', value: (r) => r.s?.lastOp, align: 'right' },
        { header: 'commit', value: (r) => r.s?.commit, align: 'right' },
        { header: 'offloads', value: (r) => (r.s ? offloadLetters(r.s.offloads) : undefined) },
        { header: 'clones', value: (r) => stat(r, 'BCAST_CLONES'), align: 'right' },
        { header: 'fast acks', value: (r) => stat(r, 'FAST_ACKS'), align: 'right' },
        { header: 'acks filtered', value: (r) => stat(r, 'ACKS_FILTERED'), align: 'right' },
        { header: 'passed up', value: (r) => stat(r, 'PASSED'), align: 'right' },
      ],
      rows,
      { replicas: rows.map((r) => (r.s ? { socket: r.socket, ...toData(r.s) } : { socket: r.socket, error: { code: (r.error as { code?: string }).code ?? '', message: r.error.message } })) },
    );
    if (!ctx.out.json) for (const r of rows) if (r.error !== undefined) ctx.progress(`${r.socket}: ${r.error.message}\n`);
  },
};

export const paxosGroup: CommandGroup = {
  name: 'paxos',
  summary: "Paxos (Electrode): a replica's view, leader, commit and offload counters (the lab's replica runner, craq-scheduler)",
  daemon: 'paxos-replica',
  commands: { status, group },
};

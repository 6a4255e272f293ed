/**
 * An offload that behaves per the contract of /work/helpers/paxos-wire.md without BPF: it sits
 * between a replica and its socket where the XDP and TC programs would, and implements
 * ReplicaOffload. Follower fast-ack: a PREPARE of the published view, in normal status, with op
 * = last_op + 1 and its ring slot free is logged in the ring, answered with a PREPARE_OK flagged
 * FAST and not passed up. Leader quorum wait: per-op bitset of PREPARE_OK senders; one for an op
 * <= commit is dropped, one of another view passed; the one that brings the count to f is
 * passed flagged QUORUM, others dropped. Broadcast: a PREPARE sent to the first follower is
 * cloned to every other follower. Each offload switchable at run time.
 */
import { paxos } from '@netaccel/protocol';
import type { DrainedEntry, PublishedState, ReplicaOffload } from '../offload.js';
import type { DatagramHandler, Peer, Transport } from '../transport.js';

const { PaxosType, PaxosFlag } = paxos;

export const FAKE_OFFLOAD = { broadcast: 1, fastAck: 2, quorum: 4, all: 7 } as const;

export interface FakeOffloadStats {
  fastAcks: number;
  ringFull: number;
  passedUp: number;
  quorumPassed: number;
  quorumDropped: number;
  clones: number;
}

export class FakeOffload implements ReplicaOffload, Transport {
  readonly stats: FakeOffloadStats = { fastAcks: 0, ringFull: 0, passedUp: 0, quorumPassed: 0, quorumDropped: 0, clones: 0 };
  private state: PublishedState | undefined;
  private readonly ring = new Map<number, DrainedEntry>();
  private readonly quorum = new Map<number, { op: bigint; view: number; bits: number }>();
  private handler: DatagramHandler = () => undefined;
  offloads: number;

  constructor(
    private readonly inner: Transport,
    private readonly replicas: readonly Peer[],
    opts: { offloads?: number; ringSize?: number } = {},
  ) {
    this.offloads = opts.offloads ?? FAKE_OFFLOAD.all;
    this.ringSize = opts.ringSize ?? 256;
    inner.onMessage((data, from) => this.ingress(data, from));
  }

  readonly ringSize: number;

  get local(): Peer {
    return this.inner.local;
  }

  // --- ReplicaOffload --------------------------------------------------------------------------

  publish(s: PublishedState): void {
    const cur = this.state;
    let lastOp = s.lastOp;
    // As the real binding: last_op never moves backwards within one view in normal status.
    if (cur && cur.view === s.view && cur.status === 'normal' && s.status === 'normal' && cur.lastOp > lastOp) lastOp = cur.lastOp;
    this.state = { ...s, lastOp };
  }

  drain(afterOp: bigint): DrainedEntry[] {
    const out: DrainedEntry[] = [];
    for (let op = afterOp + 1n; ; op++) {
      const slot = Number(op % BigInt(this.ringSize));
      const e = this.ring.get(slot);
      if (e === undefined || e.op !== op) {
        if (e !== undefined && e.op <= afterOp) this.ring.delete(slot);
        break;
      }
      out.push(e);
      this.ring.delete(slot);
    }
    return out;
  }

  broadcasting(): boolean {
    return (this.offloads & FAKE_OFFLOAD.broadcast) !== 0;
  }

  // --- the socket side -------------------------------------------------------------------------

  onMessage(handler: DatagramHandler): void {
    this.handler = handler;
  }

  send(data: Buffer, to: Peer): void {
    this.inner.send(data, to);
    const s = this.state;
    if (!this.broadcasting() || s === undefined || data.length < paxos.PAXOS_HEADER_LEN || data[paxos.PAXOS_HDR.type] !== PaxosType.Prepare) return;
    const first = s.self === 0 ? 1 : 0;
    const target = this.replicas[first];
    if (target === undefined || target.address !== to.address || target.port !== to.port) return;
    for (let i = 0; i < this.replicas.length; i++) {
      if (i === s.self || i === first) continue;
      this.inner.send(data, this.replicas[i]!);
      this.stats.clones++;
    }
  }

  private ingress(data: Buffer, from: Peer): void {
    const s = this.state;
    let h: paxos.PaxosHeader | undefined;
    try {
      h = paxos.decodePaxosHeader(data);
    } catch {
      h = undefined;
    }
    if (s !== undefined && h !== undefined) {
      if (h.type === PaxosType.Prepare && (this.offloads & FAKE_OFFLOAD.fastAck) !== 0 && this.fastAck(s, h, data)) return;
      if (h.type === PaxosType.PrepareOk && (this.offloads & FAKE_OFFLOAD.quorum) !== 0 && s.self === s.leader && s.status === 'normal') {
        const verdict = this.quorumWait(s, h);
        if (verdict === 'drop') return;
        if (verdict === 'quorum') {
          const copy = Buffer.from(data);
          copy[paxos.PAXOS_HDR.flags] = copy[paxos.PAXOS_HDR.flags]! | PaxosFlag.Quorum;
          this.stats.passedUp++;
          this.handler(copy, from);
          return;
        }
      }
    }
    this.stats.passedUp++;
    this.handler(data, from);
  }

  private fastAck(s: PublishedState, h: paxos.PaxosHeader, data: Buffer): boolean {
    if (s.self === s.leader || s.status !== 'normal' || h.view !== s.view || h.op !== s.lastOp + 1n) return false;
    const slot = Number(h.op % BigInt(this.ringSize));
    if (this.ring.has(slot)) {
      this.stats.ringFull++;
      return false;
    }
    this.ring.set(slot, { op: h.op, view: h.view, commit: h.commit, body: Buffer.from(data.subarray(paxos.PAXOS_HEADER_LEN)) });
    this.state = { ...s, lastOp: h.op };
    const ok = paxos.encodePaxos({ type: PaxosType.PrepareOk, sender: s.self, view: s.view, op: h.op, flags: PaxosFlag.Fast });
    this.inner.send(ok, this.replicas[s.leader]!);
    this.stats.fastAcks++;
    return true;
  }

  private quorumWait(s: PublishedState, h: paxos.PaxosHeader): 'pass' | 'drop' | 'quorum' {
    if (h.view !== s.view) return 'pass';
    if (h.op <= s.commit) {
      this.stats.quorumDropped++;
      return 'drop';
    }
    const slot = Number(h.op % 1024n);
    let q = this.quorum.get(slot);
    if (q === undefined || q.op !== h.op || q.view !== h.view) this.quorum.set(slot, (q = { op: h.op, view: h.view, bits: 0 }));
    const bit = 1 << h.sender;
    if ((q.bits & bit) !== 0) {
      this.stats.quorumDropped++;
      return 'drop';
    }
    q.bits |= bit;
    let count = 0;
    for (let b = q.bits; b !== 0; b &= b - 1) count++;
    const f = (s.n - 1) / 2;
    if (count === f) {
      this.stats.quorumPassed++;
      return 'quorum';
    }
    this.stats.quorumDropped++;
    return 'drop';
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

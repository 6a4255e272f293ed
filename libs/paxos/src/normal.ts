/**
 * VR's normal case. Leader: client REQUESTs batched into log entries (one op number per batch),
 * PREPARE to the followers (once to the first follower when the offload broadcasts), commit
 * when f followers acknowledged (or on a PREPARE_OK flagged QUORUM by the leader's XDP), the
 * commit number carried by the next PREPARE, COMMIT only after a heartbeat interval without
 * PREPAREs (commit notice and heartbeat), PREPAREs re-sent to followers that did not acknowledge
 * them.
 * Follower: PREPAREs appended in op order and acknowledged with its last op (a PREPARE_OK for op
 * covers every op before it), PREPAREs after a gap kept aside while the gap is fetched with
 * GET_STATE, committed entries executed.
 */
import { paxos } from '@netaccel/protocol';
import type { ReplicaCore } from './core.js';
import type { LogEntry } from './log.js';
import { requestState } from './recovery.js';
import type { Peer } from './transport.js';

const { PaxosType, PaxosFlag, ReplyStatus } = paxos;
const AHEAD_LIMIT = 1024;

// --- leader ------------------------------------------------------------------------------------

/** A client's REQUEST at any replica. Returns true when a batch should be flushed. */
export function onRequest(r: ReplicaCore, m: paxos.RequestMessage, from: Peer): boolean {
  r.count('requests_received');
  if (r.status !== 'normal') return false;
  if (!r.isLeader()) {
    r.count('requests_not_leader');
    r.reply(m.clientId, m.requestId, ReplyStatus.NotLeader, Buffer.of(r.leader), from);
    return false;
  }
  // where each client was last heard from: local (not replicated); dropped with the client's row
  // (core.ts), and the oldest first beyond 2 x maxClients (clients heard but not executed): a
  // reply to a dropped address is answered again from the table on the client's retry
  r.clientAddr.set(m.clientId, from);
  if (r.clientAddr.size > 2 * r.opts.maxClients) r.clientAddr.delete(r.clientAddr.keys().next().value!);
  const done = r.clients.get(m.clientId);
  if (done !== undefined && m.requestId <= done.requestId) {
    r.count('requests_duplicate');
    if (m.requestId === done.requestId) r.reply(m.clientId, m.requestId, done.status, done.result, from);
    return false;
  }
  const inFlight = r.inFlight.get(m.clientId);
  if (inFlight !== undefined && m.requestId <= inFlight) {
    r.count('requests_duplicate');
    return false;
  }
  r.inFlight.set(m.clientId, m.requestId);
  r.queue.push(m); // a RequestMessage is a ClientRequest (no copy per request)
  return true;
}

/**
 * Turns queued requests into log entries while the pipeline has room, publishes the new last op
 * to the offload, then sends their PREPAREs: the transport sends inline, and the kernel's quorum
 * wait passes a PREPARE_OK for an op beyond the published last op up as ACK_FUTURE.
 */
export function flush(r: ReplicaCore): void {
  if (!r.isLeader()) {
    r.queue = [];
    return;
  }
  const appended: LogEntry[] = [];
  while (r.queue.length > 0 && r.log.lastOp - r.commit < BigInt(r.opts.maxPipeline)) {
    let size = 2;
    let count = 0;
    while (count < r.queue.length && count < r.opts.maxBatch) {
      const next = size + paxos.requestSize(r.queue[count]!.payload.length);
      if (next > paxos.PAXOS_MAX_ENTRY) break;
      size = next;
      count++;
    }
    const batch = r.queue.splice(0, count);
    appended.push(r.append(r.view, paxos.encodeEntry(batch), batch));
  }
  if (appended.length > 0) r.publish();
  for (const e of appended) {
    sendPrepare(r, e.op, e.body, null);
    r.count('prepares_sent');
  }
  if (r.opts.f === 0) r.commitTo(r.log.lastOp);
}

/** Sends the PREPARE of `op` to one follower, or to all (once when the kernel broadcasts). */
export function sendPrepare(r: ReplicaCore, op: bigint, body: Buffer, to: number | null): void {
  const m = Buffer.allocUnsafe(paxos.PAXOS_HEADER_LEN + body.length);
  paxos.writePaxosHeader(m, { type: PaxosType.Prepare, sender: r.self, view: r.view, op, commit: r.commit });
  body.copy(m, paxos.PAXOS_HEADER_LEN);
  const now = r.now();
  r.sentAt.set(op, now);
  if (to !== null) {
    r.transport.send(m, r.opts.replicas[to]!);
    return;
  }
  r.lastBroadcastAt = now; // a re-send to one follower is no heartbeat for the others
  if (r.offload?.broadcasting?.() === true) {
    const first = r.self === 0 ? 1 : 0;
    if (first < r.opts.n) r.transport.send(m, r.opts.replicas[first]!);
    return;
  }
  for (let i = 0; i < r.opts.n; i++) if (i !== r.self) r.transport.send(m, r.opts.replicas[i]!);
}

export function onPrepareOk(r: ReplicaCore, m: paxos.PrepareOkMessage): void {
  r.count('prepare_oks_received');
  if (!r.isLeader() || m.view !== r.view || m.sender === r.self) {
    r.count('messages_stale');
    return;
  }
  const op = m.op < r.log.lastOp ? m.op : r.log.lastOp;
  r.lease.acked(r.view, m.sender, op, r.now());
  if ((m.flags & PaxosFlag.Quorum) !== 0) {
    r.count('prepare_oks_quorum');
    r.commitTo(op);
  }
  if (op > r.acked[m.sender]!) r.acked[m.sender] = op;
  // The f-th largest acknowledgement among the followers: f followers + the leader.
  const quorumOp = fthLargest(r.acked, r.self, r.opts.f);
  if (quorumOp !== undefined) r.commitTo(quorumOp);
}

/** The f-th largest of `acked` leaving out index `self` (no copy, no sort: it runs per PREPARE_OK). */
export function fthLargest(acked: readonly bigint[], self: number, f: number): bigint | undefined {
  if (f < 1 || f > acked.length - 1) return undefined;
  // the f-th largest is the value with fewer than f values above it and at least f at or above it
  for (let i = 0; i < acked.length; i++) {
    if (i === self) continue;
    const v = acked[i]!;
    let above = 0;
    let atOrAbove = 0;
    for (let j = 0; j < acked.length; j++) {
      if (j === self) continue;
      if (acked[j]! > v) above++;
      if (acked[j]! >= v) atOrAbove++;
    }
    if (above < f && atOrAbove >= f) return v;
  }
  return undefined;
}

/**
 * The commit notice (VR's normal case): the next PREPARE carries the commit number in its
 * header, so the leader sends no COMMIT when the commit advances. A COMMIT goes out only when it
 * has sent no PREPARE for a heartbeat interval (leaderTick): heartbeat and commit notice of an
 * idle leader in one. Followers that fast-ack learn the number from the drained entries.
 */
export function sendCommit(r: ReplicaCore): void {
  r.broadcast({ type: PaxosType.Commit, sender: r.self, view: r.view, commit: r.commit });
  r.lastBroadcastAt = r.now();
  r.count('commits_sent');
}

/**
 * Leader's timer: COMMIT after a heartbeat interval without PREPAREs (see sendCommit), and
 * PREPAREs re-sent to followers that have not acknowledged them, after the retransmission
 * timeout that the commit latency sets (rto.ts: retransmitMs on an idle group, up to
 * retransmitMaxMs when the queues are long).
 */
export function leaderTick(r: ReplicaCore): void {
  const now = r.now();
  if (now - r.lastBroadcastAt >= r.opts.heartbeatMs) sendCommit(r);
  if (r.sentAt.size === 0) {
    if (r.resent.size > 0) r.resent.clear(); // ops of an older view or log (view-change.ts clears sentAt)
    return;
  }
  const timeout = r.rto.ms;
  const budgetAtStart = 256;
  let budget = budgetAtStart;
  for (const [op, at] of r.sentAt) {
    if (op <= r.commit) {
      r.sentAt.delete(op);
      continue;
    }
    if (now - at < timeout) continue;
    const e = r.log.get(op);
    if (e === undefined) {
      r.sentAt.delete(op);
      continue;
    }
    for (let i = 0; i < r.opts.n && budget > 0; i++) {
      if (i === r.self || r.acked[i]! >= op) continue;
      sendPrepare(r, op, e.body, i);
      r.count('prepares_retransmitted');
      budget--;
    }
    r.resent.add(op);
    r.sentAt.set(op, now);
  }
  if (budget < budgetAtStart) r.rto.timedOut();
}

// --- follower ----------------------------------------------------------------------------------

/** A PREPARE of the current view at a follower in normal status. */
export function onPrepare(r: ReplicaCore, m: paxos.PrepareMessage, body: Buffer): void {
  r.count('prepares_received');
  r.lastLeaderContact = r.now();
  const last = r.log.lastOp;
  if (m.op <= last) {
    r.sendPrepareOk(); // a re-sent PREPARE: our acknowledgement was lost
  } else if (m.op === last + 1n) {
    r.append(m.view, body, m.requests);
    appendAhead(r);
    r.sendPrepareOk();
  } else {
    if (r.ahead.size < AHEAD_LIMIT) r.ahead.set(m.op, { view: m.view, body });
    if (r.fetch === null) requestState(r, 'catch-up', r.leader, m.op, m.commit);
  }
  r.commitTo(m.commit);
}

/** Appends the PREPAREs kept aside that now continue the log. */
export function appendAhead(r: ReplicaCore): void {
  for (;;) {
    const next = r.ahead.get(r.log.lastOp + 1n);
    for (const op of r.ahead.keys()) if (op <= r.log.lastOp) r.ahead.delete(op);
    if (next === undefined || next.view !== r.view) return;
    r.ahead.delete(r.log.lastOp + 1n);
    r.append(next.view, next.body);
  }
}

/** A COMMIT (commit notice or heartbeat) of the current view at a follower in normal status. */
export function onCommit(r: ReplicaCore, m: paxos.CommitMessage): void {
  r.lastLeaderContact = r.now();
  r.commitTo(m.commit);
  if (m.commit > r.log.lastOp && r.fetch === null) requestState(r, 'catch-up', r.leader, m.commit, m.commit);
}

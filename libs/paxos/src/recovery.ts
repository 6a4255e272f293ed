/**
 * State transfer and recovery. GET_STATE / NEW_STATE move log entries (as many as fit in one
 * datagram per answer) from one replica to another within one view: a follower that missed
 * entries (catch-up), a new leader that must adopt the best log of its view change, a replica
 * that recovers. Recovery (VR §4.3): a replica restarted without its state sends RECOVERY with a
 * fresh nonce to all, waits for f + 1 RECOVERY_RESPONSEs with that nonce including one from the
 * leader of the highest view among them, then fetches that leader's log and becomes a normal
 * follower; it answers nothing and counts in no quorum before.
 */
import { randomBytes } from 'node:crypto';
import { paxos } from '@netaccel/protocol';
import type { ReplicaCore } from './core.js';
import type { Fetch } from './core.js';

const { PaxosType } = paxos;

/** Starts (or retargets) a fetch from replica `from` and sends the first GET_STATE. */
export function requestState(r: ReplicaCore, purpose: Fetch['purpose'], from: number, target: bigint, commit: bigint): void {
  if (r.fetch !== null && r.fetch.purpose === purpose && r.fetch.from === from) {
    if (target > r.fetch.target) r.fetch.target = target;
    if (commit > r.fetch.commit) r.fetch.commit = commit;
    return;
  }
  const aside = purpose === 'sync' || purpose === 'view-change';
  r.fetch = { purpose, from, target, commit, base: aside ? r.commit : r.log.lastOp, buffer: [], askedAt: 0, answered: false };
  askState(r);
}

/** The last op the fetch holds. */
function fetchedTo(r: ReplicaCore, f: Fetch): bigint {
  return f.purpose === 'sync' || f.purpose === 'view-change' ? f.base + BigInt(f.buffer.length) : r.log.lastOp;
}

function askState(r: ReplicaCore): void {
  const f = r.fetch!;
  f.askedAt = r.now();
  r.send(f.from, { type: PaxosType.GetState, sender: r.self, view: r.view, op: fetchedTo(r, f) });
  r.count('state_requests_sent');
}

/** Answers a GET_STATE of our view with the entries after the requester's last op. */
export function onGetState(r: ReplicaCore, m: paxos.GetStateMessage): void {
  if (r.status === 'recovering' || m.view !== r.view) {
    r.count('messages_stale');
    return;
  }
  const entries: paxos.StateEntry[] = [];
  let size = 2;
  for (const e of r.log.after(m.op, r.opts.stateChunkEntries)) {
    const next = size + paxos.PAXOS_STATE_ENTRY_OVERHEAD + e.body.length;
    if (paxos.PAXOS_HEADER_LEN + next > paxos.PAXOS_MAX_MSG) break;
    size = next;
    entries.push({ op: e.op, view: e.view, body: e.body });
  }
  r.send(m.sender, { type: PaxosType.NewState, sender: r.self, view: r.view, op: r.log.lastOp, commit: r.commit, entries });
}

/** Callbacks of the modules that own what happens when a fetch completes. */
export interface FetchDone {
  viewChangeFetched(r: ReplicaCore, commit: bigint): void;
  caughtUp(r: ReplicaCore, commit: bigint): void;
}

/** A NEW_STATE: appends (or sets aside) what continues, asks for more or completes the fetch. */
export function onNewState(r: ReplicaCore, m: paxos.NewStateMessage, done: FetchDone): void {
  const f = r.fetch;
  if (f === null || m.sender !== f.from || m.view !== r.view) {
    r.count('messages_stale');
    return;
  }
  const aside = f.purpose === 'sync' || f.purpose === 'view-change';
  for (const e of m.entries) {
    if (e.op !== fetchedTo(r, f) + 1n) continue;
    if (f.purpose === 'view-change' && e.op > f.target) break; // the best log, exactly
    if (aside) f.buffer.push({ view: e.view, body: e.body });
    else r.append(e.view, e.body);
    r.count('state_entries_received');
    if (f.purpose === 'recovery') r.recoveryAt = r.now(); // progress
  }
  // catch-up and sync fetch at least what the leader had when it first answered: for sync this
  // covers the log the leader started its view with (a follower that calls itself normal in the
  // view must hold it). Later entries come as PREPAREs; chasing every answer could last forever
  // under load. view-change fetches exactly the best log; recovery the leader's log as it was
  // in its RECOVERY_RESPONSE.
  if ((f.purpose === 'catch-up' || f.purpose === 'sync') && !f.answered && m.op > f.target) f.target = m.op;
  if (f.purpose !== 'view-change' && m.commit > f.commit) f.commit = m.commit;
  f.answered = true;
  const have = fetchedTo(r, f);
  if (have < f.target) {
    if (m.entries.length > 0) askState(r);
    return; // else the responder has less than expected: the timer asks again
  }
  r.fetch = null;
  if (aside) {
    r.log.truncate(f.base);
    for (const e of f.buffer) r.append(e.view, e.body);
  }
  if (f.purpose === 'view-change') done.viewChangeFetched(r, f.commit);
  else if (f.purpose === 'recovery') finishRecovery(r, f.commit);
  else done.caughtUp(r, f.commit);
}

/** Timer: a fetch that got no answer is asked again; one of another view is abandoned. */
export function fetchTick(r: ReplicaCore): void {
  const f = r.fetch;
  if (f === null || r.now() - f.askedAt < r.opts.retransmitMs) return;
  askState(r);
}

// --- recovery ----------------------------------------------------------------------------------

export function startRecovery(r: ReplicaCore): void {
  r.status = 'recovering';
  r.fetch = null;
  r.recoveryResponses.clear();
  r.nonce = randomBytes(8).readBigUInt64BE(0);
  r.recoveryAt = r.now();
  r.recoverySentAt = r.now();
  r.count('recoveries_started');
  r.publish(true);
  r.broadcast({ type: PaxosType.Recovery, sender: r.self, nonce: r.nonce });
}

/** Another replica recovers: a replica in normal status answers with its view, op and commit. */
export function onRecovery(r: ReplicaCore, m: paxos.RecoveryMessage): void {
  if (r.status !== 'normal') return;
  r.send(m.sender, { type: PaxosType.RecoveryResponse, sender: r.self, view: r.view, op: r.log.lastOp, commit: r.commit, nonce: m.nonce });
}

export function onRecoveryResponse(r: ReplicaCore, m: paxos.RecoveryResponseMessage): void {
  if (r.status !== 'recovering' || m.nonce !== r.nonce || r.fetch !== null) return;
  r.recoveryResponses.set(m.sender, { view: m.view, op: m.op, commit: m.commit });
  if (r.recoveryResponses.size < r.opts.f + 1) return;
  let view = 0;
  for (const x of r.recoveryResponses.values()) if (x.view > view) view = x.view;
  const leader = r.leaderOf(view);
  const fromLeader = r.recoveryResponses.get(leader);
  if (fromLeader === undefined || fromLeader.view !== view || leader === r.self) return;
  r.view = view;
  r.log.truncate(0n);
  requestState(r, 'recovery', leader, fromLeader.op, fromLeader.commit);
}

/** Timer: RECOVERY re-sent until answered; no progress for two view change timeouts → a new attempt. */
export function recoveryTick(r: ReplicaCore): void {
  const now = r.now();
  if (now - r.recoveryAt >= 2 * r.opts.viewChangeTimeoutMs) {
    startRecovery(r);
    return;
  }
  if (r.fetch === null && now - r.recoverySentAt >= r.opts.retransmitMs) {
    r.broadcast({ type: PaxosType.Recovery, sender: r.self, nonce: r.nonce });
    r.recoverySentAt = now;
  }
}

function finishRecovery(r: ReplicaCore, commit: bigint): void {
  r.status = 'normal';
  r.lastNormalView = r.view;
  r.lastLeaderContact = r.now();
  r.count('recoveries_completed');
  r.commitTo(commit);
  r.publish();
  r.sendPrepareOk();
  r.logger.info({ view: r.view, lastOp: r.log.lastOp, commit: r.commit }, 'paxos replica recovered');
}

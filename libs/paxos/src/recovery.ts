/**
 * State transfer and recovery. GET_STATE / NEW_STATE move log entries (as many as fit in one
 * datagram per answer) from one replica to another within one view: a follower that missed
 * entries (catch-up), a new leader that must adopt the best log of its view change, a replica
 * that recovers. Recovery (VR §4.3): a replica restarted without its state sends RECOVERY with a
 * fresh nonce to all, waits for f + 1 RECOVERY_RESPONSEs with that nonce including one from the
 * leader of the highest view among them, then fetches that leader's log and becomes a normal
 * follower; it answers nothing and counts in no quorum before.
 *
 * Below the responder's first retained entry (its log was truncated at a checkpoint, log.ts) a
 * GET_STATE is answered with its newest checkpoint instead: CHECKPOINT chunks, CHECKPOINT_WINDOW
 * per answer, the rest asked for with GET_CHECKPOINT (offset: the bytes held in order; re-asked
 * on the retransmission timer). The fetcher checks every chunk (same op, total_len, checksum)
 * and the whole (CRC-32, layout), installs it — at once for catch-up and recovery, at the
 * completion of the fetch for sync and view-change, which replace nothing before — and fetches
 * the entries after its op with GET_STATE. A newer checkpoint of the responder replaces one
 * half received, and so does a chunk of the same op with another total or checksum (what was
 * held was damaged: the responder has one checkpoint per op).
 */
import { randomBytes } from 'node:crypto';
import { paxos } from '@netaccel/protocol';
import type { ReplicaCore } from './core.js';
import type { Fetch } from './core.js';
import { CHECKPOINT_WINDOW, CheckpointAssembly, decodeCheckpoint } from './snapshot.js';
import type { Checkpoint } from './snapshot.js';

const { PaxosType } = paxos;

/** Starts (or retargets) a fetch from replica `from` and sends the first GET_STATE. */
export function requestState(r: ReplicaCore, purpose: Fetch['purpose'], from: number, target: bigint, commit: bigint): void {
  if (r.fetch !== null && r.fetch.purpose === purpose && r.fetch.from === from) {
    if (target > r.fetch.target) r.fetch.target = target;
    if (commit > r.fetch.commit) r.fetch.commit = commit;
    return;
  }
  const aside = purpose === 'sync' || purpose === 'view-change';
  r.fetch = { purpose, from, target, commit, base: aside ? r.commit : r.log.lastOp, buffer: [], checkpoint: null, assembly: null, askedAt: 0, answered: false };
  askState(r);
}

/** The last op the fetch holds. */
function fetchedTo(r: ReplicaCore, f: Fetch): bigint {
  return f.purpose === 'sync' || f.purpose === 'view-change' ? f.base + BigInt(f.buffer.length) : r.log.lastOp;
}

function askState(r: ReplicaCore): void {
  const f = r.fetch!;
  f.askedAt = r.now();
  const a = f.assembly;
  if (a !== null) {
    a.windowEnd = a.have + CHECKPOINT_WINDOW * paxos.PAXOS_MAX_CHUNK;
    r.send(f.from, { type: PaxosType.GetCheckpoint, sender: r.self, view: r.view, op: a.op, offset: a.have });
  } else {
    r.send(f.from, { type: PaxosType.GetState, sender: r.self, view: r.view, op: fetchedTo(r, f) });
  }
  r.count('state_requests_sent');
}

/** Sends a window of chunks of `cp` from byte `offset`. */
function sendCheckpoint(r: ReplicaCore, to: number, cp: Checkpoint, offset: number): void {
  for (let k = 0; k < CHECKPOINT_WINDOW && offset < cp.bytes.length; k++) {
    const data = cp.bytes.subarray(offset, offset + paxos.PAXOS_MAX_CHUNK);
    r.send(to, { type: PaxosType.Checkpoint, sender: r.self, view: r.view, op: cp.op, total: cp.bytes.length, checksum: cp.checksum, offset, data });
    r.count('checkpoint_chunks_sent');
    offset += data.length;
  }
}

/** A GET_CHECKPOINT of our view: the window from its offset (from 0 when our checkpoint is another). */
export function onGetCheckpoint(r: ReplicaCore, m: paxos.GetCheckpointMessage): void {
  const cp = r.checkpoint;
  if (r.status === 'recovering' || m.view !== r.view || cp === null) {
    r.count('messages_stale');
    return;
  }
  sendCheckpoint(r, m.sender, cp, cp.op === m.op && m.offset < cp.bytes.length ? m.offset : 0);
}

/** Answers a GET_STATE of our view with the entries after the requester's last op. */
export function onGetState(r: ReplicaCore, m: paxos.GetStateMessage): void {
  if (r.status === 'recovering' || m.view !== r.view) {
    r.count('messages_stale');
    return;
  }
  if (m.op + 1n < r.log.firstOp && r.checkpoint !== null && r.checkpoint.op > m.op) {
    sendCheckpoint(r, m.sender, r.checkpoint, 0); // the entries asked for are below our log
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
  progress(r, f, m.entries.length > 0, done);
}

/**
 * After an answer: asks for more (when it brought something; else the timer asks again: the
 * responder has less than expected), or completes the fetch.
 */
function progress(r: ReplicaCore, f: Fetch, more: boolean, done: FetchDone): void {
  if (fetchedTo(r, f) < f.target) {
    if (more) askState(r);
    return;
  }
  r.fetch = null;
  if (f.purpose === 'sync' || f.purpose === 'view-change') {
    if (f.checkpoint !== null) {
      try {
        r.installCheckpoint(f.checkpoint.image, f.checkpoint.cp);
      } catch (err) {
        rejected(r, err);
        requestState(r, f.purpose, f.from, f.target, f.commit); // from the start again
        return;
      }
    } else r.log.truncate(f.base);
    for (const e of f.buffer) r.append(e.view, e.body);
  }
  if (f.purpose === 'view-change') done.viewChangeFetched(r, f.commit);
  else if (f.purpose === 'recovery') finishRecovery(r, f.commit);
  else done.caughtUp(r, f.commit);
}

function rejected(r: ReplicaCore, err: unknown): void {
  r.count('checkpoint_chunks_rejected');
  r.logger.warn({ err }, 'paxos checkpoint received refused');
}

/**
 * A CHECKPOINT chunk for the fetch in progress (a checkpoint above what it holds): taken into
 * the checkpoint being received (a newer one replaces it, one of another total or checksum is
 * refused); the next window asked for when this one is complete; the whole checked and
 * installed (or set aside) when every byte is there, then the entries after it fetched.
 */
export function onCheckpoint(r: ReplicaCore, m: paxos.CheckpointMessage, done: FetchDone): void {
  const f = r.fetch;
  if (f === null || m.sender !== f.from || m.view !== r.view || m.op <= fetchedTo(r, f)) {
    r.count('messages_stale');
    return;
  }
  if (f.assembly !== null && m.op < f.assembly.op) {
    r.count('messages_stale');
    return;
  }
  if (f.assembly !== null && m.op === f.assembly.op && !f.assembly.matches(m)) {
    // The responder's checkpoint of this op is one: the chunks held were not of it (damaged).
    r.count('checkpoint_chunks_rejected');
    f.assembly = null;
  }
  if (f.assembly === null || m.op > f.assembly.op) f.assembly = new CheckpointAssembly(m);
  r.count('checkpoint_chunks_received');
  const a = f.assembly;
  if (!a.add(m.offset, m.data)) return;
  if (f.purpose === 'recovery') r.recoveryAt = r.now(); // progress
  if (!a.complete) {
    if (a.have >= a.windowEnd) askState(r);
    return;
  }
  f.assembly = null;
  const bytes = a.bytes();
  let image;
  try {
    if (paxos.checkpointChecksum(bytes) !== a.checksum) throw new Error(`checkpoint of op ${a.op}: CRC-32 differs from the chunks' ${a.checksum}`);
    image = decodeCheckpoint(bytes);
    if (image.op !== a.op) throw new Error(`checkpoint of op ${image.op} sent as op ${a.op}`);
  } catch (err) {
    rejected(r, err);
    askState(r); // GET_STATE again: a fresh copy
    return;
  }
  const cp = { op: a.op, bytes, checksum: a.checksum };
  if (f.purpose === 'sync' || f.purpose === 'view-change') {
    f.checkpoint = { image, cp };
    f.base = image.op;
    f.buffer.length = 0;
  } else if (image.op > r.log.lastOp) {
    try {
      r.installCheckpoint(image, cp);
    } catch (err) {
      rejected(r, err);
      askState(r);
      return;
    }
  }
  progress(r, f, true, done);
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
  r.log.reset(0n);
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

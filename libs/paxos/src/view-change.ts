/**
 * VR's view change (Liskov & Cowling 2012, §4.2). A follower that heard nothing from the leader
 * for a view change timeout moves to view + 1 and sends START_VIEW_CHANGE to all; a replica that
 * learns of a higher view joins it. With f START_VIEW_CHANGEs from others, a replica sends
 * DO_VIEW_CHANGE (last normal view, last op, commit) to the new view's leader, which, with f + 1
 * of them (its own included), takes the log of the best one (highest last normal view, then
 * highest op), fetching it with GET_STATE when that is not its own, adopts the highest commit
 * number, becomes normal and sends START_VIEW. Followers truncate to their commit number and
 * fetch the new leader's log. A view change that does not complete moves on to the next view.
 *
 * With an offload: the status is published before the last drain and before any message of the
 * view change is sent, so every entry the kernel acknowledged in the old view is in the log the
 * replica reports.
 */
import { paxos } from '@netaccel/protocol';
import type { ReplicaCore } from './core.js';
import { requestState } from './recovery.js';

const { PaxosType } = paxos;

/** Moves to view `view` in view-change status and announces it. */
export function startViewChange(r: ReplicaCore, view: number): void {
  r.view = view;
  r.status = 'view-change';
  r.publish(true);
  r.drain();
  r.startViewChanges.clear();
  r.doViewChanges.clear();
  r.doViewChangeSent = false;
  r.fetch = null;
  r.ahead.clear();
  r.queue = [];
  r.viewChangeAt = r.now();
  r.count('view_changes_started');
  r.logger.info({ view, lastOp: r.log.lastOp, commit: r.commit }, 'paxos view change started');
  sendViewChangeMessages(r);
}

function sendViewChangeMessages(r: ReplicaCore): void {
  r.lastViewChangeSend = r.now();
  r.broadcast({ type: PaxosType.StartViewChange, sender: r.self, view: r.view });
  if (r.doViewChangeSent) sendDoViewChange(r);
}

function sendDoViewChange(r: ReplicaCore): void {
  r.doViewChangeSent = true;
  const info = { lastNormalView: r.lastNormalView, op: r.log.lastOp, commit: r.commit };
  if (r.leader === r.self) {
    r.doViewChanges.set(r.self, info);
    maybeCompleteViewChange(r);
  } else {
    r.send(r.leader, { type: PaxosType.DoViewChange, sender: r.self, view: r.view, ...info });
  }
}

export function onStartViewChange(r: ReplicaCore, m: paxos.StartViewChangeMessage): void {
  if (m.view > r.view) startViewChange(r, m.view);
  if (m.view !== r.view || r.status !== 'view-change') {
    r.count('messages_stale');
    return;
  }
  r.startViewChanges.add(m.sender);
  if (!r.doViewChangeSent && r.startViewChanges.size >= r.opts.f) sendDoViewChange(r);
}

export function onDoViewChange(r: ReplicaCore, m: paxos.DoViewChangeMessage): void {
  if (m.view > r.view) startViewChange(r, m.view);
  if (m.view !== r.view || r.status !== 'view-change' || r.leader !== r.self) {
    r.count('messages_stale');
    return;
  }
  r.doViewChanges.set(m.sender, { lastNormalView: m.lastNormalView, op: m.op, commit: m.commit });
  // A DO_VIEW_CHANGE implies its sender's START_VIEW_CHANGE.
  r.startViewChanges.add(m.sender);
  if (!r.doViewChangeSent && r.startViewChanges.size >= r.opts.f) sendDoViewChange(r);
  maybeCompleteViewChange(r);
}

function maybeCompleteViewChange(r: ReplicaCore): void {
  if (r.fetch !== null || !r.doViewChanges.has(r.self) || r.doViewChanges.size < r.opts.f + 1) return;
  let best = r.self;
  let info = r.doViewChanges.get(r.self)!;
  let commit = 0n;
  for (const [sender, d] of r.doViewChanges) {
    if (d.commit > commit) commit = d.commit;
    if (d.lastNormalView > info.lastNormalView || (d.lastNormalView === info.lastNormalView && d.op > info.op)) {
      best = sender;
      info = d;
    }
  }
  const own = r.doViewChanges.get(r.self)!;
  if (best === r.self || (info.lastNormalView === own.lastNormalView && info.op === own.op)) {
    becomeLeader(r, commit);
    return;
  }
  // Our log differs after our commit number at most: fetch the best one's after it, then replace.
  requestState(r, 'view-change', best, info.op, commit);
}

/** The best log is ours (or fetched): normal status as leader, START_VIEW to all. */
export function becomeLeader(r: ReplicaCore, commit: bigint): void {
  r.status = 'normal';
  r.lastNormalView = r.view;
  r.count('views_started');
  r.acked = new Array<bigint>(r.opts.n).fill(0n);
  r.acked[r.self] = r.log.lastOp;
  r.sentAt.clear();
  r.inFlight.clear();
  r.commitTo(commit);
  // Requests in the uncommitted part of the log are in flight: a retry must not add them again.
  for (let op = r.commit + 1n; op <= r.log.lastOp; op++) for (const q of r.log.get(op)!.requests) r.inFlight.set(q.clientId, q.requestId);
  r.publish();
  r.broadcast({ type: PaxosType.StartView, sender: r.self, view: r.view, op: r.log.lastOp, commit: r.commit });
  r.lastBroadcastAt = r.now();
  // The uncommitted entries get PREPARE_OKs once the followers fetched them; re-sent if not.
  const now = r.now();
  for (let op = r.commit + 1n; op <= r.log.lastOp; op++) r.sentAt.set(op, now);
  r.logger.info({ view: r.view, lastOp: r.log.lastOp, commit: r.commit }, 'paxos view started as leader');
}

/**
 * A message of the leader of view `view` (PREPARE, COMMIT, START_VIEW) at a replica that is
 * behind (lower view, or the same view still in view change): normal status as a follower of
 * that view; the leader's log after our commit number is fetched and replaces ours once complete
 * (until then the last normal view and the log stay what we acknowledged).
 */
export function adoptView(r: ReplicaCore, view: number, leaderOp: bigint, leaderCommit: bigint): void {
  r.view = view;
  r.status = 'normal';
  r.startViewChanges.clear();
  r.doViewChanges.clear();
  r.doViewChangeSent = false;
  r.ahead.clear();
  r.queue = [];
  r.sentAt.clear();
  r.inFlight.clear();
  r.fetch = null;
  r.lastLeaderContact = r.now();
  requestState(r, 'sync', r.leader, leaderOp, leaderCommit);
  r.publish();
  r.logger.info({ view, leader: r.leader, commit: r.commit }, 'paxos view adopted as follower');
}

export function onStartView(r: ReplicaCore, m: paxos.StartViewMessage): void {
  if (m.view < r.view || (m.view === r.view && r.status === 'normal')) {
    r.count('messages_stale');
    return;
  }
  adoptView(r, m.view, m.op, m.commit);
}

/** Timer: leader silent → next view; a view change that does not complete → the one after. */
export function viewChangeTick(r: ReplicaCore): void {
  const now = r.now();
  if (r.status === 'normal' && !r.isLeader() && now - r.lastLeaderContact >= r.opts.viewChangeTimeoutMs) {
    startViewChange(r, r.view + 1);
  } else if (r.status === 'view-change') {
    if (now - r.viewChangeAt >= r.opts.viewChangeTimeoutMs) startViewChange(r, r.view + 1);
    else if (now - r.lastViewChangeSend >= r.opts.retransmitMs) sendViewChangeMessages(r);
  }
}

/** The view-change fetch of the new leader completed: the best log is ours now. */
export function viewChangeFetched(r: ReplicaCore, commit: bigint): void {
  becomeLeader(r, commit);
}

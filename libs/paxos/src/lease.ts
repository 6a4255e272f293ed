/**
 * The leader's lease: how long the leader of a view may act alone (answer reads from its own
 * state, act as the one active scheduler) without hearing of a newer view.
 *
 * Evidence. When follower i acknowledges op k (PREPARE_OK of this view), it was in this view, in
 * normal status, at a moment after the leader appended op k (time s_k on the leader's clock: only
 * ops the leader created in this view count — an op merged from an earlier view may have been
 * acknowledged before this leader sent it again, so its acks prove nothing). A new view needs f + 1 replicas to leave this one; f followers + the leader that
 * acknowledged ops first sent at or after s are f + 1 replicas too, so the two sets share one
 * replica, which left the view after acknowledging: the next view's leader starts after s. The
 * lease is the f-th most recent follower evidence + `leaseMs`.
 *
 * A new leader first waits: it holds no lease until `leaseMs × (1 + clockDrift)` after it became
 * leader (on its own clock), so its predecessor's lease (s + leaseMs on the predecessor's clock,
 * s before the new view began) has run out. Clock assumption: the replicas' clocks are not
 * synchronized, but their rates differ by at most `clockDrift` (a monotonic clock's rate error
 * is ~1e-4; the default 0.1 is far above it). Messages may be delayed or lost at will.
 *
 * An idle group acknowledges nothing (a heartbeat COMMIT is not answered): whoever needs the
 * lease keeps ops flowing (ReplicatedConfig submits a read every leaseMs / 4 while it leads).
 */

/**
 * First PREPARE send times kept per view, in a ring by op (slot op % MAX_SENT, tagged with the
 * op): an op MAX_SENT or more below the newest is forgotten (its acks renew nothing). A ring, not
 * a Map keyed by bigint: the leader records every op it creates, and the Map's hashing, insertion
 * and eviction were its largest user-space item after the protocol's own (perf, bench/paxos).
 */
const MAX_SENT = 4096; // a power of two
/** A slot's tag when it holds no op (2^64 - 1: no op number gets there). */
const NO_OP = (1n << 64n) - 1n;

export interface LeaseState {
  /** Whether this replica may act as the view's one leader now. */
  readonly held: boolean;
  /** Milliseconds of lease left (0 when not held). */
  readonly remainingMs: number;
}

export class LeaderLease {
  /** The op each slot holds (NO_OP: none) and its first send time. */
  readonly #sentOp = new BigUint64Array(MAX_SENT).fill(NO_OP);
  readonly #sentAt = new Float64Array(MAX_SENT);
  /** Per replica: the latest first-send time of an op it acknowledged in #view. */
  #evidence: number[];
  #view = -1;
  /** When this replica was first seen leading #view (on its clock). */
  #since = 0;

  constructor(
    private readonly n: number,
    private readonly f: number,
    private readonly self: number,
    readonly leaseMs: number,
    readonly clockDrift: number,
  ) {
    this.#evidence = new Array<number>(n).fill(-Infinity);
  }

  #enter(view: number, now: number): void {
    if (view === this.#view) return;
    this.#view = view;
    this.#since = now;
    this.#sentOp.fill(NO_OP);
    this.#evidence = new Array<number>(this.n).fill(-Infinity);
  }

  /** The leader created op in this view (appended it; before its first PREPARE). A repeat is ignored. */
  sent(view: number, op: bigint, now: number): void {
    this.#enter(view, now);
    const slot = Number(op) & (MAX_SENT - 1); // a slot: the tag below compares the whole op
    if (this.#sentOp[slot] === op) return;
    this.#sentOp[slot] = op;
    this.#sentAt[slot] = now;
  }

  /** A follower acknowledged every op up to `op` in `view`. */
  acked(view: number, from: number, op: bigint, now: number): void {
    this.#enter(view, now);
    const slot = Number(op) & (MAX_SENT - 1);
    if (this.#sentOp[slot] !== op) return;
    const at = this.#sentAt[slot]!;
    if (at > this.#evidence[from]!) this.#evidence[from] = at;
  }

  /** The lease of `view` now, for a replica that `leads` it (normal status). */
  state(view: number, leads: boolean, now: number): LeaseState {
    if (!leads) return { held: false, remainingMs: 0 };
    this.#enter(view, now);
    if (now < this.#since + this.leaseMs * (1 + this.clockDrift)) return { held: false, remainingMs: 0 };
    let until: number;
    if (this.f === 0) until = Infinity;
    else {
      const followers = this.#evidence.filter((_, i) => i !== this.self).sort((a, b) => b - a);
      until = followers[this.f - 1]! + this.leaseMs;
    }
    return until > now ? { held: true, remainingMs: until - now } : { held: false, remainingMs: 0 };
  }
}

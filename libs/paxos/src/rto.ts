/**
 * The leader's PREPARE retransmission timeout, adapted to the commit latency it measures: TCP's
 * estimator (RFC 6298: smoothed latency + 4 x its mean deviation), Karn's rule (an op re-sent
 * gives no sample) and its back-off (each timeout that re-sent something doubles the timeout
 * until the next sample), within [retransmitMs, retransmitMaxMs].
 *
 * Why: under load an op's PREPARE_OKs come back after the followers' and the leader's queues,
 * which can take much longer than the fixed retransmitMs. Re-sending then finds nothing lost:
 * each re-send costs the leader a send, a follower a receive and a PREPARE_OK, and the leader
 * that PREPARE_OK's receive, which lengthens the queues further (bench/paxos, 7 replicas, one
 * request per log entry, 256 clients: the group fell to a quarter of its throughput at 64
 * clients, with thousands of PREPAREs re-sent per second and none lost). A real loss is still
 * repaired after one timeout of the group's own latency, never later than retransmitMaxMs.
 */
export class RetransmitTimeout {
  private srtt = -1;
  private rttvar = 0;
  private backoff = 1;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    if (!(minMs > 0 && maxMs >= minMs)) throw new RangeError(`retransmit timeout: expected 0 < min <= max, got ${minMs}, ${maxMs}`);
  }

  /** One commit latency (ms from an op's only send to its commit); ends a back-off. */
  sample(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.backoff = 1;
    if (this.srtt < 0) {
      this.srtt = ms;
      this.rttvar = ms / 2;
      return;
    }
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
    this.srtt = 0.875 * this.srtt + 0.125 * ms;
  }

  /** The timeout expired and something was re-sent: wait twice as long next time (until a sample). */
  timedOut(): void {
    if (this.estimate() * this.backoff < this.maxMs) this.backoff *= 2;
  }

  /** The timeout now: retransmitMs until a sample, then srtt + 4 x rttvar, times the back-off, within the bounds. */
  get ms(): number {
    return Math.min(this.maxMs, this.estimate() * this.backoff);
  }

  private estimate(): number {
    return this.srtt < 0 ? this.minMs : Math.min(this.maxMs, Math.max(this.minMs, this.srtt + 4 * this.rttvar));
  }
}

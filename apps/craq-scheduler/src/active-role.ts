/**
 * Which scheduler of a chain acts (`membership.via: paxos`): the one whose replica holds the
 * leader's lease in the schedulers' group (@netaccel/paxos lease.ts). Checked every `checkMs`:
 *
 * - lease gained: the placement is taken over first (placer.ts `adopt`: the group's records
 *   adopted, leftovers and stale markers retired, the epoch moved on); only then does the
 *   scheduler probe, place and evict on its timers (`active`);
 * - lease lost (cut off from a quorum for a lease period, or a newer view): it stops at once —
 *   `active` is false from the moment the lease runs out, even between two checks — and stands
 *   down at the next check (placer.ts `standDown`: watches cancelled, write-backs dropped).
 *
 * The lease runs out on the old active scheduler before the next one's begins (lease.ts: clock
 * rates within `clockDrift`), so two schedulers never start a step at once; a step already in
 * flight when the lease runs out (one etcd call or node write, bounded by their timeouts) may
 * still complete, and the next one's takeover waits for the mutex of its own process only.
 */
import type { Logger } from '@netaccel/telemetry';

export interface ActiveRoleOptions {
  /** Whether this scheduler's replica holds the leader's lease now. */
  readonly leaseHeld: () => boolean;
  /** The takeover (placer.adopt), run before the scheduler acts. */
  readonly takeOver: () => Promise<unknown>;
  readonly standDown: () => void;
  readonly checkMs: number;
  readonly log: Logger;
  readonly onChange?: (active: boolean) => void;
}

export class ActiveRole {
  #acting = false;
  #checking: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Takeovers done and stand-downs (status, tests). */
  takeovers = 0;
  standDowns = 0;

  constructor(private readonly o: ActiveRoleOptions) {}

  /** Whether this scheduler acts now: it took over and still holds the lease. */
  get active(): boolean {
    return this.#acting && this.o.leaseHeld();
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => void this.check(), this.o.checkMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check now (a check in progress, e.g. a takeover, is joined). */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    const held = this.o.leaseHeld();
    if (held && !this.#acting) {
      try {
        await this.o.takeOver();
      } catch (err) {
        this.o.log.error({ err }, 'takeover failed: tried again at the next check');
        return;
      }
      if (!this.o.leaseHeld()) {
        this.o.standDown(); // lost during the takeover
        return;
      }
      this.#acting = true;
      this.takeovers++;
      this.o.log.info({ takeovers: this.takeovers }, 'this scheduler holds the lease and took over the placement: it is the active one');
      this.o.onChange?.(true);
    } else if (!held && this.#acting) {
      this.#acting = false;
      this.standDowns++;
      this.o.standDown();
      this.o.onChange?.(false);
    }
  }
}

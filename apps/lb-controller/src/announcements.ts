/**
 * VIP announcements through bgp-announcer's `Announcer` gRPC service: a VIP's prefix (/32,
 * /128) is announced while at least one of its services announces (flags.announce), has at
 * least one backend in its table (healthy, not draining, weight > 0) and the XDP program is
 * attached; it is withdrawn when that stops being true and on shutdown. Failed calls are
 * retried on the next update (every health change, state change and periodic tick).
 */
import { AnnouncerClient, announcerV1, createRpcClient } from '@netaccel/rpc';
import type { RpcClient } from '@netaccel/rpc';
import type { Logger } from '@netaccel/telemetry';
import { NA_ERR_LB_ANNOUNCE } from './errors.js';

export function vipPrefix(vip: string): string {
  return vip.includes(':') ? `${vip}/128` : `${vip}/32`;
}

export interface AnnouncerLike {
  announce(prefix: string, nextHop: string): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Opens the connection ahead of the first call (a restarted controller announces as soon as its tables are verified). */
  connect?(): void;
  close(): void;
}

/** The Announcer gRPC client as AnnouncerLike. */
export function announcerClient(address: string, deadlineMs = 3000): AnnouncerLike {
  const c: RpcClient<typeof announcerV1.AnnouncerService> = createRpcClient(AnnouncerClient, { address, deadlineMs });
  return {
    async announce(prefix, nextHop) {
      await c.announce(announcerV1.AnnounceRequest.create({ route: announcerV1.Route.create({ prefix, nextHop }) }));
    },
    async withdraw(prefix) {
      await c.withdraw(announcerV1.WithdrawRequest.create({ prefix }));
    },
    connect: () => void c.waitForReady(10_000).catch(() => undefined), // the first call says what failed
    close: () => c.close(),
  };
}

export interface AnnouncementsOptions {
  readonly announcer: AnnouncerLike;
  readonly nextHop: string;
  readonly log: Logger;
  readonly onChange?: (prefix: string, announced: boolean) => void;
}

export class Announcements {
  readonly #opts: AnnouncementsOptions;
  /** Prefixes announced now. */
  readonly announced = new Set<string>();
  #busy: Promise<void> = Promise.resolve();

  constructor(opts: AnnouncementsOptions) {
    this.#opts = opts;
  }

  /** Makes the announced set `wanted` (serialised: calls run one after another). */
  update(wanted: ReadonlySet<string>): Promise<void> {
    this.#busy = this.#busy.then(() => this.#apply(wanted));
    return this.#busy;
  }

  async #apply(wanted: ReadonlySet<string>): Promise<void> {
    // announcements together (a restarted controller's VIPs go out at once), withdrawals one by one
    await Promise.all(
      [...wanted].filter((prefix) => !this.announced.has(prefix)).map(async (prefix) => {
        try {
          await this.#opts.announcer.announce(prefix, this.#opts.nextHop);
          this.announced.add(prefix);
          this.#opts.log.info({ prefix }, 'VIP announced');
          this.#opts.onChange?.(prefix, true);
        } catch (err) {
          this.#opts.log.warn({ err: NA_ERR_LB_ANNOUNCE.with({ cause: err }, 'announcing', prefix, String(err)), prefix }, 'VIP announcement failed; retried on the next update');
        }
      }),
    );
    for (const prefix of [...this.announced]) {
      if (wanted.has(prefix)) continue;
      try {
        await this.#opts.announcer.withdraw(prefix);
        this.announced.delete(prefix);
        this.#opts.log.info({ prefix }, 'VIP withdrawn');
        this.#opts.onChange?.(prefix, false);
      } catch (err) {
        this.#opts.log.warn({ err: NA_ERR_LB_ANNOUNCE.with({ cause: err }, 'withdrawing', prefix, String(err)), prefix }, 'VIP withdrawal failed; retried on the next update');
      }
    }
  }

  /** Withdraws everything (shutdown). */
  async withdrawAll(): Promise<void> {
    await this.update(new Set());
  }
}

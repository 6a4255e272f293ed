/**
 * The audit trail: one pino line with `component: 'audit'` for every change a client asks for
 * (load, unload, attach, detach, map writes), whether it succeeded or not, with who asked, what,
 * and the sha256 of the object concerned.
 *
 * Who: the loader cannot get the caller's kernel credentials (SO_PEERCRED) — grpc-js does not hand
 * the Unix socket to the application. What it records is the `x-netaccel-user` metadata the client
 * sends (the CLI sends `<user>(uid <uid>)`; a client can claim anything, so it is a statement, not
 * an authentication) and the transport's peer string. Access itself is controlled by the socket's
 * mode 0660 and group.
 */
import { errorMessage, isNetaccelError } from '@netaccel/errors';
import type { CallContext } from '@netaccel/rpc';
import type { Logger } from '@netaccel/telemetry';

export const USER_METADATA = 'x-netaccel-user';
const MAX_USER_CHARS = 128;

export interface Who {
  /** What the client says it is (`x-netaccel-user`), null when it says nothing. */
  readonly user: string | null;
  /** grpc-js's peer string for the connection. */
  readonly peer: string;
  /** Always false: the user is not verified by the kernel (see the module comment). */
  readonly verified: false;
}

export function whoOf(ctx: Pick<CallContext, 'metadata' | 'peer'>): Who {
  const raw = ctx.metadata.get(USER_METADATA)[0];
  const user = typeof raw === 'string' && raw !== '' ? raw.slice(0, MAX_USER_CHARS) : null;
  return { user, peer: ctx.peer, verified: false };
}

export class Audit {
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log.child({ component: 'audit' });
  }

  /**
   * Runs `change` and writes the audit line: `fields()` says what (read after the change, so
   * ids made by it are included), `outcome` ok or failed with the error's code and message.
   */
  run<T>(ctx: Pick<CallContext, 'metadata' | 'peer'>, action: string, fields: (result: T | undefined) => Record<string, unknown>, change: () => T): T {
    const who = whoOf(ctx);
    let result: T;
    try {
      result = change();
    } catch (err) {
      let what: Record<string, unknown> = {};
      try {
        what = fields(undefined);
      } catch {
        // the request may name things that do not exist: the error says so
      }
      this.#log.warn(
        { who, action, ...what, outcome: 'failed', code: isNetaccelError(err) ? err.code : undefined, error: errorMessage(err) },
        `audit: ${action} failed`,
      );
      throw err;
    }
    this.#log.info({ who, action, ...fields(result), outcome: 'ok' }, `audit: ${action}`);
    return result;
  }
}

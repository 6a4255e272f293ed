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
 *
 * When (issue 12, item 4): with `endOfTurn` (the daemon), a change's line is decided (who, what,
 * outcome, read when the change is made) before its call is answered, but formatted and written
 * (pino, synchronously, to the logger's destination: stdout) at the end of that turn of the event
 * loop (setImmediate), i.e. just after the turn's answers went out (http2 sends them from its own
 * native immediate, which runs first) and before the loader reads the next request. Formatting and
 * writing then overlap the client's handling of the answer instead of delaying it: in the call's
 * path they took 19 µs per line to a file in isolation (0.5 µs now), ~100 µs in CPU profiles of
 * the loaded machine (a write preempted) — bench/loader/README.md.
 * What a crash can lose is bounded by that turn: a SIGKILL or power loss between an answer and
 * the end of its turn loses the lines of the changes answered in that turn (one, for a client
 * that waits for each answer; the calls served in one turn otherwise). An exit through a signal,
 * an uncaught exception or `process.exit` writes them first (the 'exit' hook), and so does the
 * daemon's close hook. Other log lines of the same turn may come before its audit lines.
 */
import { errorMessage, isNetaccelError } from '@netaccel/errors';
import type { CallContext } from '@netaccel/rpc';
import { DEFAULT_REDACT_PATHS, REDACTED } from '@netaccel/telemetry';
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

export interface AuditOptions {
  /** Write each turn's lines at the end of the turn, after its answers (module comment). Default false. */
  readonly endOfTurn?: boolean;
}

type Line = readonly ['info' | 'warn', Record<string, unknown>, string];

/** DEFAULT_REDACT_PATHS split at the dots (`*` is any key of that level). */
const SECRET_PATHS: readonly (readonly string[])[] = Object.freeze(DEFAULT_REDACT_PATHS.map((p) => Object.freeze(p.split('.'))));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** `obj` with the values at `path` replaced by REDACTED: a copy where something was, else `obj` itself. */
function censored(obj: Record<string, unknown>, path: readonly string[], at = 0): Record<string, unknown> {
  const head = path[at]!;
  const keys = head === '*' ? Object.keys(obj) : Object.hasOwn(obj, head) ? [head] : [];
  let out = obj;
  for (const k of keys) {
    const v = obj[k];
    const next = at === path.length - 1 ? (v === undefined ? v : REDACTED) : isRecord(v) ? censored(v, path, at + 1) : v;
    if (next === v) continue;
    if (out === obj) out = { ...obj };
    out[k] = next;
  }
  return out;
}

/**
 * The redaction the daemon's logger applies to every line (DEFAULT_REDACT_PATHS, REDACTED), done
 * here on the line's own fields: pino's general redaction took ~12 of the ~18 µs a line costs
 * (issue 12, item 4), and an audit line's fields are few and known. Request-supplied records
 * (`globals`, `mapSizes`) are copied, never changed.
 */
export function redactAuditFields(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const path of SECRET_PATHS) out = censored(out, path);
  return out;
}

export class Audit {
  readonly #log: Logger;
  readonly #endOfTurn: boolean;
  #queue: Line[] = [];
  #scheduled = false;
  readonly #flush = (): void => this.flush();

  constructor(log: Logger, options: AuditOptions = {}) {
    // pino's redaction off for these lines: #write applies the same paths itself (redactAuditFields)
    this.#log = (log as Logger & { child(b: Record<string, unknown>, o: { redact: string[] }): Logger }).child({ component: 'audit' }, { redact: [] });
    this.#endOfTurn = options.endOfTurn === true;
    if (this.#endOfTurn) process.on('exit', this.#flush);
  }

  /** Writes the lines not written yet, now (close hook; the exit hook does it too). */
  flush(): void {
    this.#scheduled = false;
    const lines = this.#queue;
    if (lines.length === 0) return;
    this.#queue = [];
    for (const line of lines) this.#emit(line);
  }

  /** Writes what is queued and stops the exit hook. */
  close(): void {
    this.flush();
    process.off('exit', this.#flush);
  }

  #emit([level, obj, msg]: Line): void {
    this.#log[level](redactAuditFields(obj), msg);
  }

  #write(line: Line): void {
    if (!this.#endOfTurn) {
      this.#emit(line);
      return;
    }
    this.#queue.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
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
      this.#write([
        'warn',
        { who, action, ...what, outcome: 'failed', code: isNetaccelError(err) ? err.code : undefined, error: errorMessage(err) },
        `audit: ${action} failed`,
      ]);
      throw err;
    }
    this.#write(['info', { who, action, ...fields(result), outcome: 'ok' }, `audit: ${action}`]);
    return result;
  }
}

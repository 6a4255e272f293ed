/**
 * libbpf's log. libbpf has one process-wide print callback; native.ts installs ours once and
 * hands every formatted message to `deliverLibbpfMessage`. Messages go to the logger of the
 * operation that is running (`withLibbpfLog`, used around every libbpf call that may print) or,
 * outside one, to the default logger (`setLibbpfLogger`). libbpf calls are synchronous on the JS
 * thread, so "the operation that is running" is well defined: a stack of scopes, no async state.
 *
 * The logger is netaccel's one `Logger` (@netaccel/errors; a pino logger fits): its
 * `isLevelEnabled` lets us skip formatting libbpf's many debug lines nobody reads.
 */
import { silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';

/** libbpf's `enum libbpf_print_level`. */
export const LIBBPF_LEVEL = Object.freeze({ warn: 0, info: 1, debug: 2 } as const);
export type LibbpfLevelName = keyof typeof LIBBPF_LEVEL;

export interface LibbpfMessage {
  readonly level: LibbpfLevelName;
  /** One message without the trailing newline; libbpf's own `libbpf: ` prefix removed. */
  readonly text: string;
}

interface Scope {
  readonly logger: Logger;
  /** warn and info messages of this scope, kept for error details. */
  readonly messages: LibbpfMessage[];
}

let defaultLogger: Logger = silentLogger;
const scopes: Scope[] = [];
const LOG_FIELDS = Object.freeze({ component: 'libbpf' });
/** A scope keeps at most this many messages; libbpf is chatty when things go wrong. */
const MAX_SCOPE_MESSAGES = 200;

/** Sets the logger for libbpf messages printed outside any operation (default: silent). */
export function setLibbpfLogger(logger: Logger | null): void {
  defaultLogger = logger ?? silentLogger;
}

export function levelName(level: number): LibbpfLevelName {
  if (level <= LIBBPF_LEVEL.warn) return 'warn';
  return level === LIBBPF_LEVEL.info ? 'info' : 'debug';
}

/**
 * Whether a message at `level` is wanted at all: always for warn and info (the scope keeps them
 * for error details), for debug only when the logger has it enabled. native.ts asks this before
 * it formats the va_list.
 */
export function wantsLevel(level: number): boolean {
  const name = levelName(level);
  if (name !== 'debug') return true;
  const logger = scopes.at(-1)?.logger ?? defaultLogger;
  if (logger === silentLogger) return false;
  return logger.isLevelEnabled('debug');
}

/** Strips the newline and libbpf's `libbpf: ` prefix. */
export function cleanLibbpfText(raw: string): string {
  return raw.replace(/\n+$/, '').replace(/^libbpf: /, '');
}

/** Routes one formatted libbpf message (called from the print callback; never throws). */
export function deliverLibbpfMessage(level: number, raw: string): void {
  try {
    const msg: LibbpfMessage = { level: levelName(level), text: cleanLibbpfText(raw) };
    const scope = scopes.at(-1);
    if (scope && msg.level !== 'debug' && scope.messages.length < MAX_SCOPE_MESSAGES) scope.messages.push(msg);
    const logger = scope?.logger ?? defaultLogger;
    logger[msg.level](LOG_FIELDS, msg.text);
  } catch {
    // A logger that throws must not unwind through libbpf's C frames.
  }
}

/**
 * Runs `fn` with libbpf's messages going to `logger` (the default logger when undefined) and
 * returns what it returned plus the warn/info messages printed meanwhile. Nested scopes see only
 * their own messages.
 */
export function withLibbpfLog<T>(logger: Logger | undefined, fn: () => T): { value: T; messages: LibbpfMessage[] } {
  const scope: Scope = { logger: logger ?? defaultLogger, messages: [] };
  scopes.push(scope);
  try {
    return { value: fn(), messages: scope.messages };
  } finally {
    scopes.pop();
  }
}

/**
 * The sequential specification the checker holds histories to: one register per key whose value
 * is a string or absent (null), with read, write, delete and compare-and-set.
 */
import { NA_ERR_LIN_INVALID_HISTORY } from './errors.js';

/** A register's value: a string, or null when the key is absent. */
export type RegisterValue = string | null;

interface OpBase {
  /** Caller's identifier, reported in counterexamples (defaults to the index in the history). */
  readonly id?: string | number;
  readonly key: string;
  /** When the client invoked the operation (any monotonic clock, e.g. performance.now()). */
  readonly invoke: number;
  /**
   * When the client saw its result; null when the outcome is unknown (a timed-out operation that
   * may or may not have taken effect, at any time after `invoke`). An operation known to have
   * failed without effect does not belong in the history.
   */
  readonly complete: number | null;
}

export type RegisterOp = OpBase &
  (
    | { readonly kind: 'read'; readonly output: RegisterValue }
    | { readonly kind: 'write'; readonly value: string }
    | { readonly kind: 'delete'; /** Whether the key existed, when the store reports it. */ readonly output?: boolean }
    | { readonly kind: 'cas'; readonly expected: RegisterValue; readonly value: string; /** Whether it swapped; absent when unknown. */ readonly output?: boolean }
  );

/**
 * Applies `op` to `state`: the next state, or undefined when the operation's reported output is
 * impossible in `state`. Outputs are not checked for operations whose outcome is unknown.
 */
export function step(state: RegisterValue, op: RegisterOp): RegisterValue | undefined {
  const known = op.complete !== null;
  switch (op.kind) {
    case 'read':
      return op.output === state ? state : undefined;
    case 'write':
      return op.value;
    case 'delete':
      if (known && op.output !== undefined && op.output !== (state !== null)) return undefined;
      return null;
    case 'cas': {
      const swapped = state === op.expected;
      if (known && op.output !== undefined && op.output !== swapped) return undefined;
      return swapped ? op.value : state;
    }
  }
}

/** One line per operation, for counterexamples and test messages. */
export function describeOp(op: RegisterOp): string {
  const when = `[${op.invoke}, ${op.complete ?? '?'}]`;
  const id = op.id === undefined ? '' : `#${op.id} `;
  const show = (v: RegisterValue | undefined): string => (v === undefined ? '?' : v === null ? 'nil' : JSON.stringify(v));
  switch (op.kind) {
    case 'read':
      return `${id}${when} read(${op.key}) -> ${op.complete === null ? '?' : show(op.output)}`;
    case 'write':
      return `${id}${when} write(${op.key}, ${show(op.value)})`;
    case 'delete':
      return `${id}${when} delete(${op.key})${op.output === undefined ? '' : ` -> ${op.output}`}`;
    case 'cas':
      return `${id}${when} cas(${op.key}, ${show(op.expected)}, ${show(op.value)})${op.output === undefined ? '' : ` -> ${op.output}`}`;
  }
}

/** Checks one operation's shape; `path` names it in the error. */
export function checkOp(op: RegisterOp, path: string): void {
  const bad = (field: string, what: string): never => {
    throw NA_ERR_LIN_INVALID_HISTORY(`${path}.${field}`, what);
  };
  if (op === null || typeof op !== 'object') bad('', 'expected an operation object');
  if (typeof op.key !== 'string') bad('key', `expected a string, got ${typeof op.key}`);
  if (typeof op.invoke !== 'number' || !Number.isFinite(op.invoke)) bad('invoke', `expected a finite number, got ${String(op.invoke)}`);
  if (op.complete !== null) {
    if (typeof op.complete !== 'number' || !Number.isFinite(op.complete)) bad('complete', `expected a finite number or null, got ${String(op.complete)}`);
    if (op.complete < op.invoke) bad('complete', `${op.complete} is before invoke ${op.invoke}`);
  }
  switch (op.kind) {
    case 'read':
      if (op.complete !== null && op.output !== null && typeof op.output !== 'string') bad('output', 'expected a string or null');
      return;
    case 'write':
      if (typeof op.value !== 'string') bad('value', 'expected a string');
      return;
    case 'delete':
      if (op.output !== undefined && typeof op.output !== 'boolean') bad('output', 'expected a boolean or undefined');
      return;
    case 'cas':
      if (typeof op.value !== 'string') bad('value', 'expected a string');
      if (op.expected !== null && typeof op.expected !== 'string') bad('expected', 'expected a string or null');
      if (op.output !== undefined && typeof op.output !== 'boolean') bad('output', 'expected a boolean or undefined');
      return;
    default:
      bad('kind', `expected read, write, delete or cas, got ${String((op as { kind: unknown }).kind)}`);
  }
}

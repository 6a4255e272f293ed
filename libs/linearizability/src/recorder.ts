/**
 * Records a history while clients run: `begin` when an operation is invoked, then exactly one of
 * `ok` (with its output), `unknown` (timed out: it may have taken effect) or `failed` (known not
 * to have taken effect: left out of the history).
 */
import { performance } from 'node:perf_hooks';
import { NA_ERR_LIN_INVALID_HISTORY } from './errors.js';
import type { RegisterOp, RegisterValue } from './model.js';

export type Invocation =
  | { readonly kind: 'read'; readonly key: string }
  | { readonly kind: 'write'; readonly key: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: RegisterValue; readonly value: string };

interface Pending {
  readonly id: number;
  readonly inv: Invocation;
  readonly invoke: number;
  done: boolean;
}

export class HistoryRecorder {
  private readonly ops: RegisterOp[] = [];
  private nextId = 0;
  private open = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Starts an operation; pass the handle to ok / unknown / failed. */
  begin(inv: Invocation): Pending {
    this.open++;
    return { id: this.nextId++, inv, invoke: this.now(), done: false };
  }

  /** The operation completed; `output` is a read's value or a delete's / cas's boolean. */
  ok(p: Pending, output?: RegisterValue | boolean): void {
    this.finish(p, this.now(), output);
  }

  /** The outcome is unknown (a timeout): it may take effect at any time after its invocation. */
  unknown(p: Pending): void {
    this.finish(p, null, undefined);
  }

  /** The operation certainly had no effect: it is left out. */
  failed(p: Pending): void {
    this.close(p);
  }

  /** Operations completed so far. */
  history(): RegisterOp[] {
    return [...this.ops];
  }

  /** Operations begun and not finished. */
  get pending(): number {
    return this.open;
  }

  private close(p: Pending): void {
    if (p.done) throw NA_ERR_LIN_INVALID_HISTORY(`operation #${p.id}`, 'finished twice');
    p.done = true;
    this.open--;
  }

  private finish(p: Pending, complete: number | null, output: RegisterValue | boolean | undefined): void {
    this.close(p);
    const base = { id: p.id, key: p.inv.key, invoke: p.invoke, complete };
    const inv = p.inv;
    switch (inv.kind) {
      case 'read':
        if (complete !== null && typeof output !== 'string' && output !== null) throw NA_ERR_LIN_INVALID_HISTORY(`operation #${p.id}.output`, 'a read completes with a string or null');
        this.ops.push({ ...base, kind: 'read', output: typeof output === 'string' ? output : null });
        return;
      case 'write':
        this.ops.push({ ...base, kind: 'write', value: inv.value });
        return;
      case 'delete':
        this.ops.push({ ...base, kind: 'delete', ...(typeof output === 'boolean' ? { output } : {}) });
        return;
      case 'cas':
        this.ops.push({ ...base, kind: 'cas', expected: inv.expected, value: inv.value, ...(typeof output === 'boolean' ? { output } : {}) });
        return;
    }
  }
}

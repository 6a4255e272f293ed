/**
 * The search for one key: Wing & Gong's algorithm with Lowe's memoization ("just-in-time
 * linearizability", Lowe 2017; the shape Porcupine uses). Events are the calls and returns in
 * time order in a doubly linked list; the search linearizes a pending call, lifts it and its
 * return out of the list, and backtracks when it meets a return whose call is not linearized yet.
 * A configuration (set of linearized operations, register value) is explored once.
 *
 * An operation whose outcome is unknown has a call and no return: it may be linearized anywhere
 * after its invocation, or never; the history is linearizable once every operation with a known
 * outcome is linearized.
 */
import type { RegisterOp, RegisterValue } from './model.js';
import { step } from './model.js';

interface Entry {
  readonly op: number;
  readonly call: boolean;
  readonly time: number;
  /** Call entries: the return entry (none for an unknown outcome). */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

export interface KeySearchResult {
  readonly linearizable: boolean | 'inconclusive';
  /** Search steps taken. */
  readonly steps: number;
  /** A linearization (indices into the input) when linearizable. */
  readonly order?: readonly number[];
  /** When not linearizable: the longest partial linearization found, and the operation it could not get past. */
  readonly deepest?: { readonly order: readonly number[]; readonly state: RegisterValue; readonly blocked: number };
}

function buildList(ops: readonly RegisterOp[]): Entry {
  const events: Entry[] = [];
  ops.forEach((op, i) => {
    const call: Entry = { op: i, call: true, time: op.invoke, match: null, prev: null, next: null };
    events.push(call);
    if (op.complete !== null) {
      const ret: Entry = { op: i, call: false, time: op.complete, match: null, prev: null, next: null };
      call.match = ret;
      events.push(ret);
    }
  });
  // Time order; at equal times calls first (operations that touch are concurrent).
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Entry = { op: -1, call: false, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function unlink(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

function relink(e: Entry): void {
  e.prev!.next = e;
  if (e.next !== null) e.next.prev = e;
}

function lift(call: Entry): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

const stateKey = (s: RegisterValue): string => (s === null ? '-' : `=${s}`);

/**
 * Searches a linearization of `ops` (all of one key) from `initial`, within `maxSteps`. The
 * memo key of a configuration is exact and short: operations are numbered in invocation order,
 * every operation of known outcome below `low` (the first such one not linearized) is
 * linearized, so the key is `low`, the bits from `low` on (the window of concurrent operations),
 * the operations of unknown outcome below `low` that are linearized (few), and the value.
 */
export function searchKey(input: readonly RegisterOp[], initial: RegisterValue, maxSteps: number): KeySearchResult {
  const perm = input.map((_, i) => i).sort((a, b) => input[a]!.invoke - input[b]!.invoke || a - b);
  const ops = perm.map((i) => input[i]!);
  const back = (order: readonly number[]): number[] => order.map((i) => perm[i]!);
  const head = buildList(ops);
  let remaining = ops.filter((op) => op.complete !== null).length;
  const stack: Array<{ entry: Entry; state: RegisterValue }> = [];
  const seen = new Set<string>();
  const done = new Uint8Array(ops.length);
  /** Linearized operations of unknown outcome, in the order linearized. */
  const unknownDone: number[] = [];
  let low = 0;
  while (low < ops.length && ops[low]!.complete === null) low++;
  let state = initial;
  let linearized = 0n;
  let entry = head.next;
  let steps = 0;
  let deepest: { order: number[]; state: RegisterValue; blocked: number } | undefined;
  while (remaining > 0) {
    if (++steps > maxSteps) return { linearizable: 'inconclusive', steps };
    if (entry !== null && entry.call) {
      const op = ops[entry.op]!;
      const next = step(state, op);
      if (next !== undefined) {
        const bits = linearized | (1n << BigInt(entry.op));
        let nextLow = low;
        if (entry.op === low) {
          nextLow++;
          while (nextLow < ops.length && (done[nextLow] === 1 || ops[nextLow]!.complete === null)) nextLow++;
        }
        const below = unknownDone.filter((u) => u < nextLow);
        if (op.complete === null && entry.op < nextLow) below.push(entry.op);
        const optional = below.length === 0 ? '' : below.sort((a, b) => a - b).join(',');
        const key = `${nextLow}:${(bits >> BigInt(nextLow)).toString(32)}:${optional}${stateKey(next)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state });
          state = next;
          linearized = bits;
          done[entry.op] = 1;
          low = nextLow;
          lift(entry);
          if (op.complete !== null) remaining--;
          else unknownDone.push(entry.op);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
      continue;
    }
    // A return (or the end): its operation cannot be linearized later than this; backtrack.
    if (entry !== null && (deepest === undefined || stack.length > deepest.order.length)) {
      deepest = { order: stack.map((s) => s.entry.op), state, blocked: entry.op };
    }
    const top = stack.pop();
    if (top === undefined) {
      return { linearizable: false, steps, ...(deepest === undefined ? {} : { deepest: { order: back(deepest.order), state: deepest.state, blocked: perm[deepest.blocked]! } }) };
    }
    unlift(top.entry);
    state = top.state;
    linearized &= ~(1n << BigInt(top.entry.op));
    done[top.entry.op] = 0;
    if (ops[top.entry.op]!.complete !== null) {
      remaining++;
      if (top.entry.op < low) low = top.entry.op;
    } else unknownDone.pop();
    entry = top.entry.next;
  }
  return { linearizable: true, steps, order: back(stack.map((s) => s.entry.op)) };
}

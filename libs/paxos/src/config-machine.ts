/**
 * A replicated configuration: versioned values under keys, changed only by compare-and-set on
 * the version, so that two proposers of the same change cannot both win (the chain configuration
 * CRAQ kept in ZooKeeper; craq-scheduler keeps it here with `membership.via: paxos`). Operation
 * encoding (big-endian):
 *   op:     kind u8 (1 READ, 2 SET), key_len u16, key; SET: expected_version u32, value_len u16, value
 *   result: found/applied u8, version u32, value (the rest): what the key holds after the operation
 * Version 0 is "absent"; the first SET expects 0 and makes version 1. A SET that loses returns
 * the value that won, so the loser learns the committed configuration in the same round trip.
 */
import { paxos } from '@netaccel/protocol';
import type { PaxosClient } from './client.js';
import { NA_ERR_PAXOS_BAD_CONFIG_OP, NA_ERR_PAXOS_OP_TOO_LARGE } from './errors.js';
import { OpReader, lenStr } from './op-codec.js';
import type { ApplyResult, StateMachine } from './state-machine.js';

export const ConfigKind = { Read: 1, Set: 2 } as const;

export type ConfigOp = { readonly kind: 'read'; readonly key: string } | { readonly kind: 'set'; readonly key: string; readonly expectedVersion: number; readonly value: string };

/** A key's value and its version (1 for the first value). */
export interface Versioned {
  readonly version: number;
  readonly value: string;
}

/** The outcome of a SET: whether it applied, and what the key holds now. */
export interface SetOutcome extends Versioned {
  readonly applied: boolean;
}

const MAX_VERSION = 0xffffffff;

/** Encodes an operation; throws NA_ERR_PAXOS_OP_TOO_LARGE beyond PAXOS_MAX_OP bytes. */
export function encodeConfigOp(op: ConfigOp): Buffer {
  const parts = [Buffer.of(op.kind === 'read' ? ConfigKind.Read : ConfigKind.Set), ...lenStr(op.key)];
  if (op.kind === 'set') {
    if (!Number.isInteger(op.expectedVersion) || op.expectedVersion < 0 || op.expectedVersion >= MAX_VERSION) throw NA_ERR_PAXOS_BAD_CONFIG_OP('config.expected_version', `expected an integer 0..${MAX_VERSION - 1}, got ${String(op.expectedVersion)}`);
    const v = Buffer.alloc(4);
    v.writeUInt32BE(op.expectedVersion);
    parts.push(v, ...lenStr(op.value));
  }
  const out = Buffer.concat(parts);
  if (out.length > paxos.PAXOS_MAX_OP) throw NA_ERR_PAXOS_OP_TOO_LARGE(`config ${op.kind} ${JSON.stringify(op.key.slice(0, 40))}`, out.length, paxos.PAXOS_MAX_OP);
  return out;
}

/** Decodes an operation; throws NA_ERR_PAXOS_BAD_CONFIG_OP naming the field. */
export function decodeConfigOp(b: Buffer): ConfigOp {
  const r = new OpReader(b, 'config', NA_ERR_PAXOS_BAD_CONFIG_OP);
  const kind = r.u8('kind');
  const key = r.str('key');
  let op: ConfigOp;
  if (kind === ConfigKind.Read) op = { kind: 'read', key };
  else if (kind === ConfigKind.Set) {
    const expectedVersion = r.u32('expected_version');
    op = { kind: 'set', key, expectedVersion, value: r.str('value') };
  } else throw NA_ERR_PAXOS_BAD_CONFIG_OP('config.kind', `expected 1 (READ) or 2 (SET), got ${kind}`);
  r.end();
  return op;
}

function encodeResult(flag: boolean, cur: Versioned | undefined): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag ? 1 : 0;
  head.writeUInt32BE(cur?.version ?? 0, 1);
  return Buffer.concat([head, Buffer.from(cur?.value ?? '', 'utf8')]);
}

/** Decodes a result: the flag (found / applied) and what the key holds (version 0: absent). */
export function decodeConfigResult(r: Buffer): { flag: boolean; version: number; value: string } {
  if (r.length < 5 || r[0]! > 1) throw NA_ERR_PAXOS_BAD_CONFIG_OP('config.result', `expected a flag 0/1 and a version, got ${r.length} bytes`);
  return { flag: r[0] === 1, version: r.readUInt32BE(1), value: r.toString('utf8', 5) };
}

export type ConfigListener = (key: string, now: Versioned) => void;

/** The configuration store: a Map of versioned values, changed only by committed SETs in log order. */
export class ConfigStateMachine implements StateMachine {
  private readonly data = new Map<string, Versioned>();
  private readonly listeners = new Set<ConfigListener>();

  apply(bytes: Buffer): ApplyResult {
    let op: ConfigOp;
    try {
      op = decodeConfigOp(bytes);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    const cur = this.data.get(op.key);
    if (op.kind === 'read') return { ok: true, result: encodeResult(cur !== undefined, cur) };
    if (op.expectedVersion !== (cur?.version ?? 0)) return { ok: true, result: encodeResult(false, cur) };
    const now: Versioned = { version: op.expectedVersion + 1, value: op.value };
    this.data.set(op.key, now);
    this.notify(op.key, now);
    return { ok: true, result: encodeResult(true, now) };
  }

  private notify(key: string, now: Versioned): void {
    for (const l of this.listeners) {
      try {
        l(key, now);
      } catch {
        // a listener's failure is its own: the state machine stays deterministic
      }
    }
  }

  /** The store as bytes (a checkpoint): count u32, then key (u16 length + UTF-8), version u32, value, by key. */
  snapshot(): Buffer {
    const rows = [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const parts: Buffer[] = [Buffer.alloc(4)];
    parts[0]!.writeUInt32BE(rows.length);
    for (const [k, v] of rows) {
      const version = Buffer.alloc(4);
      version.writeUInt32BE(v.version);
      parts.push(...lenStr(k), version, ...lenStr(v.value));
    }
    return Buffer.concat(parts);
  }

  /**
   * Replaces the store with a snapshot() (a checkpoint installed while catching up); throws
   * NA_ERR_PAXOS_BAD_CONFIG_OP (and keeps the store) on malformed bytes. Listeners hear each key
   * whose version changed, once, with its value now (the changes in between are in the
   * checkpoint, not replayed).
   */
  restore(bytes: Buffer): void {
    const r = new OpReader(bytes, 'config_snapshot', NA_ERR_PAXOS_BAD_CONFIG_OP);
    const count = r.u32('count');
    const next = new Map<string, Versioned>();
    for (let i = 0; i < count; i++) {
      const key = r.str(`entries[${i}].key`);
      const version = r.u32(`entries[${i}].version`);
      if (version === 0) throw NA_ERR_PAXOS_BAD_CONFIG_OP(`config_snapshot.entries[${i}].version`, 'a stored value has version >= 1');
      next.set(key, { version, value: r.str(`entries[${i}].value`) });
    }
    r.end();
    const changed = [...next].filter(([k, v]) => this.data.get(k)?.version !== v.version).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.data.clear();
    for (const [k, v] of next) this.data.set(k, v);
    for (const [k, v] of changed) this.notify(k, v);
  }

  /** This replica's copy of `key` (as far as it has executed the log; not linearizable). */
  peek(key: string): Versioned | undefined {
    return this.data.get(key);
  }

  /** This replica's keys starting with `prefix` and their values (as far as it has executed the log). */
  entries(prefix: string): [string, Versioned][] {
    return [...this.data].filter(([k]) => k.startsWith(prefix));
  }

  /** Called after every committed SET this replica executes (also while it catches up). */
  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Linearizable reads and compare-and-set of the configuration over a PaxosClient. */
export class ConfigClient {
  constructor(readonly client: PaxosClient) {}

  async read(key: string): Promise<Versioned | null> {
    const r = decodeConfigResult(await this.client.invoke(encodeConfigOp({ kind: 'read', key })));
    return r.flag ? { version: r.version, value: r.value } : null;
  }

  /** Sets `value` when the key is at `expectedVersion` (0: absent). */
  async set(key: string, expectedVersion: number, value: string): Promise<SetOutcome> {
    const r = decodeConfigResult(await this.client.invoke(encodeConfigOp({ kind: 'set', key, expectedVersion, value })));
    return { applied: r.flag, version: r.version, value: r.value };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

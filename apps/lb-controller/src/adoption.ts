/**
 * Adoption after a restart without rewriting the data plane. The loader keeps xlb's maps pinned
 * across a controller restart, so a restarted controller finds every VIP, backend record and
 * Maglev table its predecessor wrote. Reading a table back through the loader costs ~2 s per
 * 65,537 entries (one streamed message per entry), writing it ~10 ms; so the controller keeps a
 * small record beside the maps instead (`dataPlane.adoptionFile`, written after every applied
 * pass): per VIP its index, live slot, meta and the sha-256 of the table in that slot; per
 * backend its key and index and whether it was in the table.
 *
 * At start the record is checked against what the data plane holds now, with few and cheap reads
 * (the `vips` map, one lookup per recorded backend):
 *   - a VIP whose meta (index, live slot, flags, mode, table size) is as recorded keeps its table
 *     when the desired state's table has the recorded digest: nothing is written, the VIP is
 *     announced at once; otherwise its new table goes to the spare slot and flips (the repair);
 *   - a backend keeps its index (so its flows in the connection table keep going to it); its
 *     record is rewritten unless the one in the map equals the desired one; a backend that was in
 *     the table and whose record is intact starts healthy (its first check may say otherwise).
 * A table changed in place by someone else than the controller would not be noticed: only the
 * controller writes these maps (through the loader, owner lb-controller), slot then flip; a crash
 * between a flip and the record shows as a live slot other than the recorded one.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeBackend } from '@netaccel/bpf-programs/xlb';
import type { Backend, VipKey, VipMeta } from '@netaccel/bpf-programs/xlb';
import { errorMessage } from '@netaccel/errors';
import type { Logger } from '@netaccel/telemetry';
import type { DataPlane } from './data-plane.js';

const FORMAT = 1;

/** One VIP as the controller left it. */
export interface VipRecord {
  readonly id: string;
  readonly vipIndex: number;
  readonly activeSlot: 0 | 1;
  /** `<flags>|<mode>|<tableSize>` of its meta. */
  readonly metaKey: string;
  /** sha-256 (base64url) of the table in the live slot. */
  readonly digest: string;
}

/** One backend as the controller left it. */
export interface BackendRecord {
  /** backendKey(): `<service id>|<address>:<port>`. */
  readonly key: string;
  readonly index: number;
  readonly inTable: boolean;
}

export interface AdoptionRecord {
  readonly format: typeof FORMAT;
  readonly savedAt: string;
  /** DataPlane.describe of the maps it describes (the loader's socket): another data plane's record is ignored. */
  readonly dataPlane: string;
  readonly vips: readonly VipRecord[];
  readonly backends: readonly BackendRecord[];
}

/** Where the record lives between two controllers. */
export interface AdoptionStore {
  load(): AdoptionRecord | undefined;
  save(record: AdoptionRecord): void;
}

/** The record as a JSON file, replaced whole (rename) so that a crash leaves the old or the new one. */
export class FileAdoptionStore implements AdoptionStore {
  readonly #file: string;
  readonly #log: Logger | undefined;

  constructor(file: string, log?: Logger) {
    this.#file = file;
    this.#log = log;
  }

  load(): AdoptionRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log?.warn({ file: this.#file, err }, 'adoption record unreadable; the data plane is rewritten');
      return undefined;
    }
    try {
      const r = JSON.parse(text) as Partial<AdoptionRecord>;
      if (r.format !== FORMAT || !Array.isArray(r.vips) || !Array.isArray(r.backends)) throw new Error(`expected format ${FORMAT} with vips and backends`);
      return r as AdoptionRecord;
    } catch (err) {
      this.#log?.warn({ file: this.#file, problem: errorMessage(err) }, 'adoption record malformed; the data plane is rewritten');
      return undefined;
    }
  }

  save(record: AdoptionRecord): void {
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o640 });
    renameSync(tmp, this.#file);
  }
}

const digests = new WeakMap<Uint32Array, string>();

/** sha-256 of a table's entries (little-endian u32), base64url; cached per array. */
export function tableDigest(table: Uint32Array): string {
  let d = digests.get(table);
  if (d === undefined) {
    const bytes = Buffer.alloc(table.length * 4);
    table.forEach((v, i) => bytes.writeUInt32LE(v, i * 4));
    d = createHash('sha256').update(bytes).digest('base64url');
    digests.set(table, d);
  }
  return d;
}

export const metaKeyOf = (m: Pick<VipMeta, 'flags' | 'mode' | 'tableSize'>): string => `${m.flags}|${m.mode}|${m.tableSize}`;

/** The service id of a VIP key (as desired-state.ts names services). */
export const serviceIdOf = (k: VipKey): string => `${k.address.includes(':') ? `[${k.address}]` : k.address}:${k.port}/${k.protocol}`;

/** Two backend records are the same bytes in the map. */
export const sameBackend = (a: Backend, b: Backend): boolean => encodeBackend(a).equals(encodeBackend(b));

/** A VIP found in the data plane at start. */
export interface FoundVip {
  readonly key: VipKey;
  readonly vipIndex: number;
  readonly activeSlot: 0 | 1;
  /** Its live table's digest when the record vouches for it (meta as recorded), else undefined. */
  readonly digest: string | undefined;
  /** Its meta now, `<flags>|<mode>|<tableSize>`. */
  readonly metaKey: string;
}

/** A recorded backend and its record in the map now (undefined: the index holds nothing valid of ours). */
export interface FoundBackend {
  readonly index: number;
  readonly inTable: boolean;
  readonly record: Backend | undefined;
}

export interface Found {
  readonly vips: Map<string, FoundVip>;
  readonly backends: Map<string, FoundBackend>;
  /** Whether a record was there to check the data plane against. */
  readonly recorded: boolean;
}

/** Reads the VIPs and the recorded backends and checks them against the record (see the file's comment). */
export async function findAdoptable(dp: DataPlane, store: AdoptionStore | undefined): Promise<Found> {
  const loaded = store?.load();
  const record = loaded?.dataPlane === dp.describe ? loaded : undefined;
  const recordedVips = new Map((record?.vips ?? []).map((v) => [v.id, v] as const));
  const vips = new Map<string, FoundVip>();
  for (const v of await dp.readVips()) {
    const id = serviceIdOf(v.key);
    const metaKey = metaKeyOf(v.meta);
    const r = recordedVips.get(id);
    const vouched = r !== undefined && r.vipIndex === v.meta.vipIndex && r.activeSlot === v.meta.activeSlot && r.metaKey === metaKey;
    vips.set(id, { key: v.key, vipIndex: v.meta.vipIndex, activeSlot: v.meta.activeSlot, digest: vouched ? r.digest : undefined, metaKey });
  }
  const backends = new Map<string, FoundBackend>();
  const limit = dp.info.maxBackends;
  const wanted = (record?.backends ?? []).filter((b) => Number.isInteger(b.index) && b.index > 0 && b.index < limit);
  const records = await Promise.all(wanted.map((b) => dp.readBackend(b.index)));
  const seen = new Set<number>();
  wanted.forEach((b, i) => {
    if (seen.has(b.index) || backends.has(b.key)) return; // a record naming an index twice: the first wins
    seen.add(b.index);
    backends.set(b.key, { index: b.index, inTable: b.inTable === true, record: records[i] });
  });
  return { vips, backends, recorded: record !== undefined };
}

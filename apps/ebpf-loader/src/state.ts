/**
 * The loader's record of what it owns, in `<stateDir>/state.json`: every object (path, sha256,
 * globals, owner, pins, its programs and maps with their kernel ids) and every attachment (hook,
 * program, pin of its link, tc priority/handle). bpffs keeps the kernel objects; this file keeps
 * what bpffs cannot: where they came from and what they are attached to.
 *
 * Changes are journalled: an entry is written as `pending` before the kernel is touched and
 * becomes `active` once the change is done, so a loader killed in between finds the entry on
 * start and settles it (adopts what the kernel has, removes the rest). Writes are atomic: a
 * temporary file, fsync, rename, fsync of the directory.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { NA_ERR_LOADER_STATE } from './errors.js';

/** Attach modes by the loader's name; `attach-mode.ts` maps them to the proto and the kernel. */
export const ATTACH_MODES = [
  'xdp-native', 'xdp-generic', 'tc-ingress', 'tc-egress',
  'sk-skb-stream-parser', 'sk-skb-stream-verdict', 'sk-skb-verdict', 'sk-msg-verdict',
  'sockops', 'cgroup-ingress', 'cgroup-egress', 'cgroup-connect4', 'cgroup-connect6',
] as const;
export type AttachModeName = (typeof ATTACH_MODES)[number];

const status = z.enum(['pending', 'active']);

const programRecord = z.strictObject({
  name: z.string().min(1),
  section: z.string(),
  type: z.int().min(0),
  typeName: z.string(),
  kernelId: z.int().min(0),
  tag: z.string(),
});

const mapRecord = z.strictObject({
  name: z.string().min(1),
  kernelId: z.int().min(0),
  type: z.int().min(0),
  typeName: z.string(),
  keySize: z.int().min(0),
  valueSize: z.int().min(0),
  maxEntries: z.int().min(0),
  flags: z.int().min(0),
  /** BTF type names of key and value, for typed views ('' when the object does not say). */
  keyType: z.string(),
  valueType: z.string(),
});

const objectRecord = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Global name -> hex bytes, as the LoadObject request gave them. */
  globals: z.record(z.string(), z.string().regex(/^([0-9a-f]{2})*$/)),
  /** Map name -> max_entries set before load (absent in records written before map sizes existed). */
  mapSizes: z.record(z.string(), z.int().min(1)).optional(),
  owner: z.string(),
  loadedAt: z.string(),
  pinDir: z.string().min(1),
  status,
  programs: z.array(programRecord),
  maps: z.array(mapRecord),
});

const attachmentRecord = z.strictObject({
  linkId: z.string().min(1),
  /** ProgramInfo.id: `<object id>/<program name>`. */
  programId: z.string().min(1),
  kernelProgramId: z.int().min(0),
  mode: z.enum(ATTACH_MODES),
  iface: z.strictObject({ name: z.string(), ifindex: z.int().min(1) }).optional(),
  cgroup: z.strictObject({ path: z.string().min(1), id: z.string().regex(/^\d+$/) }).optional(),
  sockmapId: z.string().min(1).optional(),
  priority: z.int().min(1).max(0xffff).optional(),
  handle: z.int().min(1).optional(),
  /** bpffs path of the pinned bpf_link (XDP and cgroup attachments). */
  pinPath: z.string().optional(),
  createdAt: z.string(),
  status,
});

const stateFile = z.strictObject({
  version: z.literal(1),
  objects: z.array(objectRecord),
  attachments: z.array(attachmentRecord),
});

export type ProgramRecord = z.infer<typeof programRecord>;
export type MapRecord = z.infer<typeof mapRecord>;
export type ObjectRecord = z.infer<typeof objectRecord>;
export type AttachmentRecord = z.infer<typeof attachmentRecord>;
export type StateData = z.infer<typeof stateFile>;

export function emptyState(): StateData {
  return { version: 1, objects: [], attachments: [] };
}

/** Validates parsed JSON; problems name the field (`objects[0].sha256: …`). */
export function parseState(value: unknown, file: string): StateData {
  const r = stateFile.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 10).map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '')}: ${i.message}`);
  throw NA_ERR_LOADER_STATE.with({ details: { file, issues: r.error.issues.length } }, file, problems.join('; '));
}

export class StateStore {
  readonly file: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.file = join(dir, 'state.json');
  }

  /** The recorded state; empty when there is no file yet. A corrupt file is NA_ERR_LOADER_STATE. */
  load(): StateData {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw NA_ERR_LOADER_STATE.with({ cause: err }, this.file, `cannot be read: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw NA_ERR_LOADER_STATE.with({ cause: err }, this.file, `is not JSON: ${(err as Error).message}`);
    }
    return parseState(json, this.file);
  }

  /** Writes `state` atomically (temporary file, fsync, rename, fsync of the folder). */
  save(state: StateData): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o750 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o640);
    try {
      writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dirFd = openSync(this.#dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

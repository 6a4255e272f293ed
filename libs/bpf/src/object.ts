/**
 * A BPF object file through libbpf: open (from a file or a buffer), set load-time globals, load,
 * find programs and maps, close. The life cycle is opened -> loaded (or failed) -> closed; each
 * operation checks the state it needs (NA_ERR_BPF_STATE otherwise) and close() is idempotent.
 *
 * Load-time globals (`const volatile` in `.rodata`, also `.data`/`.bss`) are written into the
 * internal map's initial value before load; their offsets come from the object's BTF DATASEC.
 * When a program fails verification, the verifier's log (captured per program through
 * bpf_program__set_log_buf) is in NA_ERR_BPF_VERIFIER's `details.log`.
 */
import { basename } from 'node:path';
import koffi from 'koffi';
import { Btf } from './btf.js';
import type { BtfType } from './btf.js';
import { ERRNO, describeErrno, normalizeErrno } from './errno.js';
import {
  NA_ERR_BPF_BTF, NA_ERR_BPF_INVALID, NA_ERR_BPF_LOAD, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_OPEN, NA_ERR_BPF_PERM,
  NA_ERR_BPF_STATE, NA_ERR_BPF_VERIFIER, errnoDetails,
} from './errors.js';
import { withLibbpfLog } from './log.js';
import type { Logger } from '@netaccel/errors';
import type { LibbpfMessage } from './log.js';
import { BpfMap } from './map.js';
import { BpfObjectOpenOpts, native } from './native.js';
import type { OpenOptsValue, Ptr } from './native.js';
import { BpfProgram } from './program.js';

export interface OpenOptions {
  /** Object name (default: the file name without `.bpf.o` / `.o`; `buffer` for openBuffer). */
  name?: string;
  /** Receives libbpf's messages about this object (pino-compatible). */
  logger?: Logger;
  /** Bytes of verifier log kept per program (default 1 MiB). */
  verifierLogSize?: number;
  /** 0: log only when a load fails (default); 1: always; 2: always, verbose. */
  verifierLogLevel?: 0 | 1 | 2;
}

interface ResolvedOpenOptions {
  readonly name: string | undefined;
  readonly logger: Logger | undefined;
  readonly verifierLogSize: number;
  readonly verifierLogLevel: 0 | 1 | 2;
}

const OPEN_DEFAULTS = Object.freeze({
  verifierLogSize: 1024 * 1024, // bytes per program (the kernel keeps the tail when it overflows)
  verifierLogLevel: 0 as 0 | 1 | 2, // 0: only on failure
});
const OPTION_KEYS = new Set(['name', 'logger', 'verifierLogSize', 'verifierLogLevel']);

export type ObjectState = 'opened' | 'loaded' | 'failed' | 'closed';
export type GlobalValue = number | bigint | boolean | Uint8Array;

/** Validates open options once; the result is frozen. */
export function resolveOpenOptions(opts: OpenOptions = {}): ResolvedOpenOptions {
  for (const key of Object.keys(opts)) {
    if (!OPTION_KEYS.has(key)) throw NA_ERR_BPF_INVALID(`open.${key}: unknown option`);
  }
  const size = opts.verifierLogSize ?? OPEN_DEFAULTS.verifierLogSize;
  if (!Number.isInteger(size) || size < 128 || size > 0x3fffffff) {
    throw NA_ERR_BPF_INVALID(`open.verifierLogSize: expected an integer 128..1073741823, got ${size}`);
  }
  const level = opts.verifierLogLevel ?? OPEN_DEFAULTS.verifierLogLevel;
  if (level !== 0 && level !== 1 && level !== 2) throw NA_ERR_BPF_INVALID(`open.verifierLogLevel: expected 0, 1 or 2, got ${String(level)}`);
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === '' || opts.name.includes('\0'))) {
    throw NA_ERR_BPF_INVALID(`open.name: expected a non-empty string, got ${JSON.stringify(opts.name)}`);
  }
  return Object.freeze({ name: opts.name, logger: opts.logger, verifierLogSize: size, verifierLogLevel: level });
}

/** The line of a verifier log that says why: the last one that is not a statistics line. */
export function verifierSummary(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const reason = lines.filter((l) => !/^(processed \d+ insns|verification time|stack depth|-- END)/.test(l)).at(-1);
  return reason ?? 'no verifier output';
}

/** Closes objects that were garbage-collected without close() (a safety net, not the plan). */
const leaked = new FinalizationRegistry<{ ptr: Ptr; mem: Ptr | null }>(({ ptr, mem }) => {
  const n = native();
  n.bpf_object__close(ptr);
  if (mem !== null) n.free(mem);
});

export class BpfObject {
  readonly name: string;
  /** The file path, or `<buffer of N bytes>`. */
  readonly source: string;
  readonly #options: ResolvedOpenOptions;
  #ptr: Ptr | null;
  #mem: Ptr | null;
  #state: ObjectState = 'opened';
  readonly #programs = new Map<string, { ptr: Ptr; prog: BpfProgram }>();
  readonly #maps: { ptr: Ptr; map: BpfMap }[] = [];
  #btf: Btf | undefined;

  private constructor(ptr: Ptr, mem: Ptr | null, source: string, options: ResolvedOpenOptions) {
    this.#ptr = ptr;
    this.#mem = mem;
    this.source = source;
    this.#options = options;
    const n = native();
    this.name = n.bpf_object__name(ptr);
    // Names are copied now: after close the libbpf pointers are freed and must not be touched.
    for (let p = n.bpf_object__next_program(ptr, null); p !== null; p = n.bpf_object__next_program(ptr, p)) {
      const name = n.bpf_program__name(p);
      const prog = new BpfProgram(
        { name, type: n.bpf_program__type(p), section: n.bpf_program__section_name(p) },
        { fd: () => this.#fdOf(`program ${name}`, () => n.bpf_program__fd(p)), close: () => undefined },
      );
      this.#programs.set(prog.name, { ptr: p, prog });
    }
    for (let m = n.bpf_object__next_map(ptr, null); m !== null; m = n.bpf_object__next_map(ptr, m)) {
      this.#maps.push({ ptr: m, map: this.#wrapMap(m) });
    }
    leaked.register(this, { ptr, mem }, this);
  }

  /** Opens an object file (bpf_object__open_file). */
  static openFile(path: string, opts: OpenOptions = {}): BpfObject {
    const options = resolveOpenOptions(opts);
    const name = options.name ?? basename(path).replace(/(\.bpf)?\.o$/, '');
    const n = native();
    const { value: ptr, messages } = withLibbpfLog(options.logger, () => n.bpf_object__open_file(path, openOpts(name)));
    if (ptr === null) throw openError(path, n.errno(), messages);
    return new BpfObject(ptr, null, path, options);
  }

  /** Opens an object from memory (bpf_object__open_mem); the bytes are copied. */
  static openBuffer(data: Uint8Array, opts: OpenOptions = {}): BpfObject {
    if (!(data instanceof Uint8Array) || data.length === 0) throw NA_ERR_BPF_INVALID('openBuffer.data: expected a non-empty Buffer or Uint8Array');
    const options = resolveOpenOptions(opts);
    const n = native();
    const mem = n.alloc(data.length);
    n.view(mem, data.length).set(data);
    const source = `<buffer of ${data.length} bytes>`;
    const { value: ptr, messages } = withLibbpfLog(options.logger, () => n.bpf_object__open_mem(mem, data.length, openOpts(options.name ?? 'buffer')));
    if (ptr === null) {
      const errno = n.errno();
      n.free(mem);
      throw openError(source, errno, messages);
    }
    return new BpfObject(ptr, mem, source, options);
  }

  get state(): ObjectState {
    return this.#state;
  }

  programs(): BpfProgram[] {
    this.#assertOpen('list programs');
    return [...this.#programs.values()].map((p) => p.prog);
  }

  /** The program called `name` (its C function name); NA_ERR_BPF_NOT_FOUND otherwise. */
  program(name: string): BpfProgram {
    this.#assertOpen('find a program');
    const p = this.#programs.get(name);
    if (!p) throw NA_ERR_BPF_NOT_FOUND.with({ details: { object: this.name, programs: [...this.#programs.keys()] } }, `program ${name} in ${this.name}`);
    return p.prog;
  }

  /** Every map, the internal ones (`<obj>.rodata`, …) included. */
  maps(): BpfMap[] {
    this.#assertOpen('list maps');
    return this.#maps.map((m) => m.map);
  }

  /** The map called `name` (also `.rodata`, `.data`, `.bss` for the internal maps). */
  map(name: string): BpfMap {
    this.#assertOpen('find a map');
    const found = this.#findMap(name);
    if (!found) throw NA_ERR_BPF_NOT_FOUND.with({ details: { object: this.name, maps: this.#maps.map((m) => m.map.name) } }, `map ${name} in ${this.name}`);
    return found.map;
  }

  /** The object's BTF as libbpf sees it (DATASEC sizes and offsets filled in). */
  btf(): Btf {
    const ptr = this.#assertOpen('read its BTF');
    if (this.#btf) return this.#btf;
    const n = native();
    const btf = n.bpf_object__btf(ptr);
    if (btf === null) throw NA_ERR_BPF_BTF(this.name, 'the object has no BTF (compile with -g)');
    const size: [number] = [0];
    const raw = n.btf__raw_data(btf, size);
    if (raw === null) throw NA_ERR_BPF_BTF(this.name, `btf__raw_data failed: ${describeErrno(n.errno())}`);
    this.#btf = Btf.parse(Buffer.from(n.view(raw, size[0])), this.name);
    return this.#btf;
  }

  /** Sets a global (usually `const volatile`) before load. Integers are range-checked. */
  setGlobal(name: string, value: GlobalValue): void {
    this.#assertState('opened', `set global ${name}`);
    const g = this.#global(name);
    const bytes = this.#initialValue(g.mapPtr);
    encodeGlobal(`globals.${name}`, g.type, g.size, value, bytes, g.offset);
    const err = native().bpf_map__set_initial_value(g.mapPtr, bytes, bytes.length);
    if (err < 0) throw NA_ERR_BPF_INVALID.with({ details: errnoDetails('bpf_map__set_initial_value', err) }, `globals.${name}: libbpf refused the value`);
  }

  /**
   * A global's bytes in its C layout for `value`, encoded from the object's BTF (size, signedness
   * and range checked) without setting it: what a client sends as raw bytes, computed where the
   * BTF is (the loader encodes typed globals with it before it decides the object's identity).
   */
  encodeGlobalValue(name: string, value: GlobalValue): Buffer {
    this.#assertOpen(`encode global ${name}`);
    const g = this.#global(name);
    const out = Buffer.alloc(g.size);
    encodeGlobal(`globals.${name}`, g.type, g.size, value, out, 0);
    return out;
  }

  /**
   * Sets a global from raw bytes in its C layout (exactly its size; little-endian integers), as a
   * loader receives them over the wire. Before load.
   */
  setGlobalBytes(name: string, bytes: Uint8Array): void {
    this.#assertState('opened', `set global ${name}`);
    const g = this.#global(name);
    if (!(bytes instanceof Uint8Array)) throw NA_ERR_BPF_INVALID(`globals.${name}: expected bytes`);
    if (bytes.length !== g.size) throw NA_ERR_BPF_INVALID.with({ details: { global: name, size: g.size, got: bytes.length } }, `globals.${name}: expected ${g.size} bytes, got ${bytes.length}`);
    const current = this.#initialValue(g.mapPtr);
    current.set(bytes, g.offset);
    const err = native().bpf_map__set_initial_value(g.mapPtr, current, current.length);
    if (err < 0) throw NA_ERR_BPF_INVALID.with({ details: errnoDetails('bpf_map__set_initial_value', err) }, `globals.${name}: libbpf refused the value`);
  }

  /**
   * Sizes a map before load (bpf_map__set_max_entries), overriding the object's definition: an
   * operator sizes connection tables for the flows of the host without rebuilding the object.
   * Not for the data-section maps of globals.
   */
  setMaxEntries(name: string, maxEntries: number): void {
    this.#assertState('opened', `size map ${name}`);
    const found = this.#findMap(name);
    if (!found || native().bpf_map__is_internal(found.ptr)) {
      const names = this.#maps.filter((m) => !native().bpf_map__is_internal(m.ptr)).map((m) => m.map.name);
      throw NA_ERR_BPF_NOT_FOUND.with({ details: { map: name, maps: names } }, `map ${name} in ${this.name} (it has ${names.join(', ') || 'none'})`);
    }
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 0xffffffff) {
      throw NA_ERR_BPF_INVALID.with({ details: { map: name, maxEntries } }, `maxEntries.${name}: expected an integer 1..4294967295, got ${maxEntries}`);
    }
    const err = native().bpf_map__set_max_entries(found.ptr, maxEntries);
    if (err < 0) throw NA_ERR_BPF_INVALID.with({ details: errnoDetails('bpf_map__set_max_entries', err) }, `maxEntries.${name}: libbpf refused ${maxEntries}`);
    this.#maps[this.#maps.indexOf(found)] = { ptr: found.ptr, map: this.#wrapMap(found.ptr) };
  }

  /** The globals of the object's data sections (`.rodata*`, `.data*`, `.bss*`; not `.maps` or `license`) with their sizes and C types. */
  globals(): { name: string; section: string; offset: number; size: number; type: string }[] {
    this.#assertOpen('list globals');
    const btf = this.btf();
    return btf.types
      .filter((t) => t.kind === 'datasec' && /^\.(rodata|data|bss)/.test(t.name))
      .flatMap((sec) => sec.secinfos!.map((si) => ({ sec, si, v: btf.type(si.typeId) })))
      .filter(({ v }) => v.kind === 'var')
      .map(({ sec, si, v }) => ({ name: v.name, section: sec.name, offset: si.offset, size: si.size, type: btf.typeName(v.typeId!) }));
  }

  /** A global's value: before load what setGlobal wrote, after load the map's content. */
  getGlobal(name: string): number | bigint | Buffer {
    this.#assertOpen(`read global ${name}`);
    const g = this.#global(name);
    const bytes = this.#initialValue(g.mapPtr);
    return decodeGlobal(g.type, g.size, bytes, g.offset);
  }

  /** Loads every program and creates every map; NA_ERR_BPF_VERIFIER with the log on rejection. */
  load(): this {
    const ptr = this.#assertState('opened', 'load');
    const n = native();
    const { verifierLogSize: size, verifierLogLevel: level } = this.#options;
    const logs: { entry: { ptr: Ptr; prog: BpfProgram }; buf: Ptr }[] = [];
    try {
      for (const entry of this.#programs.values()) {
        const buf = n.alloc(size);
        logs.push({ entry, buf });
        n.view(buf, 1)[0] = 0;
        n.bpf_program__set_log_buf(entry.ptr, buf, size);
        if (level > 0) n.bpf_program__set_log_level(entry.ptr, level);
      }
      const { value: err, messages } = withLibbpfLog(this.#options.logger, () => n.bpf_object__load(ptr));
      for (const { entry, buf } of logs) entry.prog.setVerifierLog(readLog(n.view(buf, size)));
      if (err < 0) {
        this.#state = 'failed';
        throw this.#loadError(err, messages);
      }
      this.#state = 'loaded';
      return this;
    } finally {
      // libbpf never touches a program's log buffer after bpf_object__load, loaded or not.
      for (const { buf } of logs) n.free(buf);
    }
  }

  /** Closes the object: its programs and maps go away unless attached or pinned. Idempotent. */
  close(): void {
    if (this.#ptr === null) return;
    const n = native();
    const ptr = this.#ptr;
    const mem = this.#mem;
    this.#ptr = null;
    this.#mem = null;
    this.#state = 'closed';
    leaked.unregister(this);
    withLibbpfLog(this.#options.logger, () => n.bpf_object__close(ptr));
    if (mem !== null) n.free(mem);
  }

  #assertOpen(what: string): Ptr {
    if (this.#ptr === null) throw NA_ERR_BPF_STATE(`object ${this.name}`, what, 'closed');
    return this.#ptr;
  }

  #assertState(want: ObjectState, what: string): Ptr {
    const ptr = this.#assertOpen(what);
    if (this.#state !== want) throw NA_ERR_BPF_STATE(`object ${this.name}`, what, this.#state);
    return ptr;
  }

  #fdOf(what: string, get: () => number): number {
    this.#assertOpen(`use ${what}`);
    if (this.#state !== 'loaded') throw NA_ERR_BPF_STATE(`${what} of ${this.name}`, 'use it', this.#state === 'opened' ? 'not loaded yet' : this.#state);
    return get();
  }

  /** The BpfMap of a libbpf map pointer, with its definition as libbpf has it now. */
  #wrapMap(m: Ptr): BpfMap {
    const n = native();
    const name = n.bpf_map__name(m);
    return new BpfMap(
      {
        name,
        type: n.bpf_map__type(m),
        keySize: n.bpf_map__key_size(m),
        valueSize: n.bpf_map__value_size(m),
        maxEntries: n.bpf_map__max_entries(m),
        flags: n.bpf_map__map_flags(m),
      },
      { fd: () => this.#fdOf(`map ${name}`, () => n.bpf_map__fd(m)), close: () => undefined },
    );
  }

  #findMap(name: string): { ptr: Ptr; map: BpfMap } | undefined {
    const byName = this.#maps.find((m) => m.map.name === name);
    if (byName) return byName;
    const ptr = native().bpf_object__find_map_by_name(this.#assertOpen('find a map'), name);
    return ptr === null ? undefined : this.#maps.find((m) => m.ptr === ptr);
  }

  #global(name: string): { mapPtr: Ptr; offset: number; size: number; type: BtfType } {
    const btf = this.btf();
    for (const sec of btf.types) {
      if (sec.kind !== 'datasec') continue;
      const si = sec.secinfos!.find((s) => btf.type(s.typeId).name === name && btf.type(s.typeId).kind === 'var');
      if (!si) continue;
      const found = this.#findMap(sec.name);
      if (!found) throw NA_ERR_BPF_NOT_FOUND(`the map of section ${sec.name} (global ${name}) in ${this.name}`);
      return { mapPtr: found.ptr, offset: si.offset, size: si.size, type: btf.resolve(btf.type(si.typeId).typeId!) };
    }
    throw NA_ERR_BPF_NOT_FOUND(`global ${name} in ${this.name}`);
  }

  #initialValue(mapPtr: Ptr): Buffer {
    const n = native();
    const size: [number] = [0];
    const p = n.bpf_map__initial_value(mapPtr, size);
    if (p === null || size[0] === 0) throw NA_ERR_BPF_STATE(`the data map of ${this.name}`, 'read its initial value', 'not mmapable');
    return Buffer.from(n.view(p, size[0]));
  }

  #loadError(err: number, messages: LibbpfMessage[]): Error {
    const errno = normalizeErrno(err);
    const texts = messages.map((m) => m.text);
    const failed = texts.map((t) => /^prog '([^']+)': (?:BPF program load failed|failed to load)/.exec(t)?.[1]).find((x) => x !== undefined);
    const candidates = [...this.#programs.values()].map((e) => e.prog);
    const prog = failed !== undefined
      ? candidates.find((p) => p.name === failed)
      : this.#options.verifierLogLevel === 0 ? candidates.find((p) => p.verifierLog !== '') : undefined;
    const details = errnoDetails('bpf_object__load', errno, { object: this.name, source: this.source, libbpf: texts });
    if (prog && prog.verifierLog !== '') {
      return NA_ERR_BPF_VERIFIER.with({ details: { ...details, program: prog.name, log: prog.verifierLog } }, prog.name, this.name, verifierSummary(prog.verifierLog));
    }
    if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) return NA_ERR_BPF_PERM.with({ details }, `load ${this.name}`, describeErrno(errno));
    const lastWarn = messages.filter((m) => m.level === 'warn').at(-1)?.text;
    return NA_ERR_BPF_LOAD.with({ details }, this.name, lastWarn ? `${describeErrno(errno)}; libbpf: ${lastWarn}` : describeErrno(errno));
  }
}

function openOpts(name: string | undefined): OpenOptsValue {
  return {
    sz: OPEN_OPTS_SIZE,
    object_name: name ?? null,
    relaxed_maps: false,
    pin_root_path: null,
    _removed_attach_prog_fd: 0,
    kconfig: null,
    btf_custom_path: null,
    kernel_log_buf: null,
    kernel_log_size: 0,
    kernel_log_level: 0,
  };
}

const OPEN_OPTS_SIZE = koffi.sizeof(BpfObjectOpenOpts);

function openError(source: string, errno: number, messages: LibbpfMessage[]): Error {
  const details = errnoDetails('bpf_object__open', errno, { source, libbpf: messages.map((m) => m.text) });
  if (errno === ERRNO.ENOENT) return NA_ERR_BPF_NOT_FOUND.with({ details }, `BPF object file ${source}`);
  if (errno === ERRNO.EPERM || errno === ERRNO.EACCES) return NA_ERR_BPF_PERM.with({ details }, `open ${source}`, describeErrno(errno));
  const lastWarn = messages.filter((m) => m.level === 'warn').at(-1)?.text;
  return NA_ERR_BPF_OPEN.with({ details }, source, lastWarn ? `${describeErrno(errno)}; libbpf: ${lastWarn}` : describeErrno(errno));
}

function readLog(view: Uint8Array): string {
  const end = view.indexOf(0);
  return Buffer.from(view.subarray(0, end < 0 ? view.length : end)).toString('utf8');
}

/** Integer-like globals (int, bool, enum) and their signedness; undefined for anything else. */
function intInfo(type: BtfType): { signed: boolean } | undefined {
  if (type.kind === 'int') return { signed: type.int!.signed && !type.int!.bool };
  if (type.kind === 'enum' || type.kind === 'enum64') return { signed: type.kindFlag };
  return undefined;
}

/** Writes `value` as a global of BTF type `type` (`size` bytes) at `offset` of `out`. */
export function encodeGlobal(path: string, type: BtfType, size: number, value: GlobalValue, out: Uint8Array, offset: number): void {
  const int = intInfo(type);
  if (int && [1, 2, 4, 8].includes(size)) {
    let v: bigint;
    if (typeof value === 'boolean') v = value ? 1n : 0n;
    else if (typeof value === 'bigint') v = value;
    else if (typeof value === 'number' && Number.isInteger(value)) v = BigInt(value);
    else throw NA_ERR_BPF_INVALID(`${path}: expected an integer, got ${value instanceof Uint8Array ? 'bytes' : String(value)}`);
    const bits = BigInt(size * 8);
    const min = int.signed ? -(1n << (bits - 1n)) : 0n;
    const max = int.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    if (v < min || v > max) throw NA_ERR_BPF_INVALID(`${path}: expected ${min}..${max}, got ${v}`);
    const u = BigInt.asUintN(size * 8, v);
    for (let i = 0; i < size; i++) out[offset + i] = Number((u >> BigInt(8 * i)) & 0xffn); // little-endian, as the BPF target on x86/arm64
    return;
  }
  if (!(value instanceof Uint8Array)) throw NA_ERR_BPF_INVALID(`${path}: a ${type.kind} of ${size} bytes needs a Buffer, got ${typeof value}`);
  if (value.length !== size) throw NA_ERR_BPF_INVALID(`${path}: expected ${size} bytes, got ${value.length}`);
  out.set(value, offset);
}

/** Reads a global of BTF type `type`: number up to 4 bytes, bigint for 8, bytes otherwise. */
export function decodeGlobal(type: BtfType, size: number, bytes: Uint8Array, offset: number): number | bigint | Buffer {
  const int = intInfo(type);
  if (int && [1, 2, 4, 8].includes(size)) {
    let u = 0n;
    for (let i = size - 1; i >= 0; i--) u = (u << 8n) | BigInt(bytes[offset + i]!);
    const v = int.signed ? BigInt.asIntN(size * 8, u) : u;
    return size === 8 ? v : Number(v);
  }
  return Buffer.from(bytes.subarray(offset, offset + size));
}

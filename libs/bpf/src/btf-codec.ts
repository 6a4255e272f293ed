/**
 * Typed views of map keys and values. A `CodecRegistry` holds struct codecs by BTF type name,
 * registered by the apps that own the structs (their `*_kern_user.h` codecs); for any other type
 * `btfCodec` decodes and encodes straight from the object's BTF: integers (bigint when 8 bytes),
 * bool, enums (by name), floats, char arrays (as strings), arrays, structs and unions (bitfields
 * included), pointers (as addresses). `mapBtfTypes` finds a map's key and value types in the
 * `.maps` section, so `codecFor(btf, mapBtfTypes(btf, 'verdict_stats').value)` is the value codec.
 *
 * Registered codecs are checked against the BTF they are used with: a size that differs is
 * NA_ERR_BPF_BTF, never a silently wrong view.
 */
import type { Btf, BtfType } from './btf.js';
import { NA_ERR_BPF_BTF, NA_ERR_BPF_INVALID } from './errors.js';

/** What a typed view holds: JSON-like, with bigint for 64-bit integers. */
export type BtfValue = number | bigint | boolean | string | BtfValue[] | { [field: string]: BtfValue };

export interface StructCodec<T = BtfValue> {
  /** Bytes of one value. */
  readonly size: number;
  decode(bytes: Uint8Array): T;
  encode(value: T): Buffer;
}

const MODIFIERS = new Set(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);

/** The type under typedefs, modifiers and a variable (a DATASEC entry is a `var`). */
function resolved(btf: Btf, id: number): BtfType {
  let t = btf.resolve(id);
  if (t.kind === 'var') t = btf.resolve(t.typeId!);
  return t;
}

function isCharInt(t: BtfType): boolean {
  return t.kind === 'int' && t.size === 1 && (t.int!.char || t.name === 'char');
}

function readUint(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

function writeUint(out: Uint8Array, offset: number, size: number, v: bigint): void {
  for (let i = 0; i < size; i++) out[offset + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

function intOut(v: bigint, size: number): number | bigint {
  return size >= 8 ? v : Number(v);
}

function toBigInt(value: BtfValue, path: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(value.trim())) {
    const s = value.trim();
    return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  }
  throw NA_ERR_BPF_INVALID(`${path}: expected an integer, got ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}`);
}

function checkIntRange(v: bigint, bits: number, signed: boolean, path: string): bigint {
  const b = BigInt(bits);
  const min = signed ? -(1n << (b - 1n)) : 0n;
  const max = signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  if (v < min || v > max) throw NA_ERR_BPF_INVALID(`${path}: expected ${min}..${max}, got ${v}`);
  return BigInt.asUintN(bits, v);
}

/** Decodes BTF type `id` at byte `offset` of `bytes`. */
export function decodeBtf(btf: Btf, id: number, bytes: Uint8Array, offset = 0): BtfValue {
  const t = resolved(btf, id);
  switch (t.kind) {
    case 'int': {
      const size = t.size!;
      const u = readUint(bytes, offset, size);
      if (t.int!.bool) return u !== 0n;
      return intOut(t.int!.signed ? BigInt.asIntN(size * 8, u) : u, size);
    }
    case 'enum': case 'enum64': {
      const size = t.size!;
      const u = readUint(bytes, offset, size);
      const v = t.kindFlag ? BigInt.asIntN(size * 8, u) : u;
      const named = t.enumValues!.find((e) => BigInt.asUintN(size * 8, e.value) === u);
      return named ? named.name : intOut(v, size);
    }
    case 'float': {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, t.size!);
      return t.size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
    }
    case 'ptr':
      return readUint(bytes, offset, 8);
    case 'array': {
      const elem = resolved(btf, t.array!.typeId);
      const n = t.array!.nelems;
      if (isCharInt(elem)) {
        const raw = bytes.subarray(offset, offset + n);
        const nul = raw.indexOf(0);
        return Buffer.from(raw.subarray(0, nul < 0 ? n : nul)).toString('utf8');
      }
      const size = btf.sizeOf(t.array!.typeId);
      return Array.from({ length: n }, (_, i) => decodeBtf(btf, t.array!.typeId, bytes, offset + i * size));
    }
    case 'struct': case 'union': {
      const out: { [field: string]: BtfValue } = {};
      for (const m of t.members!) {
        let v: BtfValue;
        if (m.bitSize > 0) {
          const mt = resolved(btf, m.typeId);
          const storage = readUint(bytes, offset, t.size!);
          const raw = (storage >> BigInt(m.bitOffset)) & ((1n << BigInt(m.bitSize)) - 1n);
          const signed = mt.kind === 'int' && mt.int!.signed;
          v = Number(signed ? BigInt.asIntN(m.bitSize, raw) : raw);
        } else {
          v = decodeBtf(btf, m.typeId, bytes, offset + m.bitOffset / 8);
        }
        const anon = m.name === '' && v !== null && typeof v === 'object' && !Array.isArray(v);
        if (anon) Object.assign(out, v);
        else out[m.name] = v;
      }
      return out;
    }
    default:
      throw NA_ERR_BPF_BTF(btf.source, `type ${id} (${t.kind} ${t.name || '(anon)'}) has no typed view`);
  }
}

/** Encodes `value` as BTF type `id` into `out` at `offset`; `path` names the value in errors. */
export function encodeBtf(btf: Btf, id: number, value: BtfValue, out: Uint8Array, offset = 0, path = 'value'): void {
  const t = resolved(btf, id);
  switch (t.kind) {
    case 'int': {
      const v = checkIntRange(toBigInt(value, path), t.size! * 8, t.int!.signed && !t.int!.bool, path);
      writeUint(out, offset, t.size!, v);
      return;
    }
    case 'enum': case 'enum64': {
      const named = typeof value === 'string' ? t.enumValues!.find((e) => e.name === value) : undefined;
      const v = named ? named.value : toBigInt(value, path);
      writeUint(out, offset, t.size!, BigInt.asUintN(t.size! * 8, v));
      return;
    }
    case 'float': {
      if (typeof value !== 'number') throw NA_ERR_BPF_INVALID(`${path}: expected a number, got ${JSON.stringify(value)}`);
      const view = new DataView(out.buffer, out.byteOffset + offset, t.size!);
      if (t.size === 4) view.setFloat32(0, value, true);
      else view.setFloat64(0, value, true);
      return;
    }
    case 'ptr':
      writeUint(out, offset, 8, checkIntRange(toBigInt(value, path), 64, false, path));
      return;
    case 'array': {
      const elem = resolved(btf, t.array!.typeId);
      const n = t.array!.nelems;
      if (isCharInt(elem) && typeof value === 'string') {
        const s = Buffer.from(value, 'utf8');
        if (s.length > n) throw NA_ERR_BPF_INVALID(`${path}: expected at most ${n} bytes of text, got ${s.length}`);
        out.set(s, offset);
        return;
      }
      if (!Array.isArray(value)) throw NA_ERR_BPF_INVALID(`${path}: expected an array of ${n}, got ${JSON.stringify(value)}`);
      if (value.length > n) throw NA_ERR_BPF_INVALID(`${path}: expected at most ${n} elements, got ${value.length}`);
      const size = btf.sizeOf(t.array!.typeId);
      value.forEach((v, i) => encodeBtf(btf, t.array!.typeId, v, out, offset + i * size, `${path}[${i}]`));
      return;
    }
    case 'struct': case 'union':
      encodeFields(btf, t, value, out, offset, path);
      return;
    default:
      throw NA_ERR_BPF_BTF(btf.source, `type ${id} (${t.kind} ${t.name || '(anon)'}) has no typed view`);
  }
}

/** The members reachable by name in a struct/union, anonymous members flattened as C does. */
function namedMembers(btf: Btf, t: BtfType, base = 0): { name: string; typeId: number; bitOffset: number; bitSize: number }[] {
  return t.members!.flatMap((m) => {
    if (m.name !== '') return [{ ...m, bitOffset: base + m.bitOffset }];
    const inner = resolved(btf, m.typeId);
    return inner.kind === 'struct' || inner.kind === 'union' ? namedMembers(btf, inner, base + m.bitOffset) : [];
  });
}

function encodeFields(btf: Btf, t: BtfType, value: BtfValue, out: Uint8Array, offset: number, path: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw NA_ERR_BPF_INVALID(`${path}: expected an object with the fields of ${btf.typeName(t.id)}, got ${JSON.stringify(value)}`);
  }
  const members = namedMembers(btf, t);
  for (const key of Object.keys(value)) {
    if (!members.some((m) => m.name === key)) {
      throw NA_ERR_BPF_INVALID(`${path}.${key}: unknown field; ${btf.typeName(t.id)} has ${members.map((m) => m.name).join(', ')}`);
    }
  }
  let given = members.filter((m) => value[m.name] !== undefined);
  if (t.kind === 'union') given = given.slice(0, 1);
  for (const m of given) {
    const v = value[m.name]!;
    if (m.bitSize > 0) {
      const storageBytes = t.size!;
      const bits = checkIntRange(toBigInt(v, `${path}.${m.name}`), m.bitSize, false, `${path}.${m.name}`);
      let storage = readUint(out, offset, storageBytes);
      const mask = ((1n << BigInt(m.bitSize)) - 1n) << BigInt(m.bitOffset);
      storage = (storage & ~mask) | (bits << BigInt(m.bitOffset));
      writeUint(out, offset, storageBytes, storage);
    } else {
      encodeBtf(btf, m.typeId, v, out, offset + m.bitOffset / 8, `${path}.${m.name}`);
    }
  }
}

/** The generic codec of BTF type `id`: decode / encode from the BTF alone. */
export function btfCodec(btf: Btf, id: number): StructCodec {
  const size = btf.sizeOf(id);
  return Object.freeze({
    size,
    decode: (bytes: Uint8Array) => {
      if (bytes.length < size) throw NA_ERR_BPF_INVALID(`value: ${btf.typeName(id)} needs ${size} bytes, got ${bytes.length}`);
      return decodeBtf(btf, id, bytes, 0);
    },
    encode: (value: BtfValue) => {
      const out = Buffer.alloc(size);
      encodeBtf(btf, id, value, out, 0);
      return out;
    },
  });
}

/** Key and value types of map `name` (BTF-defined maps in `.maps`); undefined where not typed. */
export function mapBtfTypes(btf: Btf, name: string): { key: number | undefined; value: number | undefined } {
  const sec = btf.find('.maps', 'datasec');
  const v = sec?.secinfos!.map((si) => btf.type(si.typeId)).find((t) => t.kind === 'var' && t.name === name);
  if (!v) return { key: undefined, value: undefined };
  const def = btf.resolve(v.typeId!);
  const pointee = (member: string): number | undefined => {
    const m = def.members?.find((x) => x.name === member);
    if (!m) return undefined;
    const p = btf.type(m.typeId);
    return p.kind === 'ptr' ? p.typeId : undefined;
  };
  return { key: pointee('key'), value: pointee('value') };
}

/** The name a type is registered under: the struct/union/enum/typedef name, or the C spelling. */
export function codecName(btf: Btf, id: number): string {
  let t = btf.type(id);
  while (MODIFIERS.has(t.kind) && t.kind !== 'typedef') t = btf.type(t.typeId!);
  return t.name !== '' ? t.name : btf.typeName(id);
}

/** Struct codecs by BTF type name (`selftest_counter`), with the generic BTF codec as fallback. */
export class CodecRegistry {
  readonly #codecs = new Map<string, StructCodec<unknown>>();

  /** Registers the codec of the C type called `typeName`; a name registered twice is an error. */
  register<T>(typeName: string, codec: StructCodec<T>): void {
    if (typeof typeName !== 'string' || typeName === '') throw NA_ERR_BPF_INVALID('typeName: expected a non-empty BTF type name');
    if (!Number.isInteger(codec.size) || codec.size < 1) throw NA_ERR_BPF_INVALID(`codecs.${typeName}.size: expected an integer >= 1, got ${codec.size}`);
    if (this.#codecs.has(typeName)) throw NA_ERR_BPF_INVALID(`codecs.${typeName}: registered already`);
    this.#codecs.set(typeName, codec as StructCodec<unknown>);
  }

  has(typeName: string): boolean {
    return this.#codecs.has(typeName);
  }

  names(): string[] {
    return [...this.#codecs.keys()].sort();
  }

  /**
   * The codec for type `id` of `btf`: the registered one for its name (its size must equal the
   * BTF's, else NA_ERR_BPF_BTF), otherwise `btfCodec`.
   */
  codecFor(btf: Btf, id: number): StructCodec<unknown> {
    const name = codecName(btf, id);
    const registered = this.#codecs.get(name) ?? this.#codecs.get(btf.resolve(id).name);
    if (!registered) return btfCodec(btf, id);
    const size = btf.sizeOf(id);
    if (registered.size !== size) {
      throw NA_ERR_BPF_BTF.with({ details: { type: name, codecSize: registered.size, btfSize: size } }, btf.source, `the codec registered for ${name} has ${registered.size} bytes, the BTF says ${size}`);
    }
    return registered;
  }
}

/** The process-wide registry apps register their struct codecs in. */
export const structCodecs = new CodecRegistry();

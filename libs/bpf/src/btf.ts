/**
 * BTF in TypeScript: parses raw BTF (the `.BTF` section of an object file, or what libbpf hands
 * back for a loaded object) into types, and answers the questions a control plane asks: size of a
 * type, offsets of a struct's members, variables of a data section. `checkStructLayout` compares
 * a TypeScript codec's idea of a struct with the compiled object, so a header change that the
 * codec missed fails a test instead of corrupting a map.
 *
 * Format: linux/Documentation/bpf/btf.rst. Clang leaves DATASEC sizes and variable offsets 0 in
 * the object (the loader fills them in from the ELF); `Btf.fromElf` does that fix-up as libbpf does.
 */
import { readFileSync } from 'node:fs';
import { ElfFile } from './elf.js';
import { NA_ERR_BPF_BTF, NA_ERR_BPF_NOT_FOUND } from './errors.js';

export const BTF_KINDS = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
] as const;
export type BtfKind = (typeof BTF_KINDS)[number];

export interface BtfMember {
  readonly name: string;
  readonly typeId: number;
  readonly bitOffset: number;
  /** Width of a bitfield; 0 for an ordinary member. */
  readonly bitSize: number;
}

export interface BtfSecinfo {
  readonly typeId: number;
  readonly offset: number;
  readonly size: number;
}

export interface BtfType {
  readonly id: number;
  readonly kind: BtfKind;
  readonly name: string;
  readonly kindFlag: boolean;
  readonly vlen: number;
  /** Bytes, for int, struct, union, enum, enum64, float and datasec. */
  readonly size?: number;
  /** The referenced type, for ptr, typedef, modifiers, func, func_proto (return), var, tags. */
  readonly typeId?: number;
  readonly int?: { readonly signed: boolean; readonly char: boolean; readonly bool: boolean; readonly bits: number; readonly offset: number };
  readonly array?: { readonly typeId: number; readonly indexTypeId: number; readonly nelems: number };
  readonly members?: readonly BtfMember[];
  readonly enumValues?: readonly { readonly name: string; readonly value: bigint }[];
  readonly params?: readonly { readonly name: string; readonly typeId: number }[];
  /** var: 0 static, 1 global, 2 extern; func: 0 static, 1 global, 2 extern. */
  readonly linkage?: number;
  readonly secinfos?: readonly BtfSecinfo[];
  readonly componentIdx?: number;
}

export interface MemberLayout {
  readonly name: string;
  /** Byte offset (of the storage unit's first byte for bitfields). */
  readonly offset: number;
  readonly bitOffset: number;
  readonly bitSize: number;
  /** Bytes of the member's type (for a bitfield: of its underlying type). */
  readonly size: number;
  readonly type: string;
}

export interface StructLayout {
  readonly name: string;
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly members: readonly MemberLayout[];
}

export interface DatasecVariable {
  readonly name: string;
  readonly typeId: number;
  readonly offset: number;
  readonly size: number;
}

/** What a TypeScript codec believes about a C struct: its size and member byte offsets. */
export interface ExpectedLayout {
  readonly name: string;
  readonly size: number;
  readonly members: Readonly<Record<string, number>>;
}

const MODIFIERS = new Set<BtfKind>(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);
const HEADER_MIN = 24;
const MAX_CHAIN = 64;

type MutableType = { -readonly [K in keyof BtfType]: BtfType[K] };

export class Btf {
  /** Types by id; index 0 is the implicit `void`. */
  readonly types: readonly BtfType[];
  readonly source: string;

  private constructor(types: BtfType[], source: string) {
    this.types = types;
    this.source = source;
  }

  /** Parses raw BTF (header, type and string sections). `source` names it in errors. */
  static parse(raw: Uint8Array, source = 'BTF'): Btf {
    return new Btf(parseTypes(raw, source), source);
  }

  /** BTF of an ELF object's `.BTF` section, DATASEC sizes and variable offsets filled in. */
  static fromElf(data: Uint8Array, source = 'ELF object'): Btf {
    const elf = ElfFile.parse(data, source);
    const raw = elf.sectionData('.BTF');
    if (!raw) throw NA_ERR_BPF_BTF(source, 'the object has no .BTF section (compile with -g)');
    const types = parseTypes(raw, source);
    const symbols = elf.symbols();
    for (const t of types as MutableType[]) {
      if (t.kind !== 'datasec') continue;
      const sec = elf.section(t.name);
      if (!sec) continue; // e.g. .kconfig: no ELF section of that name
      t.size = sec.size;
      t.secinfos = t.secinfos!.map((si) => {
        const varName = types[si.typeId]?.name;
        const sym = symbols.find((s) => s.sectionIndex === sec.index && s.name === varName);
        return sym ? { ...si, offset: sym.value } : si;
      });
    }
    return new Btf(types, source);
  }

  /** `Btf.fromElf` of a file. */
  static fromFile(path: string): Btf {
    return Btf.fromElf(readFileSync(path), path);
  }

  type(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw NA_ERR_BPF_BTF(this.source, `type id ${id} out of range 0..${this.types.length - 1}`);
    return t;
  }

  /** The first type called `name` (of `kind`, when given). */
  find(name: string, kind?: BtfKind): BtfType | undefined {
    return this.types.find((t) => t.name === name && (kind === undefined || t.kind === kind));
  }

  /** Follows typedefs, const, volatile, restrict and type tags to the type underneath. */
  resolve(id: number): BtfType {
    let t = this.type(id);
    for (let i = 0; MODIFIERS.has(t.kind); i++) {
      if (i === MAX_CHAIN) throw NA_ERR_BPF_BTF(this.source, `type ${id}: modifier chain longer than ${MAX_CHAIN}`);
      t = this.type(t.typeId!);
    }
    return t;
  }

  /** Bytes of type `id`, as btf__resolve_size computes them. */
  sizeOf(id: number): number {
    let t = this.type(id);
    let nelems = 1;
    for (let i = 0; i <= MAX_CHAIN; i++) {
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'float': case 'datasec':
          return nelems * t.size!;
        case 'ptr':
          return nelems * 8; // BPF is a 64-bit target
        case 'array':
          nelems *= t.array!.nelems;
          t = this.type(t.array!.typeId);
          break;
        case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'var': case 'decl_tag':
          t = this.type(t.typeId!);
          break;
        default:
          throw NA_ERR_BPF_BTF(this.source, `type ${id} (${t.kind} ${t.name || '(anon)'}) has no size`);
      }
    }
    throw NA_ERR_BPF_BTF(this.source, `type ${id}: type chain longer than ${MAX_CHAIN}`);
  }

  /** A C-like name: `struct selftest_counter`, `__u64`, `int[3]`, `const volatile __u16 *`. */
  typeName(id: number): string {
    const t = this.type(id);
    switch (t.kind) {
      case 'void': return 'void';
      case 'struct': case 'union': case 'enum': case 'enum64':
        return `${t.kind === 'enum64' ? 'enum' : t.kind} ${t.name || '(anon)'}`;
      case 'ptr': return `${this.typeName(t.typeId!)} *`;
      case 'array': return `${this.typeName(t.array!.typeId)}[${t.array!.nelems}]`;
      case 'const': case 'volatile': case 'restrict': return `${t.kind} ${this.typeName(t.typeId!)}`;
      case 'type_tag': return this.typeName(t.typeId!);
      default: return t.name || `(anon ${t.kind})`;
    }
  }

  /** Size and member offsets of the struct or union called `name`. */
  structLayout(name: string): StructLayout {
    const t = this.types.find((x) => (x.kind === 'struct' || x.kind === 'union') && x.name === name);
    if (!t) throw NA_ERR_BPF_NOT_FOUND.with({ details: { source: this.source } }, `struct ${name} in the BTF of ${this.source}`);
    return {
      name,
      kind: t.kind as 'struct' | 'union',
      size: t.size!,
      members: t.members!.map((m) => ({
        name: m.name,
        offset: Math.floor(m.bitOffset / 8),
        bitOffset: m.bitOffset,
        bitSize: m.bitSize,
        size: this.sizeOf(m.typeId),
        type: this.typeName(m.typeId),
      })),
    };
  }

  /** The variables of data section `name` (`.rodata`, `.data`, `.bss`) with their offsets. */
  datasecVariables(name: string): DatasecVariable[] {
    const sec = this.find(name, 'datasec');
    if (!sec) throw NA_ERR_BPF_NOT_FOUND(`data section ${name} in the BTF of ${this.source}`);
    return sec.secinfos!.map((si) => ({ name: this.type(si.typeId).name, typeId: si.typeId, offset: si.offset, size: si.size }));
  }
}

/** Differences between a codec's layout and the BTF; empty when they agree. */
export function checkStructLayout(btf: Btf, expected: ExpectedLayout): string[] {
  let actual: StructLayout;
  try {
    actual = btf.structLayout(expected.name);
  } catch {
    return [`struct ${expected.name}: not in the BTF of ${btf.source}`];
  }
  const problems: string[] = [];
  if (actual.size !== expected.size) problems.push(`struct ${expected.name}: size is ${actual.size} bytes, the codec says ${expected.size}`);
  for (const m of actual.members) {
    const want = expected.members[m.name];
    if (want === undefined) problems.push(`struct ${expected.name}.${m.name}: at offset ${m.offset}, missing from the codec`);
    else if (want !== m.offset) problems.push(`struct ${expected.name}.${m.name}: offset is ${m.offset}, the codec says ${want}`);
  }
  for (const name of Object.keys(expected.members)) {
    if (!actual.members.some((m) => m.name === name)) problems.push(`struct ${expected.name}.${name}: in the codec, not in the BTF`);
  }
  return problems;
}

function parseTypes(raw: Uint8Array, source: string): BtfType[] {
  const bad = (why: string) => NA_ERR_BPF_BTF(source, why);
  if (raw.length < HEADER_MIN) throw bad(`${raw.length} bytes is shorter than a BTF header`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let le = true;
  if (view.getUint16(0, true) !== 0xeb9f) {
    if (view.getUint16(0, false) !== 0xeb9f) throw bad(`bad magic 0x${view.getUint16(0, true).toString(16)}`);
    le = false;
  }
  if (raw[2] !== 1) throw bad(`unsupported version ${raw[2]}`);
  const hdrLen = view.getUint32(4, le);
  const typeOff = view.getUint32(8, le);
  const typeLen = view.getUint32(12, le);
  const strOff = view.getUint32(16, le);
  const strLen = view.getUint32(20, le);
  if (hdrLen < HEADER_MIN) throw bad(`header length ${hdrLen} < ${HEADER_MIN}`);
  const typeStart = hdrLen + typeOff;
  const typeEnd = typeStart + typeLen;
  const strStart = hdrLen + strOff;
  const strEnd = strStart + strLen;
  if (typeEnd > raw.length || strEnd > raw.length) throw bad('type or string section runs past the end of the data');
  if (typeLen % 4 !== 0) throw bad(`type section length ${typeLen} is not a multiple of 4`);

  const str = (off: number): string => {
    if (off >= strLen) throw bad(`string offset ${off} out of range (${strLen} bytes)`);
    let end = strStart + off;
    while (end < strEnd && raw[end] !== 0) end++;
    return new TextDecoder().decode(raw.subarray(strStart + off, end));
  };

  const types: BtfType[] = [{ id: 0, kind: 'void', name: '', kindFlag: false, vlen: 0 }];
  let p = typeStart;
  const u32 = (): number => {
    if (p + 4 > typeEnd) throw bad(`type ${types.length} is truncated`);
    const v = view.getUint32(p, le);
    p += 4;
    return v;
  };
  while (p < typeEnd) {
    const id = types.length;
    const nameOff = u32();
    const info = u32();
    const sizeOrType = u32();
    const kindNo = (info >>> 24) & 0x1f;
    const kind = BTF_KINDS[kindNo];
    if (kind === undefined || kind === 'void') throw bad(`type ${id} has unknown kind ${kindNo}`);
    const vlen = info & 0xffff;
    const kindFlag = (info >>> 31) === 1;
    const t: MutableType = { id, kind, name: str(nameOff), kindFlag, vlen };
    switch (kind) {
      case 'int': {
        const enc = u32();
        const encoding = (enc >>> 24) & 0x0f;
        t.size = sizeOrType;
        t.int = { signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0, offset: (enc >>> 16) & 0xff, bits: enc & 0xff };
        break;
      }
      case 'array':
        t.array = { typeId: u32(), indexTypeId: u32(), nelems: u32() };
        break;
      case 'struct': case 'union': {
        t.size = sizeOrType;
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++) {
          const mName = str(u32());
          const mType = u32();
          const off = u32();
          members.push(kindFlag
            ? { name: mName, typeId: mType, bitOffset: off & 0xffffff, bitSize: off >>> 24 }
            : { name: mName, typeId: mType, bitOffset: off, bitSize: 0 });
        }
        t.members = members;
        break;
      }
      case 'enum': {
        t.size = sizeOrType;
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const vName = str(u32());
          const v = u32();
          values.push({ name: vName, value: kindFlag ? BigInt(v | 0) : BigInt(v) });
        }
        t.enumValues = values;
        break;
      }
      case 'enum64': {
        t.size = sizeOrType;
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const vName = str(u32());
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          const v = (hi << 32n) | lo;
          values.push({ name: vName, value: kindFlag ? BigInt.asIntN(64, v) : v });
        }
        t.enumValues = values;
        break;
      }
      case 'func_proto': {
        t.typeId = sizeOrType;
        const params = [];
        for (let i = 0; i < vlen; i++) params.push({ name: str(u32()), typeId: u32() });
        t.params = params;
        break;
      }
      case 'var':
        t.typeId = sizeOrType;
        t.linkage = u32();
        break;
      case 'datasec': {
        t.size = sizeOrType;
        const infos: BtfSecinfo[] = [];
        for (let i = 0; i < vlen; i++) infos.push({ typeId: u32(), offset: u32(), size: u32() });
        t.secinfos = infos;
        break;
      }
      case 'decl_tag':
        t.typeId = sizeOrType;
        t.componentIdx = u32() | 0;
        break;
      case 'func':
        t.typeId = sizeOrType;
        t.linkage = vlen;
        break;
      case 'float':
        t.size = sizeOrType;
        break;
      default: // ptr, fwd, typedef, volatile, const, restrict, type_tag
        if (kind !== 'fwd') t.typeId = sizeOrType;
    }
    types.push(t);
  }
  for (const t of types) {
    const refs = [t.typeId, t.array?.typeId, ...(t.members ?? []).map((m) => m.typeId), ...(t.secinfos ?? []).map((s) => s.typeId)];
    for (const r of refs) if (r !== undefined && r >= types.length) throw bad(`type ${t.id} refers to missing type ${r}`);
  }
  return types;
}

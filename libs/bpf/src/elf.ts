/**
 * Just enough ELF64 to read a BPF object without libbpf: section headers, section data by name
 * and the symbol table. Used by btf.ts to take `.BTF` straight from an object file and to fill
 * in what clang leaves for the loader (DATASEC sizes and variable offsets).
 */
import { NA_ERR_BPF_BTF } from './errors.js';

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
}

export interface ElfSymbol {
  readonly name: string;
  readonly sectionIndex: number;
  readonly value: number;
  readonly size: number;
  /** STB_* binding (high nibble of st_info): 0 local, 1 global, 2 weak. */
  readonly binding: number;
}

const SHT_SYMTAB = 2;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

export class ElfFile {
  readonly sections: readonly ElfSection[];
  readonly littleEndian: boolean;
  private readonly data: Uint8Array;
  private readonly source: string;

  private constructor(data: Uint8Array, source: string, littleEndian: boolean, sections: ElfSection[]) {
    this.data = data;
    this.source = source;
    this.littleEndian = littleEndian;
    this.sections = sections;
  }

  /** Parses the headers of an ELF64 file; `source` names it in errors. */
  static parse(data: Uint8Array, source = 'ELF object'): ElfFile {
    const bad = (why: string) => NA_ERR_BPF_BTF(source, `not a valid ELF64 object: ${why}`);
    if (data.length < 64) throw bad(`${data.length} bytes is shorter than an ELF header`);
    if (data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) throw bad('no ELF magic');
    if (data[4] !== 2) throw bad('not ELFCLASS64');
    if (data[5] !== 1 && data[5] !== 2) throw bad(`unknown data encoding ${data[5]}`);
    const le = data[5] === 1;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const shoff = Number(view.getBigUint64(0x28, le));
    const shentsize = view.getUint16(0x3a, le);
    const shnum = view.getUint16(0x3c, le);
    const shstrndx = view.getUint16(0x3e, le);
    if (shentsize !== SHDR_SIZE) throw bad(`section header size ${shentsize}, expected ${SHDR_SIZE}`);
    if (shoff + shnum * SHDR_SIZE > data.length) throw bad('section headers run past the end of the file');
    if (shstrndx >= shnum) throw bad(`section name table index ${shstrndx} out of ${shnum}`);

    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const base = shoff + i * SHDR_SIZE;
      const type = view.getUint32(base + 4, le);
      const offset = Number(view.getBigUint64(base + 24, le));
      const size = Number(view.getBigUint64(base + 32, le));
      const nobits = type === 8; // SHT_NOBITS (.bss) has a size but no bytes in the file
      if (!nobits && offset + size > data.length) throw bad(`section ${i} runs past the end of the file`);
      raw.push({ index: i, nameOff: view.getUint32(base, le), type, offset, size, link: view.getUint32(base + 40, le) });
    }
    const shstr = raw[shstrndx]!;
    const sections = raw.map((s) => ({
      index: s.index,
      name: readCString(data, shstr.offset + s.nameOff, shstr.offset + shstr.size),
      type: s.type,
      offset: s.offset,
      size: s.size,
      link: s.link,
    }));
    return new ElfFile(data, source, le, sections);
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The bytes of section `name` (a view into the file data), or undefined. */
  sectionData(name: string): Uint8Array | undefined {
    const s = this.section(name);
    return s ? this.data.subarray(s.offset, s.offset + s.size) : undefined;
  }

  /** Every entry of .symtab (empty when the object has none). */
  symbols(): ElfSymbol[] {
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!symtab) return [];
    const strtab = this.sections[symtab.link];
    if (!strtab) throw NA_ERR_BPF_BTF(this.source, `symbol table links to missing section ${symtab.link}`);
    const view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    const le = this.littleEndian;
    const out: ElfSymbol[] = [];
    for (let off = symtab.offset; off + SYM_SIZE <= symtab.offset + symtab.size; off += SYM_SIZE) {
      out.push({
        name: readCString(this.data, strtab.offset + view.getUint32(off, le), strtab.offset + strtab.size),
        binding: this.data[off + 4]! >> 4,
        sectionIndex: view.getUint16(off + 6, le),
        value: Number(view.getBigUint64(off + 8, le)),
        size: Number(view.getBigUint64(off + 16, le)),
      });
    }
    return out;
  }
}

/** A NUL-terminated string at `start`, not reading at or past `end`. */
export function readCString(data: Uint8Array, start: number, end: number): string {
  let i = start;
  while (i < end && data[i] !== 0) i++;
  return new TextDecoder().decode(data.subarray(start, i));
}

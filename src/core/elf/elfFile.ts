// A bounds-checked reader of ELF containers (headers, sections, segments, notes, symbols) over a
// DataView. Written by hand rather than through elfy because elfy reads the 64-bit section header's
// addralign/entsize at the wrong offsets and throws untyped errors on truncated input.
import type * as Zlib from 'node:zlib';

// node:zlib is not in node's start-up snapshot: loading it costs every `planescope dwarf` run about
// 2 ms, and only compressed sections need it.
let zlib: typeof Zlib | undefined;

/** A problem with the ELF container itself; the message names the file. */
export class ElfError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'ElfError';
  }
}

export const SHT_NOBITS = 8;
export const SHT_NOTE = 7;
export const SHT_SYMTAB = 2;
export const SHF_COMPRESSED = 0x800;
export const PT_LOAD = 1;
export const PT_NOTE = 4;

/** Little-endian machines whose DWARF we read (EM_* numbers). */
const MACHINES = new Map<number, string>([
  [3, 'i386'],
  [40, 'ARM'],
  [62, 'x86-64'],
  [183, 'AArch64'],
  [243, 'RISC-V'],
  [258, 'LoongArch'],
]);

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** Section header index. */
  section: number;
  /** The source file named by the STT_FILE symbol before this local symbol. */
  file?: string;
}

/** Upper bound for one decompressed section: refuses zip bombs in corrupt input. */
const MAX_SECTION_BYTES = 2 ** 31 - 1;

export class ElfFile {
  readonly is64: boolean;
  readonly type: number;
  readonly machine: number;
  readonly sections: ElfSection[] = [];
  readonly segments: ElfSegment[] = [];
  private readonly view: DataView;

  /**
   * `data` has the file's full length. With `fill`, only the byte ranges the reader asks for are
   * loaded into it (headers, notes, symbols), so that large sections it never reads are never read.
   */
  constructor(readonly path: string, readonly data: Uint8Array, private readonly fill?: (offset: number, length: number) => void) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.ensure(0, 64);
    if (data.length < 16 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) {
      throw new ElfError(path, data.length < 16 ? `not an ELF file (only ${data.length} bytes)` : 'not an ELF file (bad magic)');
    }
    const cls = data[4];
    if (cls !== 1 && cls !== 2) throw new ElfError(path, `corrupt ELF header: unknown class ${cls}`);
    this.is64 = cls === 2;
    if (data[5] === 2) throw new ElfError(path, 'big-endian ELF files are not supported (only little-endian targets)');
    if (data[5] !== 1) throw new ElfError(path, `corrupt ELF header: unknown data encoding ${data[5]}`);
    const ehsize = this.is64 ? 64 : 52;
    if (data.length < ehsize) throw new ElfError(path, `truncated ELF header (${data.length} of ${ehsize} bytes)`);
    this.type = this.u16(16);
    this.machine = this.u16(18);
    if (!MACHINES.has(this.machine)) {
      throw new ElfError(path, `unsupported architecture (ELF machine ${this.machine}); supported: ${[...MACHINES.values()].join(', ')}`);
    }
    if (this.type === 1) throw new ElfError(path, 'relocatable object file (.o): link it first, DWARF in objects is not relocated');
    if (this.type !== 2 && this.type !== 3) throw new ElfError(path, `unsupported ELF type ${this.type} (expected an executable or shared object)`);
    this.readSegments();
    this.readSections();
  }

  get machineName(): string {
    return MACHINES.get(this.machine) ?? String(this.machine);
  }

  /** Loads a byte range of a sparsely read file (clamped to the file). */
  private ensure(offset: number, length: number): void {
    if (!this.fill || offset >= this.data.length || length <= 0) return;
    this.fill(offset, Math.min(length, this.data.length - offset));
  }

  private u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  private u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  private addr(off: number): number {
    if (!this.is64) return this.view.getUint32(off, true);
    const v = this.view.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(this.path, `corrupt ELF: value ${v} at offset ${off} is out of range`);
    return Number(v);
  }

  private readSegments(): void {
    const phoff = this.addr(this.is64 ? 32 : 28);
    const phentsize = this.u16(this.is64 ? 54 : 42);
    const phnum = this.u16(this.is64 ? 56 : 44);
    if (phnum === 0) return;
    const need = this.is64 ? 56 : 32;
    if (phentsize < need || phoff + phnum * phentsize > this.data.length) {
      throw new ElfError(this.path, `truncated or corrupt program header table (${phnum} entries at ${phoff})`);
    }
    this.ensure(phoff, phnum * phentsize);
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      this.segments.push(
        this.is64
          ? { type: this.u32(o), flags: this.u32(o + 4), offset: this.addr(o + 8), vaddr: this.addr(o + 16), filesz: this.addr(o + 32), memsz: this.addr(o + 40) }
          : { type: this.u32(o), offset: this.u32(o + 4), vaddr: this.u32(o + 8), filesz: this.u32(o + 16), memsz: this.u32(o + 20), flags: this.u32(o + 24) },
      );
    }
  }

  private readSections(): void {
    const shoff = this.addr(this.is64 ? 40 : 32);
    const shentsize = this.u16(this.is64 ? 58 : 46);
    let shnum = this.u16(this.is64 ? 60 : 48);
    let shstrndx = this.u16(this.is64 ? 62 : 50);
    if (shoff === 0) return;
    const need = this.is64 ? 64 : 40;
    if (shentsize < need || shoff + need > this.data.length) throw new ElfError(this.path, `truncated or corrupt section header table at ${shoff}`);
    this.ensure(shoff, need);
    // Extended numbering: the real count and string-table index live in section 0.
    if (shnum === 0) shnum = this.is64 ? this.addr(shoff + 32) : this.u32(shoff + 20);
    if (shstrndx === 0xffff) shstrndx = this.u32(shoff + (this.is64 ? 40 : 24));
    if (shoff + shnum * shentsize > this.data.length) {
      throw new ElfError(this.path, `truncated file: section headers need ${shoff + shnum * shentsize} bytes, the file has ${this.data.length}`);
    }
    this.ensure(shoff, shnum * shentsize);
    const raw: Array<Omit<ElfSection, 'name'> & { nameOff: number }> = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      raw.push(
        this.is64
          ? { index: i, nameOff: this.u32(o), type: this.u32(o + 4), flags: this.addr(o + 8), addr: this.addr(o + 16), offset: this.addr(o + 24), size: this.addr(o + 32), link: this.u32(o + 40), info: this.u32(o + 44) }
          : { index: i, nameOff: this.u32(o), type: this.u32(o + 4), flags: this.u32(o + 8), addr: this.u32(o + 12), offset: this.u32(o + 16), size: this.u32(o + 20), link: this.u32(o + 24), info: this.u32(o + 28) },
      );
    }
    const strtab = raw[shstrndx];
    if (!strtab || strtab.offset + strtab.size > this.data.length) throw new ElfError(this.path, 'corrupt ELF: section name table out of bounds');
    this.ensure(strtab.offset, strtab.size);
    const names = this.data.subarray(strtab.offset, strtab.offset + strtab.size);
    for (const s of raw) {
      const { nameOff, ...rest } = s;
      this.sections.push({ ...rest, name: cString(names, nameOff) });
    }
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The raw bytes of a section (empty for SHT_NOBITS), bounds-checked. */
  rawBytes(s: ElfSection): Uint8Array {
    if (s.type === SHT_NOBITS || s.size === 0) return new Uint8Array(0);
    if (s.offset + s.size > this.data.length) {
      throw new ElfError(this.path, `truncated file: section ${s.name} needs bytes ${s.offset}..${s.offset + s.size}, the file has ${this.data.length}`);
    }
    this.ensure(s.offset, s.size);
    return this.data.subarray(s.offset, s.offset + s.size);
  }

  /** The bytes of a section, decompressed when SHF_COMPRESSED (zlib) or an old-style .zdebug_*. */
  contents(s: ElfSection): Uint8Array {
    const raw = this.rawBytes(s);
    if (s.flags & SHF_COMPRESSED) {
      const hdr = this.is64 ? 24 : 12;
      if (raw.length < hdr) throw new ElfError(this.path, `corrupt compressed section ${s.name}: header truncated`);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const type = v.getUint32(0, true);
      const size = this.is64 ? Number(v.getBigUint64(8, true)) : v.getUint32(4, true);
      if (type === 2) throw new ElfError(this.path, `section ${s.name} is zstd-compressed, which is not supported: run \`objcopy --decompress-debug-sections\` on it`);
      if (type !== 1) throw new ElfError(this.path, `section ${s.name} uses unknown compression type ${type}`);
      return this.inflate(s.name, raw.subarray(hdr), size);
    }
    if (s.name.startsWith('.zdebug_') && raw.length >= 12 && raw[0] === 0x5a && raw[1] === 0x4c && raw[2] === 0x49 && raw[3] === 0x42) {
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const size = Number(v.getBigUint64(4, false));
      return this.inflate(s.name, raw.subarray(12), size);
    }
    return raw;
  }

  private inflate(name: string, stream: Uint8Array, size: number): Uint8Array {
    if (size > MAX_SECTION_BYTES) throw new ElfError(this.path, `corrupt compressed section ${name}: claims ${size} bytes`);
    let out: Buffer;
    try {
      zlib ??= require('node:zlib') as typeof Zlib;
      out = zlib.inflateSync(stream, { maxOutputLength: Math.max(size, 1) });
    } catch (e) {
      throw new ElfError(this.path, `corrupt compressed section ${name}: ${(e as Error).message}`);
    }
    if (out.length !== size) throw new ElfError(this.path, `corrupt compressed section ${name}: ${out.length} bytes inflated, header says ${size}`);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** A DWARF section by its standard name, also found as .zdebug_*; undefined when absent or empty. */
  debugSection(name: string): Uint8Array | undefined {
    const s = this.section(name) ?? this.section(name.replace(/^\.debug_/, '.zdebug_'));
    if (!s || s.type === SHT_NOBITS || s.size === 0) return undefined;
    return this.contents(s);
  }

  /** The GNU build-id as lowercase hex, from a note section or a PT_NOTE segment. */
  buildId(): string | undefined {
    const areas: Uint8Array[] = [];
    for (const s of this.sections) if (s.type === SHT_NOTE && !(s.flags & SHF_COMPRESSED)) areas.push(this.safeRaw(s.offset, s.size));
    if (!areas.length) for (const p of this.segments) if (p.type === PT_NOTE) areas.push(this.safeRaw(p.offset, p.filesz));
    for (const area of areas) {
      const id = findNote(area, 'GNU', 3);
      if (id) return Buffer.from(id).toString('hex');
    }
    return undefined;
  }

  /**
   * Where an uncompressed section's bytes lie in the file, for reading them straight into their
   * destination; undefined when the section must be decompressed (or is empty).
   */
  plainRange(s: ElfSection): { offset: number; size: number } | undefined {
    if (s.type === SHT_NOBITS || s.size === 0 || s.flags & SHF_COMPRESSED || s.name.startsWith('.zdebug_')) return undefined;
    if (s.offset + s.size > this.data.length) {
      throw new ElfError(this.path, `truncated file: section ${s.name} needs bytes ${s.offset}..${s.offset + s.size}, the file has ${this.data.length}`);
    }
    return { offset: s.offset, size: s.size };
  }

  private safeRaw(offset: number, size: number): Uint8Array {
    if (offset >= this.data.length) return new Uint8Array(0);
    this.ensure(offset, size);
    return this.data.subarray(offset, Math.min(this.data.length, offset + size));
  }

  /** `.gnu_debuglink`: the separate debug file's name and CRC32. */
  debugLink(): { file: string; crc: number } | undefined {
    const s = this.section('.gnu_debuglink');
    if (!s || s.type === SHT_NOBITS) return undefined;
    const raw = this.safeRaw(s.offset, s.size);
    const end = raw.indexOf(0);
    if (end <= 0) return undefined;
    const crcAt = (end + 4) & ~3;
    if (crcAt + 4 > raw.length) return undefined;
    return { file: Buffer.from(raw.subarray(0, end)).toString('utf8'), crc: new DataView(raw.buffer, raw.byteOffset).getUint32(crcAt, true) };
  }

  /**
   * Code symbols (FUNC, IFUNC, NOTYPE) of .symtab (or .dynsym when stripped) in table order, each with
   * the STT_FILE name that precedes it among the local symbols (binutils names the file that way).
   */
  codeSymbols(): ElfSymbol[] {
    const tab = this.sections.find((s) => s.type === SHT_SYMTAB && s.size > 0) ?? this.sections.find((s) => s.type === 11);
    if (!tab || tab.type === SHT_NOBITS) return [];
    const strs = this.sections[tab.link];
    if (!strs || strs.type === SHT_NOBITS) return [];
    const syms = this.safeRaw(tab.offset, tab.size);
    const names = this.safeRaw(strs.offset, strs.size);
    const v = new DataView(syms.buffer, syms.byteOffset, syms.byteLength);
    const entsize = this.is64 ? 24 : 16;
    const out: ElfSymbol[] = [];
    let file: string | undefined;
    for (let o = entsize; o + entsize <= syms.length; o += entsize) {
      const info = this.is64 ? syms[o + 4] : syms[o + 12];
      const shndx = this.is64 ? v.getUint16(o + 6, true) : v.getUint16(o + 14, true);
      const type = info & 0xf;
      if (type === 4) {
        file = cString(names, v.getUint32(o, true));
        continue;
      }
      if (info >> 4 !== 0) file = undefined; // globals: no file
      if ((type !== 2 && type !== 10 && type !== 0) || shndx === 0 || shndx >= 0xff00) continue;
      const value = this.is64 ? Number(v.getBigUint64(o + 8, true)) : v.getUint32(o + 4, true);
      const size = this.is64 ? Number(v.getBigUint64(o + 16, true)) : v.getUint32(o + 8, true);
      const name = cString(names, v.getUint32(o, true));
      if (!name) continue;
      out.push({ name, value, size, section: shndx, file });
    }
    return out;
  }

  /** The allocated section holding a link-time address. */
  sectionAt(address: number): ElfSection | undefined {
    return this.sections.find((s) => s.flags & 2 && s.size > 0 && address >= s.addr && address < s.addr + s.size);
  }

  /** PT_LOAD segments, in file order. */
  loadSegments(): ElfSegment[] {
    return this.segments.filter((p) => p.type === PT_LOAD);
  }
}

function cString(bytes: Uint8Array, off: number): string {
  if (off >= bytes.length) return '';
  let end = bytes.indexOf(0, off);
  if (end < 0) end = bytes.length;
  return Buffer.from(bytes.subarray(off, end)).toString('utf8');
}

function findNote(area: Uint8Array, owner: string, type: number): Uint8Array | undefined {
  const v = new DataView(area.buffer, area.byteOffset, area.byteLength);
  let o = 0;
  while (o + 12 <= area.length) {
    const namesz = v.getUint32(o, true);
    const descsz = v.getUint32(o + 4, true);
    const ntype = v.getUint32(o + 8, true);
    const nameAt = o + 12;
    const descAt = nameAt + ((namesz + 3) & ~3);
    const next = descAt + ((descsz + 3) & ~3);
    if (next > area.length || next <= o) return undefined;
    const name = Buffer.from(area.subarray(nameAt, nameAt + Math.max(0, namesz - 1))).toString('latin1');
    if (ntype === type && name === owner) return area.subarray(descAt, descAt + descsz);
    o = next;
  }
  return undefined;
}

/** CRC-32 (IEEE) as used by .gnu_debuglink. */
let crcTable: Uint32Array | undefined;
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

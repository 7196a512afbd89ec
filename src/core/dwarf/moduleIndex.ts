// The per-module address <-> source index (contract: ./types.ts). Built once per module from the gimli
// .wasm result and cached by GNU build-id; lookups are binary searches over typed arrays.
import { readFileSync, statSync } from 'node:fs';
import { ElfError, ElfFile, ElfSection, ElfSegment, ElfSymbol, SHT_NOBITS } from '../elf/elfFile';
import { ElfReader, SectionSource } from '../elf/elfReader';
import { findDebugFile } from './debugFile';
import { AddressInfo, InlineFrame, LineRow, ModuleIndex } from './types';
import { buildModuleData, ModuleData, NONE as NONE_ID, PACKED_FLAG_SHIFT, PACKED_VIEW_SHIFT, ROW_END_SEQUENCE, ROW_EXTRA, ROW_STMT, SECTION_IDS, WasmIndexError } from './wasmResult';

// Module-local copies of the constants the per-row accessors use: an imported binding compiled to
// CommonJS (tsx, ts-node) is a getter call at every use.
const NONE = NONE_ID;
const FLAG_SHIFT = PACKED_FLAG_SHIFT;
const VIEW_SHIFT = PACKED_VIEW_SHIFT;
const EXTRA_BIT = ROW_EXTRA << PACKED_FLAG_SHIFT;
const END_SEQUENCE = ROW_END_SEQUENCE;

/** Any failure to index a module; the message names the file and the problem. */
export class DwarfError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'DwarfError';
  }
}

export interface OpenModuleOptions {
  /** A separate debug file to use instead of searching for one. */
  debugFile?: string;
  /** Root of the separate-debug-file tree (default /usr/lib/debug). */
  debugRoot?: string;
  /** Files at least this large are read sparsely: only headers, notes, symbols and DWARF (default 1 MiB). */
  sparseFrom?: number;
  /**
   * 'gimli' decodes the line programs with gimli alone instead of the fast interpreter that hands
   * gimli only what it declines (tests compare the two); such an index is not cached.
   */
  lineDecoder?: 'fast' | 'gimli';
}

const cache = new Map<string, DwarfModuleIndex>();

/** Forgets every cached index (tests, or after debug files were installed). */
export function clearModuleIndexCache(): void {
  cache.clear();
}

/**
 * Opens (or returns the cached) index of the ELF module at `path`. Synchronous; throws DwarfError for
 * unreadable, corrupt, unsupported or stripped files.
 */
export function openModuleIndex(path: string, options: OpenModuleOptions = {}): DwarfModuleIndex {
  let reader: ElfReader;
  try {
    reader = new ElfReader(path, options.sparseFrom);
  } catch (e) {
    if (e instanceof ElfError) throw asDwarfError(path, e);
    throw new DwarfError(path, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return indexElf(path, reader.elf, (s) => reader.source(s), options, true);
  } finally {
    reader.close();
  }
}

/**
 * Indexes a module already in memory, bypassing the cache (tests, fuzzing, in-memory images). `path`
 * names the module in errors and is where a separate debug file would be searched from.
 */
export function indexModuleBytes(path: string, data: Uint8Array, options: OpenModuleOptions = {}): DwarfModuleIndex {
  let elf: ElfFile;
  try {
    elf = new ElfFile(path, data);
  } catch (e) {
    throw asDwarfError(path, e);
  }
  return indexElf(path, elf, (s) => elf.contents(s), options, false);
}

type SourceOf = (s: ElfSection) => Uint8Array | SectionSource;

function indexElf(path: string, elf: ElfFile, source: SourceOf, options: OpenModuleOptions, useCache: boolean): DwarfModuleIndex {
  const buildId = safe(() => elf.buildId()) ?? '';
  useCache &&= !options.debugFile && options.lineDecoder !== 'gimli';
  const key = buildId ? `id:${buildId}` : `file:${path}:${elf.data.length}:${safe(() => statSync(path).mtimeMs)}`;
  const cached = useCache ? cache.get(key) : undefined;
  if (cached) return cached;
  const index = build(path, elf, buildId, options, source);
  if (useCache) cache.set(key, index);
  return index;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function asDwarfError(path: string, e: unknown): DwarfError {
  if (e instanceof DwarfError) return e;
  if (e instanceof ElfError) return new DwarfError(path, e.message);
  if (e instanceof WasmIndexError) return new DwarfError(path, `${path}: corrupt DWARF: ${e.message}`);
  if (e instanceof RangeError || e instanceof TypeError) return new DwarfError(path, `${path}: corrupt ELF or DWARF (${e.message})`);
  return new DwarfError(path, `${path}: ${(e as Error)?.message ?? String(e)}`);
}

function hasDwarf(elf: ElfFile): boolean {
  return ['.debug_info', '.zdebug_info', '.debug_line', '.zdebug_line'].some((n) => {
    const s = elf.section(n);
    return s !== undefined && s.type !== SHT_NOBITS && s.size > 0;
  });
}

function build(path: string, elf: ElfFile, buildId: string, options: OpenModuleOptions, mainSource: SourceOf): DwarfModuleIndex {
  let debugElf = elf;
  let debugPath = path;
  if (options.debugFile) {
    try {
      debugElf = new ElfFile(options.debugFile, readFileSync(options.debugFile));
    } catch (e) {
      throw asDwarfError(options.debugFile, e instanceof ElfError ? e : new ElfError(options.debugFile, `cannot read: ${(e as Error).message}`));
    }
    debugPath = options.debugFile;
  } else if (!hasDwarf(elf)) {
    const found = findDebugFile(path, elf, buildId || undefined, options.debugRoot);
    if (found) {
      debugElf = found.elf;
      debugPath = found.path;
    }
  }
  if (!hasDwarf(debugElf)) {
    throw new DwarfError(path, `no debug info in ${path} (build-id ${buildId || 'none'}): install its debug symbols or point to the .debug file`);
  }
  let data: ModuleData;
  try {
    const sections = new Map<string, Uint8Array | SectionSource>();
    for (const name of Object.keys(SECTION_IDS)) {
      const s = debugElf.section(name) ?? debugElf.section(name.replace(/^\.debug_/, '.zdebug_'));
      if (!s || s.type === SHT_NOBITS || s.size === 0) continue;
      sections.set(name, debugElf === elf ? mainSource(s) : debugElf.contents(s));
    }
    data = buildModuleData(sections, options.lineDecoder);
  } catch (e) {
    throw asDwarfError(debugPath, e);
  }
  const lineSection = debugElf.section('.debug_line') ? '.debug_line' : debugElf.section('.zdebug_line') ? '.zdebug_line' : '.debug_line';
  return new DwarfModuleIndex(path, buildId, debugPath, data, elf, debugElf, lineSection);
}

const decoder = new TextDecoder('utf-8');
const NO_FRAMES: readonly InlineFrame[] = Object.freeze([]);

/** Index of the last element of `a` that is <= x, or -1. */
function floorIndex(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export class DwarfModuleIndex implements ModuleIndex {
  readonly rowCount: number;
  private readonly paths: Array<string | undefined>;
  private readonly names = new Map<number, string>();
  private readonly callers = new Map<number, readonly InlineFrame[]>();
  private lineMap?: Map<string, Array<[number, number]>>;
  private symbols?: ElfSymbol[];

  constructor(
    readonly path: string,
    readonly buildId: string,
    /** The file the DWARF was read from (the module itself or its separate debug file). */
    readonly debugPath: string,
    readonly data: ModuleData,
    private readonly elf: ElfFile,
    private readonly debugElf: ElfFile,
    /** The name of the line-table section read (.debug_line or .zdebug_line). */
    readonly lineSection = '.debug_line',
  ) {
    this.rowCount = data.rowData.length / 3;
    this.paths = new Array(data.files.length / 6);
  }

  /**
   * Problems in compilation units that were skipped (the others are indexed). Problems of the
   * function pass appear once it has run (the first function lookup, or `buildFunctions()`).
   */
  get warning(): string | undefined {
    return this.data.warning;
  }

  /**
   * Reads the functions (.debug_info) now rather than at the first function lookup. Listing rows
   * never needs them; lookups build them on first use.
   */
  buildFunctions(): void {
    this.data.buildFunctions();
  }

  /**
   * The `objdump --dwarf=decodedline` text of all units, in chunks of about `chunkBytes` (default and
   * most 1 MiB); each chunk is valid only during `write`.
   */
  writeDecodedLineText(write: (chunk: Uint8Array) => void, chunkBytes?: number): void {
    try {
      this.data.writeText(write, chunkBytes);
    } catch (e) {
      throw asDwarfError(this.debugPath, e);
    }
  }

  private str(off: number, len: number): string {
    return decoder.decode(this.data.strings.subarray(off, off + len));
  }

  /** Absolute path of a file id. */
  filePath(id: number): string {
    if (id === NONE || id * 6 >= this.data.files.length) return '??';
    return (this.paths[id] ??= this.str(this.data.files[id * 6], this.data.files[id * 6 + 1]));
  }
  /** The name as the line table spells it (objdump's "File name" column). */
  fileTableName(id: number): string {
    return this.str(this.data.files[id * 6 + 2], this.data.files[id * 6 + 3]);
  }
  /** The header objdump prints when the line program switches to this file. */
  fileSwitchHeader(id: number): string {
    return this.str(this.data.files[id * 6 + 4], this.data.files[id * 6 + 5]);
  }

  get cuCount(): number {
    return this.data.cus.length / 6;
  }
  /** Unit `i`: `header` is what objdump prints before its rows (the unit's name line and the column names). */
  cu(i: number): { firstRow: number; header: string; version: number; defaultFile: number; file0: number } {
    const c = this.data.cus;
    return { firstRow: c[i * 6], header: this.str(c[i * 6 + 1], c[i * 6 + 2]), version: c[i * 6 + 3], defaultFile: c[i * 6 + 4], file0: c[i * 6 + 5] };
  }

  /** The file id of file 0 of unit `i` (DWARF 5), or NONE; without decoding the unit's header. */
  cuFile0(i: number): number {
    return this.data.cus[i * 6 + 5];
  }

  /** The compilation unit whose line program produced row `row`. */
  cuOfRow(row: number): number {
    const c = this.data.cus;
    let lo = 0;
    let hi = c.length / 6;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid * 6] <= row) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  rowAddress(i: number): number {
    const { rowLo } = this.data;
    return rowLo.length ? this.data.addrBase + rowLo[i] : this.data.rowAddr[i];
  }
  rowFile(i: number): number {
    return this.data.rowData[i * 3];
  }
  rowLine(i: number): number {
    return this.data.rowData[i * 3 + 1];
  }
  rowColumn(i: number): number {
    const packed = this.data.rowData[i * 3 + 2];
    return packed & EXTRA_BIT ? this.extra(i, 2) : packed & 0xffff;
  }
  /** ROW_* bits. */
  rowFlags(i: number): number {
    return (this.data.rowData[i * 3 + 2] >>> FLAG_SHIFT) & 0xf;
  }
  /** objdump's view number: the rows before this one at its address since the address last moved. */
  rowView(i: number): number {
    const packed = this.data.rowData[i * 3 + 2];
    return packed & EXTRA_BIT ? this.extra(i, 3) : packed >>> VIEW_SHIFT;
  }
  rowDiscriminator(i: number): number {
    return this.data.rowData[i * 3 + 2] & EXTRA_BIT ? this.extra(i, 1) : 0;
  }
  /** Field `k` of row `i`'s entry in rowExtra (the few rows flagged ROW_EXTRA, by row): binary search. */
  private extra(i: number, k: number): number {
    const d = this.data.rowExtra;
    let lo = 0;
    let hi = d.length / 4;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (d[mid * 4] < i) lo = mid + 1;
      else hi = mid;
    }
    return lo * 4 < d.length && d[lo * 4] === i ? d[lo * 4 + k] : 0;
  }
  row(i: number): LineRow {
    const f = this.rowFlags(i);
    return {
      address: this.rowAddress(i),
      file: this.filePath(this.rowFile(i)),
      line: this.rowLine(i),
      column: this.rowColumn(i),
      isStmt: (f & ROW_STMT) !== 0,
      endSequence: (f & END_SEQUENCE) !== 0,
    };
  }

  functionName(func: number): string {
    let name = this.names.get(func);
    if (name === undefined) {
      this.data.buildFunctions();
      const f = this.data.funcs;
      name = f[func * 6 + 1] ? this.str(f[func * 6], f[func * 6 + 1]) : '??';
      this.names.set(func, name);
    }
    return name;
  }

  /** The line-table row covering `offset` (the last row at that address), or -1. */
  rowAt(offset: number): number {
    this.data.buildAddressMap();
    const i = floorIndex(this.data.lkAddr, offset);
    if (i < 0) return -1;
    const row = this.data.lkRow[i];
    return row === NONE ? -1 : row;
  }

  /** The innermost function or inlined subroutine covering `offset`, or NONE. */
  functionAt(offset: number): number {
    this.data.buildFunctions();
    const i = floorIndex(this.data.segAddr, offset);
    return i < 0 ? NONE : this.data.segFunc[i];
  }

  /**
   * binutils' fallback when DWARF names no function: the code symbol with the highest address at or
   * below `offset` in the section holding it (sizes are not checked, as in bfd).
   */
  symbolAt(offset: number): ElfSymbol | undefined {
    if (!this.symbols) {
      const own = safe(() => this.elf.codeSymbols()) ?? [];
      this.symbols = own.length ? own : safe(() => this.debugElf.codeSymbols()) ?? [];
    }
    const section = this.elf.sectionAt(offset) ?? this.debugElf.sectionAt(offset);
    if (!section) return undefined;
    let best: ElfSymbol | undefined;
    for (const s of this.symbols) {
      if (s.section === section.index && s.value <= offset && (!best || s.value > best.value)) best = s;
    }
    return best;
  }

  lookup(offset: number): AddressInfo | undefined {
    const row = this.rowAt(offset);
    if (row < 0) return undefined;
    const file = this.filePath(this.rowFile(row));
    const line = this.rowLine(row);
    const column = this.rowColumn(row);
    const func = this.functionAt(offset);
    const first: InlineFrame = { function: func === NONE ? this.symbolAt(offset)?.name ?? '??' : this.functionName(func), file, line, column };
    const callers = func === NONE ? NO_FRAMES : this.callerFrames(func);
    const frames = callers.length ? [first, ...callers] : [first];
    return { offset, file, line, column, function: frames[frames.length - 1].function, frames };
  }

  /** The (frozen, shared) frames of the functions `func` is inlined into, outermost last. */
  private callerFrames(func: number): readonly InlineFrame[] {
    const key = func;
    let frames = this.callers.get(key);
    if (!frames) {
      this.data.buildFunctions();
      const list: InlineFrame[] = [];
      const f = this.data.funcs;
      for (let guard = 0; f[func * 6 + 2] !== NONE && guard < 1000; guard++) {
        const parent = f[func * 6 + 2];
        list.push(Object.freeze({ function: this.functionName(parent), file: this.filePath(f[func * 6 + 3]), line: f[func * 6 + 4], column: f[func * 6 + 5] }));
        func = parent;
      }
      frames = Object.freeze(list);
      this.callers.set(key, frames);
    }
    return frames;
  }

  rangesForLine(file: string, line: number): Array<[number, number]> {
    const map = this.buildLineMap();
    const out: Array<[number, number]> = [];
    for (const id of this.fileIds(file)) {
      const ranges = map.get(`${id}:${line}`);
      if (ranges) out.push(...ranges);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }

  private fileIds(file: string): number[] {
    const ids: number[] = [];
    const n = this.data.files.length / 6;
    for (let id = 0; id < n; id++) {
      const p = this.filePath(id);
      if (p === file || (!file.startsWith('/') && p.endsWith(`/${file}`))) ids.push(id);
    }
    return ids;
  }

  /** (file id, line) -> merged [start, end) ranges, built on first use. */
  private buildLineMap(): Map<string, Array<[number, number]>> {
    if (this.lineMap) return this.lineMap;
    const map = new Map<string, Array<[number, number]>>();
    const { rowData } = this.data;
    for (let i = 0; i + 1 < this.rowCount; i++) {
      if ((rowData[i * 3 + 2] >>> FLAG_SHIFT) & END_SEQUENCE) continue;
      const start = this.rowAddress(i);
      const end = this.rowAddress(i + 1);
      if (!(end > start)) continue;
      const key = `${rowData[i * 3]}:${rowData[i * 3 + 1]}`;
      let ranges = map.get(key);
      if (!ranges) map.set(key, (ranges = []));
      const last = ranges[ranges.length - 1];
      if (last && last[1] === start) last[1] = end;
      else ranges.push([start, end]);
    }
    return (this.lineMap = map);
  }

  files(): string[] {
    const seen = new Set<number>();
    const { rowData } = this.data;
    for (let i = 0; i < this.rowCount; i++) seen.add(rowData[i * 3]);
    return [...seen].map((id) => this.filePath(id)).filter((p) => p !== '??').sort();
  }

  /** ELF machine number (EM_*) and class of the module. */
  get machine(): number {
    return this.elf.machine;
  }
  get is64(): boolean {
    return this.elf.is64;
  }

  /** PT_LOAD segments of the module (link-time addresses). */
  loadSegments(): ElfSegment[] {
    return this.elf.loadSegments();
  }

  /**
   * The link-time address of a run-time address inside a mapping of this module that starts at
   * `mapStart` and maps the file from `mapOffset` (as /proc/PID/maps shows it); undefined when no
   * load segment holds that file offset.
   */
  linkAddress(runtime: number, mapStart: number, mapOffset: number): number | undefined {
    const fileOffset = runtime - mapStart + mapOffset;
    for (const seg of this.loadSegments()) {
      if (fileOffset >= seg.offset && fileOffset < seg.offset + Math.max(seg.memsz, seg.filesz)) return seg.vaddr + (fileOffset - seg.offset);
    }
    return undefined;
  }
}

// Runs the gimli .wasm over a module's DWARF sections and views the index arrays in its memory in
// place: typed arrays, no per-row objects, no copy. The layout is documented in wasm/src/out.rs.
// The line pass runs at once; the function pass and the objdump text on demand.
import { DwarfWasmExports, instantiateDwarfWasm } from '../dwarfWasm';
import type { SectionSource } from '../elf/elfReader';

/** Section slots shared with wasm/src/index.rs (section_slot). */
export const SECTION_IDS: Record<string, number> = {
  '.debug_info': 0,
  '.debug_abbrev': 1,
  '.debug_line': 2,
  '.debug_str': 3,
  '.debug_line_str': 4,
  '.debug_ranges': 5,
  '.debug_rnglists': 6,
  '.debug_addr': 7,
  '.debug_str_offsets': 8,
};

export const NONE = 0xffffffff;
const MAGIC = 0x57445350;
const FORMAT = 6;

/** Bits of a row's flags (DwarfModuleIndex.rowFlags). */
export const ROW_STMT = 1;
export const ROW_END_SEQUENCE = 2;
/** DWARF 5 row whose sequence never set the file register (binutils then names file 0). */
export const ROW_UNSET_FILE5 = 4;
/** The row's discriminator, column and view are in rowExtra. */
export const ROW_EXTRA = 8;
/** In the packed word of rowData (wasm/src/out.rs): column in bits 0-15, flags from bit 16, view from bit 20. */
export const PACKED_FLAG_SHIFT = 16;
export const PACKED_VIEW_SHIFT = 20;

/** The .wasm failed: `trap` when it aborted (a bug or exhausted memory), else gimli's message. */
export class WasmIndexError extends Error {
  constructor(message: string, readonly trap: boolean) {
    super(message);
  }
}

function isTrap(e: unknown): e is Error {
  return e instanceof WebAssembly.RuntimeError || e instanceof RangeError;
}

function trapError(e: Error, doing: string): WasmIndexError {
  return new WasmIndexError(`the DWARF decoder trapped ${doing} (${e.message}): the debug information is corrupt or too large`, true);
}

/**
 * The decoded module: every array indexed as described in wasm/src/out.rs, viewed where the .wasm
 * built it. The rows, files and units are there from the start; lkAddr/lkRow stay empty until
 * `buildAddressMap()` and funcs/segAddr/segFunc until `buildFunctions()` (the .debug_info walk):
 * listing rows needs neither. A call into the instance
 * can grow its memory, which detaches every view, so each call is followed by a fresh view of the
 * table: read the arrays from this object after such a call, not from variables taken before it.
 */
export class ModuleData {
  strings!: Uint8Array;
  /** nFiles x 6: path off/len, table name off/len, objdump switch header off/len. */
  files!: Uint32Array;
  /** nCus x 6: first row, CU header off/len, version, id of file 1, id of file 0 (DWARF 5) or NONE. */
  cus!: Uint32Array;
  /** Row addresses when they do not all share their high 32 bits; else empty, and see rowLo. */
  rowAddr!: Float64Array;
  /** The low 32 bits of each row's address when all share the high ones (addrBase); else empty. */
  rowLo!: Uint32Array;
  /** The shared high bits of the addresses in rowLo, as a number (a multiple of 2^32). */
  addrBase = 0;
  /** nRows x 3: file, line, packed (column bits 0-15, ROW_* flags from PACKED_FLAG_SHIFT, objdump's view from PACKED_VIEW_SHIFT). */
  rowData!: Uint32Array;
  /** nExtra x 4: (row, discriminator, column, view) of the rows flagged ROW_EXTRA, by row. */
  rowExtra!: Uint32Array;
  /** nFuncs x 6: name off/len, parent, call file, call line, call column. */
  funcs!: Uint32Array;
  segAddr!: Float64Array;
  segFunc!: Uint32Array;
  lkAddr!: Float64Array;
  lkRow!: Uint32Array;
  /** The first problem met in units that were skipped, if any. */
  warning?: string;
  private functions = false;
  private addressMap = false;
  /** Set once the instance trapped: nothing may call into it again. */
  private dead = false;

  /**
   * `fill` copies the sections the line pass did not need (see copySections); it runs once, before
   * the function pass, and may throw (the file changed since).
   */
  constructor(private readonly wasm: DwarfWasmExports, private fill?: () => void) {
    this.view();
  }

  get functionsBuilt(): boolean {
    return this.functions;
  }
  get addressMapBuilt(): boolean {
    return this.addressMap;
  }

  /** Builds the address -> row map (lkAddr/lkRow) once; see `pass` for a trap. */
  buildAddressMap(): void {
    this.current();
    if (this.addressMap) return;
    this.addressMap = true;
    this.pass('building the address map', () => this.wasm.ps_build_address_map(), () => {
      this.lkAddr = new Float64Array(0);
      this.lkRow = new Uint32Array(0);
    });
  }

  /** Runs the function pass once; see `pass` for a trap. */
  buildFunctions(): void {
    this.current();
    if (this.functions) return;
    this.functions = true;
    const empty = () => {
      this.funcs = new Uint32Array(0);
      this.segAddr = new Float64Array(0);
      this.segFunc = new Uint32Array(0);
    };
    if (!this.dead && this.fill) {
      const fill = this.fill;
      this.fill = undefined; // whatever happens, once: the sources may be gone
      try {
        fill();
      } catch (e) {
        // The rows stay; without the rest of .debug_info there are no functions.
        if (isTrap(e)) this.dead = true;
        this.current();
        empty();
        const problem = `cannot read the functions: ${(e as Error).message}`;
        this.warning = this.warning ? `${this.warning}; ${problem}` : problem;
        return;
      }
    }
    this.pass('reading functions', () => this.wasm.ps_build_functions(), empty);
  }

  /**
   * A later pass over the built line index. A trap there leaves what was built before usable: the
   * result table still lists it (it is replaced only when a pass succeeds) and no pass changes the
   * arrays of another, except strings and files, which are copied first because a trap can leave
   * their old memory freed. What the pass was building stays empty (`empty`), `warning` says why,
   * and the instance is not called again.
   */
  private pass(doing: string, run: () => void, empty: () => void): void {
    if (this.dead) return empty();
    const { warning } = this;
    const strings = this.strings.slice();
    const files = this.files.slice();
    try {
      run();
    } catch (e) {
      if (!isTrap(e)) throw e;
      this.dead = true;
      this.view();
      this.strings = strings;
      this.files = files;
      empty();
      const problem = trapError(e, doing).message;
      this.warning = warning ? `${warning}; ${problem}` : problem;
      return;
    }
    this.view();
  }

  /**
   * The objdump --dwarf=decodedline text of every unit, in chunks of about `chunkBytes` (at most
   * 1 MiB) that are views of wasm memory, valid only during `write`.
   */
  writeText(write: (chunk: Uint8Array) => void, chunkBytes = 0): void {
    if (this.dead) throw new WasmIndexError('the DWARF decoder trapped earlier: reopen the module', true);
    for (let restart = 1; ; restart = 0) {
      let len: number;
      try {
        len = this.wasm.ps_text_next(restart, chunkBytes);
      } catch (e) {
        if (!isTrap(e)) throw e;
        // Rendering changes nothing of the index: view it afresh (the memory may have grown) and
        // keep it, but never call the instance again.
        this.view();
        this.dead = true;
        throw trapError(e, 'rendering the rows');
      }
      this.current();
      if (!len) return;
      write(new Uint8Array(this.wasm.memory.buffer, this.wasm.ps_text_ptr(), len));
    }
  }

  /** Views the arrays afresh if the memory grew since (which detaches views), unless the instance trapped. */
  private current(): void {
    // Growing the memory detaches every view (their length drops to 0), which is cheaper to see
    // than fetching memory.buffer on every lookup; an empty rowData is checked the slow way.
    if (this.rowData.byteLength > 0) return;
    if (!this.dead && this.wasm.memory.buffer !== this.rowData.buffer) this.view();
  }

  /** Views the arrays listed by the result table (wasm/src/out.rs). */
  private view(): void {
    const buf = this.wasm.memory.buffer;
    const t = new Uint32Array(buf, this.wasm.ps_result_ptr(), this.wasm.ps_result_len() / 4);
    if (t[0] !== MAGIC || t[1] !== FORMAT) throw new WasmIndexError(`unexpected result format ${t[1]} from the DWARF decoder: run \`npm run build\``, false);
    let i = 2;
    // Each array: (pointer, byte length, element count).
    const next = (): [number, number] => {
      const entry: [number, number] = [t[i], t[i + 2]];
      i += 3;
      return entry;
    };
    const u8 = () => new Uint8Array(buf, ...next());
    const u32 = () => new Uint32Array(buf, ...next());
    const f64 = () => new Float64Array(buf, ...next());
    this.strings = u8();
    this.files = u32();
    this.cus = u32();
    this.rowAddr = f64();
    this.rowData = u32();
    this.funcs = u32();
    this.segAddr = f64();
    this.segFunc = u32();
    this.lkAddr = f64();
    this.lkRow = u32();
    this.rowExtra = u32();
    this.rowLo = u32();
    this.addrBase = t[i++] * 2 ** 32;
    this.warning = t[i + 1] ? Buffer.from(new Uint8Array(buf, t[i], t[i + 1])).toString('utf8') : undefined;
  }
}

/** Sections the line pass never reads: copied into wasm memory only before the function pass. */
const DEFERRED = new Set(['.debug_ranges', '.debug_rnglists']);
/** Bytes of each .debug_info unit the line pass gets (its header and root DIE; the .wasm checks). */
const INFO_PREFIX = 4096;
/** Reads of .debug_info for the line pass are at least this long (small units: one read for many). */
const INFO_READ = 64 << 10;

type Source = Uint8Array | SectionSource;

function copyRange(source: Source, target: Uint8Array, from: number, to: number): void {
  if (to <= from) return;
  const into = target.subarray(from, to);
  if (source instanceof Uint8Array) into.set(source.subarray(from, to));
  else source.readInto(into, from);
}

/**
 * Copies the first `prefix` bytes of every unit of .debug_info into `target` (unit lengths as
 * DWARF frames them; anything odd, and everything after it, is copied whole). Returns the ranges
 * left out, for `fill`.
 */
function copyInfoPrefixes(source: Source, target: Uint8Array, prefix: number, minRead: number): Array<[number, number]> {
  const size = target.length;
  const gaps: Array<[number, number]> = [];
  let copied = 0; // [0, copied) is in place or listed in gaps
  const view = new DataView(target.buffer, target.byteOffset, size);
  for (let at = 0; at < size; ) {
    const need = Math.min(size, at + Math.max(prefix, 12)); // a 64-bit unit's length takes 12 bytes
    if (need > copied) {
      if (at > copied) gaps.push([copied, at]);
      const from = Math.max(at, copied);
      copied = Math.min(size, Math.max(need, from + minRead));
      copyRange(source, target, from, copied);
    }
    let total = -1;
    if (size - at >= 4) {
      const len32 = view.getUint32(at, true);
      if (len32 < 0xfffffff0) total = 4 + len32;
      else if (len32 === 0xffffffff && size - at >= 12) total = 12 + view.getUint32(at + 4, true) + view.getUint32(at + 8, true) * 2 ** 32;
    }
    if (total <= 4 || at + total > size) {
      // Not a unit DWARF can frame: the rest is copied whole.
      copyRange(source, target, copied, size);
      return gaps;
    }
    at += total;
  }
  if (size > copied) gaps.push([copied, size]);
  return gaps;
}

/**
 * Allocates every section in a fresh instance's memory and copies what the line pass reads: all of
 * .debug_line, the strings and the abbreviations, but of .debug_info only each unit's header and root
 * DIE (`infoPrefix` bytes of each unit, read `infoRead` bytes at a time), and none of the range lists
 * (with `infoPrefix` 0, everything). `fill()` copies the rest, at the same addresses, and tells the
 * instance; it throws when the file changed in between. Pass `prefix` to ps_build_index.
 */
export function copySections(
  wasm: DwarfWasmExports,
  sections: Map<string, Source>,
  { infoPrefix = INFO_PREFIX, infoRead = INFO_READ }: { infoPrefix?: number; infoRead?: number } = {},
): { table: number; count: number; prefix: number; fill: () => void } {
  const prefix = infoPrefix > 0;
  const entries = [...sections].filter(([name, bytes]) => SECTION_IDS[name] !== undefined && bytes.length > 0);
  const table = wasm.ps_alloc(entries.length * 12 || 4);
  const triples: number[] = [];
  const later: Array<[Source, number, number, number]> = []; // source, wasm address, from, to
  let partial = false;
  for (const [name, bytes] of entries) {
    const ptr = wasm.ps_alloc(bytes.length);
    if (!ptr) throw new WasmIndexError(`cannot allocate ${bytes.length} bytes for ${name}`, true);
    const target = new Uint8Array(wasm.memory.buffer, ptr, bytes.length);
    if (prefix && DEFERRED.has(name)) {
      later.push([bytes, ptr, 0, bytes.length]);
      partial = true;
    } else if (prefix && name === '.debug_info') {
      for (const [from, to] of copyInfoPrefixes(bytes, target, infoPrefix, infoRead)) later.push([bytes, ptr, from, to]);
      partial = true;
    } else {
      copyRange(bytes, target, 0, bytes.length);
    }
    triples.push(SECTION_IDS[name], ptr, bytes.length);
  }
  new Uint32Array(wasm.memory.buffer, table, triples.length).set(triples);
  const fill = () => {
    for (const [source, ptr, from, to] of later.splice(0)) {
      const length = source.length;
      copyRange(source, new Uint8Array(wasm.memory.buffer, ptr, length), from, to);
    }
    wasm.ps_sections_complete();
  };
  return { table, count: entries.length, prefix: partial ? infoPrefix : 0, fill };
}

/**
 * Builds the line index of the given sections in a fresh wasm instance (a trap cannot poison
 * another). The sections stay in the instance's memory: the function pass reads them later, after
 * `fill` has copied what the line pass did not need.
 */
export function buildModuleData(sections: Map<string, Source>, lineDecoder: 'fast' | 'gimli' = 'fast'): ModuleData {
  const wasm = instantiateDwarfWasm();
  wasm.ps_set_line_decoder(lineDecoder === 'gimli' ? 1 : 0);
  let status: number;
  let fill: () => void;
  try {
    const copied = copySections(wasm, sections);
    fill = copied.fill;
    status = wasm.ps_build_index(copied.table, copied.count, copied.prefix);
    if (status === 2) {
      // A root DIE ran past its prefix, or a unit had a problem: again with everything in place.
      fill();
      status = wasm.ps_build_index(copied.table, copied.count, 0);
    }
  } catch (e) {
    if (e instanceof WasmIndexError) throw e;
    if (isTrap(e)) throw trapError(e, 'reading line tables');
    throw e;
  }
  if (status !== 0) {
    const ptr = wasm.ps_result_ptr();
    throw new WasmIndexError(Buffer.from(new Uint8Array(wasm.memory.buffer, ptr, wasm.ps_result_len())).toString('utf8'), false);
  }
  return new ModuleData(wasm, fill);
}

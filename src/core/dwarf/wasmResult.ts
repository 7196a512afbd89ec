// Runs the gimli .wasm over a module's DWARF sections and views the index arrays in its memory in
// place: typed arrays, no per-row objects, no copy. The layout is documented in wasm/src/out.rs.
import { instantiateDwarfWasm } from '../dwarfWasm';
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
const FORMAT = 2;

export const ROW_STMT = 1;
export const ROW_END_SEQUENCE = 2;
/** DWARF 5 row whose sequence never set the file register (binutils then names file 0). */
export const ROW_UNSET_FILE5 = 4;

/** The decoded module: every array indexed as described in wasm/src/out.rs. */
export interface ModuleData {
  strings: Uint8Array;
  /** nFiles x 6: path off/len, table name off/len, objdump switch header off/len. */
  files: Uint32Array;
  /** nCus x 6: first row, CU header off/len, version, id of file 1, id of file 0 (DWARF 5) or NONE. */
  cus: Uint32Array;
  rowAddr: Float64Array;
  /** nRows x 5: file, line, column, flags, discriminator. */
  rowData: Uint32Array;
  /** nFuncs x 6: name off/len, parent, call file, call line, call column. */
  funcs: Uint32Array;
  segAddr: Float64Array;
  segFunc: Uint32Array;
  lkAddr: Float64Array;
  lkRow: Uint32Array;
  /** The first problem met in units that were skipped, if any. */
  warning?: string;
}

/** The .wasm failed: `trap` when it aborted (a bug or exhausted memory), else gimli's message. */
export class WasmIndexError extends Error {
  constructor(message: string, readonly trap: boolean) {
    super(message);
  }
}

/** Builds the index of the given sections in a fresh wasm instance (a trap cannot poison another). */
export function buildModuleData(sections: Map<string, Uint8Array | SectionSource>): ModuleData {
  const wasm = instantiateDwarfWasm();
  const entries = [...sections].filter(([name, bytes]) => SECTION_IDS[name] !== undefined && bytes.length > 0);
  let status: number;
  try {
    const table = wasm.ps_alloc(entries.length * 12 || 4);
    const triples: number[] = [];
    for (const [name, bytes] of entries) {
      const ptr = wasm.ps_alloc(bytes.length);
      if (!ptr) throw new WasmIndexError(`cannot allocate ${bytes.length} bytes for ${name}`, true);
      const target = new Uint8Array(wasm.memory.buffer, ptr, bytes.length);
      if (bytes instanceof Uint8Array) target.set(bytes);
      else bytes.readInto(target);
      triples.push(SECTION_IDS[name], ptr, bytes.length);
    }
    new Uint32Array(wasm.memory.buffer, table, triples.length).set(triples);
    status = wasm.ps_build_index(table, entries.length);
    // The index does not point into the sections: give their memory back to the allocator.
    for (let k = 0; k < triples.length; k += 3) wasm.ps_free(triples[k + 1], triples[k + 2]);
  } catch (e) {
    if (e instanceof WasmIndexError) throw e;
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
      throw new WasmIndexError(`the DWARF decoder trapped (${e.message}): the debug information is corrupt or too large`, true);
    }
    throw e;
  }
  const ptr = wasm.ps_result_ptr();
  const len = wasm.ps_result_len();
  if (status !== 0) throw new WasmIndexError(Buffer.from(new Uint8Array(wasm.memory.buffer, ptr, len)).toString('utf8'), false);
  return decode(wasm.memory.buffer, ptr, len);
}

/**
 * Views the index arrays where the .wasm built them. The views keep the instance's memory alive
 * (one memory per module); nothing calls into that instance again, so the memory never grows and
 * the views never detach.
 */
function decode(buf: ArrayBuffer, ptr: number, len: number): ModuleData {
  const t = new Uint32Array(buf, ptr, len / 4);
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
  const strings = u8();
  const files = u32();
  const cus = u32();
  const rowAddr = f64();
  const rowData = u32();
  const funcs = u32();
  const segAddr = f64();
  const segFunc = u32();
  const lkAddr = f64();
  const lkRow = u32();
  const warning = t[i + 1] ? Buffer.from(new Uint8Array(buf, t[i], t[i + 1])).toString('utf8') : undefined;
  return { strings, files, cus, rowAddr, rowData, funcs, segAddr, segFunc, lkAddr, lkRow, warning };
}

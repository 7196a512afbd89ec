// Runs the gimli .wasm over a module's DWARF sections and views its result buffer in place: typed
// arrays over one ArrayBuffer, no per-row objects. The layout is documented in wasm/src/out.rs.
import { instantiateDwarfWasm } from '../dwarfWasm';

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
const FORMAT = 1;

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
export function buildModuleData(sections: Map<string, Uint8Array>): ModuleData {
  const wasm = instantiateDwarfWasm();
  const entries = [...sections].filter(([name, bytes]) => SECTION_IDS[name] !== undefined && bytes.length > 0);
  let status: number;
  try {
    const table = wasm.ps_alloc(entries.length * 12 || 4);
    const triples: number[] = [];
    for (const [name, bytes] of entries) {
      const ptr = wasm.ps_alloc(bytes.length);
      if (!ptr) throw new WasmIndexError(`cannot allocate ${bytes.length} bytes for ${name}`, true);
      new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
      triples.push(SECTION_IDS[name], ptr, bytes.length);
    }
    new Uint32Array(wasm.memory.buffer, table, triples.length).set(triples);
    status = wasm.ps_build_index(table, entries.length);
  } catch (e) {
    if (e instanceof WasmIndexError) throw e;
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
      throw new WasmIndexError(`the DWARF decoder trapped (${e.message}): the debug information is corrupt or too large`, true);
    }
    throw e;
  }
  const ptr = wasm.ps_result_ptr();
  const len = wasm.ps_result_len();
  // Copy out: the instance (and its memory) is dropped after this call.
  const copy = new Uint8Array(len);
  copy.set(new Uint8Array(wasm.memory.buffer, ptr, len));
  if (status !== 0) throw new WasmIndexError(Buffer.from(copy).toString('utf8'), false);
  return decode(copy.buffer);
}

function decode(buf: ArrayBuffer): ModuleData {
  const h = new Uint32Array(buf, 0, 16);
  if (h[0] !== MAGIC || h[1] !== FORMAT) throw new WasmIndexError(`unexpected result format ${h[1]} from the DWARF decoder: run \`npm run build\``, false);
  const [nStrings, nFiles, nCus, nRows, nFuncs, nSegs, nLk, wOff, wLen] = h.subarray(2, 11);
  let at = 64;
  const align = () => (at = (at + 7) & ~7);
  const strings = new Uint8Array(buf, at, nStrings);
  at += nStrings;
  align();
  const files = new Uint32Array(buf, at, nFiles * 6);
  at += nFiles * 24;
  const cus = new Uint32Array(buf, at, nCus * 6);
  at += nCus * 24;
  align();
  const rowAddr = new Float64Array(buf, at, nRows);
  at += nRows * 8;
  const rowData = new Uint32Array(buf, at, nRows * 5);
  at += nRows * 20;
  align();
  const funcs = new Uint32Array(buf, at, nFuncs * 6);
  at += nFuncs * 24;
  align();
  const segAddr = new Float64Array(buf, at, nSegs);
  at += nSegs * 8;
  const segFunc = new Uint32Array(buf, at, nSegs);
  at += nSegs * 4;
  align();
  const lkAddr = new Float64Array(buf, at, nLk);
  at += nLk * 8;
  const lkRow = new Uint32Array(buf, at, nLk);
  const warning = wLen ? Buffer.from(strings.subarray(wOff, wOff + wLen)).toString('utf8') : undefined;
  return { strings, files, cus, rowAddr, rowData, funcs, segAddr, segFunc, lkAddr, lkRow, warning };
}

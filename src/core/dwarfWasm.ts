// Loads the DWARF decoder compiled from wasm/ (gimli) and checks its ABI version.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { distAsset } from './assets';

/** Exports of planescope_dwarf.wasm; extended by the DWARF reader. */
export interface DwarfWasmExports {
  memory: WebAssembly.Memory;
  ps_abi_version(): number;
  ps_alloc(size: number): number;
  ps_free(ptr: number, size: number): void;
  /** 1: decode line programs with gimli alone, not the fast interpreter (tests compare the two). */
  ps_set_line_decoder(gimliOnly: number): void;
  /**
   * Builds the line index from `count` (section id, ptr, len) u32 triples; `infoPrefix` != 0: only
   * that many bytes of each .debug_info unit (and no range lists) are in place yet. 0 = ok, 1 = error
   * message, 2 = the prefix did not suffice (call again with everything in place and 0).
   */
  ps_build_index(table: number, count: number, infoPrefix: number): number;
  /** Everything a prefix call of ps_build_index left out has been copied in. */
  ps_sections_complete(): void;
  /** Adds the address -> row map to the index (once); 0 = ok (the table is updated, arrays may have moved), 1 = no index. */
  ps_build_address_map(): number;
  /** Adds the functions to the index (once); 0 = ok (the table is updated, arrays may have moved), 1 = no index, 2 = sections incomplete. */
  ps_build_functions(): number;
  /** Renders the next chunk (about `limit` bytes, 0 = 1 MiB) of objdump --dwarf=decodedline text (restart != 0: from the start); its length, 0 at the end. */
  ps_text_next(restart: number, limit: number): number;
  /** Where the last chunk of ps_text_next starts. */
  ps_text_ptr(): number;
  /** The result of the last ps_build_index / ps_build_functions call: the index table (see wasm/src/out.rs) or a UTF-8 error message. */
  ps_result_ptr(): number;
  ps_result_len(): number;
}

export const DWARF_WASM_ABI = 6;

let compiled: WebAssembly.Module | undefined;

/**
 * For short-lived processes (the CLI): run the .wasm on V8's baseline compiler (Liftoff) only. The
 * optimising tier recompiles the hot decoder in the background, which costs a one-shot index build
 * more CPU than its faster code saves (bench/dwarf.mjs measures both). A process-wide V8 flag, so
 * only for processes that index once; it must run before the first module is compiled.
 */
export function preferBaselineWasm(): void {
  if (!compiled) setFlagsFromString('--liftoff-only');
}

/** A fresh instance (its own memory), so that a trap in one never poisons another. */
export function instantiateDwarfWasm(): DwarfWasmExports {
  compiled ??= new WebAssembly.Module(readFileSync(distAsset('planescope_dwarf.wasm')));
  const instance = new WebAssembly.Instance(compiled, {});
  const exports = instance.exports as unknown as DwarfWasmExports;
  const abi = exports.ps_abi_version();
  if (abi !== DWARF_WASM_ABI) {
    throw new Error(`planescope_dwarf.wasm has ABI ${abi}, this build expects ${DWARF_WASM_ABI}: run \`npm run build\``);
  }
  return exports;
}

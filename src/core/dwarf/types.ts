// What the DWARF/ELF layer answers about one module (executable or shared object). Implemented over the
// gimli .wasm; consumed by classification, the extension and the debug adapter.

export interface InlineFrame {
  /** The function name (demangled where possible), '??' when unknown. */
  function: string;
  file: string;
  line: number;
  column: number;
}

export interface AddressInfo {
  /** Link-time address looked up (module-relative, as in the taint log). */
  offset: number;
  file: string;
  line: number;
  column: number;
  /** The outermost (non-inlined) function containing the address. */
  function: string;
  /**
   * The inline chain as `addr2line -f -i` prints it: innermost first. frames[0] is the code's own
   * location and function; each following frame is the caller it was inlined into, at the call site.
   * A non-inlined address has exactly one frame.
   */
  frames: InlineFrame[];
}

export interface LineRow {
  address: number;
  file: string;
  line: number;
  column: number;
  isStmt: boolean;
  endSequence: boolean;
}

export interface ModuleIndex {
  path: string;
  buildId: string;
  /** address -> source, O(log n); undefined outside any line-table sequence. */
  lookup(offset: number): AddressInfo | undefined;
  /** (file, line) -> [start, end) address ranges: for breakpoints and per-line aggregation. */
  rangesForLine(file: string, line: number): Array<[number, number]>;
  /** Every source file the line tables name (absolute paths). */
  files(): string[];
}

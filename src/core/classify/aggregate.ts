// From merged per-component counts to the classified view: one row per static instruction (module,
// offset) with its plane, source attribution and per-line / per-function aggregates.
import type { PointerPolicy } from '../taintLog/types';
import { Attribution, isSystemSource, ModuleSource } from './attribute';
import { keyOrder } from './keyOrder';
import { InstructionLabels, InstructionTable, RunMerger } from './merge';
import { INSN_INLINED, INSN_SYSTEM_SOURCE, PLANE_CONTROL, PLANE_DATA } from '../db/schema';

/**
 * The plane of an instruction from its counts: decided by the primary policy's runs when it executed in
 * any, else by the other policy's. Returns [plane, executions, tainted] of the deciding policy.
 */
export function decide(primary: PointerPolicy, execIns: number, taintIns: number, execSens: number, taintSens: number): [number, number, number] {
  const [execP, taintP, execO, taintO] = primary === 'insensitive' ? [execIns, taintIns, execSens, taintSens] : [execSens, taintSens, execIns, taintIns];
  if (execP > 0 || taintP > 0) return [taintP > 0 ? PLANE_DATA : PLANE_CONTROL, execP, taintP];
  return [taintO > 0 ? PLANE_DATA : PLANE_CONTROL, execO, taintO];
}

/** Whether the primary policy's runs decide this instruction (they executed it); decide() without an array, for hot loops. */
export function decidingPolicyIsPrimary(primary: PointerPolicy, execIns: number, taintIns: number, execSens: number, taintSens: number): boolean {
  return primary === 'insensitive' ? execIns > 0 || taintIns > 0 : execSens > 0 || taintSens > 0;
}

export interface FunctionAgg {
  id: number;
  module: number;
  name: string;
  controlInsns: number;
  dataInsns: number;
  executions: number;
  dataExecutions: number;
}

export interface LineAgg {
  file: number;
  line: number;
  controlInsns: number;
  dataInsns: number;
  executions: number;
  dataExecutions: number;
  functions: Set<number>;
  labels: Set<number>;
  /** Provenance of `labels` (their text, with the parts of mixed ones), one label per provenance. */
  labelTexts?: Set<string>;
  sites: number[];
}

/** At most this many labels per line (a hover lists a few; the ids are the first runs' ones). */
export const MAX_LINE_LABELS = 32;

/** Adds a label to a line unless the line has one of the same provenance already, or MAX_LINE_LABELS. */
export function addLineLabel(agg: LineAgg, label: number, provenance: string): void {
  if (agg.labels.size >= MAX_LINE_LABELS) return;
  const texts = agg.labelTexts ?? (agg.labelTexts = new Set());
  if (texts.has(provenance)) return;
  texts.add(provenance);
  agg.labels.add(label);
}

/** Every static instruction once, merged over components, in typed columns, in (module, offset) order. */
export class GlobalInstructions {
  size = 0;
  module: Uint16Array;
  offset: Float64Array;
  execIns: Float64Array;
  taintIns: Float64Array;
  execSens: Float64Array;
  taintSens: Float64Array;
  plane: Uint8Array;
  executions: Float64Array;
  tainted: Float64Array;
  file: Int32Array;
  line: Int32Array;
  func: Int32Array;
  outer: Int32Array;
  flags: Uint8Array;
  /** InstructionTable row -> global row. */
  rowOf: Int32Array;

  /** The global rows of a few (module, offset) keys: binary searches, the rows being in key order. */
  rowsOf(keys: Array<{ module: number; offset: number }>): Array<number | undefined> {
    return keys.map((k) => {
      let lo = 0;
      let hi = this.size;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.module[mid] < k.module || (this.module[mid] === k.module && this.offset[mid] < k.offset)) lo = mid + 1;
        else hi = mid;
      }
      return lo < this.size && this.module[lo] === k.module && this.offset[lo] === k.offset ? lo : undefined;
    });
  }

  constructor(table: InstructionTable) {
    const n = table.size;
    this.rowOf = new Int32Array(n);
    this.module = new Uint16Array(n);
    this.offset = new Float64Array(n);
    this.execIns = new Float64Array(n);
    this.taintIns = new Float64Array(n);
    this.execSens = new Float64Array(n);
    this.taintSens = new Float64Array(n);
    // The table's rows in (module, offset) order, whatever their component: equal keys (one instruction run
    // by several components) are neighbours and merge into one row, and the rows come out in key order.
    const order = keyOrder(n, (r) => table.module[r], table.offset);
    for (let i = 0; i < n; i++) {
      const r = order ? order[i] : i;
      const g = this.size > 0 && this.module[this.size - 1] === table.module[r] && this.offset[this.size - 1] === table.offset[r] ? this.size - 1 : this.size++;
      this.module[g] = table.module[r];
      this.offset[g] = table.offset[r];
      this.rowOf[r] = g;
      this.execIns[g] += table.execIns[r];
      this.taintIns[g] += table.taintIns[r];
      this.execSens[g] += table.execSens[r];
      this.taintSens[g] += table.taintSens[r];
    }
    const m = this.size;
    this.plane = new Uint8Array(m);
    this.executions = new Float64Array(m);
    this.tainted = new Float64Array(m);
    this.file = new Int32Array(m).fill(-1);
    this.line = new Int32Array(m);
    this.func = new Int32Array(m).fill(-1);
    this.outer = new Int32Array(m).fill(-1);
    this.flags = new Uint8Array(m);
  }

  classify(primary: PointerPolicy): void {
    for (let g = 0; g < this.size; g++) {
      const ins = decidingPolicyIsPrimary(primary, this.execIns[g], this.taintIns[g], this.execSens[g], this.taintSens[g]) === (primary === 'insensitive');
      const executions = ins ? this.execIns[g] : this.execSens[g];
      const tainted = ins ? this.taintIns[g] : this.taintSens[g];
      this.plane[g] = tainted > 0 ? PLANE_DATA : PLANE_CONTROL;
      this.executions[g] = executions;
      this.tainted[g] = tainted;
    }
  }
}

export class SourceRegistry {
  readonly files: string[] = [];
  readonly functions: FunctionAgg[] = [];
  private readonly fileIds = new Map<string, number>();
  private readonly functionIds = new Map<number, Map<string, number>>();

  file(path: string): number {
    let id = this.fileIds.get(path);
    if (id === undefined) {
      id = this.files.length + 1;
      this.files.push(path);
      this.fileIds.set(path, id);
    }
    return id;
  }

  fn(module: number, name: string): number {
    let ids = this.functionIds.get(module);
    if (!ids) this.functionIds.set(module, (ids = new Map()));
    let id = ids.get(name);
    if (id === undefined) {
      id = this.functions.length + 1;
      this.functions.push({ id, module, name, controlInsns: 0, dataInsns: 0, executions: 0, dataExecutions: 0 });
      ids.set(name, id);
    }
    return id;
  }

  filePath(id: number): string {
    return this.files[id - 1];
  }
}

/**
 * Looks up every instruction of every module with debug info. `progress` is called every so many rows.
 * Lookups are sorted by module so each index is used in one stretch.
 */
export function attributeAll(
  global: GlobalInstructions,
  sources: Map<number, ModuleSource>,
  registry: SourceRegistry,
  lookup: (source: ModuleSource, offset: number) => Attribution | undefined,
  progress?: (done: number, total: number) => void,
): void {
  // Rows are in address order, so neighbours mostly share file and functions: reuse the last ids.
  let lastModule = -1, lastFile = '', lastFileId = -1, lastFn = '', lastFnId = -1, lastOuter = '', lastOuterId = -1;
  for (let g = 0; g < global.size; g++) {
    if (progress && g % 100000 === 0) progress(g, global.size);
    const module = global.module[g];
    const source = sources.get(module);
    if (!source?.index) continue;
    const a = lookup(source, global.offset[g]);
    if (!a) continue;
    if (module !== lastModule) {
      lastModule = module;
      lastFn = lastOuter = '';
      lastFnId = lastOuterId = -1;
    }
    if (a.file !== lastFile || lastFileId < 0) lastFileId = registry.file((lastFile = a.file));
    if (a.function !== lastFn || lastFnId < 0) lastFnId = registry.fn(module, (lastFn = a.function));
    if (a.outerFunction !== lastOuter || lastOuterId < 0) lastOuterId = registry.fn(module, (lastOuter = a.outerFunction));
    global.file[g] = lastFileId;
    global.line[g] = a.line;
    global.func[g] = lastFnId;
    global.outer[g] = lastOuterId;
    global.flags[g] = (a.inlined ? INSN_INLINED : 0) | (isSystemSource(a.file) ? INSN_SYSTEM_SOURCE : 0);
  }
  progress?.(global.size, global.size);
}

/** Per-line aggregates, by file id then line. */
export class LineTable {
  private readonly byFile = new Map<number, Map<number, LineAgg>>();
  size = 0;

  get(file: number, line: number): LineAgg | undefined {
    return this.byFile.get(file)?.get(line);
  }

  getOrCreate(file: number, line: number): LineAgg {
    let lines = this.byFile.get(file);
    if (!lines) this.byFile.set(file, (lines = new Map()));
    let agg = lines.get(line);
    if (!agg) {
      agg = { file, line, controlInsns: 0, dataInsns: 0, executions: 0, dataExecutions: 0, functions: new Set(), labels: new Set(), sites: [] };
      lines.set(line, agg);
      this.size++;
    }
    return agg;
  }

  *values(): IterableIterator<LineAgg> {
    for (const lines of this.byFile.values()) yield* lines.values();
  }
}

export function aggregate(global: GlobalInstructions, registry: SourceRegistry): LineTable {
  const lines = new LineTable();
  for (let g = 0; g < global.size; g++) {
    const data = global.plane[g] === PLANE_DATA;
    const f = global.func[g];
    if (f >= 0) {
      const fn = registry.functions[f - 1];
      if (data) fn.dataInsns++;
      else fn.controlInsns++;
      fn.executions += global.executions[g];
      if (data) fn.dataExecutions += global.executions[g];
    }
    const file = global.file[g];
    if (file < 0) continue;
    const agg = lines.getOrCreate(file, global.line[g]);
    if (data) agg.dataInsns++;
    else agg.controlInsns++;
    agg.executions += global.executions[g];
    if (data) agg.dataExecutions += global.executions[g];
    if (f >= 0) agg.functions.add(f);
  }
  return lines;
}

/**
 * Gives each line the labels its tainted instructions logged (`insn ... label=`), from the runs whose policy
 * decides the instruction's plane, in run order.
 */
export function attachInstructionLabels(lines: LineTable, global: GlobalInstructions, labels: InstructionLabels, primary: PointerPolicy, provenanceOf: (label: number) => string): void {
  const primarySensitive = primary === 'sensitive' ? 1 : 0;
  for (let i = 0; i < labels.size; i++) {
    const g = global.rowOf[labels.row[i]];
    if (global.file[g] < 0) continue;
    const byPrimary = decidingPolicyIsPrimary(primary, global.execIns[g], global.taintIns[g], global.execSens[g], global.taintSens[g]);
    if (byPrimary !== (labels.sensitive[i] === primarySensitive)) continue;
    const agg = lines.get(global.file[g], global.line[g]);
    if (agg) addLineLabel(agg, labels.label[i], provenanceOf(labels.label[i]));
  }
}

export { RunMerger };

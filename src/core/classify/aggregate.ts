// From merged per-component counts to the classified view: one row per static instruction (module,
// offset) with its plane, source attribution and per-line / per-function aggregates.
import type { PointerPolicy } from '../taintLog/types';
import { Attribution, isSystemSource, ModuleSource } from './attribute';
import { InstructionTable, RunMerger } from './merge';
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
  sites: number[];
}

/** Every static instruction once, merged over components, in typed columns. */
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

  constructor(table: InstructionTable) {
    const n = table.size;
    const index = new Map<number, number>();
    this.rowOf = new Int32Array(n);
    this.module = new Uint16Array(n);
    this.offset = new Float64Array(n);
    this.execIns = new Float64Array(n);
    this.taintIns = new Float64Array(n);
    this.execSens = new Float64Array(n);
    this.taintSens = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const key = table.module[r] * 2 ** 32 + table.offset[r];
      let g = index.get(key);
      if (g === undefined) {
        g = this.size++;
        index.set(key, g);
        this.module[g] = table.module[r];
        this.offset[g] = table.offset[r];
      }
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
      const [plane, executions, tainted] = decide(primary, this.execIns[g], this.taintIns[g], this.execSens[g], this.taintSens[g]);
      this.plane[g] = plane;
      this.executions[g] = executions;
      this.tainted[g] = tainted;
    }
  }
}

export class SourceRegistry {
  readonly files: string[] = [];
  readonly functions: FunctionAgg[] = [];
  private readonly fileIds = new Map<string, number>();
  private readonly functionIds = new Map<string, number>();

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
    const key = `${module}\0${name}`;
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length + 1;
      this.functions.push({ id, module, name, controlInsns: 0, dataInsns: 0, executions: 0, dataExecutions: 0 });
      this.functionIds.set(key, id);
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
  for (let g = 0; g < global.size; g++) {
    if (progress && g % 100000 === 0) progress(g, global.size);
    const source = sources.get(global.module[g]);
    if (!source?.index) continue;
    const a = lookup(source, global.offset[g]);
    if (!a) continue;
    global.file[g] = registry.file(a.file);
    global.line[g] = a.line;
    global.func[g] = registry.fn(global.module[g], a.function);
    global.outer[g] = registry.fn(global.module[g], a.outerFunction);
    global.flags[g] = (a.inlined ? INSN_INLINED : 0) | (isSystemSource(a.file) ? INSN_SYSTEM_SOURCE : 0);
  }
  progress?.(global.size, global.size);
}

export function aggregate(global: GlobalInstructions, registry: SourceRegistry): Map<number, LineAgg> {
  const lines = new Map<number, LineAgg>();
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
    const key = lineKey(file, global.line[g]);
    let agg = lines.get(key);
    if (!agg) {
      agg = { file, line: global.line[g], controlInsns: 0, dataInsns: 0, executions: 0, dataExecutions: 0, functions: new Set(), labels: new Set(), sites: [] };
      lines.set(key, agg);
    }
    if (data) agg.dataInsns++;
    else agg.controlInsns++;
    agg.executions += global.executions[g];
    if (data) agg.dataExecutions += global.executions[g];
    if (f >= 0) agg.functions.add(f);
  }
  return lines;
}

export function lineKey(file: number, line: number): number {
  return file * 2 ** 24 + line;
}

export { RunMerger };

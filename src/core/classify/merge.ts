// Merges parsed taint logs into one in-memory model: runs, modules keyed by build-id, per-component
// instruction counts split by pointer policy, pointer sites, labels with DB-wide ids, I/O and messages.
// Pure: no file system, no DWARF (classification attributes source lines afterwards).
import { basename } from 'node:path';
import type { LabelProvenance, PointerPolicy, TaintLog } from '../taintLog/types';

export type ModuleKind = 'executable' | 'own-library' | 'system-library' | 'tooling';

export interface MergedModule {
  /** 1-based, the DB id. */
  id: number;
  /** build-id, or `path:<path>` for an object without one. */
  key: string;
  buildId: string;
  path: string;
  kind: ModuleKind;
}

export interface MergedComponent {
  id: number;
  name: string;
  exe: string;
  mainModule?: number;
}

export interface MergedRun {
  id: number;
  component: number;
  logPath: string;
  pid: number;
  /** The pid other processes' message labels name this run by (peerPidOf). */
  peerPid: number;
  ppid: number;
  exe: string;
  args: string[];
  startMs: number;
  policy: PointerPolicy;
  toolVersion: string;
  icount: number;
  endReason: string;
  endDetail: number | null;
  userData: string[];
  /** log module id -> merged module id, bias */
  modules: Array<{ logId: number; module: number; bias: number }>;
}

export interface MergedLabel {
  id: number;
  run: number;
  logId: number;
  provenance: LabelProvenance;
  /** For mixed labels: DB ids of the parts (those the log defined). */
  parts: number[];
  text: string;
}

export interface MergedSite {
  module: number;
  offset: number;
  access: 'load' | 'store';
  countInsensitive: number;
  countSensitive: number;
  runs: number;
  /** DB label id of the representative label (from the run with the highest count). */
  label?: number;
  bestCount: number;
  /** Runs in which the site appeared (for the per-byte rate). */
  runIds: number[];
}

export interface MergedIo {
  run: number;
  kind: string;
  direction: string;
  tainted: number;
  clean: number;
}

export interface MergedMessage {
  run: number;
  peer: string;
  msg: number;
  label: number;
}

/**
 * The pid a run's peers name it by in message labels (`exe:pid@host`). A replay (`planescope replay
 * --analyze`) runs under a new pid but replays getpid, so its hellos carry the recorded pid; the replay
 * names its taint log `<exe>.<recorded pid>.taintlog` (src/core/recording/analyze.ts), as online runs
 * are named `<exe>.<pid>.taintlog`. So: the number in a log named after its own executable, else the pid.
 */
export function peerPidOf(logPath: string, exe: string, pid: number): number {
  const m = /^(.+)\.(\d+)\.taintlog$/.exec(basename(logPath));
  return m && m[1] === basename(exe) ? Number(m[2]) : pid;
}

const MAX_COMPONENTS = 512;
export const MAX_MODULES = 4096;
/** Offsets are link-time offsets in a module, or absolute addresses outside any (m=0): below 2^53 either way. */
const OFFSET_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Per-(component, module, offset) counts in growable typed columns: 1 M instructions stay a few tens of
 * MB, where one object per instruction would not.
 */
export class InstructionTable {
  // One map per (component, module): offsets stay small integers, which V8 hashes fast.
  private readonly index = new Map<number, Map<number, number>>();
  size = 0;
  component = new Uint16Array(1024);
  module = new Uint16Array(1024);
  offset = new Float64Array(1024);
  execIns = new Float64Array(1024);
  taintIns = new Float64Array(1024);
  execSens = new Float64Array(1024);
  taintSens = new Float64Array(1024);

  // Components whose rows are not in `index` yet: a component's first log has unique keys (the parser
  // sums a log's deltas), so its rows are appended without lookups; the index is built only when a
  // second log of the same component arrives.
  private readonly unindexed = new Set<number>();
  private readonly seen = new Set<number>();
  private appending = -1;

  /** Call before the instructions of one log of `component`. */
  beginLog(component: number): void {
    if (!this.seen.has(component)) {
      this.seen.add(component);
      this.unindexed.add(component);
      this.appending = component;
      return;
    }
    this.appending = -1;
    if (this.unindexed.delete(component)) {
      for (let r = 0; r < this.size; r++) {
        if (this.component[r] !== component) continue;
        const group = component * MAX_MODULES + this.module[r];
        let rows = this.index.get(group);
        if (!rows) this.index.set(group, (rows = new Map()));
        rows.set(this.offset[r], r);
      }
    }
  }

  /** Adds one log's counts of an instruction; returns its row. */
  add(component: number, module: number, offset: number, policy: PointerPolicy, executions: number, tainted: number): number {
    if (!(offset >= 0 && offset <= OFFSET_LIMIT)) throw new Error(`instruction offset ${offset} is not an address (negative, or beyond 2^53)`);
    let row: number | undefined;
    if (component === this.appending) {
      row = this.newRow(component, module, offset);
    } else {
      const group = component * MAX_MODULES + module;
      let rows = this.index.get(group);
      if (!rows) this.index.set(group, (rows = new Map()));
      row = rows.get(offset);
      if (row === undefined) {
        row = this.newRow(component, module, offset);
        rows.set(offset, row);
      }
    }
    if (policy === 'sensitive') {
      this.execSens[row] += executions;
      this.taintSens[row] += tainted;
    } else {
      this.execIns[row] += executions;
      this.taintIns[row] += tainted;
    }
    return row;
  }

  private newRow(component: number, module: number, offset: number): number {
    const row = this.size++;
    if (row >= this.component.length) this.grow();
    this.component[row] = component;
    this.module[row] = module;
    this.offset[row] = offset;
    return row;
  }

  private grow(): void {
    const n = this.component.length * 2;
    const growU16 = (a: Uint16Array) => { const b = new Uint16Array(n); b.set(a); return b; };
    const growF64 = (a: Float64Array) => { const b = new Float64Array(n); b.set(a); return b; };
    this.component = growU16(this.component);
    this.module = growU16(this.module);
    this.offset = growF64(this.offset);
    this.execIns = growF64(this.execIns);
    this.taintIns = growF64(this.taintIns);
    this.execSens = growF64(this.execSens);
    this.taintSens = growF64(this.taintSens);
  }
}

/**
 * The labels logged on tainted instructions (`insn ... label=`), one entry per (row, run): row of the
 * InstructionTable, DB label id, and the policy of the run (a line shows the labels of the runs that decide
 * its plane). Growable typed columns: most instructions of a big log carry none.
 */
export class InstructionLabels {
  size = 0;
  row = new Uint32Array(256);
  label = new Uint32Array(256);
  sensitive = new Uint8Array(256);

  add(row: number, label: number, policy: PointerPolicy): void {
    if (this.size === this.row.length) {
      const grow = <T extends Uint32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.row = grow(this.row);
      this.label = grow(this.label);
      this.sensitive = grow(this.sensitive);
    }
    this.row[this.size] = row;
    this.label[this.size] = label;
    this.sensitive[this.size] = policy === 'sensitive' ? 1 : 0;
    this.size++;
  }
}

export function labelText(p: LabelProvenance, parts: number): string {
  switch (p.kind) {
    case 'file':
      return `${p.path} bytes ${p.start}..${p.end}`;
    case 'msg':
      return `message ${p.msg} from ${p.peer}${p.origin ? ` (${p.origin})` : ''}`;
    case 'mixed':
      return `mixed: ${parts} sources`;
  }
}

/** The pseudo-module of code outside every ELF object (module id 0 in a log). */
export const ANONYMOUS_MODULE = '[outside any ELF object]';

const TOOLING = /^(vgpreload_.*|librecord\.so.*|ld-valgrind.*)$/;
const SYSTEM_PREFIXES = ['/usr/', '/lib/', '/lib64/', '/lib32/', '/libx32/'];

export function moduleKind(path: string, executables: ReadonlySet<string>): ModuleKind {
  if (executables.has(path)) return 'executable';
  if (TOOLING.test(basename(path)) || path.includes('/valgrind/')) return 'tooling';
  if (SYSTEM_PREFIXES.some((p) => path.startsWith(p))) return 'system-library';
  return 'own-library';
}

export function executablePath(log: TaintLog): string {
  const exe = log.process.exe;
  if (log.modules.some((m) => m.path === exe)) return exe;
  const name = basename(exe);
  const match = log.modules.filter((m) => basename(m.path) === name);
  return match.length === 1 ? match[0].path : exe;
}

/** planegrind's warning record for a --user-data glob that matched no file the process opened. */
const UNMATCHED_GLOB = /--user-data glob '(.*)' matched no file opened in this run/;

export class RunMerger {
  readonly components: MergedComponent[] = [];
  readonly runs: MergedRun[] = [];
  readonly modules: MergedModule[] = [];
  readonly labels: MergedLabel[] = [];
  readonly io: MergedIo[] = [];
  readonly messages: MergedMessage[] = [];
  readonly instructions = new InstructionTable();
  readonly instructionLabels = new InstructionLabels();
  readonly warnings: Array<{ kind: string; subject: string; text: string }> = [];
  private readonly sitesByKey = new Map<number, Map<number, MergedSite>>();
  private readonly siteList: MergedSite[] = [];
  private readonly moduleByKey = new Map<string, MergedModule>();
  private readonly componentByExe = new Map<string, MergedComponent>();
  /** Per --user-data glob: matched by some run, or the logs that said it matched nothing. */
  private readonly globs = new Map<string, { matched: boolean; unmatchedIn: string[] }>();

  get sites(): MergedSite[] {
    return this.siteList;
  }

  policies(): Set<PointerPolicy> {
    return new Set(this.runs.map((r) => r.policy));
  }

  /** The policy that decides planes: insensitive (the paper's) whenever such runs exist. */
  primaryPolicy(): PointerPolicy {
    return this.runs.some((r) => r.policy === 'insensitive') || this.runs.length === 0 ? 'insensitive' : 'sensitive';
  }

  /** Every process gets the same globs and each opens only some of the files: a glob is worth a
   *  warning only when no process of the merge opened a file it matches (one warning, not one per log). */
  private noteGlobs(log: TaintLog, unmatched: Set<string>): void {
    for (const glob of new Set([...log.userData, ...unmatched])) {
      const g = this.globs.get(glob) ?? { matched: false, unmatchedIn: [] };
      this.globs.set(glob, g);
      if (g.matched) continue;
      const i = this.warnings.findIndex((w) => w.kind === 'unmatched-glob' && w.subject === glob);
      if (i >= 0) this.warnings.splice(i, 1);
      if (!unmatched.has(glob)) {
        g.matched = true;
        continue;
      }
      g.unmatchedIn.push(log.source);
      const n = g.unmatchedIn.length;
      const where = n === 1 ? `the run of ${g.unmatchedIn[0]}` : `any of the ${n} runs (${g.unmatchedIn.slice(0, 3).join(', ')}${n > 3 ? ', ...' : ''})`;
      this.warnings.push({ kind: 'unmatched-glob', subject: glob, text: `--user-data glob '${glob}' matched no file opened in ${where}: check the pattern` });
    }
  }

  addLog(log: TaintLog): MergedRun {
    // The executable as loaded (absolute) when the log's exe is argv[0]-like (./server): the module of
    // the same name; so `./server` and `/srv/bin/server` runs are one component.
    const exe = executablePath(log);
    let component = this.componentByExe.get(exe);
    if (!component) {
      if (this.components.length >= MAX_COMPONENTS) throw new Error(`more than ${MAX_COMPONENTS} distinct executables`);
      component = { id: this.components.length + 1, name: basename(exe), exe };
      this.components.push(component);
      this.componentByExe.set(exe, component);
    }
    const run: MergedRun = {
      id: this.runs.length + 1,
      component: component.id,
      logPath: log.source,
      pid: log.process.pid,
      peerPid: peerPidOf(log.source, log.process.exe, log.process.pid),
      ppid: log.process.ppid,
      exe: log.process.exe,
      args: log.process.args,
      startMs: log.process.startMs,
      policy: log.tool.policy,
      toolVersion: log.tool.version,
      icount: log.icount,
      endReason: log.end.reason,
      endDetail: log.end.reason === 'exit' ? log.end.code : log.end.reason === 'signal' ? log.end.signal : null,
      userData: log.userData,
      modules: [],
    };
    this.runs.push(run);
    if (log.end.reason === 'truncated') {
      this.warnings.push({ kind: 'truncated-log', subject: log.source, text: `${log.source} was cut short (no end record: the process was killed, or is still running): its records up to the cut are used` });
    }
    const unmatched = new Set<string>();
    for (const w of log.warnings) {
      // The cut-short case has its own warning above.
      if (log.end.reason === 'truncated' && /no `end` record/.test(w)) continue;
      const glob = UNMATCHED_GLOB.exec(w)?.[1];
      if (glob !== undefined) {
        unmatched.add(glob);
        continue;
      }
      this.warnings.push({ kind: 'log-warning', subject: log.source, text: w.startsWith(log.source) ? w : `${log.source}: ${w}` });
    }
    this.noteGlobs(log, unmatched);

    const moduleOf = new Map<number, number>();
    for (const m of log.modules) {
      const key = m.buildId ? m.buildId : `path:${m.path}`;
      let merged = this.moduleByKey.get(key);
      if (!merged) {
        if (this.modules.length >= MAX_MODULES) throw new Error(`more than ${MAX_MODULES} distinct modules`);
        merged = { id: this.modules.length + 1, key, buildId: m.buildId, path: m.path, kind: 'own-library' };
        this.modules.push(merged);
        this.moduleByKey.set(key, merged);
      }
      moduleOf.set(m.id, merged.id);
      run.modules.push({ logId: m.id, module: merged.id, bias: m.bias });
    }
    // Labels: log ids are per log; give each a DB-wide id, then resolve mixed parts.
    const labelOf = new Map<number, number>();
    const firstLabel = this.labels.length;
    for (const label of log.labels.values()) {
      const id = this.labels.length + 1;
      labelOf.set(label.id, id);
      this.labels.push({ id, run: run.id, logId: label.id, provenance: label.provenance, parts: [], text: '' });
    }
    for (let i = firstLabel; i < this.labels.length; i++) {
      const label = this.labels[i];
      const p = label.provenance;
      if (p.kind === 'mixed') label.parts = p.of.map((part) => labelOf.get(part)).filter((x): x is number => x !== undefined);
      if (p.kind === 'msg') this.messages.push({ run: run.id, peer: p.peer, msg: p.msg, label: label.id });
      label.text = labelText(p, label.parts.length);
    }

    let unknownInsnModules = 0;
    let unknownInsnLabels = 0;
    this.instructions.beginLog(component.id);
    for (const insn of log.instructions) {
      let module = moduleOf.get(insn.module);
      // m=0: code outside every ELF object (the vDSO, trampolines, generated code): kept under one pseudo-module.
      if (module === undefined && insn.module === 0 && !log.modules.some((m) => m.id === 0)) module = this.anonymousModule();
      if (module === undefined) {
        unknownInsnModules++;
        continue;
      }
      const row = this.instructions.add(component.id, module, insn.offset, log.tool.policy, insn.executions, insn.taintedExecutions);
      if (insn.label !== undefined && insn.taintedExecutions > 0) {
        const label = labelOf.get(insn.label);
        if (label === undefined) unknownInsnLabels++;
        else this.instructionLabels.add(row, label, log.tool.policy);
      }
    }
    if (unknownInsnLabels) {
      this.warnings.push({ kind: 'unknown-label', subject: log.source, text: `${log.source}: ${unknownInsnLabels} insn records name labels that no label record defines; their lines lack that provenance` });
    }
    if (unknownInsnModules) {
      this.warnings.push({ kind: 'unknown-module', subject: log.source, text: `${log.source}: ${unknownInsnModules} insn records name undeclared modules; skipped` });
    }

    let unknownSiteModules = 0;
    for (const site of log.sites) {
      // m=0: outside every ELF object, like instructions there.
      const module = site.module === 0 && !moduleOf.has(0) ? this.anonymousModule() : moduleOf.get(site.module);
      if (module === undefined) {
        unknownSiteModules++;
        continue;
      }
      // Keyed by numbers, (module, access) then offset: a string key per site is most of the cost at 100 k sites.
      const group = module * 2 + (site.access === 'store' ? 1 : 0);
      let byOffset = this.sitesByKey.get(group);
      if (!byOffset) this.sitesByKey.set(group, (byOffset = new Map()));
      let merged = byOffset.get(site.offset);
      if (!merged) {
        merged = { module, offset: site.offset, access: site.access, countInsensitive: 0, countSensitive: 0, runs: 0, bestCount: -1, runIds: [] };
        byOffset.set(site.offset, merged);
        this.siteList.push(merged);
      }
      if (log.tool.policy === 'sensitive') merged.countSensitive += site.count;
      else merged.countInsensitive += site.count;
      if (!merged.runIds.includes(run.id)) {
        merged.runIds.push(run.id);
        merged.runs++;
      }
      if (site.count > merged.bestCount) {
        merged.bestCount = site.count;
        merged.label = labelOf.get(site.label);
      }
    }

    if (unknownSiteModules) {
      this.warnings.push({ kind: 'unknown-module', subject: log.source, text: `${log.source}: ${unknownSiteModules} site records name undeclared modules; skipped` });
    }

    const ioByKey = new Map<string, MergedIo>();
    for (const io of log.io) {
      const key = `${io.kind}:${io.direction}`;
      let merged = ioByKey.get(key);
      if (!merged) {
        merged = { run: run.id, kind: io.kind, direction: io.direction, tainted: 0, clean: 0 };
        ioByKey.set(key, merged);
        this.io.push(merged);
      }
      merged.tainted += io.taintedBytes;
      merged.clean += io.cleanBytes;
    }
    return run;
  }

  private anonymousModule(): number {
    const key = 'anonymous';
    let merged = this.moduleByKey.get(key);
    if (!merged) {
      merged = { id: this.modules.length + 1, key, buildId: '', path: ANONYMOUS_MODULE, kind: 'system-library' };
      this.modules.push(merged);
      this.moduleByKey.set(key, merged);
    }
    return merged.id;
  }

  /** Decides module kinds and each component's main module once every log is in. */
  finish(): void {
    const executables = new Set(this.components.map((c) => c.exe));
    for (const m of this.modules) if (m.path !== ANONYMOUS_MODULE) m.kind = moduleKind(m.path, executables);
    for (const c of this.components) {
      c.mainModule = this.modules.find((m) => m.path === c.exe)?.id ?? this.modules.find((m) => m.kind === 'executable' && basename(m.path) === c.name)?.id;
    }
  }
}

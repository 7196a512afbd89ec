// `classify`: taint logs of one or more runs -> one classification database. The log reader and the DWARF
// index are parameters so that tests can drive classification with synthetic logs and indexes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { TaintLog } from '../taintLog/types';
import { planescopeVersion } from '../assets';
import { addLineLabel, aggregate, attachInstructionLabels, attributeAll, GlobalInstructions, SourceRegistry } from './aggregate';
import { attribute, ModuleSource, OpenModuleIndex, openModuleSource } from './attribute';
import { RunMerger } from './merge';
import { rankSite } from './rankSites';
import { RecordedProcess, recordingComponents } from './recordings';
import type { SymbolTable } from './symbols';
import { ClassifiedModel, RankedSiteRow, writeDatabase } from './writeDb';
import { PLANE_DATA } from '../db/schema';

export interface ClassifyDeps {
  readLog(path: string): Promise<TaintLog>;
  openIndex: OpenModuleIndex;
  /** Function names for modules without debug info (optional). */
  openSymbols?: (path: string) => SymbolTable | undefined;
}

export interface ClassifyOptions {
  /** Progress lines for long work (the CLI prints them to stderr). */
  progress?: (message: string) => void;
  /** Warnings as they happen (they are also stored in the database). */
  warn?: (message: string) => void;
  /** Read source files to record their sha256 (default true). */
  hashSources?: boolean;
  /** The recorded processes of the recording directories classified along (findRecordings), for the report's log sizes. */
  recordings?: RecordedProcess[];
}

export interface ClassifyResult {
  bytes: Uint8Array;
  runs: number;
  components: number;
  instructions: number;
  dataInstructions: number;
  lines: number;
  sites: number;
  warnings: string[];
}

function sha256File(path: string): string {
  // A relative DWARF path (no comp_dir) would be read against classify's working directory: another file.
  if (!isAbsolute(path)) return '';
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return '';
  }
}

/**
 * The run a message label's peer names. librecord names a process `exe:pid@host`; a replayed process may
 * run under another pid than the recorded one, so the executable's name decides when the pid does not.
 */
export function resolvePeer(peer: string, runs: Array<{ id: number; pid: number; exe: string }>): number | undefined {
  const parsed = /^(.*?):(\d+)(?:@.*)?$/.exec(peer);
  const name = parsed ? parsed[1] : undefined;
  const numbers = peer.match(/\d+/g);
  const pid = parsed ? Number(parsed[2]) : numbers ? Number(numbers[numbers.length - 1]) : NaN;
  const base = (exe: string) => exe.split('/').pop()!;
  const unique = (list: typeof runs) => (list.length === 1 ? list[0].id : undefined);
  if (name !== undefined) {
    return unique(runs.filter((r) => r.pid === pid && base(r.exe) === name)) ?? unique(runs.filter((r) => base(r.exe) === name)) ?? unique(runs.filter((r) => r.pid === pid));
  }
  return unique(runs.filter((r) => r.pid === pid)) ?? unique(runs.filter((r) => peer === r.exe || peer.split(/[/:@ ]/).includes(base(r.exe))));
}

export async function classifyLogs(logPaths: string[], deps: ClassifyDeps, options: ClassifyOptions = {}): Promise<ClassifyResult> {
  const progress = options.progress ?? (() => undefined);
  const merger = new RunMerger();
  const skipped: string[] = [];
  for (const [i, path] of logPaths.entries()) {
    progress(`reading log ${i + 1}/${logPaths.length}: ${path}`);
    const log = await deps.readLog(path);
    if (log.version === 0) {
      // No `version` line: another file that happens to be named *.taintlog; it would become a run of no program.
      skipped.push(path);
      merger.warnings.push({ kind: 'not-a-log', subject: path, text: `${path} is not a planegrind taint log (no \`version\` line): left out` });
      continue;
    }
    merger.addLog(log);
    progress(`  ${log.instructions.length} instructions, ${log.sites.length} pointer sites, policy ${log.tool.policy}`);
  }
  if (merger.runs.length === 0) throw new Error(skipped.length ? `none of the ${skipped.length} file(s) is a planegrind taint log (${logPaths.slice(0, 3).join(', ')}${logPaths.length > 3 ? ', …' : ''})` : 'no taint logs to classify');
  merger.finish();
  const primary = merger.primaryPolicy();

  const global = new GlobalInstructions(merger.instructions);
  global.classify(primary);
  progress(`${global.size} distinct instructions in ${merger.modules.length} modules from ${merger.runs.length} runs`);

  const sources = new Map<number, ModuleSource>();
  for (const module of merger.modules) {
    const source = openModuleSource(module, deps.openIndex);
    sources.set(module.id, source);
    if (source.warning) options.warn?.(source.warning);
  }
  const registry = new SourceRegistry();
  attributeAll(global, sources, registry, (source, offset) => attribute(source.index!.lookup(offset)), (done, total) => {
    if (total >= 200000) progress(`  source lines: ${done}/${total} instructions`);
  });
  if (deps.openSymbols) symbolizeWithoutDwarf(global, sources, registry, deps.openSymbols);
  const lines = aggregate(global, registry);
  // Runs of one program give each its own label ids for the same bytes: a line keeps one per provenance.
  const provenanceOf = (label: number, depth = 0): string => {
    const l = merger.labels[label - 1];
    return l.provenance.kind === 'mixed' && depth < 4 ? `mixed(${l.parts.map((p) => provenanceOf(p, depth + 1)).join(', ')})` : l.text;
  };
  attachInstructionLabels(lines, global, merger.instructionLabels, primary, provenanceOf);

  const sites = rankAllSites(merger, global, registry);
  for (const [i, s] of sites.entries()) {
    if (s.file < 0) continue;
    const agg = lines.get(s.file, s.line);
    if (!agg) continue;
    agg.sites.push(i + 1);
    if (s.label !== undefined) addLineLabel(agg, s.label, provenanceOf(s.label));
  }

  const fileHashes = new Map<number, string>();
  if (options.hashSources !== false) {
    progress(`hashing ${registry.files.length} source files`);
    registry.files.forEach((path, i) => fileHashes.set(i + 1, sha256File(path)));
  }

  const messagesPeerRun = merger.messages.map((m) => resolvePeer(m.peer, merger.runs.map((r) => ({ id: r.id, exe: r.exe, pid: r.peerPid }))));
  const policies = [...merger.policies()].sort();
  const recordings = options.recordings ?? [];
  const model: ClassifiedModel = {
    merger, global, registry, sources, lines, sites, fileHashes, messagesPeerRun,
    recordings, recordingComponents: recordingComponents(recordings, merger.runs, merger.components),
    meta: {
      generator: `planescope ${planescopeVersion()}`,
      created: new Date().toISOString(),
      primary_policy: primary,
      policies: policies.join(','),
    },
  };
  const bytes = await writeDatabase(model, progress);
  for (const w of merger.warnings) options.warn?.(w.text);
  let dataInstructions = 0;
  for (let g = 0; g < global.size; g++) if (global.plane[g] === PLANE_DATA) dataInstructions++;
  return {
    bytes,
    runs: merger.runs.length,
    components: merger.components.length,
    instructions: global.size,
    dataInstructions,
    lines: lines.size,
    sites: sites.length,
    warnings: [...merger.warnings.map((w) => w.text), ...[...sources.values()].flatMap((s) => (s.warning ? [s.warning] : []))],
  };
}

/** Names the functions of modules that have a binary but no debug info, from their symbol tables. */
function symbolizeWithoutDwarf(global: GlobalInstructions, sources: Map<number, ModuleSource>, registry: SourceRegistry, open: (path: string) => SymbolTable | undefined): void {
  const tables = new Map<number, SymbolTable>();
  for (const source of sources.values()) {
    if (source.status !== 'none' || source.module.kind === 'tooling' || !existsSync(source.module.path)) continue;
    const table = open(source.module.path);
    if (table && (!table.buildId || !source.module.buildId || table.buildId === source.module.buildId)) tables.set(source.module.id, table);
  }
  if (tables.size === 0) return;
  for (let g = 0; g < global.size; g++) {
    const table = tables.get(global.module[g]);
    if (!table || global.func[g] >= 0) continue;
    const name = table.functionAt(global.offset[g]);
    if (name) global.func[g] = global.outer[g] = registry.fn(global.module[g], name);
  }
}

/** Evidence for every merged pointer site, sorted best first (rank 1 = most likely hidden data plane). */
export function rankAllSites(merger: RunMerger, global: GlobalInstructions, registry: SourceRegistry): RankedSiteRow[] {
  const merged = merger.sites;
  if (merged.length === 0) return [];
  const both = merger.policies().size === 2;
  const primary = merger.primaryPolicy();

  // Lines and functions that host sites, to gather their instructions in one pass.
  const siteLines = new Map<number, Map<number, number[]>>();
  const onLineOf = (file: number, line: number) => siteLines.get(file)?.get(line);
  const siteFunctions = new Map<number, { executions: number; data: number; executedBoth: number; gained: number }>();
  const siteRows = global.rowsOf(merged);
  const where = merged.map((_s, i) => {
    const g = siteRows[i];
    const file = g === undefined ? -1 : global.file[g];
    const line = g === undefined ? 0 : global.line[g];
    const func = g === undefined ? -1 : global.func[g];
    if (file >= 0) {
      if (!siteLines.has(file)) siteLines.set(file, new Map());
      siteLines.get(file)!.set(line, []);
    }
    if (func >= 0) siteFunctions.set(func, { executions: 0, data: 0, executedBoth: 0, gained: 0 });
    return { file, line, func };
  });
  const gainedAt = (g: number) => global.execIns[g] > 0 && global.execSens[g] > 0 && global.taintIns[g] === 0 && global.taintSens[g] > 0;
  for (let g = 0; g < global.size; g++) {
    if (global.file[g] >= 0) onLineOf(global.file[g], global.line[g])?.push(g);
    const f = siteFunctions.get(global.func[g]);
    if (f) {
      f.executions += global.executions[g];
      if (global.plane[g] === PLANE_DATA) f.data += global.executions[g];
      if (global.execIns[g] > 0 && global.execSens[g] > 0) f.executedBoth++;
      if (gainedAt(g)) f.gained++;
    }
  }

  const taintedInByRun = new Map<number, number>();
  for (const io of merger.io) if (io.direction === 'in') taintedInByRun.set(io.run, (taintedInByRun.get(io.run) ?? 0) + io.tainted);
  const sensitiveRuns = merger.runs.some((r) => r.policy === 'sensitive');
  // Tainted output per run, by component and policy.
  const outBy = new Map<string, { bytes: number; runs: Set<number> }>();
  const runById = new Map(merger.runs.map((r) => [r.id, r]));
  for (const r of merger.runs) outBy.set(`${r.component}:${r.policy}`, outBy.get(`${r.component}:${r.policy}`) ?? { bytes: 0, runs: new Set() });
  for (const r of merger.runs) outBy.get(`${r.component}:${r.policy}`)!.runs.add(r.id);
  for (const io of merger.io) {
    const r = runById.get(io.run)!;
    if (io.direction === 'out') outBy.get(`${r.component}:${r.policy}`)!.bytes += io.tainted;
  }
  const outPerRun = (component: number, policy: string) => {
    const o = outBy.get(`${component}:${policy}`);
    return o && o.runs.size ? o.bytes / o.runs.size : undefined;
  };
  const taintedOutFor = (runIds: number[]) => {
    if (!both) return undefined;
    let insensitive = 0;
    let sensitive = 0;
    let any = false;
    for (const component of new Set(runIds.map((id) => runById.get(id)!.component))) {
      const ins = outPerRun(component, 'insensitive');
      const sens = outPerRun(component, 'sensitive');
      if (ins === undefined || sens === undefined) continue;
      any = true;
      insensitive += ins;
      sensitive += sens;
    }
    return any ? { insensitive, sensitive } : undefined;
  };
  // A loop, not Math.max(...): spreading a few hundred thousand sites overflows the stack.
  const maxCount = merged.reduce((m, s) => Math.max(m, s.countInsensitive + s.countSensitive), 0);

  const rows: RankedSiteRow[] = merged.map((s, i) => {
    const { file, line, func } = where[i];
    const count = s.countInsensitive + s.countSensitive;
    const fn = func >= 0 ? siteFunctions.get(func) : undefined;
    const onLine = file >= 0 ? onLineOf(file, line) ?? [] : [];
    const after = onLine.filter((g) => global.module[g] === s.module && global.offset[g] > s.offset);
    const afterData = after.filter((g) => (sensitiveRuns ? global.taintSens[g] > 0 : global.plane[g] === PLANE_DATA)).length;
    let bothPolicies: { executed: number; gained: number } | undefined;
    if (both) {
      const lineOnly = onLine.filter((g) => global.func[g] !== func);
      bothPolicies = {
        executed: (fn?.executedBoth ?? 0) + lineOnly.filter((g) => global.execIns[g] > 0 && global.execSens[g] > 0).length,
        gained: (fn?.gained ?? 0) + lineOnly.filter(gainedAt).length,
      };
    }
    const evidence = rankSite({
      count,
      maxCount,
      access: s.access,
      functionExecutions: fn?.executions ?? 0,
      functionDataExecutions: fn?.data ?? 0,
      functionName: func >= 0 ? registry.functions[func - 1].name : '??',
      afterOnLine: after.length,
      afterOnLineData: afterData,
      afterPolicy: sensitiveRuns ? 'sensitive' : primary,
      hasLine: file >= 0,
      bothPolicies,
      taintedBytesIn: s.runIds.reduce((sum, r) => sum + (taintedInByRun.get(r) ?? 0), 0),
      taintedOut: taintedOutFor(s.runIds),
    });
    return {
      module: s.module, offset: s.offset, access: s.access, count, countInsensitive: s.countInsensitive,
      countSensitive: s.countSensitive, runs: s.runs, label: s.label, file, line, func,
      score: evidence.score, rank: 0, disagreement: evidence.disagreement, evidence: evidence.evidence,
    };
  });
  rows.sort((a, b) => b.score - a.score || b.count - a.count || a.module - b.module || a.offset - b.offset);
  rows.forEach((r, i) => (r.rank = i + 1));
  return rows;
}

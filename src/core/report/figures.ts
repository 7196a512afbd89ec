// The paper's figures for any classified program, per component (executable): Figure 1 (static
// instructions per plane), Figure 2 (functions hosting the top 90% of executed instructions per plane),
// Figure 4 (share of dynamic instructions from well-tested libraries per plane) and Figure 5 (I/O bytes per
// plane, in and out). Instructions of tooling modules (valgrind preloads, librecord) are left out.
import type { PlanesDatabase, RecordingRecord } from '../db/reader';
import { queryAll } from '../db/sqlite';
import { INSN_SYSTEM_SOURCE } from '../db/schema';
import { ANONYMOUS_MODULE } from '../classify/merge';

export const TOP_SHARE = 0.9;

export interface PlaneFunctions {
  /** Distinct functions hosting the most executed instructions that make up TOP_SHARE of the plane's executions. */
  functions: number;
  executions: number;
  /** The heaviest functions, with their share of the plane's executions. */
  top: Array<{ name: string; share: number }>;
}

export interface ComponentFigures {
  name: string;
  exe: string;
  processes: number;
  /** Figure 1 */
  staticInstructions: { control: number; data: number; dataPercent: number };
  /** Figure 2 */
  functions: { control: PlaneFunctions; data: PlaneFunctions };
  /** Figure 4: % of the plane's dynamic instructions from libraries (every shared object but the program's
   * own, plus code inlined from system headers under /usr). null when the plane executed nothing. */
  libraries: { controlPercent: number | null; dataPercent: number | null; controlExecutions: number; dataExecutions: number };
  /** Figure 5 */
  io: { controlIn: number; controlOut: number; dataIn: number; dataOut: number; dataPercent: number | null; byChannel: Array<{ kind: string; direction: string; tainted: number; clean: number }> };
  /** The librecord logs of the component's recorded processes, per recording mode (empty without recordings). */
  recording: RecordingFigures[];
}

/** Log size of one recording mode: the paper's data-rate claim measured on the user's program. */
export interface RecordingFigures {
  mode: 'by-value' | 'by-reference';
  processes: number;
  logBytes: number;
  records: number;
  /** User-data bytes the processes read from files, and of those the bytes held in the log by value. */
  userDataBytes: number;
  userDataLoggedBytes: number;
  /** Received message payload bytes the log stands for by reference (by-reference recordings). */
  messageBytesByReference: number;
  /** The log as % of the component's data-plane input (Figure 5, data in); null without data-plane input. */
  logPercentOfDataIn: number | null;
}

export interface ReportModel {
  database: string;
  generator: string;
  created: string;
  primaryPolicy: string;
  policies: string[];
  runs: number;
  components: ComponentFigures[];
  totals: { controlInstructions: number; dataInstructions: number; dataPercent: number; ioDataPercent: number | null };
  modulesWithoutLines: Array<{ path: string; buildId: string; why: string }>;
  /** Recording log sizes over all components per mode, and by-reference / by-value in % when both were recorded. */
  recordings: { byMode: Array<{ mode: 'by-value' | 'by-reference'; processes: number; logBytes: number; userDataBytes: number }>; referencePercentOfValue: number | null; withoutComponent: string[] };
  /** The best-ranked tainted pointer sites (planescope sites has them all). */
  topSites: Array<{ rank: number; score: number; where: string; function: string; access: string; count: number; policyDisagreement: boolean; evidence: string[] }>;
  /** Who sent data to whom (message labels). */
  messages: Array<{ from: string; to: string; messages: number }>;
  warnings: string[];
}

export const TOP_SITES = 10;

const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((1e4 * part) / whole) / 100 : 0);
const pctOrNull = (part: number, whole: number): number | null => (whole > 0 ? pct(part, whole) : null);

function planeFunctions(rows: Array<{ fn: string; executions: number }>): PlaneFunctions {
  const total = rows.reduce((s, r) => s + r.executions, 0);
  const hosting = new Set<string>();
  let cumulative = 0;
  for (const r of rows) {
    if (cumulative >= TOP_SHARE * total) break;
    cumulative += r.executions;
    hosting.add(r.fn);
  }
  const perFunction = new Map<string, number>();
  for (const r of rows) perFunction.set(r.fn, (perFunction.get(r.fn) ?? 0) + r.executions);
  const top = [...perFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([name, e]) => ({ name, share: pct(e, total) }));
  return { functions: hosting.size, executions: total, top };
}

function recordingFigures(rows: RecordingRecord[], dataIn: number): RecordingFigures[] {
  const modes = new Map<RecordingRecord['mode'], RecordingFigures>();
  for (const r of rows) {
    let m = modes.get(r.mode);
    if (!m) modes.set(r.mode, (m = { mode: r.mode, processes: 0, logBytes: 0, records: 0, userDataBytes: 0, userDataLoggedBytes: 0, messageBytesByReference: 0, logPercentOfDataIn: null }));
    m.processes++;
    m.logBytes += r.logBytes;
    m.records += r.records;
    m.userDataBytes += r.userDataBytes;
    m.userDataLoggedBytes += r.userDataLoggedBytes;
    m.messageBytesByReference += r.messageBytesByReference;
  }
  const list = [...modes.values()].sort((a, b) => a.mode.localeCompare(b.mode)).reverse(); // by-value first
  for (const m of list) m.logPercentOfDataIn = pctOrNull(m.logBytes, dataIn);
  return list;
}

export function computeReport(db: PlanesDatabase): ReportModel {
  const components: ComponentFigures[] = [];
  const stats = db.components();
  const recorded = db.recordings();
  const ids = queryAll(db.sql, 'SELECT id, exe FROM components');
  for (const c of stats) {
    const id = Number(ids.find((r) => r.exe === c.exe)!.id);
    // Most executed instruction locations first, with the function hosting each (or the module when unknown).
    const rows = queryAll(db.sql, `
      SELECT ic.plane, ic.executions, i.flags, m.kind, COALESCE(fn.name, m.path || ':??') AS fn
      FROM insn_counts ic JOIN insns i ON i.module_id = ic.module_id AND i.offset = ic.offset
      JOIN modules m ON m.id = ic.module_id LEFT JOIN functions fn ON fn.id = i.func_id
      WHERE ic.component_id = ? AND m.kind != 'tooling' ORDER BY ic.executions DESC`, [id]);
    const byPlane: [Array<{ fn: string; executions: number }>, Array<{ fn: string; executions: number }>] = [[], []];
    const lib = [0, 0];
    const all = [0, 0];
    for (const r of rows) {
      const plane = Number(r.plane);
      const executions = Number(r.executions);
      byPlane[plane].push({ fn: String(r.fn), executions });
      all[plane] += executions;
      if (r.kind === 'system-library' || (Number(r.flags) & INSN_SYSTEM_SOURCE) !== 0) lib[plane] += executions;
    }
    const channels = queryAll(db.sql, `
      SELECT io.kind, io.direction, SUM(io.tainted) AS tainted, SUM(io.clean) AS clean FROM io JOIN decisive_runs r ON r.id = io.run_id
      WHERE r.component_id = ? GROUP BY io.kind, io.direction ORDER BY io.kind, io.direction`, [id]);
    const ioTotal = c.io.controlIn + c.io.controlOut + c.io.dataIn + c.io.dataOut;
    components.push({
      name: c.name,
      exe: c.exe,
      processes: c.processes,
      staticInstructions: { control: c.controlInstructions, data: c.dataInstructions, dataPercent: pct(c.dataInstructions, c.controlInstructions + c.dataInstructions) },
      functions: { control: planeFunctions(byPlane[0]), data: planeFunctions(byPlane[1]) },
      libraries: { controlPercent: pctOrNull(lib[0], all[0]), dataPercent: pctOrNull(lib[1], all[1]), controlExecutions: all[0], dataExecutions: all[1] },
      io: {
        ...c.io,
        dataPercent: pctOrNull(c.io.dataIn + c.io.dataOut, ioTotal),
        byChannel: channels.map((r) => ({ kind: String(r.kind), direction: String(r.direction), tainted: Number(r.tainted), clean: Number(r.clean) })),
      },
      recording: recordingFigures(recorded.filter((r) => r.component === c.name), c.io.dataIn),
    });
  }
  const control = components.reduce((s, c) => s + c.staticInstructions.control, 0);
  const data = components.reduce((s, c) => s + c.staticInstructions.data, 0);
  const ioData = components.reduce((s, c) => s + c.io.dataIn + c.io.dataOut, 0);
  const ioAll = components.reduce((s, c) => s + c.io.dataIn + c.io.dataOut + c.io.controlIn + c.io.controlOut, 0);
  return {
    database: db.path,
    generator: db.meta('generator') ?? '',
    created: db.meta('created') ?? '',
    primaryPolicy: db.meta('primary_policy') ?? 'insensitive',
    policies: (db.meta('policies') ?? '').split(',').filter(Boolean),
    runs: db.runs().length,
    components,
    totals: { controlInstructions: control, dataInstructions: data, dataPercent: pct(data, control + data), ioDataPercent: pctOrNull(ioData, ioAll) },
    topSites: db.sites().slice(0, TOP_SITES).map((x) => ({
      rank: x.rank, score: x.score, where: x.file ? `${x.file}:${x.line}` : `${x.module}+0x${x.offset.toString(16)}`,
      function: x.function, access: x.access, count: x.count, policyDisagreement: x.policyDisagreement, evidence: x.evidence,
    })),
    messages: db.messageGraph().map((e) => ({ from: e.from ?? e.peer, to: e.to, messages: e.messages })),
    modulesWithoutLines: db.modules().filter((m) => m.debug !== 'dwarf' && m.kind !== 'tooling' && m.path !== ANONYMOUS_MODULE).map((m) => ({ path: m.path, buildId: m.buildId, why: m.debug })),
    recordings: (() => {
      const byMode = recordingFigures(recorded, 0).map((m) => ({ mode: m.mode, processes: m.processes, logBytes: m.logBytes, userDataBytes: m.userDataBytes }));
      const value = byMode.find((m) => m.mode === 'by-value');
      const reference = byMode.find((m) => m.mode === 'by-reference');
      return {
        byMode,
        referencePercentOfValue: value && reference ? pctOrNull(reference.logBytes, value.logBytes) : null,
        withoutComponent: recorded.filter((r) => r.component === null).map((r) => r.process),
      };
    })(),
    warnings: db.warnings(),
  };
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

const fmtPct = (p: number | null) => (p === null ? '—' : `${p}%`);

/** The report as plain text for the terminal. */
export function formatReportText(r: ReportModel): string {
  const out: string[] = [];
  out.push(`Classification of ${r.database}: ${r.runs} run(s), ${r.components.length} component(s), planes by the ${r.primaryPolicy} policy` +
    (r.policies.length > 1 ? ` (runs with both policies: see \`planescope sites\`)` : ''));
  out.push(`Overall: ${r.totals.controlInstructions} control-plane and ${r.totals.dataInstructions} data-plane static instructions (${r.totals.dataPercent}% data); data plane carries ${fmtPct(r.totals.ioDataPercent)} of the I/O`);
  for (const c of r.components) {
    out.push('', `== ${c.name} (${c.exe}, ${c.processes} process${c.processes === 1 ? '' : 'es'})`);
    out.push(`  Figure 1  static instructions   control ${c.staticInstructions.control}   data ${c.staticInstructions.data}   (${c.staticInstructions.dataPercent}% data)`);
    const f = c.functions;
    out.push(`  Figure 2  functions hosting the top ${TOP_SHARE * 100}% of executions   control ${f.control.functions}   data ${f.data.functions}`);
    for (const plane of ['control', 'data'] as const) {
      if (f[plane].top.length) out.push(`            ${plane.padEnd(7)} heaviest: ${f[plane].top.map((t) => `${t.name} ${t.share}%`).join(', ')}`);
    }
    out.push(`  Figure 4  dynamic instructions from well-tested libraries   control ${fmtPct(c.libraries.controlPercent)} of ${c.libraries.controlExecutions}   data ${fmtPct(c.libraries.dataPercent)} of ${c.libraries.dataExecutions}`);
    out.push(`  Figure 5  I/O   control in ${bytes(c.io.controlIn)} out ${bytes(c.io.controlOut)}   data in ${bytes(c.io.dataIn)} out ${bytes(c.io.dataOut)}   (${fmtPct(c.io.dataPercent)} data)`);
    for (const m of c.recording) {
      out.push(`  Recording ${m.mode.padEnd(12)} log ${bytes(m.logBytes)} (${m.processes} process${m.processes === 1 ? '' : 'es'}, ${m.records} records)` +
        `   user data read ${bytes(m.userDataBytes)}, ${bytes(m.userDataLoggedBytes)} of it in the log` +
        (m.messageBytesByReference ? `, ${bytes(m.messageBytesByReference)} of messages by reference` : '') +
        (m.logPercentOfDataIn === null ? '' : `   log = ${m.logPercentOfDataIn}% of the data-plane input`));
    }
  }
  const rec = r.recordings;
  if (rec.byMode.length) {
    out.push('', `Recording logs: ${rec.byMode.map((m) => `${m.mode} ${bytes(m.logBytes)} (${m.processes} process${m.processes === 1 ? '' : 'es'})`).join(', ')}` +
      (rec.referencePercentOfValue === null ? '' : `; by-reference is ${rec.referencePercentOfValue}% of by-value`));
    if (rec.withoutComponent.length) out.push(`  recorded but not classified (no taint log of their executable): ${rec.withoutComponent.join(', ')}`);
  }
  if (r.modulesWithoutLines.length) {
    out.push('', 'Modules without source lines (instructions counted, lines unavailable):');
    for (const m of r.modulesWithoutLines) out.push(`  ${m.path} (build-id ${m.buildId || 'none'}): ${m.why === 'none' ? 'no debug info' : m.why === 'missing' ? 'binary not found' : 'binary rebuilt since the run'}`);
  }
  if (r.topSites.length) {
    out.push('', 'Tainted pointer sites most likely to hide data-plane work (all: `planescope sites`):');
    for (const x of r.topSites.slice(0, 5)) out.push(`  #${x.rank} ${x.score.toFixed(2)}  ${x.access} in ${x.function} at ${x.where}${x.policyDisagreement ? '  [policies disagree]' : ''}`);
  }
  if (r.messages.length) {
    out.push('', 'Messages carrying tainted data:');
    for (const m of r.messages) out.push(`  ${m.from} -> ${m.to}: ${m.messages} message(s)`);
  }
  if (r.warnings.length) out.push('', `${r.warnings.length} warning(s) from classification (see --json)`);
  return out.join('\n');
}

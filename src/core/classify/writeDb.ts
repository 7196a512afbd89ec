// Writes the classified model into a fresh sql.js database (schema in ../db/schema.ts) and returns its
// bytes; the caller stores them.
import type { SqlDatabase, SqlJs, SqlStatement, SqlValue } from '../db/sqlite';
import { loadSqlJs } from '../db/sqlite';
import { planeOf } from '../db/reader';
import { INSN_COUNTS_TABLE_SQL, INSN_COUNTS_VIEW_SQL, PLANE_CONTROL, PLANE_DATA, SCHEMA_SQL, SCHEMA_VERSION } from '../db/schema';
import type { GlobalInstructions, LineAgg, LineTable, SourceRegistry } from './aggregate';
import type { LineRecord } from '../db/api';
import { decidingPolicyIsPrimary } from './aggregate';
import { encodeFileLines } from '../db/lineTable';
import type { ModuleSource } from './attribute';
import { keyOrder } from './keyOrder';
import { MAX_MODULES, RunMerger } from './merge';
import type { RecordedProcess } from './recordings';

export interface RankedSiteRow {
  module: number;
  offset: number;
  access: string;
  count: number;
  countInsensitive: number;
  countSensitive: number;
  runs: number;
  label?: number;
  file: number;
  line: number;
  func: number;
  score: number;
  rank: number;
  disagreement: boolean;
  evidence: string[];
}

export interface ClassifiedModel {
  merger: RunMerger;
  global: GlobalInstructions;
  registry: SourceRegistry;
  sources: Map<number, ModuleSource>;
  lines: LineTable;
  sites: RankedSiteRow[];
  fileHashes: Map<number, string>;
  messagesPeerRun: Array<number | undefined>;
  /** Recorded processes (librecord logs) and the component of each. */
  recordings: RecordedProcess[];
  recordingComponents: Array<number | undefined>;
  meta: Record<string, string>;
}

function insertAll(db: SqlDatabase, sql: string, rows: Iterable<SqlValue[]>): void {
  const statement: SqlStatement = db.prepare(sql);
  try {
    for (const row of rows) statement.run(row);
  } finally {
    statement.free();
  }
}

const nil = (n: number) => (n < 0 ? null : n);

/**
 * Inserts `count` rows through one prepared multi-row INSERT (about 100 rows a statement): sql.js pays per
 * statement execution, so this is ~4x faster than one execution per row for a million rows. `fill` writes
 * row i's values into params from `at` (no array per row).
 */
function insertBatched(db: SqlDatabase, table: string, columns: number, count: number, fill: (params: SqlValue[], at: number, i: number) => void): void {
  const perBatch = Math.max(1, Math.floor(999 / columns));
  const tuple = `(${new Array(columns).fill('?').join(',')})`;
  const params: SqlValue[] = new Array(perBatch * columns);
  const full = db.prepare(`INSERT INTO ${table} VALUES ${new Array(perBatch).fill(tuple).join(',')}`);
  let n = 0;
  try {
    for (let i = 0; i < count; i++) {
      fill(params, n * columns, i);
      if (++n === perBatch) {
        full.run(params);
        n = 0;
      }
    }
  } finally {
    full.free();
  }
  if (n > 0) {
    const rest = db.prepare(`INSERT INTO ${table} VALUES ${new Array(n).fill(tuple).join(',')}`);
    try {
      rest.run(params.slice(0, n * columns));
    } finally {
      rest.free();
    }
  }
}

/** About how many bytes the database of `model` takes (measured: ~28 per instruction row, ~170 per line). */
function estimateBytes(model: ClassifiedModel): number {
  const counts = model.merger.components.length > 1 ? model.merger.instructions.size : 0;
  return (1 << 20) + 32 * model.global.size + 24 * counts + 200 * model.lines.size + 300 * model.sites.length + 120 * model.merger.labels.length;
}

/**
 * A fresh database with the schema whose file is already `bytes` long. sql.js keeps the file in an in-memory
 * file system that grows it by 12.5% at a time, copying it whole each time (~9 copies of the final size, and
 * as much garbage). The file is a valid empty database followed by zeros: SQLite goes by the page count in
 * the header (the "in-header database size" of its file format), so pages are written in place, and export()
 * copies only the pages in use.
 */
function createSized(SQL: SqlJs, bytes: number): SqlDatabase {
  const seed = new SQL.Database();
  let image: Uint8Array;
  try {
    seed.run(SCHEMA_SQL);
    image = seed.export();
  } finally {
    seed.close();
  }
  const file = new Uint8Array(Math.max(bytes, image.length));
  file.set(image);
  return new SQL.Database(file);
}

export async function writeDatabase(model: ClassifiedModel, progress?: (what: string) => void): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const db = createSized(SQL, estimateBytes(model));
  try {
    db.run('PRAGMA journal_mode = OFF');
    // Keep the whole database in SQLite's page cache until the commit: each page is written once.
    db.run('PRAGMA cache_size = -262144');
    db.run('BEGIN');
    const { merger, global, registry } = model;
    insertAll(db, 'INSERT INTO meta VALUES (?, ?)', Object.entries(model.meta));
    insertAll(db, 'INSERT INTO components VALUES (?, ?, ?, ?)', merger.components.map((c) => [c.id, c.name, c.exe, c.mainModule ?? null]));
    insertAll(db, 'INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)', merger.runs.map((r) => [
      r.id, r.component, r.logPath, r.pid, r.ppid, r.exe, JSON.stringify(r.args), r.startMs, r.policy, r.toolVersion,
      r.icount, r.endReason, r.endDetail, JSON.stringify(r.userData),
    ]));
    insertAll(db, 'INSERT INTO modules VALUES (?,?,?,?,?,?,?)', merger.modules.map((m) => {
      const source = model.sources.get(m.id);
      return [m.id, m.key, m.buildId, m.path, m.kind, source?.status ?? 'missing', source?.debugPath ?? null];
    }));
    insertAll(db, 'INSERT OR REPLACE INTO run_modules VALUES (?,?,?,?)', merger.runs.flatMap((r) => r.modules.map((m) => [r.id, m.module, m.logId, m.bias])));
    insertAll(db, 'INSERT INTO files VALUES (?,?,?,?)', registry.files.map((path, i) => [i + 1, path, model.fileHashes.get(i + 1) ?? '', path.startsWith('/usr/') ? 1 : 0]));
    insertAll(db, 'INSERT INTO functions VALUES (?,?,?,?,?,?,?)', registry.functions.map((f) => [f.id, f.module, f.name, f.controlInsns, f.dataInsns, f.executions, f.dataExecutions]));

    progress?.(`writing ${global.size} instructions`);
    const insnOrder = keyOrder(global.size, (g) => global.module[g], global.offset);
    insertBatched(db, 'insns', 10, global.size, (p, at, i) => {
      const g = insnOrder ? insnOrder[i] : i;
      p[at] = global.module[g];
      p[at + 1] = global.offset[g];
      p[at + 2] = global.plane[g];
      p[at + 3] = global.executions[g];
      p[at + 4] = global.tainted[g];
      p[at + 5] = nil(global.file[g]);
      p[at + 6] = global.file[g] < 0 ? null : global.line[g];
      p[at + 7] = nil(global.func[g]);
      p[at + 8] = nil(global.outer[g]);
      p[at + 9] = global.flags[g];
    });

    const table = merger.instructions;
    const primary = merger.primaryPolicy();
    if (merger.components.length === 1) {
      db.run(INSN_COUNTS_VIEW_SQL(merger.components[0].id));
    } else {
      db.run(INSN_COUNTS_TABLE_SQL);
      const countOrder = keyOrder(table.size, (r) => table.component[r] * MAX_MODULES + table.module[r], table.offset);
      insertBatched(db, 'insn_counts', 5, table.size, (p, at, i) => {
        const r = countOrder ? countOrder[i] : i;
        const ins = decidingPolicyIsPrimary(primary, table.execIns[r], table.taintIns[r], table.execSens[r], table.taintSens[r]) === (primary === 'insensitive');
        p[at] = table.component[r];
        p[at + 1] = table.module[r];
        p[at + 2] = table.offset[r];
        p[at + 3] = (ins ? table.taintIns[r] : table.taintSens[r]) > 0 ? PLANE_DATA : PLANE_CONTROL;
        p[at + 4] = ins ? table.execIns[r] : table.execSens[r];
      });
    }

    progress?.(`writing ${model.lines.size} source lines`);
    const lineList = [...model.lines.values()].sort((a, b) => a.file - b.file || a.line - b.line);
    // Lines of one function share their function list: name it and write its JSON once.
    const functionLists = new Map<string, { names: string[]; json: string }>();
    const functionsOf = (l: LineAgg) => {
      const ids = [...l.functions];
      const key = ids.join(',');
      let list = functionLists.get(key);
      if (!list) {
        const names = [...new Set(ids.map((f) => registry.functions[f - 1].name))];
        functionLists.set(key, (list = { names, json: JSON.stringify(names) }));
      }
      return list;
    };
    // Each file's LineRecord[] (api.ts) in columns (lineTable.ts): the editor's per-file query is one row.
    const byFile = new Map<number, LineRecord[]>();
    for (const l of lineList) {
      let records = byFile.get(l.file);
      if (!records) byFile.set(l.file, (records = []));
      records.push({
        line: l.line,
        plane: planeOf(l.controlInsns, l.dataInsns),
        controlInstructions: l.controlInsns,
        dataInstructions: l.dataInsns,
        executions: l.executions,
        functions: functionsOf(l).names,
        labels: [...l.labels],
        siteIds: l.sites,
      });
    }
    insertAll(db, 'INSERT INTO file_lines VALUES (?, ?, ?, ?, ?, ?, ?)', [...byFile.entries()].map(([file, records]) => {
      const e = encodeFileLines(records);
      return [file, e.count, e.controlInsns, e.dataInsns, e.planes, e.details, e.functions];
    }));
    insertBatched(db, 'lines', 9, lineList.length, (p, at, i) => {
      const l = lineList[i];
      p[at] = l.file;
      p[at + 1] = l.line;
      p[at + 2] = l.controlInsns;
      p[at + 3] = l.dataInsns;
      p[at + 4] = l.executions;
      p[at + 5] = l.dataExecutions;
      p[at + 6] = functionsOf(l).json;
      p[at + 7] = l.labels.size ? JSON.stringify([...l.labels]) : '[]';
      p[at + 8] = l.sites.length ? JSON.stringify(l.sites) : '[]';
    });
    insertAll(db, 'INSERT INTO labels VALUES (?,?,?,?,?,?,?,?,?,?,?)', merger.labels.map((l) => {
      const p = l.provenance;
      return [l.id, l.run, l.logId, p.kind,
        p.kind === 'file' ? p.path : null, p.kind === 'file' ? p.start : null, p.kind === 'file' ? p.end : null,
        p.kind === 'msg' ? p.peer : null, p.kind === 'msg' ? p.msg : null, p.kind === 'msg' ? p.origin : null, l.text];
    }));
    insertAll(db, 'INSERT OR IGNORE INTO label_parts VALUES (?,?)', merger.labels.flatMap((l) => l.parts.map((p) => [l.id, p])));
    insertAll(db, 'INSERT INTO messages (run_id, peer, msg, label_id, peer_run_id) VALUES (?,?,?,?,?)',
      merger.messages.map((m, i) => [m.run, m.peer, m.msg, m.label, model.messagesPeerRun[i] ?? null]));
    insertAll(db, 'INSERT INTO io VALUES (?,?,?,?,?)', merger.io.map((io) => [io.run, io.kind, io.direction, io.tainted, io.clean]));
    insertBatched(db, 'sites', 16, model.sites.length, (p, at, i) => {
      const s = model.sites[i];
      p[at] = i + 1;
      p[at + 1] = s.module;
      p[at + 2] = s.offset;
      p[at + 3] = s.access;
      p[at + 4] = s.count;
      p[at + 5] = s.countInsensitive;
      p[at + 6] = s.countSensitive;
      p[at + 7] = s.runs;
      p[at + 8] = s.label ?? null;
      p[at + 9] = nil(s.file);
      p[at + 10] = s.file < 0 ? null : s.line;
      p[at + 11] = nil(s.func);
      p[at + 12] = s.score;
      p[at + 13] = s.rank;
      p[at + 14] = s.disagreement ? 1 : 0;
      p[at + 15] = JSON.stringify(s.evidence);
    });
    insertAll(db, 'INSERT INTO recordings VALUES (?,?,?,?,?,?,?,?,?,?,?)', model.recordings.map((r, i) => [
      i + 1, r.log, r.process, r.exe, model.recordingComponents[i] ?? null, r.mode, r.logBytes, r.records,
      r.userDataBytes, r.userDataLoggedBytes, r.messageBytesByReference,
    ]));
    const warnings = [...merger.warnings, ...[...model.sources.values()].filter((s) => s.warning).map((s) => ({ kind: `debug-${s.status}`, subject: s.module.buildId || s.module.path, text: s.warning! }))];
    insertAll(db, 'INSERT INTO warnings (kind, subject, text) VALUES (?,?,?)', warnings.map((w) => [w.kind, w.subject, w.text]));
    progress?.('committing');
    db.run('COMMIT');
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    progress?.('exporting');
    return db.export();
  } finally {
    db.close();
  }
}

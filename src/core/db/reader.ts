// Opens a classification database read-only (in memory, via sql.js) and answers the read API of api.ts,
// plus a few extra queries the CLI, the report and the debugger use.
import { readFileSync } from 'node:fs';
import type { ComponentStats, LineRecord, Plane, PlanesDatabaseReader, ProvenanceStep, RankedSite, SourceFileRecord } from './api';
import { SCHEMA_VERSION } from './schema';
import { decodeDetails, decodePlanes, FileLineTable, LineTableError } from './lineTable';
import { loadSqlJs, queryAll, queryValue, SqlDatabase, SqlValue } from './sqlite';

/** A database written by another Planescope version (or not a database at all). */
export class DatabaseVersionError extends Error {
  constructor(readonly path: string, readonly found: number, message: string) {
    super(message);
  }
}

export interface RunRecord {
  id: number;
  component: string;
  logPath: string;
  pid: number;
  exe: string;
  args: string[];
  policy: 'insensitive' | 'sensitive';
  icount: number;
  end: string;
}

export interface ModuleRecord {
  id: number;
  buildId: string;
  path: string;
  kind: 'executable' | 'own-library' | 'system-library' | 'tooling';
  /** 'dwarf' when lines are available; otherwise why they are not ('none', 'missing', 'mismatch'). */
  debug: string;
}

export interface MessageEdge {
  /** The receiving run and process. */
  runId: number;
  to: string;
  /** The peer as the message label names it, and the run it resolved to (if any). */
  peer: string;
  peerRunId: number | null;
  from: string | null;
  messages: number;
}

/** One recorded process (librecord log) classified along with the taint logs. */
export interface RecordingRecord {
  log: string;
  process: string;
  exe: string;
  /** The component of the same executable, null when none of the classified runs is of it. */
  component: string | null;
  mode: 'by-value' | 'by-reference';
  logBytes: number;
  records: number;
  userDataBytes: number;
  userDataLoggedBytes: number;
  messageBytesByReference: number;
}

export interface InstructionRecord {
  plane: 'control' | 'data';
  executions: number;
  tainted: number;
  file: string | null;
  line: number | null;
  function: string | null;
}

const num = (v: unknown) => Number(v ?? 0);

export function planeOf(control: number, data: number): Plane {
  if (data === 0) return 'control';
  return control === 0 ? 'data' : 'mixed';
}

export class PlanesDatabase implements PlanesDatabaseReader {
  readonly schemaVersion: number;

  constructor(readonly path: string, readonly sql: SqlDatabase) {
    this.schemaVersion = num(queryValue(sql, 'PRAGMA user_version'));
  }

  sourceFiles(): SourceFileRecord[] {
    return queryAll(this.sql, 'SELECT path, sha256 FROM files ORDER BY path').map((r) => ({ path: String(r.path), sha256: String(r.sha256) }));
  }

  fileLines(file: string): LineRecord[] {
    return this.fileLineTable(file)?.records() ?? [];
  }

  /**
   * A file's lines in columns, undefined when the database has none: lines and planes now, the rest of each
   * record (counts, functions, labels, sites) read from the database on first need (hovers).
   */
  fileLineTable(file: string): FileLineTable | undefined {
    // The BLOBs come out as hex text: sql.js copies a BLOB out of wasm memory one byte at a time in JS (several
    // ms for 100 kB before the JIT warms up), a text through TextDecoder, and Buffer decodes hex natively.
    const statement = this.sql.prepare('SELECT l.file_id, l.line_count, l.control_insns, l.data_insns, hex(l.planes) FROM file_lines l JOIN files f ON f.id = l.file_id WHERE f.path = ?');
    let row: SqlValue[];
    try {
      statement.bind([file]);
      if (!statement.step()) return undefined;
      row = statement.get();
    } finally {
      statement.free();
    }
    const [fileId, count, control, data, planesHex] = row;
    const { lines, planes } = decodePlanes(num(count), Buffer.from(String(planesHex), 'hex'), file);
    return new FileLineTable(lines, planes, num(control), num(data), () => {
      const [d] = queryAll(this.sql, 'SELECT hex(details) AS details, functions FROM file_lines WHERE file_id = ?', [num(fileId)]);
      if (!d) throw new LineTableError(`file_lines.details of ${file} is missing: rebuild the database with \`planescope classify\``);
      return decodeDetails(num(count), Buffer.from(String(d.details), 'hex'), String(d.functions), file);
    });
  }

  sites(): RankedSite[] {
    const rows = queryAll(this.sql, `
      SELECT s.id, s.rank, s.score, s.evidence, m.path AS module, s.offset, f.path AS file, s.line, fn.name AS function,
             s.access, s.count, s.disagreement, l.text AS label
      FROM sites s JOIN modules m ON m.id = s.module_id LEFT JOIN files f ON f.id = s.file_id
      LEFT JOIN functions fn ON fn.id = s.func_id LEFT JOIN labels l ON l.id = s.label_id ORDER BY s.rank`);
    return rows.map((r) => ({
      id: num(r.id),
      rank: num(r.rank),
      score: num(r.score),
      evidence: JSON.parse(String(r.evidence)) as string[],
      module: String(r.module),
      offset: num(r.offset),
      file: r.file === null ? '' : String(r.file),
      line: num(r.line),
      function: r.function === null ? '??' : String(r.function),
      access: r.access === 'store' ? 'store' : 'load',
      count: num(r.count),
      policyDisagreement: num(r.disagreement) === 1,
      labelText: r.label === null ? '' : String(r.label),
    }));
  }

  components(): ComponentStats[] {
    const comps = queryAll(this.sql, `
      SELECT c.id, c.name, c.exe, (SELECT COUNT(*) FROM decisive_runs r WHERE r.component_id = c.id) AS processes,
        (SELECT COUNT(*) FROM insn_counts i JOIN modules m ON m.id = i.module_id WHERE i.component_id = c.id AND m.kind != 'tooling' AND i.plane = 0) AS control,
        (SELECT COUNT(*) FROM insn_counts i JOIN modules m ON m.id = i.module_id WHERE i.component_id = c.id AND m.kind != 'tooling' AND i.plane = 1) AS data
      FROM components c ORDER BY c.name, c.id`);
    return comps.map((c) => {
      const io = { controlIn: 0, controlOut: 0, dataIn: 0, dataOut: 0 };
      for (const r of queryAll(this.sql, 'SELECT direction, SUM(tainted) AS t, SUM(clean) AS c FROM io JOIN decisive_runs r ON r.id = io.run_id WHERE r.component_id = ? GROUP BY direction', [num(c.id)])) {
        if (r.direction === 'in') {
          io.dataIn += num(r.t);
          io.controlIn += num(r.c);
        } else {
          io.dataOut += num(r.t);
          io.controlOut += num(r.c);
        }
      }
      return { name: String(c.name), exe: String(c.exe), processes: num(c.processes), controlInstructions: num(c.control), dataInstructions: num(c.data), io };
    });
  }

  labelChain(labelId: number): ProvenanceStep[] {
    const chain: ProvenanceStep[] = [];
    const seen = new Set<number>();
    const visit = (id: number) => {
      if (seen.has(id) || chain.length >= 64) return;
      seen.add(id);
      const [l] = queryAll(this.sql, 'SELECT id, run_id, kind, path, start, end, peer, msg, origin, text FROM labels WHERE id = ?', [id]);
      if (!l) return;
      const step: ProvenanceStep = { labelId: id, text: String(l.text) };
      if (l.kind === 'file') step.file = { path: String(l.path), start: num(l.start), end: num(l.end) };
      if (l.kind === 'msg') step.message = { peer: String(l.peer), msg: num(l.msg) };
      chain.push(step);
      if (l.kind === 'mixed') {
        for (const p of queryAll(this.sql, 'SELECT part_id FROM label_parts WHERE label_id = ? ORDER BY part_id', [id])) visit(num(p.part_id));
      } else if (l.kind === 'msg') {
        // Follow the message back to the sender's label with the same provenance text, when the sender ran too.
        const sender = queryValue(this.sql, 'SELECT peer_run_id FROM messages WHERE label_id = ?', [id]);
        if (sender !== null && sender !== undefined && l.origin) {
          const origin = queryValue(this.sql, 'SELECT id FROM labels WHERE run_id = ? AND text = ? LIMIT 1', [num(sender), String(l.origin)]);
          if (origin !== undefined && origin !== null) visit(num(origin));
        }
      }
    };
    visit(labelId);
    return chain;
  }

  // ---- beyond the contract ----

  meta(key: string): string | undefined {
    const v = queryValue(this.sql, 'SELECT value FROM meta WHERE key = ?', [key]);
    return v === undefined || v === null ? undefined : String(v);
  }

  runs(): RunRecord[] {
    return queryAll(this.sql, 'SELECT r.*, c.name AS component FROM runs r JOIN components c ON c.id = r.component_id ORDER BY r.id').map((r) => ({
      id: num(r.id), component: String(r.component), logPath: String(r.log_path), pid: num(r.pid), exe: String(r.exe),
      args: JSON.parse(String(r.args)) as string[], policy: r.policy === 'sensitive' ? 'sensitive' : 'insensitive', icount: num(r.icount),
      end: r.end_reason === 'exit' ? `exit ${num(r.end_detail)}` : r.end_reason === 'signal' ? `signal ${num(r.end_detail)}` : r.end_reason === 'exec' ? 'exec' : 'truncated',
    }));
  }

  modules(): ModuleRecord[] {
    return queryAll(this.sql, 'SELECT id, build_id, path, kind, debug FROM modules ORDER BY id').map((r) => ({
      id: num(r.id), buildId: String(r.build_id), path: String(r.path), kind: String(r.kind) as ModuleRecord['kind'], debug: String(r.debug),
    }));
  }

  /** The recorded processes, by component then log (none in a database built without a recording directory, or before the table existed). */
  recordings(): RecordingRecord[] {
    if (queryValue(this.sql, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'recordings'") !== 1) return [];
    return queryAll(this.sql, `
      SELECT r.*, c.name AS component FROM recordings r LEFT JOIN components c ON c.id = r.component_id
      ORDER BY c.name IS NULL, c.name, r.mode, r.log_path`).map((r) => ({
      log: String(r.log_path), process: String(r.process), exe: String(r.exe), component: r.component === null ? null : String(r.component),
      mode: r.mode === 'by-reference' ? 'by-reference' : 'by-value', logBytes: num(r.log_bytes), records: num(r.records),
      userDataBytes: num(r.user_data_bytes), userDataLoggedBytes: num(r.user_data_logged_bytes), messageBytesByReference: num(r.message_bytes_by_reference),
    }));
  }

  warnings(): string[] {
    return queryAll(this.sql, 'SELECT text FROM warnings ORDER BY id').map((r) => String(r.text));
  }

  /** The message graph: who sent data to whom (from the message labels of each receiving run). */
  messageGraph(): MessageEdge[] {
    return queryAll(this.sql, `
      SELECT m.run_id, rc.name || '[' || r.pid || ']' AS to_name, m.peer, m.peer_run_id,
        CASE WHEN pr.id IS NULL THEN NULL ELSE pc.name || '[' || pr.pid || ']' END AS from_name, COUNT(DISTINCT m.msg) AS n
      FROM messages m JOIN runs r ON r.id = m.run_id JOIN components rc ON rc.id = r.component_id
      LEFT JOIN runs pr ON pr.id = m.peer_run_id LEFT JOIN components pc ON pc.id = pr.component_id
      GROUP BY m.run_id, m.peer ORDER BY m.run_id, m.peer`).map((r) => ({
      runId: num(r.run_id), to: String(r.to_name), peer: String(r.peer), peerRunId: r.peer_run_id === null ? null : num(r.peer_run_id),
      from: r.from_name === null ? null : String(r.from_name), messages: num(r.n),
    }));
  }

  /** One static instruction by (module build-id, link-time offset), for the debugger. */
  instruction(buildId: string, offset: number): InstructionRecord | undefined {
    const [r] = queryAll(this.sql, `
      SELECT i.plane, i.executions, i.tainted, f.path AS file, i.line, fn.name AS function FROM insns i
      JOIN modules m ON m.id = i.module_id LEFT JOIN files f ON f.id = i.file_id LEFT JOIN functions fn ON fn.id = i.func_id
      WHERE m.build_id = ? AND i.offset = ?`, [buildId, offset]);
    if (!r) return undefined;
    return { plane: num(r.plane) === 1 ? 'data' : 'control', executions: num(r.executions), tainted: num(r.tainted), file: r.file === null ? null : String(r.file), line: r.line === null ? null : num(r.line), function: r.function === null ? null : String(r.function) };
  }

  close(): void {
    this.sql.close();
  }
}

function rebuildHint(path: string): string {
  return `rebuild it from the taint logs with \`planescope classify <trace dir>... --out ${path}\``;
}

/** Opens a database from its bytes; checks that it is a classification database of this schema version. */
export async function openPlanesDatabaseBytes(path: string, bytes: Uint8Array): Promise<PlanesDatabase> {
  const SQL = await loadSqlJs();
  let sql: SqlDatabase;
  let version: number;
  try {
    sql = new SQL.Database(bytes);
    version = num(queryValue(sql, 'PRAGMA user_version'));
  } catch (error) {
    throw new DatabaseVersionError(path, -1, `${path} is not an SQLite database (${error instanceof Error ? error.message : String(error)}): ${rebuildHint(path)}`);
  }
  const isOurs = queryValue(sql, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('insns', 'lines', 'sites', 'meta')") === 4;
  if (!isOurs && version === 0) {
    sql.close();
    throw new DatabaseVersionError(path, 0, `${path} is not a Planescope classification database (no schema version, no Planescope tables): ${rebuildHint(path)}`);
  }
  if (version !== SCHEMA_VERSION) {
    sql.close();
    const age = version < SCHEMA_VERSION ? 'an older' : 'a newer';
    throw new DatabaseVersionError(path, version,
      `${path} has classification schema version ${version}, written by ${age} Planescope; this one reads version ${SCHEMA_VERSION}: ${rebuildHint(path)}${version > SCHEMA_VERSION ? ', or update Planescope' : ''}`);
  }
  return new PlanesDatabase(path, sql);
}

/** Opens `*.planes.db` from disk (the whole file is read into memory; sql.js has no file I/O). */
export async function openPlanesDatabase(path: string): Promise<PlanesDatabase> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read classification database ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return openPlanesDatabaseBytes(path, bytes);
}

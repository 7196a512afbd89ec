// The schema of a classification database (*.planes.db), documented in docs/database.md. Any change that
// old readers cannot read bumps SCHEMA_VERSION (stored as PRAGMA user_version).
// 2: file_lines holds columns (BLOBs, src/core/db/lineTable.ts) instead of one JSON text per file.
export const SCHEMA_VERSION = 2;

export const SCHEMA_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE components (id INTEGER PRIMARY KEY, name TEXT NOT NULL, exe TEXT NOT NULL UNIQUE,
  main_module_id INTEGER);
CREATE TABLE runs (id INTEGER PRIMARY KEY, component_id INTEGER NOT NULL, log_path TEXT NOT NULL,
  pid INTEGER NOT NULL, ppid INTEGER NOT NULL, exe TEXT NOT NULL, args TEXT NOT NULL, start_ms INTEGER NOT NULL,
  policy TEXT NOT NULL, tool_version TEXT NOT NULL, icount INTEGER NOT NULL, end_reason TEXT NOT NULL,
  end_detail INTEGER, user_data TEXT NOT NULL);
CREATE TABLE modules (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, build_id TEXT NOT NULL, path TEXT NOT NULL,
  kind TEXT NOT NULL, debug TEXT NOT NULL, debug_path TEXT);
CREATE TABLE run_modules (run_id INTEGER NOT NULL, module_id INTEGER NOT NULL, log_module_id INTEGER NOT NULL,
  bias INTEGER NOT NULL, PRIMARY KEY (run_id, log_module_id)) WITHOUT ROWID;
CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, system INTEGER NOT NULL);
CREATE TABLE functions (id INTEGER PRIMARY KEY, module_id INTEGER NOT NULL, name TEXT NOT NULL,
  control_insns INTEGER NOT NULL, data_insns INTEGER NOT NULL, executions INTEGER NOT NULL,
  data_executions INTEGER NOT NULL, UNIQUE (module_id, name));
CREATE TABLE insns (module_id INTEGER NOT NULL, offset INTEGER NOT NULL, plane INTEGER NOT NULL,
  executions INTEGER NOT NULL, tainted INTEGER NOT NULL, file_id INTEGER, line INTEGER, func_id INTEGER,
  outer_func_id INTEGER, flags INTEGER NOT NULL, PRIMARY KEY (module_id, offset)) WITHOUT ROWID;
CREATE TABLE lines (file_id INTEGER NOT NULL, line INTEGER NOT NULL, control_insns INTEGER NOT NULL,
  data_insns INTEGER NOT NULL, executions INTEGER NOT NULL, data_executions INTEGER NOT NULL,
  functions TEXT NOT NULL, labels TEXT NOT NULL, sites TEXT NOT NULL, PRIMARY KEY (file_id, line)) WITHOUT ROWID;
-- One row per file, the editor's one query when it opens a file: line numbers and planes (planes), the rest
-- per line (details) and the file's distinct function lists (functions, JSON), laid out by lineTable.ts.
CREATE TABLE file_lines (file_id INTEGER PRIMARY KEY, line_count INTEGER NOT NULL, control_insns INTEGER NOT NULL,
  data_insns INTEGER NOT NULL, planes BLOB NOT NULL, details BLOB NOT NULL, functions TEXT NOT NULL);
CREATE TABLE labels (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, log_id INTEGER NOT NULL, kind TEXT NOT NULL,
  path TEXT, start INTEGER, end INTEGER, peer TEXT, msg INTEGER, origin TEXT, text TEXT NOT NULL,
  UNIQUE (run_id, log_id));
CREATE TABLE label_parts (label_id INTEGER NOT NULL, part_id INTEGER NOT NULL, PRIMARY KEY (label_id, part_id)) WITHOUT ROWID;
CREATE TABLE messages (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, peer TEXT NOT NULL, msg INTEGER NOT NULL,
  label_id INTEGER NOT NULL, peer_run_id INTEGER);
CREATE TABLE io (run_id INTEGER NOT NULL, kind TEXT NOT NULL, direction TEXT NOT NULL, tainted INTEGER NOT NULL,
  clean INTEGER NOT NULL, PRIMARY KEY (run_id, kind, direction)) WITHOUT ROWID;
CREATE TABLE sites (id INTEGER PRIMARY KEY, module_id INTEGER NOT NULL, offset INTEGER NOT NULL, access TEXT NOT NULL,
  count INTEGER NOT NULL, count_insensitive INTEGER NOT NULL, count_sensitive INTEGER NOT NULL, runs INTEGER NOT NULL,
  label_id INTEGER, file_id INTEGER, line INTEGER, func_id INTEGER, score REAL NOT NULL, rank INTEGER NOT NULL,
  disagreement INTEGER NOT NULL, evidence TEXT NOT NULL);
CREATE TABLE warnings (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL);
-- The librecord logs of the recording directories classified along (absent in databases built before it).
CREATE TABLE recordings (id INTEGER PRIMARY KEY, log_path TEXT NOT NULL, process TEXT NOT NULL, exe TEXT NOT NULL,
  component_id INTEGER, mode TEXT NOT NULL, log_bytes INTEGER NOT NULL, records INTEGER NOT NULL,
  user_data_bytes INTEGER NOT NULL, user_data_logged_bytes INTEGER NOT NULL, message_bytes_by_reference INTEGER NOT NULL);
CREATE INDEX sites_rank ON sites (rank);
-- The runs that decide each component's figures: those of the primary policy when the component has any,
-- so a program run once under each policy is not counted twice.
CREATE VIEW decisive_runs AS SELECT r.* FROM runs r WHERE r.policy = (
  SELECT CASE WHEN EXISTS (SELECT 1 FROM runs x WHERE x.component_id = r.component_id AND x.policy = p.value)
    THEN p.value ELSE r.policy END FROM meta p WHERE p.key = 'primary_policy');
CREATE INDEX messages_run ON messages (run_id);
`;

/** Per-component counts: a table when the database has several components. */
export const INSN_COUNTS_TABLE_SQL = `CREATE TABLE insn_counts (component_id INTEGER NOT NULL, module_id INTEGER NOT NULL,
  offset INTEGER NOT NULL, plane INTEGER NOT NULL, executions INTEGER NOT NULL, PRIMARY KEY (component_id, module_id, offset)) WITHOUT ROWID`;

/** With one component its counts are the instructions' own: a view, which halves the rows written. */
export const INSN_COUNTS_VIEW_SQL = (component: number) =>
  `CREATE VIEW insn_counts AS SELECT ${component} AS component_id, module_id, offset, plane, executions FROM insns`;

/** insns.flags bits. */
export const INSN_INLINED = 1;
/** The instruction's own source (innermost frame) is a system header (under /usr/). */
export const INSN_SYSTEM_SOURCE = 2;

/** insns.plane / insn_counts.plane values. */
export const PLANE_CONTROL = 0;
export const PLANE_DATA = 1;

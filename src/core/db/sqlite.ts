// Loads sql.js (SQLite compiled to WebAssembly) once per process, with the .wasm from dist/, so the same
// database code runs in the CLI, the extension host and the debug adapter.
import { readFileSync } from 'node:fs';
import { distAsset } from '../assets';

export type SqlValue = number | string | Uint8Array | null;
export type BindParams = SqlValue[] | Record<string, SqlValue>;

/** The part of sql.js's Statement we use. */
export interface SqlStatement {
  bind(params?: BindParams): boolean;
  step(): boolean;
  get(): SqlValue[];
  getAsObject(): Record<string, SqlValue>;
  run(params?: BindParams): void;
  reset(): void;
  free(): boolean;
}

/** The part of sql.js's Database we use. */
export interface SqlDatabase {
  run(sql: string, params?: BindParams): SqlDatabase;
  exec(sql: string, params?: BindParams): Array<{ columns: string[]; values: SqlValue[][] }>;
  prepare(sql: string, params?: BindParams): SqlStatement;
  export(): Uint8Array;
  close(): void;
}

export interface SqlJs {
  Database: new (data?: ArrayLike<number> | Buffer | null) => SqlDatabase;
}

type InitSqlJs = (config: { wasmBinary?: ArrayBuffer | Uint8Array }) => Promise<SqlJs>;

let loading: Promise<SqlJs> | undefined;

/** sql.js, initialised once; the .wasm is the one scripts/bundle.mjs copies into dist/. */
export function loadSqlJs(): Promise<SqlJs> {
  if (!loading) {
    // A plain require so that esbuild bundles sql.js's loader; the .wasm stays a file in dist/.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const init = require('sql.js') as InitSqlJs;
    const wasm = readFileSync(distAsset('sql-wasm.wasm'));
    loading = init({ wasmBinary: wasm });
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/** Runs a query and returns its rows as objects. */
export function queryAll(db: SqlDatabase, sql: string, params?: BindParams): Array<Record<string, SqlValue>> {
  const statement = db.prepare(sql);
  try {
    if (params) statement.bind(params);
    const rows: Array<Record<string, SqlValue>> = [];
    while (statement.step()) rows.push(statement.getAsObject());
    return rows;
  } finally {
    statement.free();
  }
}

/** The first column of the first row, or undefined. */
export function queryValue(db: SqlDatabase, sql: string, params?: BindParams): SqlValue | undefined {
  const statement = db.prepare(sql);
  try {
    if (params) statement.bind(params);
    return statement.step() ? statement.get()[0] : undefined;
  } finally {
    statement.free();
  }
}

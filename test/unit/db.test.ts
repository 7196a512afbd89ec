// The read API (src/core/db/api.ts) on a database written by classification: edge cases the editor hits.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyLogs } from '../../src/core/classify/classify';
import { writeFileAtomic } from '../../src/core/classify/inputs';
import type { PlanesDatabaseReader } from '../../src/core/db/api';
import { FileLineTable, tableFromRecords } from '../../src/core/db/lineTable';
import { openPlanesDatabase, openPlanesDatabaseBytes, planeOf, PlanesDatabase } from '../../src/core/db/reader';
import { SCHEMA_VERSION } from '../../src/core/db/schema';
import type { LineRecord } from '../../src/core/db/api';
import { readFileSync } from 'node:fs';
import { fakeIndex, labels, makeLog } from './classify.helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-db-'));
const exe = join(dir, 'svc');
const src = join(dir, 'svc.c');
writeFileSync(exe, '');
writeFileSync(src, 'int x;\n');

async function build(): Promise<string> {
  const log = makeLog({
    source: 'svc.taintlog', process: { pid: 5, ppid: 1, exe, args: [], startMs: 0 },
    modules: [{ id: 1, buildId: 'f00d', path: exe, bias: 0 }],
    // A mixed label that names itself among its parts must not loop.
    labels: labels(
      { id: 1, provenance: { kind: 'file', path: '/d/a', start: 0, end: 8 } },
      { id: 2, provenance: { kind: 'mixed', of: [1, 2] } },
    ),
    instructions: [{ module: 1, offset: 0x10, executions: 3, taintedExecutions: 3 }],
    sites: [{ module: 1, offset: 0x10, access: 'store', count: 3, label: 2 }],
  });
  const result = await classifyLogs(['svc.taintlog'], { readLog: async () => log, openIndex: () => fakeIndex(exe, 'f00d', { 0x10: { file: src, line: 1, function: 'f' } }) });
  const path = join(dir, 'svc.planes.db');
  writeFileAtomic(path, result.bytes);
  return path;
}

describe('database reader', () => {
  it('answers the contract from a file on disk', async () => {
    const db: PlanesDatabaseReader = await openPlanesDatabase(await build());
    assert.equal(db.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(db.fileLines('/no/such/file.c'), []);
    assert.deepEqual(db.labelChain(999), []);
    const chain = db.labelChain(2);
    assert.deepEqual(chain.map((s) => s.labelId), [2, 1], 'each label once');
    const [site] = db.sites();
    assert.deepEqual([site.rank, site.access, site.file, site.line, site.function, site.labelText], [1, 'store', src, 1, 'f', 'mixed: 2 sources']);
    const [line] = db.fileLines(src);
    assert.deepEqual(line.siteIds, [site.id]);
    assert.deepEqual(line.labels, [2]);
    assert.deepEqual(db.components().map((c) => [c.name, c.dataInstructions, c.controlInstructions]), [['svc', 1, 0]]);
    db.close();
  });

  it('reads a file\'s planes in one query and its details only when a record is asked for', async () => {
    const db = (await openPlanesDatabase(await build())) as PlanesDatabase;
    const table = db.fileLineTable(src);
    assert.ok(table instanceof FileLineTable);
    assert.deepEqual([...table.lines], [1]);
    assert.equal(table.plane(0), 'data');
    assert.deepEqual([table.controlInsns, table.dataInsns], [0, 1]);
    assert.equal(db.fileLineTable('/no/such/file.c'), undefined);
    // Details are not read yet: a database whose details column is broken still shades...
    db.sql.run("UPDATE file_lines SET details = x'00'");
    const shaded = db.fileLineTable(src)!;
    assert.equal(shaded.plane(0), 'data');
    // ...and names the problem once a hover asks for a record.
    assert.throws(() => shaded.record(0), /file_lines\.details of .*svc\.c holds 1 bytes, fewer than 1 lines need: rebuild the database with `planescope classify`/);
    // The table read before the damage had not loaded its details either: it reads them now, and fails too.
    assert.throws(() => table.record(0), /file_lines\.details/);
    db.close();
  });

  it('refuses a database with the JSON file_lines of schema version 1, with the way to rebuild', async () => {
    const db = (await openPlanesDatabase(await build())) as PlanesDatabase;
    db.sql.run('DROP TABLE file_lines');
    db.sql.run('CREATE TABLE file_lines (file_id INTEGER PRIMARY KEY, records TEXT NOT NULL)');
    db.sql.run('PRAGMA user_version = 1');
    const old = db.sql.export();
    db.close();
    await assert.rejects(openPlanesDatabaseBytes('v1.planes.db', old),
      /v1\.planes\.db has classification schema version 1, written by an older Planescope; this one reads version 2: rebuild it from the taint logs with `planescope classify <trace dir>\.\.\. --out v1\.planes\.db`/);
  });

  it('round-trips line records through the column encoding, in line order', () => {
    const records: LineRecord[] = [
      { line: 40, plane: 'mixed', controlInstructions: 3, dataInstructions: 2, executions: 2 ** 40 + 1, functions: ['g', 'inl'], labels: [7, 9], siteIds: [] },
      { line: 2, plane: 'control', controlInstructions: 1, dataInstructions: 0, executions: 5, functions: ['f'], labels: [], siteIds: [] },
      { line: 17, plane: 'data', controlInstructions: 0, dataInstructions: 4, executions: 12, functions: ['f'], labels: [3], siteIds: [1, 4] },
      { line: 18, plane: 'control', controlInstructions: 2, dataInstructions: 0, executions: 0, functions: [], labels: [], siteIds: [] },
    ];
    const table = tableFromRecords(records);
    assert.deepEqual([...table.lines], [2, 17, 18, 40]);
    assert.deepEqual(table.records(), [...records].sort((a, b) => a.line - b.line));
    assert.deepEqual([table.controlInsns, table.dataInsns], [6, 6]);
    assert.equal(table.indexOf(18), 2);
    assert.equal(table.indexOf(19), -1);
    // A record's arrays are the caller's: changing one leaves the table as it was.
    table.record(0).functions.push('x');
    assert.deepEqual(table.record(0).functions, ['f']);
  });

  it('names a planes column of the wrong size', async () => {
    const path = await build();
    const db = await openPlanesDatabaseBytes(path, readFileSync(path));
    db.sql.run("UPDATE file_lines SET planes = x'0102'");
    assert.throws(() => db.fileLines(src), /file_lines\.planes of .*svc\.c holds 2 bytes for 1 lines \(expected 5\): rebuild the database with `planescope classify`/);
    db.close();
  });

  it('names a missing database file and its problem', async () => {
    await assert.rejects(openPlanesDatabase(join(dir, 'absent.planes.db')), /cannot read classification database .*absent\.planes\.db: ENOENT/);
  });

  it('derives a line plane from its counts', () => {
    assert.equal(planeOf(3, 0), 'control');
    assert.equal(planeOf(0, 2), 'data');
    assert.equal(planeOf(1, 1), 'mixed');
  });
});

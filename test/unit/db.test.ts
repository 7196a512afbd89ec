// The read API (src/core/db/api.ts) on a database written by classification: edge cases the editor hits.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyLogs } from '../../src/core/classify/classify';
import { writeFileAtomic } from '../../src/core/classify/inputs';
import type { PlanesDatabaseReader } from '../../src/core/db/api';
import { openPlanesDatabase, planeOf } from '../../src/core/db/reader';
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
    assert.equal(db.schemaVersion, 1);
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

  it('names a missing database file and its problem', async () => {
    await assert.rejects(openPlanesDatabase(join(dir, 'absent.planes.db')), /cannot read classification database .*absent\.planes\.db: ENOENT/);
  });

  it('derives a line plane from its counts', () => {
    assert.equal(planeOf(3, 0), 'control');
    assert.equal(planeOf(0, 2), 'data');
    assert.equal(planeOf(1, 1), 'mixed');
  });
});

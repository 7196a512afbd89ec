import { strict as assert } from 'node:assert';
import type { PlanesDatabaseReader } from '../../src/core/db/api';
import { CachedDatabase } from '../../src/core/dbCache';
import { tableFromRecords } from '../../src/core/db/lineTable';

function countingReader() {
  const calls: Record<string, number> = { sourceFiles: 0, fileLines: 0, sites: 0, components: 0, labelChain: 0 };
  const reader: PlanesDatabaseReader = {
    path: '/x.planes.db',
    schemaVersion: 1,
    sourceFiles: () => (calls.sourceFiles++, [{ path: '/a.c', sha256: '' }]),
    fileLines: () => (calls.fileLines++, [{ line: 3, plane: 'data', controlInstructions: 0, dataInstructions: 2, executions: 1, functions: [], labels: [], siteIds: [] }]),
    sites: () => (calls.sites++, []),
    components: () => (calls.components++, []),
    labelChain: (id) => (calls.labelChain++, [{ labelId: id, text: 't' }]),
    close: () => undefined,
  };
  return { reader, calls };
}

describe('dbCache', () => {
  it('queries each file, label, site list and component list once', () => {
    const { reader, calls } = countingReader();
    const db = new CachedDatabase(reader);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(db.fileIndex('/a.c')?.linesByClass().data, [2]);
      db.labelChain(9);
      db.sitesAt('/a.c', 3);
      db.components();
    }
    assert.equal(db.fileIndex('/unknown.c'), undefined);
    assert.deepEqual(calls, { sourceFiles: 1, fileLines: 1, sites: 1, components: 1, labelChain: 1 });
  });

  it('indexes from the column table when the reader has one, decoding a record only when asked', () => {
    const { reader, calls } = countingReader();
    let tables = 0;
    let details = 0;
    const records = [{ line: 3, plane: 'mixed' as const, controlInstructions: 1, dataInstructions: 2, executions: 4, functions: ['f'], labels: [5], siteIds: [] }];
    const source = tableFromRecords(records);
    reader.fileLineTable = () => {
      tables++;
      const t = Object.create(source);
      t.details = () => (details++, source.details());
      return t;
    };
    const db = new CachedDatabase(reader);
    const index = db.fileIndex('/a.c')!;
    assert.deepEqual(index.linesByClass().mixed, [2]);
    assert.deepEqual([index.share.controlInstructions, index.share.dataInstructions, index.share.mixedLines], [1, 2, 1]);
    assert.equal(details, 0, 'shading needs no details');
    assert.deepEqual(index.at(2)?.record, records[0]);
    assert.ok(details > 0);
    db.fileIndex('/a.c');
    assert.deepEqual([tables, calls.fileLines], [1, 0]);
  });
});

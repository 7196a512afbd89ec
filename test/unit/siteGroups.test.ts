import { strict as assert } from 'node:assert';
import type { RankedSite } from '../../src/core/db/api';
import { groupSites, sitesByLine } from '../../src/core/siteGroups';

function site(id: number, rank: number, file: string, fn: string, count: number, disagree = false): RankedSite {
  return { id, rank, score: 1 / rank, evidence: [], module: 'm', offset: id, file, line: id * 10, function: fn, access: 'load', count, policyDisagreement: disagree, labelText: '' };
}

describe('siteGroups', () => {
  it('groups by file then function, ordered by the best rank, with counts and disagreements', () => {
    const groups = groupSites([
      site(1, 3, '/a.c', 'f', 10),
      site(2, 1, '/b.c', 'crc32', 100, true),
      site(3, 2, '/a.c', 'g', 5, true),
      site(4, 4, '/a.c', 'f', 1),
    ]);
    assert.deepEqual(groups.map((g) => g.file), ['/b.c', '/a.c']);
    const a = groups[1];
    assert.deepEqual(a.functions.map((f) => f.function), ['g', 'f']);
    assert.equal(a.siteCount, 3);
    assert.equal(a.count, 16);
    assert.equal(a.disagreements, 1);
    assert.deepEqual(a.functions[1].sites.map((s) => s.rank), [3, 4]);
    assert.equal(a.functions[1].count, 11);
  });

  it('indexes sites by file and line', () => {
    const m = sitesByLine([site(1, 1, '/a.c', 'f', 1), site(2, 2, '/a.c', 'f', 1)]);
    assert.equal(m.get('/a.c')?.get(10)?.[0].id, 1);
    assert.equal(m.get('/a.c')?.get(30), undefined);
  });
});

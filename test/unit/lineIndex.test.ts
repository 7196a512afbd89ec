import { strict as assert } from 'node:assert';
import type { LineRecord, Plane } from '../../src/core/db/api';
import { FileIndex, dataShare, formatPercent, formatShares, TextChange } from '../../src/core/lineIndex';

function rec(line: number, plane: Plane, c = 1, d = plane === 'control' ? 0 : 1): LineRecord {
  return { line, plane, controlInstructions: c, dataInstructions: d, executions: 1, functions: ['f'], labels: [], siteIds: [] };
}
function change(startLine: number, startCharacter: number, endLine: number, endCharacter: number, text: string): TextChange {
  return { startLine, startCharacter, endLine, endCharacter, text };
}

describe('lineIndex', () => {
  // Recorded 1-based lines 2 (control), 4 (data), 6 (mixed), 8 (control) -> editor lines 1, 3, 5, 7.
  const records = [rec(6, 'mixed'), rec(2, 'control'), rec(8, 'control', 3), rec(4, 'data', 0, 5)];

  it('sorts records and lists 0-based editor lines per class, with the file share', () => {
    const idx = new FileIndex(records);
    assert.deepEqual(idx.linesByClass(), { control: [1, 7], data: [3], mixed: [5], stale: [] });
    assert.deepEqual(idx.linesByClass(true), { control: [], data: [], mixed: [], stale: [1, 3, 5, 7] });
    assert.equal(idx.share.controlInstructions, 1 + 1 + 3 + 0);
    assert.equal(idx.share.dataInstructions, 1 + 5);
    assert.equal(idx.share.controlLines, 2);
    assert.equal(idx.at(3)?.record.plane, 'data');
    assert.equal(idx.at(2), undefined);
  });

  it('moves lines below an inserted line and leaves the cached index untouched', () => {
    const pristine = new FileIndex(records);
    const idx = pristine.live();
    idx.applyChange(change(2, 0, 2, 0, 'new line\n')); // Enter at the start of editor line 2
    assert.deepEqual(idx.linesByClass(), { control: [1, 8], data: [4], mixed: [6], stale: [] });
    assert.equal(idx.at(4)?.record.line, 4);
    assert.equal(idx.currentLineOf(8), 8);
    assert.deepEqual(pristine.linesByClass().control, [1, 7]);
    assert.ok(idx.hasEdits && !pristine.hasEdits);
  });

  it('marks a line whose text changed as stale and drops deleted lines', () => {
    const idx = new FileIndex(records);
    idx.applyChange(change(3, 4, 3, 4, 'x')); // typing on the data line
    assert.deepEqual(idx.linesByClass().stale, [3]);
    assert.equal(idx.at(3)?.edited, true);
    idx.applyChange(change(4, 0, 6, 0, '')); // delete editor lines 4 and 5 (the mixed line)
    assert.deepEqual(idx.linesByClass(), { control: [1, 5], data: [], mixed: [], stale: [3] });
    assert.equal(idx.currentLineOf(6), undefined);
  });

  it('joins lines: the start line is edited, the swallowed line is gone, later lines move up', () => {
    const idx = new FileIndex(records);
    idx.applyChange(change(3, 10, 5, 2, ' '));
    assert.deepEqual(idx.linesByClass(), { control: [1, 5], data: [], mixed: [], stale: [3] });
  });

  it('keeps the start line clean when the caller knows it did not change (Enter at end of line)', () => {
    const idx = new FileIndex(records);
    idx.applyChange({ ...change(3, 20, 3, 20, '\n  '), startLineUnchanged: true });
    assert.deepEqual(idx.linesByClass(), { control: [1, 8], data: [3], mixed: [6], stale: [] });
  });

  it('formats shares', () => {
    assert.equal(formatPercent(dataShare(99, 1)), '1.0%');
    assert.equal(formatPercent(dataShare(1, 3)), '75%');
    assert.equal(formatPercent(dataShare(100000, 1)), '<0.1%');
    assert.equal(formatPercent(dataShare(0, 0)), '–');
  });

  it('formats the control/data pair so that it adds up to 100%', () => {
    assert.deepEqual(formatShares(dataShare(5, 3)), { control: '62%', data: '38%' });
    assert.deepEqual(formatShares(dataShare(969, 31)), { control: '96.9%', data: '3.1%' });
    assert.deepEqual(formatShares(dataShare(31, 969)), { control: '3.1%', data: '96.9%' });
    assert.deepEqual(formatShares(dataShare(100000, 1)), { control: '>99.9%', data: '<0.1%' });
    assert.deepEqual(formatShares(dataShare(1, 0)), { control: '100.0%', data: '0.0%' });
    assert.deepEqual(formatShares(NaN), { control: '–', data: '–' });
  });
});

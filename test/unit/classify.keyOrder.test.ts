// keyOrder: the (group, offset) order of instruction rows, checked against a plain comparator sort.
import { strict as assert } from 'node:assert';
import { keyOrder } from '../../src/core/classify/keyOrder';

/** A deterministic pseudo-random sequence (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function reference(groups: number[], offsets: number[]): number[] {
  return groups.map((_, i) => i).sort((x, y) => groups[x] - groups[y] || offsets[x] - offsets[y]);
}

describe('classify: key order of instruction rows', () => {
  it('is undefined for rows already in order, the comparator order otherwise', () => {
    assert.equal(keyOrder(3, (i) => [1, 1, 2][i], [5, 9, 1]), undefined);
    const next = random(7);
    for (const n of [2, 3, 17, 5000]) {
      const groups = Array.from({ length: n }, () => Math.floor(next() * 5));
      // Distinct offsets per group, as (module, offset) keys are.
      const offsets = Array.from({ length: n }, (_, i) => i * 7 + Math.floor(next() * 7)).sort(() => next() - 0.5);
      const order = keyOrder(n, (i) => groups[i], offsets) ?? groups.map((_, i) => i); // undefined: already in order
      assert.deepEqual([...order], reference(groups, offsets), `n=${n}`);
    }
  });

  it('orders absolute addresses beyond 4 GiB (code outside any object) exactly, group by group', () => {
    const groups = [2, 0, 0, 0, 2, 1, 0];
    const offsets = [0x10, 0x7ffff7fc1001, 0x7ffff7fc1000, 0x20, 0x8, 0x7ffff7fc1002, 2 ** 52 + 1];
    assert.deepEqual([...keyOrder(groups.length, (i) => groups[i], offsets)!], reference(groups, offsets));
    // A group of one row beyond 4 GiB keeps its row.
    assert.deepEqual([...keyOrder(2, (i) => [1, 0][i], [3, 2 ** 40])!], [1, 0]);
  });
});

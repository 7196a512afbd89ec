// The order of rows by (group, offset) keys, e.g. (module, link-time offset): instructions arrive in
// planegrind's hash-table order; DWARF lookups, aggregation and the WITHOUT ROWID tables go faster in key order.
const ROW_BITS = 21;
const ROW_SPAN = 2 ** ROW_BITS;
/** offset * 2^21 + row stays an exact double (< 2^53) below this. */
const OFFSET_PACKABLE = 2 ** 32;

/**
 * The rows in ascending (group, offset) order; undefined when they already are (one pass). A counting sort
 * by group, then per group a native sort of offset * 2^21 + row packed into one double: a comparator sort
 * of 1 M rows takes ~2 s here, this ~0.1 s. A group with offsets of 2^32 and more (absolute addresses of
 * code outside any object, m=0) is sorted by comparison.
 */
export function keyOrder(size: number, group: (row: number) => number, offset: ArrayLike<number>): Uint32Array | undefined {
  const groups = new Uint32Array(size);
  let sorted = true;
  let maxGroup = 0;
  for (let i = 0; i < size; i++) {
    const g = (groups[i] = group(i));
    if (g > maxGroup) maxGroup = g;
    if (i > 0 && sorted && (groups[i - 1] > g || (groups[i - 1] === g && offset[i - 1] > offset[i]))) sorted = false;
  }
  if (sorted) return undefined;
  if (size >= ROW_SPAN) {
    const order = new Uint32Array(size);
    for (let i = 0; i < size; i++) order[i] = i;
    return order.sort((x, y) => groups[x] - groups[y] || offset[x] - offset[y]);
  }
  const start = new Uint32Array(maxGroup + 2);
  for (let i = 0; i < size; i++) start[groups[i] + 1]++;
  for (let g = 1; g < start.length; g++) start[g] += start[g - 1];
  // The rows of each group, in row order, then sorted in place group by group.
  const order = new Uint32Array(size);
  const fill = start.slice();
  for (let i = 0; i < size; i++) order[fill[groups[i]]++] = i;
  const keys = new Float64Array(size);
  for (let g = 0; g <= maxGroup; g++) {
    const from = start[g];
    const to = start[g + 1];
    if (to - from < 2) continue;
    const rows = order.subarray(from, to);
    let packable = true;
    for (let j = 0; j < rows.length && packable; j++) packable = offset[rows[j]] < OFFSET_PACKABLE;
    if (!packable) {
      rows.sort((x, y) => offset[x] - offset[y]);
      continue;
    }
    const k = keys.subarray(from, to);
    for (let j = 0; j < rows.length; j++) k[j] = offset[rows[j]] * ROW_SPAN + rows[j];
    k.sort();
    for (let j = 0; j < rows.length; j++) rows[j] = k[j] % ROW_SPAN;
  }
  return order;
}

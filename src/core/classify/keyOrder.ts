// The order of rows by (group, offset) keys, e.g. (module, link-time offset): instructions arrive in
// planegrind's hash-table order; DWARF lookups, aggregation and the WITHOUT ROWID tables go faster in key order.
const ROW_BITS = 21;
const ROW_SPAN = 2 ** ROW_BITS;

/**
 * The rows in ascending (group, offset) order, so that the WITHOUT ROWID tables are appended to in key order
 * (planegrind writes instructions in hash-table order); undefined when they already are. A counting sort by
 * group, then per group a native sort of offset * 2^21 + row packed into one double (a comparator sort of
 * 1 M rows takes ~2 s here, this ~0.2 s).
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
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  if (size >= ROW_SPAN) {
    return order.sort((x, y) => groups[x] - groups[y] || offset[x] - offset[y]);
  }
  const start = new Uint32Array(maxGroup + 2);
  for (let i = 0; i < size; i++) start[groups[i] + 1]++;
  for (let g = 1; g < start.length; g++) start[g] += start[g - 1];
  const keys = new Float64Array(size);
  const fill = start.slice();
  for (let i = 0; i < size; i++) keys[fill[groups[i]]++] = offset[i] * ROW_SPAN + i;
  for (let g = 0; g <= maxGroup; g++) if (start[g + 1] - start[g] > 1) keys.subarray(start[g], start[g + 1]).sort();
  for (let i = 0; i < size; i++) order[i] = keys[i] % ROW_SPAN;
  return order;
}

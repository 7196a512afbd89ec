// The order of rows by (group, offset) keys, e.g. (module, link-time offset): instructions arrive in
// planegrind's hash-table order; DWARF lookups, aggregation, merging components and the WITHOUT ROWID
// tables go faster in key order.
const DIGIT = 65536;

/** One stable counting-sort pass of `order` by digit(row), digits in [0, span). */
function countingPass(order: Uint32Array, scratch: Uint32Array, span: number, digit: (row: number) => number): void {
  const count = new Uint32Array(span + 1);
  for (let i = 0; i < order.length; i++) count[digit(order[i]) + 1]++;
  for (let d = 1; d <= span; d++) count[d] += count[d - 1];
  for (let i = 0; i < order.length; i++) {
    const row = order[i];
    scratch[count[digit(row)]++] = row;
  }
  order.set(scratch);
}

/**
 * The rows in ascending (group, offset) order; undefined when they already are (one pass). An LSD radix
 * sort: 16-bit digits of the offset (as many as the largest offset needs: two for link-time offsets,
 * up to four for absolute addresses of code outside any object), then the group, each a stable counting
 * pass. A comparator sort of 1 M rows takes ~2 s here, this a few tens of ms.
 */
export function keyOrder(size: number, group: (row: number) => number, offset: ArrayLike<number>): Uint32Array | undefined {
  const groups = new Uint32Array(size);
  let sorted = true;
  let maxGroup = 0;
  let maxOffset = 0;
  for (let i = 0; i < size; i++) {
    const g = (groups[i] = group(i));
    if (g > maxGroup) maxGroup = g;
    if (offset[i] > maxOffset) maxOffset = offset[i];
    if (i > 0 && sorted && (groups[i - 1] > g || (groups[i - 1] === g && offset[i - 1] > offset[i]))) sorted = false;
  }
  if (sorted) return undefined;
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  const scratch = new Uint32Array(size);
  for (let scale = 1; scale <= maxOffset; scale *= DIGIT) {
    countingPass(order, scratch, DIGIT, (row) => Math.floor(offset[row] / scale) % DIGIT);
  }
  countingPass(order, scratch, maxGroup + 1, (row) => groups[row]);
  return order;
}

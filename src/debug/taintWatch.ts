// Taint watches: "stop when tainted data first reaches this lvalue". A watch names the bytes it
// watches (address and size, resolved when it was set, like a hardware watchpoint) and the expression
// it came from; DAP data breakpoints carry it in their dataId.

export interface TaintWatch {
  id: number;
  expression: string;
  address: bigint;
  size: number;
  /** Cleared once tainted data has reached it (it stops once); set again when the run goes back. */
  armed: boolean;
}

/** The dataId of a watch over `size` bytes at `address`, from `expression`. */
export function taintWatchDataId(expression: string, address: bigint, size: number): string {
  return `taint:0x${address.toString(16)}:${size}:${expression}`;
}

export function parseTaintWatchDataId(dataId: string): { expression: string; address: bigint; size: number } | undefined {
  const m = /^taint:(0x[0-9a-f]+):(\d+):(.*)$/s.exec(dataId);
  if (!m || Number(m[2]) <= 0) return undefined;
  return { address: BigInt(m[1]), size: Number(m[2]), expression: m[3] };
}

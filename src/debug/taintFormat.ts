// How taint is written in the Variables view, hovers and the debug console: never colour alone, a
// word and a count, so it reads the same in every theme.

/** Suffix for a value holding tainted bytes, e.g. "⟨tainted 5/16 B⟩". */
export function taintMarker(taintedBytes: number, size: number): string {
  return `⟨tainted ${taintedBytes}/${size} B⟩`;
}

/** One line for the Taint scope: "clean", or the tainted share and its labels. */
export function formatTaintSummary(taintedBytes: number, size: number, labels: number[]): string {
  if (taintedBytes === 0) return `clean (${size} B)`;
  const which = labels.length ? ` · label${labels.length > 1 ? 's' : ''} ${labels.join(', ')}` : '';
  return `tainted ${taintedBytes}/${size} B${which}`;
}

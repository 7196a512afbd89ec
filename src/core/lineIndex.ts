// The per-file index behind line decorations: the file's line table (typed arrays), a line -> record lookup,
// and line positions that follow edits, so redrawing a file never re-queries the database.
import type { LineRecord, Plane } from './db/api';
import { FileLineTable, PLANE_NAMES, tableFromRecords } from './db/lineTable';

export type DecorationClass = Plane | 'stale';
export const DECORATION_CLASSES: readonly DecorationClass[] = ['control', 'data', 'mixed', 'stale'];

/** One text change as an editor reports it (0-based lines and characters, like VS Code's). */
export interface TextChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
  /** Set by a caller that knows the start line's own text did not change (Enter at the end of a line). */
  startLineUnchanged?: boolean;
}

export interface PlaneShare {
  controlInstructions: number;
  dataInstructions: number;
  controlLines: number;
  dataLines: number;
  mixedLines: number;
}

/**
 * The classified lines of one source file, over its column table (lines and planes; the rest of a record
 * is decoded when asked for). Rows keep their recorded 1-based line; `current` (made on the first edit) holds where each now is in
 * the editor (0-based), -1 once its line was deleted; `edited` marks lines whose text changed since
 * classification (shown as stale).
 */
export class FileIndex {
  readonly table: FileLineTable;
  /** Created on the first edit (until then every row is on its recorded line): opening a file copies nothing. */
  private positions: Int32Array | undefined;
  private changed: Uint8Array | undefined;
  private byCurrentLine: Map<number, number> | undefined;
  private planeShare: PlaneShare | undefined;

  constructor(source: FileLineTable | readonly LineRecord[]) {
    this.table = source instanceof FileLineTable ? source : tableFromRecords(source);
  }

  /** The file's instruction totals and lines per plane (counted on first need: the status bar's). */
  get share(): PlaneShare {
    if (!this.planeShare) {
      const perPlane = [0, 0, 0];
      const planes = this.table.planes;
      for (let i = 0; i < planes.length; i++) perPlane[planes[i]]++;
      this.planeShare = {
        controlInstructions: this.table.controlInsns,
        dataInstructions: this.table.dataInsns,
        controlLines: perPlane[0],
        dataLines: perPlane[1],
        mixedLines: perPlane[2],
      };
    }
    return this.planeShare;
  }

  private get current(): Int32Array {
    if (!this.positions) {
      const lines = this.table.lines;
      this.positions = new Int32Array(lines.length);
      for (let i = 0; i < lines.length; i++) this.positions[i] = lines[i] - 1;
    }
    return this.positions;
  }

  private get edited(): Uint8Array {
    return (this.changed ??= new Uint8Array(this.table.lines.length));
  }

  /** A fresh copy with the recorded positions, for one open document (the cached index stays pristine). */
  live(): FileIndex {
    return new FileIndex(this.table);
  }

  /** True once any edit moved or changed a classified line. */
  get hasEdits(): boolean {
    return this.editCount > 0;
  }
  private editCount = 0;

  /**
   * 0-based editor lines per decoration class. With `wholeFileStale` every surviving line is 'stale'
   * (the file on disk differs from the classified one); otherwise only edited lines are.
   */
  linesByClass(wholeFileStale = false): Record<DecorationClass, number[]> {
    const out: Record<DecorationClass, number[]> = { control: [], data: [], mixed: [], stale: [] };
    this.forEachShown(wholeFileStale, (line, plane, stale) => out[stale ? 'stale' : plane].push(line));
    return out;
  }

  /** Each surviving line in recorded order: its 0-based editor line, recorded plane and whether it shows stale. */
  forEachShown(wholeFileStale: boolean, visit: (line: number, plane: Plane, stale: boolean) => void): void {
    const { lines, planes } = this.table;
    const cur = this.positions;
    const ed = this.changed;
    for (let i = 0; i < lines.length; i++) {
      const line = cur ? cur[i] : lines[i] - 1;
      if (line >= 0) visit(line, PLANE_NAMES[planes[i]], wholeFileStale || (ed !== undefined && ed[i] === 1));
    }
  }

  /** The record now shown on 0-based editor line `line`, and whether it was edited. */
  at(line: number): { record: LineRecord; edited: boolean } | undefined {
    if (this.editCount === 0) {
      // Unedited: every row is on its recorded line, so the table's own search finds it (no map to build).
      const i = this.table.indexOf(line + 1);
      return i < 0 ? undefined : { record: this.table.record(i), edited: false };
    }
    if (!this.byCurrentLine) {
      this.byCurrentLine = new Map();
      for (let i = 0; i < this.current.length; i++) if (this.current[i] >= 0) this.byCurrentLine.set(this.current[i], i);
    }
    const i = this.byCurrentLine.get(line);
    return i === undefined ? undefined : { record: this.table.record(i), edited: this.edited[i] === 1 };
  }

  /** The 0-based editor line where recorded 1-based line `recordedLine` is now, or undefined if deleted. */
  currentLineOf(recordedLine: number): number | undefined {
    const i = this.table.indexOf(recordedLine);
    if (!this.positions) return recordedLine - 1;
    if (i >= 0) return this.positions[i] >= 0 ? this.positions[i] : undefined;
    return recordedLine - 1 + this.shiftSoFar(recordedLine - 1);
  }

  // For lines without a record: the net shift of the nearest record above (good enough to reveal a line).
  private shiftSoFar(line: number): number {
    const lines = this.table.lines;
    let shift = 0;
    for (let i = 0; i < lines.length && lines[i] - 1 <= line; i++) {
      if (this.current[i] >= 0) shift = this.current[i] - (lines[i] - 1);
    }
    return shift;
  }

  /** Moves line positions for one text change (apply a document's changes in the order reported). */
  applyChange(change: TextChange): void {
    const newlines = countNewlines(change.text);
    const delta = newlines - (change.endLine - change.startLine);
    // A change made of whole lines (starts and ends at column 0, inserts whole lines) moves the line at
    // its end instead of editing it: typing Enter at the start of a line or deleting full lines.
    const wholeLines = change.startCharacter === 0 && change.endCharacter === 0 && (change.text === '' || change.text.endsWith('\n'));
    let touched = false;
    const current = this.current;
    const edited = this.edited;
    for (let i = 0; i < current.length; i++) {
      const line = current[i];
      if (line < 0 || line < change.startLine) continue;
      if (line > change.endLine || (wholeLines && line === change.endLine)) {
        if (delta !== 0) {
          current[i] = line + delta;
          touched = true;
        }
      } else if (line === change.startLine && !wholeLines) {
        if (!change.startLineUnchanged) {
          edited[i] = 1;
          touched = true;
        }
      } else {
        // Inside the replaced range: the line is gone.
        current[i] = -1;
        touched = true;
      }
    }
    if (touched) {
      this.editCount++;
      this.byCurrentLine = undefined;
    }
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Share of data-plane instructions (0..1) of a file or component; NaN when nothing executed. */
export function dataShare(control: number, data: number): number {
  return control + data === 0 ? NaN : data / (control + data);
}

/** "12.5%" with one decimal below 10% and none above; "–" for NaN. */
export function formatPercent(fraction: number): string {
  if (Number.isNaN(fraction)) return '–';
  const p = fraction * 100;
  if (p > 0 && p < 0.1) return '<0.1%';
  return p < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** Control and data shares as displayed together: rounded once, so that the two add up to 100%. */
export function formatShares(dataFraction: number): { control: string; data: string } {
  if (Number.isNaN(dataFraction)) return { control: '–', data: '–' };
  const p = dataFraction * 100;
  if (p > 0 && p < 0.1) return { control: '>99.9%', data: '<0.1%' };
  if (p < 100 && p > 99.9) return { control: '<0.1%', data: '>99.9%' };
  const decimals = p < 10 || p > 90 ? 1 : 0;
  const data = Number(p.toFixed(decimals));
  const control = Number((100 - data).toFixed(decimals));
  const show = (n: number) => `${decimals ? n.toFixed(1) : n}%`;
  return { control: show(control), data: show(data) };
}

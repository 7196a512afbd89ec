// One source file's classified lines in columns (typed arrays), as file_lines stores them: what shading
// needs (line numbers and planes) in one small BLOB decoded eagerly, the rest (counts, executions, function
// lists, labels, sites: for hovers and `planescope lines`) in a second BLOB read and decoded on first need.
// Typed-array views over the BLOB bytes replace JSON.parse and 20,000 objects on the editor's hot path.
import type { LineRecord, Plane } from './api';

export const PLANE_NAMES: readonly Plane[] = ['control', 'data', 'mixed'];
const PLANE_CODE: Record<Plane, number> = { control: 0, data: 1, mixed: 2 };

/** The per-line details, one entry per line (same order as the table's lines). */
export interface LineDetails {
  executions: Float64Array;
  control: Uint32Array;
  data: Uint32Array;
  /** Index into functionLists. */
  functionList: Uint32Array;
  functionLists: readonly (readonly string[])[];
  /** Line i's labels are labels[labelStart[i] .. labelStart[i+1]); sites likewise. */
  labelStart: Uint32Array;
  labels: Int32Array;
  siteStart: Uint32Array;
  sites: Int32Array;
}

/** The encoded form of one file's lines: the columns of its file_lines row. */
export interface EncodedFileLines {
  count: number;
  controlInsns: number;
  dataInsns: number;
  planes: Uint8Array;
  details: Uint8Array;
  functions: string;
}

/** A file's lines, sorted by line: planes at hand, everything else through details() (loaded once). */
export class FileLineTable {
  private loaded: LineDetails | undefined;

  constructor(
    /** 1-based source lines, ascending. */
    readonly lines: Int32Array,
    /** PLANE_NAMES index per line. */
    readonly planes: Uint8Array,
    /** Static instruction totals of the file (for the status bar share without loading details). */
    readonly controlInsns: number,
    readonly dataInsns: number,
    private readonly loadDetails: () => LineDetails,
  ) {}

  get length(): number {
    return this.lines.length;
  }

  plane(i: number): Plane {
    return PLANE_NAMES[this.planes[i]];
  }

  details(): LineDetails {
    return (this.loaded ??= this.loadDetails());
  }

  /** The full record of the i-th line (a new object; its arrays are the caller's). */
  record(i: number): LineRecord {
    const d = this.details();
    return {
      line: this.lines[i],
      plane: PLANE_NAMES[this.planes[i]],
      controlInstructions: d.control[i],
      dataInstructions: d.data[i],
      executions: d.executions[i],
      functions: d.functionLists[d.functionList[i]].slice(),
      labels: ids(d.labels, d.labelStart[i], d.labelStart[i + 1]),
      siteIds: ids(d.sites, d.siteStart[i], d.siteStart[i + 1]),
    };
  }

  records(): LineRecord[] {
    const out = new Array<LineRecord>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.record(i);
    return out;
  }

  /** The index of recorded 1-based `line`, or -1. */
  indexOf(line: number): number {
    let lo = 0;
    let hi = this.lines.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const l = this.lines[mid];
      if (l === line) return mid;
      if (l < line) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

function ids(from: Int32Array, start: number, end: number): number[] {
  const out: number[] = [];
  for (let k = start; k < end; k++) out.push(from[k]);
  return out;
}

const align8 = (n: number) => (n + 7) & ~7;

/** Encodes records (any order) into file_lines' columns. */
export function encodeFileLines(records: readonly LineRecord[]): EncodedFileLines {
  const sorted = isSorted(records) ? records : [...records].sort((a, b) => a.line - b.line);
  const n = sorted.length;
  let labelCount = 0;
  let siteCount = 0;
  for (const r of sorted) {
    labelCount += r.labels.length;
    siteCount += r.siteIds.length;
  }
  const planes = new Uint8Array(4 * n + n);
  const lineView = new Int32Array(planes.buffer, 0, n);
  const planeView = planes.subarray(4 * n);
  const layout = detailsLayout(n, labelCount, siteCount);
  const details = new Uint8Array(layout.bytes);
  const d = viewDetails(details, layout, [], n);
  const lists = new Map<string, number>();
  const listNames: (readonly string[])[] = [];
  let controlInsns = 0;
  let dataInsns = 0;
  let labelAt = 0;
  let siteAt = 0;
  for (let i = 0; i < n; i++) {
    const r = sorted[i];
    lineView[i] = r.line;
    planeView[i] = PLANE_CODE[r.plane];
    d.executions[i] = r.executions;
    d.control[i] = r.controlInstructions;
    d.data[i] = r.dataInstructions;
    controlInsns += r.controlInstructions;
    dataInsns += r.dataInstructions;
    const key = r.functions.join('\0');
    let list = lists.get(key);
    if (list === undefined) {
      lists.set(key, (list = listNames.length));
      listNames.push(r.functions);
    }
    d.functionList[i] = list;
    d.labelStart[i] = labelAt;
    for (const l of r.labels) d.labels[labelAt++] = l;
    d.siteStart[i] = siteAt;
    for (const s of r.siteIds) d.sites[siteAt++] = s;
  }
  d.labelStart[n] = labelAt;
  d.siteStart[n] = siteAt;
  return { count: n, controlInsns, dataInsns, planes, details, functions: JSON.stringify(listNames) };
}

function isSorted(records: readonly LineRecord[]): boolean {
  for (let i = 1; i < records.length; i++) if (records[i - 1].line > records[i].line) return false;
  return true;
}

/** A corrupt or foreign file_lines row. */
export class LineTableError extends Error {}

/** The lines and planes of a file_lines row (views over `bytes`, copied only when misaligned: a small Buffer lies in Node's shared pool). */
export function decodePlanes(count: number, bytes: Uint8Array, file: string): { lines: Int32Array; planes: Uint8Array } {
  if (bytes.length !== 5 * count) throw new LineTableError(`file_lines.planes of ${file} holds ${bytes.length} bytes for ${count} lines (expected ${5 * count}): rebuild the database with \`planescope classify\``);
  const own = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  return { lines: new Int32Array(own.buffer, own.byteOffset, count), planes: own.subarray(4 * count, 5 * count) };
}

/** The details of a file_lines row. */
export function decodeDetails(count: number, bytes: Uint8Array, functions: string, file: string): LineDetails {
  const bad = (why: string) => new LineTableError(`file_lines.details of ${file} ${why}: rebuild the database with \`planescope classify\``);
  const own = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const head = detailsLayout(count, 0, 0);
  if (own.length < head.bytes) throw bad(`holds ${own.length} bytes, fewer than ${count} lines need`);
  const starts = (at: number) => new Uint32Array(own.buffer, own.byteOffset + at, count + 1)[count];
  const layout = detailsLayout(count, starts(head.labelStart), starts(head.siteStart));
  if (own.length !== layout.bytes) throw bad(`holds ${own.length} bytes, expected ${layout.bytes}`);
  let lists: string[][];
  try {
    lists = JSON.parse(functions) as string[][];
  } catch {
    throw bad('has an unreadable function list');
  }
  const d = viewDetails(own, layout, lists, count);
  for (let i = 0; i < count; i++) if (d.functionList[i] >= lists.length) throw bad(`names function list ${d.functionList[i]} of ${lists.length}`);
  return d;
}

/** Byte offsets of the details columns; 8-byte executions first so every view is aligned. */
function detailsLayout(n: number, labels: number, sites: number) {
  const executions = 0;
  const control = executions + 8 * n;
  const data = control + 4 * n;
  const functionList = data + 4 * n;
  const labelStart = functionList + 4 * n;
  const siteStart = labelStart + 4 * (n + 1);
  const labelIds = siteStart + 4 * (n + 1);
  const siteIds = labelIds + 4 * labels;
  return { n, labels, sites, executions, control, data, functionList, labelStart, siteStart, labelIds, siteIds, bytes: align8(siteIds + 4 * sites) };
}

function viewDetails(bytes: Uint8Array, l: ReturnType<typeof detailsLayout>, functionLists: readonly (readonly string[])[], n: number): LineDetails {
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  return {
    executions: new Float64Array(b, o + l.executions, n),
    control: new Uint32Array(b, o + l.control, n),
    data: new Uint32Array(b, o + l.data, n),
    functionList: new Uint32Array(b, o + l.functionList, n),
    functionLists,
    labelStart: new Uint32Array(b, o + l.labelStart, n + 1),
    siteStart: new Uint32Array(b, o + l.siteStart, n + 1),
    labels: new Int32Array(b, o + l.labelIds, l.labels),
    sites: new Int32Array(b, o + l.siteIds, l.sites),
  };
}

/** A table over records in memory (tests, and readers that only have fileLines()). */
export function tableFromRecords(records: readonly LineRecord[]): FileLineTable {
  const e = encodeFileLines(records);
  const { lines, planes } = decodePlanes(e.count, e.planes, '(records)');
  return new FileLineTable(lines, planes, e.controlInsns, e.dataInsns, () => decodeDetails(e.count, e.details, e.functions, '(records)'));
}

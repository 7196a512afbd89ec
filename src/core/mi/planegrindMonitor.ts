// planegrind's gdb monitor commands (docs/planegrind.md): which ones this build of the tool has, and
// parsers for their text output. Pure: the caller sends `monitor ...` and hands the text here.

export interface MonitorCapabilities {
  /** `taint ADDR LEN`: the labels of a memory range. */
  taint: boolean;
  /** `taint-regs`: the labels of the guest registers. */
  taintRegs: boolean;
  /** `label N`: a label's provenance chain. */
  label: boolean;
  /** `icount`: guest instructions executed so far. */
  icount: boolean;
  /** `stop-at ICOUNT`: stop (report to gdb) when the instruction counter reaches ICOUNT. */
  stopAt: boolean;
}

/** Reads the capabilities from the output of `monitor help`, which lists every tool command. */
export function parseMonitorHelp(text: string): MonitorCapabilities {
  const has = (cmd: string) => new RegExp(`^\\s*${cmd.replace(/-/g, '\\-')}(\\s|$)`, 'm').test(text);
  return { taint: has('taint'), taintRegs: has('taint-regs'), label: has('label'), icount: has('icount'), stopAt: has('stop-at') };
}

/** A run of bytes with one label: [start, end) as absolute addresses. */
export interface TaintRun {
  start: bigint;
  end: bigint;
  label: number;
}

export interface TaintOfRange {
  address: bigint;
  length: number;
  taintedBytes: number;
  runs: TaintRun[];
}

/** One register's taint: the register name and the labels of its tainted bytes. */
export interface RegisterTaint {
  register: string;
  taintedBytes: number;
  labels: number[];
}

export interface LabelStep {
  label: number;
  text: string;
  /** 0 for the label asked about, 1 for the labels it merges, ... */
  depth: number;
}

/** The `key=value` fields of one monitor output line, after its leading words. */
export function monitorFields(line: string): { words: string[]; fields: Map<string, string> } {
  const words: string[] = [];
  const fields = new Map<string, string>();
  for (const part of line.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
    else if (part) words.push(part);
  }
  return { words, fields };
}

/** planegrind answers a bad command with one line `error: ...`: throw it as an Error. */
export function checkMonitorError(text: string): string {
  const m = /^error: (.*)$/m.exec(text);
  if (m) throw new MonitorError(m[1]);
  return text;
}

export class MonitorError extends Error {}

/**
 * Parses `taint ADDR LEN` output (docs/planegrind.md):
 *   taint addr=0x.. len=N tainted=T
 *   range start=0x.. end=0x.. label=L      (one per run of bytes with one label)
 *   bytes 0 0 1 1 ...                      (optional)
 */
export function parseTaintRange(text: string, address: bigint, length: number): TaintOfRange {
  checkMonitorError(text);
  const runs: TaintRun[] = [];
  let taintedBytes: number | undefined;
  for (const line of text.split('\n')) {
    const { words, fields } = monitorFields(line);
    if (words[0] === 'taint' && fields.has('tainted')) taintedBytes = Number(fields.get('tainted'));
    else if (words[0] === 'range' && fields.has('start') && fields.has('end')) {
      runs.push({ start: BigInt(fields.get('start')!), end: BigInt(fields.get('end')!), label: Number(fields.get('label') ?? 0) });
    }
  }
  if (taintedBytes === undefined) throw new MonitorError(`unexpected output of planegrind's taint command: ${text.trim().slice(0, 200)}`);
  return { address, length, taintedBytes, runs };
}

/** Parses `taint-regs` output: `reg name=rax bytes=0xff label=1` lines and a `taint-regs ...` summary. */
export function parseTaintRegs(text: string): RegisterTaint[] {
  checkMonitorError(text);
  const out: RegisterTaint[] = [];
  for (const line of text.split('\n')) {
    const { words, fields } = monitorFields(line);
    if (words[0] !== 'reg' || !fields.has('name')) continue;
    let mask = BigInt(fields.get('bytes') ?? '0');
    let count = 0;
    for (; mask > 0n; mask >>= 1n) count += Number(mask & 1n);
    const label = Number(fields.get('label') ?? 0);
    out.push({ register: fields.get('name')!, taintedBytes: count, labels: label > 0 ? [label] : [] });
  }
  return out;
}

/**
 * Parses `label N` output: the label and its provenance text, then the labels a `mixed` one merges,
 * indented two spaces per level. Depth is kept so the chain can be drawn as a tree.
 */
export function parseLabelChain(text: string): LabelStep[] {
  checkMonitorError(text);
  const out: LabelStep[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\s*)label\s+(\d+)\s+(.*?)\s*$/.exec(line);
    if (m) out.push({ label: Number(m[2]), text: m[3], depth: Math.floor(m[1].length / 2) });
  }
  return out;
}

/** Parses `icount` output: `icount N`. */
export function parseIcount(text: string): bigint | undefined {
  checkMonitorError(text);
  const m = /^\s*icount\s+(\d+)/m.exec(text);
  return m ? BigInt(m[1]) : undefined;
}

/** Parses `stop-at` output: `stop-at armed icount=N target=T` (or `cancelled`). */
export function parseStopAt(text: string): { armed: boolean; icount: bigint } {
  checkMonitorError(text);
  const { words, fields } = monitorFields(text.split('\n').find((l) => l.trim().startsWith('stop-at')) ?? '');
  if (words[0] !== 'stop-at') throw new MonitorError(`unexpected output of planegrind's stop-at command: ${text.trim().slice(0, 200)}`);
  return { armed: words[1] === 'armed', icount: BigInt(fields.get('icount') ?? '0') };
}

/** A user-data file label's text `file:PATH[START,END)` split up, for links to the origin. */
export function parseFileLabel(text: string): { path: string; start: number; end: number } | undefined {
  const m = /^file:(.*)\[(\d+),(\d+)\)$/.exec(text);
  return m ? { path: m[1], start: Number(m[2]), end: Number(m[3]) } : undefined;
}

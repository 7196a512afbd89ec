// The parsed form of a planegrind taint log (docs/taint-log.md). Produced by the streaming parser in
// this directory, consumed by classification. Counts are already summed over the log's delta records.

export type PointerPolicy = 'insensitive' | 'sensitive';
export type ChannelKind = 'file' | 'socket' | 'pipe' | 'tty' | 'device' | 'other';
export type Direction = 'in' | 'out';

export interface LogModule {
  id: number;
  /** GNU build-id in hex, or '' when the object has none. */
  buildId: string;
  path: string;
  /** Load address minus link-time address. */
  bias: number;
}

export type LabelProvenance =
  | { kind: 'file'; path: string; start: number; end: number }
  | { kind: 'msg'; peer: string; msg: number; origin: string }
  | { kind: 'mixed'; of: number[] };

export interface LogLabel {
  id: number;
  provenance: LabelProvenance;
}

export interface InstructionCounts {
  module: number;
  /** Link-time address within the module. */
  offset: number;
  executions: number;
  taintedExecutions: number;
  /** A representative label of the tainted data the instruction touched (the last one logged), when any. */
  label?: number;
}

export interface PointerSite {
  module: number;
  offset: number;
  access: 'load' | 'store';
  count: number;
  /** A representative label of the tainted address. */
  label: number;
}

export interface IoCounts {
  kind: ChannelKind;
  direction: Direction;
  taintedBytes: number;
  cleanBytes: number;
}

export interface TaintLog {
  /** The file the log was read from. */
  source: string;
  version: number;
  tool: { name: string; version: string; policy: PointerPolicy };
  process: { pid: number; ppid: number; exe: string; args: string[]; startMs: number };
  userData: string[];
  modules: LogModule[];
  labels: Map<number, LogLabel>;
  instructions: InstructionCounts[];
  sites: PointerSite[];
  io: IoCounts[];
  warnings: string[];
  /** Guest instructions executed at the last flush or at the end. */
  icount: number;
  /** How the log ended: a complete log has an `end` record; otherwise it was cut short. `exec`: the
   * process exec'd a new program, whose log is `next` (same pid). */
  end: { reason: 'exit'; code: number } | { reason: 'signal'; signal: number } | { reason: 'exec'; next: string } | { reason: 'truncated' };
}

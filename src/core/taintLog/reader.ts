// Streaming parser of planegrind taint logs (docs/taint-log.md). Reads line by line, sums the delta
// records (`insn`, `site`, `io`) by key, and tolerates a log cut short by a crash or SIGKILL: a torn
// last line is ignored, and a log without an `end` record gets end = {reason:'truncated'} and a warning.
import { createReadStream } from 'node:fs';
import type { ChannelKind, Direction, InstructionCounts, IoCounts, LabelProvenance, PointerPolicy, PointerSite, TaintLog } from './types';

/** Decodes a percent-encoded value (the writer escapes space, %, =, control and non-ASCII bytes). */
export function decodeValue(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(value[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** One record: its type and its fields (a repeated key keeps every value in order). */
export interface LogRecord {
  type: string;
  fields: Map<string, string[]>;
}

export function parseLine(line: string): LogRecord | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const parts = line.split(' ');
  const fields = new Map<string, string[]>();
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : decodeValue(part.slice(eq + 1));
    const list = fields.get(key);
    if (list) list.push(value);
    else fields.set(key, [value]);
  }
  return { type: parts[0], fields };
}

function num(rec: LogRecord, key: string, fallback = 0): number {
  const v = rec.fields.get(key)?.[0];
  if (v === undefined || v === '') return fallback;
  const n = v.startsWith('0x') ? parseInt(v.slice(2), 16) : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function str(rec: LogRecord, key: string, fallback = ''): string {
  return rec.fields.get(key)?.[0] ?? fallback;
}

const KEY_M = 0, KEY_OFF = 1, KEY_EXECS = 2, KEY_TAINTED = 3, KEY_LABEL = 4;
const INSN_KEYS = ['m', 'off', 'execs', 'tainted', 'label'];

/** Which `insn` field line[start, end) names (KEY_*), -1 for any other. */
function fieldKey(line: string, start: number, end: number): number {
  for (let k = 0; k < INSN_KEYS.length; k++) {
    const key = INSN_KEYS[k];
    if (key.length !== end - start) continue;
    let j = 0;
    while (j < key.length && key.charCodeAt(j) === line.charCodeAt(start + j)) j++;
    if (j === key.length) return k;
  }
  return -1;
}

const KINDS: readonly ChannelKind[] = ['file', 'socket', 'pipe', 'tty', 'device', 'other'];

/** Accumulates records into a TaintLog; usable for a file (readTaintLog) or for text already in memory. */
export class TaintLogBuilder {
  // insn records are most of a log: looked up by module then offset (numbers hash without a string per
  // record), kept in order of first appearance.
  private readonly insnIndex = new Map<number, Map<number, InstructionCounts>>();
  private readonly insnList: InstructionCounts[] = [];
  private readonly sites = new Map<string, PointerSite>();
  private readonly io = new Map<string, IoCounts>();
  private sawEnd = false;
  private sawVersion = false;
  readonly log: TaintLog;

  constructor(source: string) {
    this.log = {
      source,
      version: 0,
      tool: { name: '', version: '', policy: 'insensitive' },
      process: { pid: 0, ppid: 0, exe: '', args: [], startMs: 0 },
      userData: [],
      modules: [],
      labels: new Map(),
      instructions: [],
      sites: [],
      io: [],
      warnings: [],
      icount: 0,
      end: { reason: 'truncated' },
    };
  }

  private insn(m: number, off: number): InstructionCounts {
    let byOffset = this.insnIndex.get(m);
    if (!byOffset) this.insnIndex.set(m, (byOffset = new Map()));
    let c = byOffset.get(off);
    if (!c) {
      c = { module: m, offset: off, executions: 0, taintedExecutions: 0 };
      byOffset.set(off, c);
      this.insnList.push(c);
    }
    return c;
  }

  /**
   * An `insn` record of plain numeric fields, parsed in one pass over its characters (no substrings, no
   * per-field calls); false when it is not that simple, and the generic parser takes it.
   */
  private addInsnFast(line: string): boolean {
    let m = -1, off = -1, execs = 0, tainted = 0, label = -1;
    const n = line.length;
    let i = 5;
    while (i < n) {
      const keyStart = i;
      while (i < n && line.charCodeAt(i) !== 0x3d /* = */) i++;
      const key = fieldKey(line, keyStart, i);
      if (key < 0 || ++i >= n) return false;
      let v = 0;
      let c = line.charCodeAt(i);
      if (c === 0x30 && line.charCodeAt(i + 1) === 0x78 /* 0x */) {
        i += 2;
        const digits = i;
        for (; i < n && (c = line.charCodeAt(i)) !== 0x20; i++) {
          const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
          if (d < 0) return false;
          v = v * 16 + d;
        }
        if (i === digits) return false;
      } else {
        const digits = i;
        for (; i < n && (c = line.charCodeAt(i)) !== 0x20; i++) {
          if (c < 0x30 || c > 0x39) return false;
          v = v * 10 + (c - 0x30);
        }
        if (i === digits) return false;
      }
      i++; // the space
      if (key === KEY_M) m = v;
      else if (key === KEY_OFF) off = v;
      else if (key === KEY_EXECS) execs = v;
      else if (key === KEY_TAINTED) tainted = v;
      else if (key === KEY_LABEL) label = v;
    }
    if (m < 0 || off < 0) return false;
    const c = this.insn(m, off);
    c.executions += execs;
    c.taintedExecutions += tainted;
    if (label >= 0) c.label = label;
    return true;
  }

  add(line: string, lineNo: number): void {
    if (line.startsWith('insn ') && this.addInsnFast(line)) return;
    const rec = parseLine(line);
    if (!rec) return;
    const log = this.log;
    switch (rec.type) {
      case 'version':
        log.version = num(rec, 'v');
        this.sawVersion = true;
        if (log.version !== 1) log.warnings.push(`${log.source}: taint log version ${log.version} is newer than this reader (1); fields may be missing`);
        break;
      case 'tool':
        log.tool = { name: str(rec, 'name'), version: str(rec, 'version'), policy: (str(rec, 'policy') === 'sensitive' ? 'sensitive' : 'insensitive') as PointerPolicy };
        break;
      case 'process':
        log.process = { pid: num(rec, 'pid'), ppid: num(rec, 'ppid'), exe: str(rec, 'exe'), args: rec.fields.get('arg') ?? [], startMs: num(rec, 'start-ms') };
        break;
      case 'user-data':
        log.userData.push(str(rec, 'glob'));
        break;
      case 'module': {
        const buildId = str(rec, 'build-id');
        const id = num(rec, 'id');
        const mod = { id, buildId: buildId === '-' ? '' : buildId, path: str(rec, 'path'), bias: num(rec, 'bias') };
        const at = log.modules.findIndex((m) => m.id === id);
        if (at >= 0) log.modules[at] = mod;
        else log.modules.push(mod);
        break;
      }
      case 'label': {
        const id = num(rec, 'id');
        const kind = str(rec, 'kind');
        let provenance: LabelProvenance;
        if (kind === 'file') provenance = { kind: 'file', path: str(rec, 'path'), start: num(rec, 'start'), end: num(rec, 'end') };
        else if (kind === 'msg') provenance = { kind: 'msg', peer: str(rec, 'peer'), msg: num(rec, 'msg'), origin: str(rec, 'origin') };
        else if (kind === 'mixed') provenance = { kind: 'mixed', of: str(rec, 'of').split(',').filter((s) => s !== '').map(Number) };
        else return; // an unknown label kind from a newer writer
        log.labels.set(id, { id, provenance });
        break;
      }
      case 'insn': {
        const m = num(rec, 'm');
        const off = num(rec, 'off');
        const c = this.insn(m, off);
        c.executions += num(rec, 'execs');
        c.taintedExecutions += num(rec, 'tainted');
        if (rec.fields.has('label')) c.label = num(rec, 'label');
        break;
      }
      case 'site': {
        const m = num(rec, 'm');
        const off = num(rec, 'off');
        const access = str(rec, 'access') === 'store' ? 'store' : 'load';
        const key = `${m}:${off}:${access}`;
        let s = this.sites.get(key);
        if (!s) {
          s = { module: m, offset: off, access, count: 0, label: num(rec, 'label') };
          this.sites.set(key, s);
        }
        s.count += num(rec, 'count');
        if (!s.label) s.label = num(rec, 'label');
        break;
      }
      case 'io': {
        const k = str(rec, 'kind') as ChannelKind;
        const kind = KINDS.includes(k) ? k : 'other';
        const direction: Direction = str(rec, 'dir') === 'out' ? 'out' : 'in';
        const key = `${kind}:${direction}`;
        let c = this.io.get(key);
        if (!c) {
          c = { kind, direction, taintedBytes: 0, cleanBytes: 0 };
          this.io.set(key, c);
        }
        c.taintedBytes += num(rec, 'tainted');
        c.cleanBytes += num(rec, 'clean');
        break;
      }
      case 'flush':
        log.icount = num(rec, 'icount', log.icount);
        break;
      case 'warning':
        log.warnings.push(str(rec, 'text'));
        break;
      case 'end': {
        this.sawEnd = true;
        log.icount = num(rec, 'icount', log.icount);
        const reason = str(rec, 'reason');
        if (reason === 'signal') log.end = { reason: 'signal', signal: num(rec, 'signal') };
        else if (reason === 'exec') log.end = { reason: 'exec', next: str(rec, 'next') };
        else log.end = { reason: 'exit', code: num(rec, 'code') };
        break;
      }
      default:
        break; // unknown record types are ignored (forward compatibility)
    }
    void lineNo;
  }

  finish(): TaintLog {
    const log = this.log;
    log.instructions = this.insnList;
    log.sites = [...this.sites.values()];
    log.io = [...this.io.values()];
    if (!this.sawVersion) log.warnings.push(`${log.source}: not a planegrind taint log (no \`version\` line)`);
    if (!this.sawEnd) {
      log.end = { reason: 'truncated' };
      log.warnings.push(`${log.source}: the log has no \`end\` record (the process was killed or is still running); counts are complete up to the last flush`);
    }
    return log;
  }
}

/** Parses taint-log text held in memory (tests, small logs). */
export function parseTaintLog(text: string, source = '<memory>'): TaintLog {
  const b = new TaintLogBuilder(source);
  // the element after the last '\n' is either '' or a torn write without its newline: dropped either way
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((l, i) => b.add(l, i + 1));
  return b.finish();
}

/** Reads and parses a taint log file without holding it in memory. */
export async function readTaintLog(path: string): Promise<TaintLog> {
  const b = new TaintLogBuilder(path);
  let rest = '';
  let lineNo = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      b.add(text.slice(start, end), ++lineNo);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  // rest: a torn last write without its newline, dropped
  return b.finish();
}

// Streaming parser of planegrind taint logs (docs/taint-log.md). Reads line by line, sums the delta
// records (`insn`, `site`, `io`) by key, and tolerates a log cut short by a crash or SIGKILL: a torn
// last line is ignored, and a log without an `end` record gets end = {reason:'truncated'} and a warning.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
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

const KINDS: readonly ChannelKind[] = ['file', 'socket', 'pipe', 'tty', 'device', 'other'];

/** Accumulates records into a TaintLog; usable for a file (readTaintLog) or for text already in memory. */
export class TaintLogBuilder {
  private readonly insns = new Map<string, InstructionCounts>();
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

  add(line: string, lineNo: number): void {
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
        const key = `${m}:${off}`;
        let c = this.insns.get(key);
        if (!c) {
          c = { module: m, offset: off, executions: 0, taintedExecutions: 0 };
          this.insns.set(key, c);
        }
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
    log.instructions = [...this.insns.values()];
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
  const stream = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  // readline hands over the last line even without a newline; hold each line back by one so the
  // torn-write rule can be applied to the last one once we know whether the file ended with '\n'.
  let pending: string | undefined;
  let lineNo = 0;
  let lastByteNewline = true;
  stream.on('data', (chunk) => {
    const s = chunk as string;
    if (s.length) lastByteNewline = s.endsWith('\n');
  });
  for await (const line of rl) {
    if (pending !== undefined) b.add(pending, ++lineNo);
    pending = line;
  }
  if (pending !== undefined && lastByteNewline) b.add(pending, ++lineNo);
  return b.finish();
}

// A small recursive-descent parser for gdb/MI output lines (the grammar of the gdb manual, "GDB/MI
// Output Syntax"), plus path queries over the parsed values. Pure: no I/O.

/** An MI value: a C string, a tuple (object) or a list. Lists of results keep their names as pairs. */
export type MiValue = string | MiTuple | MiValue[];
export interface MiTuple {
  [name: string]: MiValue;
}

export type MiRecord =
  | { kind: 'result'; token?: number; cls: string; results: MiTuple }
  | { kind: 'exec' | 'status' | 'notify'; token?: number; cls: string; results: MiTuple }
  | { kind: 'console' | 'target' | 'log'; text: string }
  | { kind: 'prompt' };

const ASYNC_KINDS: Record<string, 'exec' | 'status' | 'notify'> = { '*': 'exec', '+': 'status', '=': 'notify' };
const STREAM_KINDS: Record<string, 'console' | 'target' | 'log'> = { '~': 'console', '@': 'target', '&': 'log' };

export class MiParseError extends Error {}

/** Parses one line of gdb/MI output (without its newline). */
export function parseMiLine(line: string): MiRecord {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '(gdb)') return { kind: 'prompt' };
  const p = new Cursor(text);
  const stream = STREAM_KINDS[text[0]];
  if (stream) {
    p.pos = 1;
    return { kind: stream, text: p.cString() };
  }
  let token: number | undefined;
  const digits = /^\d+/.exec(text);
  if (digits) {
    token = Number(digits[0]);
    p.pos = digits[0].length;
  }
  const marker = p.next();
  const cls = p.identifier();
  const results: MiTuple = {};
  while (p.peek() === ',') {
    p.pos++;
    const [name, value] = p.result();
    addResult(results, name, value);
  }
  if (!p.done()) throw new MiParseError(`unexpected text at column ${p.pos} of MI line: ${text}`);
  if (marker === '^') return { kind: 'result', token, cls, results };
  const asyncKind = ASYNC_KINDS[marker];
  if (!asyncKind) throw new MiParseError(`not an MI record: ${text}`);
  return { kind: asyncKind, token, cls, results };
}

// gdb repeats names in some tuples (e.g. `frame=` several times inside a list-less tuple in old
// versions); keep every value in that case instead of losing one.
function addResult(into: MiTuple, name: string, value: MiValue): void {
  if (!(name in into)) {
    into[name] = value;
    return;
  }
  const existing = into[name];
  into[name] = Array.isArray(existing) && (existing as MiRepeated).repeated ? [...existing, value] : Object.assign([existing, value], { repeated: true });
}
type MiRepeated = MiValue[] & { repeated?: boolean };

class Cursor {
  pos = 0;
  constructor(private readonly s: string) {}
  done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos];
  }
  next(): string {
    return this.s[this.pos++];
  }
  expect(c: string): void {
    if (this.s[this.pos] !== c) throw new MiParseError(`expected '${c}' at column ${this.pos} of MI line: ${this.s}`);
    this.pos++;
  }
  identifier(): string {
    const m = /^[A-Za-z0-9_-]+/.exec(this.s.slice(this.pos));
    if (!m) throw new MiParseError(`expected a name at column ${this.pos} of MI line: ${this.s}`);
    this.pos += m[0].length;
    return m[0];
  }
  result(): [string, MiValue] {
    const name = this.identifier();
    this.expect('=');
    return [name, this.value()];
  }
  value(): MiValue {
    const c = this.peek();
    if (c === '"') return this.cString();
    if (c === '{') return this.tuple();
    if (c === '[') return this.list();
    throw new MiParseError(`expected a value at column ${this.pos} of MI line: ${this.s}`);
  }
  tuple(): MiTuple {
    this.expect('{');
    const out: MiTuple = {};
    if (this.peek() === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      const [name, value] = this.result();
      addResult(out, name, value);
      const c = this.next();
      if (c === '}') return out;
      if (c !== ',') throw new MiParseError(`expected ',' or '}' at column ${this.pos - 1} of MI line: ${this.s}`);
    }
  }
  // A list holds values or results; a list of results becomes a list of one-entry tuples so the order
  // and the names survive (e.g. stack=[frame={...},frame={...}]).
  list(): MiValue[] {
    this.expect('[');
    const out: MiValue[] = [];
    if (this.peek() === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      const c = this.peek();
      if (c === '"' || c === '{' || c === '[') out.push(this.value());
      else {
        const [name, value] = this.result();
        out.push({ [name]: value });
      }
      const d = this.next();
      if (d === ']') return out;
      if (d !== ',') throw new MiParseError(`expected ',' or ']' at column ${this.pos - 1} of MI line: ${this.s}`);
    }
  }
  cString(): string {
    this.expect('"');
    let out = '';
    const bytes: number[] = [];
    const flush = () => {
      if (bytes.length) {
        out += Buffer.from(bytes).toString('utf8');
        bytes.length = 0;
      }
    };
    for (;;) {
      if (this.done()) throw new MiParseError(`unterminated string in MI line: ${this.s}`);
      const c = this.next();
      if (c === '"') break;
      if (c !== '\\') {
        flush();
        out += c;
        continue;
      }
      const e = this.next();
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' };
      if (e in simple) {
        flush();
        out += simple[e];
      } else if (/[0-7]/.test(e)) {
        // Octal escapes are raw bytes (gdb escapes non-ASCII UTF-8 byte by byte).
        let oct = e;
        while (oct.length < 3 && /[0-7]/.test(this.peek() ?? '')) oct += this.next();
        bytes.push(parseInt(oct, 8));
      } else {
        flush();
        out += e;
      }
    }
    flush();
    return out;
  }
}

/**
 * Path query over an MI value: `frame.line`, `stack.0.frame.func`, `bkpt.number`. A list of one-entry
 * result tuples can also be addressed by the entries' name: `stack.frame` is the list of frames.
 */
export function miGet(value: MiValue | undefined, path: string): MiValue | undefined {
  let cur: MiValue | undefined = value;
  for (const part of path.split('.')) {
    if (cur === undefined) return undefined;
    if (typeof cur === 'string') return undefined;
    if (Array.isArray(cur)) {
      if (/^\d+$/.test(part)) cur = cur[Number(part)];
      else cur = cur.map((v) => (typeof v === 'object' && !Array.isArray(v) ? v[part] : undefined)).filter((v): v is MiValue => v !== undefined);
    } else cur = cur[part];
  }
  return cur;
}

export function miString(value: MiValue | undefined, path: string): string | undefined {
  const v = miGet(value, path);
  return typeof v === 'string' ? v : undefined;
}

export function miList(value: MiValue | undefined, path: string): MiValue[] {
  const v = miGet(value, path);
  return Array.isArray(v) ? v : [];
}

/** The entries of a list of results (`[frame={..},frame={..}]`) unwrapped, or the tuples of a list. */
export function miTuples(value: MiValue | undefined, path: string): MiTuple[] {
  return miList(value, path)
    .map((v) => {
      if (typeof v !== 'object' || Array.isArray(v)) return undefined;
      const keys = Object.keys(v);
      if (keys.length === 1 && typeof v[keys[0]] === 'object' && !Array.isArray(v[keys[0]])) return v[keys[0]] as MiTuple;
      return v;
    })
    .filter((v): v is MiTuple => v !== undefined);
}

/** Quotes a string as an MI c-string argument. */
export function miQuote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

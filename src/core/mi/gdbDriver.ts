// Drives one gdb process over the MI3 interpreter: numbered commands answered by result records,
// asynchronous exec/notify records and stream output as events. Commands are sent one at a time so the
// stream output between a command and its result (e.g. a `monitor` command's text) belongs to it.
import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { MiRecord, MiTuple, miQuote, parseMiLine } from './parser';
import { killTree } from './processTree';

export interface MiResult {
  cls: string;
  results: MiTuple;
  /** Console (~) and target (@) stream text printed while the command ran. */
  output: string;
}

export class MiCommandError extends Error {
  constructor(
    readonly command: string,
    readonly gdbMessage: string,
  ) {
    super(gdbMessage);
  }
}

export class GdbExitedError extends Error {}

export interface GdbStartOptions {
  gdbPath: string;
  /** The program whose symbols gdb loads. */
  program?: string;
  /** CLI commands run before gdb loads the program (`-iex`), e.g. settings that affect symbol loading. */
  initCommands?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with every line exchanged: '>' sent, '<' received, '!' gdb's stderr. */
  trace?: (direction: '>' | '<' | '!', line: string) => void;
}

interface Pending {
  token: number;
  command: string;
  output: string;
  resolve: (r: MiResult) => void;
  reject: (e: Error) => void;
}

/**
 * Events: 'exec' (record: the `*stopped`/`*running` records), 'notify' (`=...`), 'stream'
 * (kind, text) for output not owned by a command, 'exit' (code, signal).
 */
export class GdbDriver extends EventEmitter {
  private readonly child: ChildProcess;
  private nextToken = 1;
  private current: Pending | undefined;
  private readonly queue: Array<Omit<Pending, 'token'>> = [];
  private buffered = '';
  private exited = false;
  stderr = '';

  constructor(private readonly options: GdbStartOptions) {
    super();
    const args = ['-q', '-nx', '--interpreter=mi3', ...(options.initCommands ?? []).flatMap((c) => ['-iex', c])];
    if (options.program) args.push(options.program);
    // Own process group: ending the session ends gdb and its `| vgdb` pipe child together.
    this.child = spawn(options.gdbPath, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      for (const line of d.split('\n')) if (line) options.trace?.('!', line);
    });
    this.child.on('error', (e) => this.onExit(null, null, e));
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.stdin!.on('error', () => undefined); // EPIPE after gdb died: reported via 'exit'
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Sends an MI command (`-exec-next`, ...); resolves on ^done/^running/^connected, rejects on ^error. */
  send(command: string): Promise<MiResult> {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new GdbExitedError(`gdb has exited; cannot run ${command}`));
      this.queue.push({ command, output: '', resolve, reject });
      this.pump();
    });
  }

  /** Runs a CLI command (e.g. `monitor taint 0x1000 8`) and returns the text it printed. */
  async console(command: string): Promise<string> {
    return (await this.send(`-interpreter-exec console ${miQuote(command)}`)).output;
  }

  /** Ends gdb and everything it started (SIGKILL to the process tree). */
  dispose(): void {
    if (!this.exited) killTree(this.child.pid);
  }

  private pump(): void {
    if (this.current || this.queue.length === 0 || this.exited) return;
    const next = this.queue.shift()!;
    this.current = { ...next, token: this.nextToken++ };
    const line = `${this.current.token}${this.current.command}`;
    this.options.trace?.('>', line);
    this.child.stdin!.write(line + '\n');
  }

  private onData(data: string): void {
    this.buffered += data;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.length) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    this.options.trace?.('<', line);
    let record: MiRecord;
    try {
      record = parseMiLine(line);
    } catch {
      // Not MI: the inferior's own output when it shares gdb's terminal. Pass it on as text.
      this.emit('stream', 'target', line + '\n');
      return;
    }
    switch (record.kind) {
      case 'prompt':
        return;
      case 'console':
      case 'target':
      case 'log':
        if (this.current && record.kind !== 'log') this.current.output += record.text;
        else this.emit('stream', record.kind, record.text);
        return;
      case 'result': {
        const pending = this.current;
        if (!pending || (record.token !== undefined && record.token !== pending.token)) return;
        this.current = undefined;
        if (record.cls === 'error') {
          const msg = typeof record.results.msg === 'string' ? record.results.msg : 'unknown gdb error';
          pending.reject(new MiCommandError(pending.command, msg));
        } else pending.resolve({ cls: record.cls, results: record.results, output: pending.output });
        this.pump();
        return;
      }
      case 'exec':
        this.emit('exec', record);
        return;
      case 'notify':
      case 'status':
        this.emit('notify', record);
        return;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    if (this.exited) return;
    this.exited = true;
    const reason = error
      ? new GdbExitedError(`cannot start gdb (${this.options.gdbPath}): ${error.message}`)
      : new GdbExitedError(`gdb exited (${signal ?? `code ${code}`})${this.stderr ? `: ${this.stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`);
    const pending = [...(this.current ? [this.current] : []), ...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const p of pending) p.reject(reason);
    this.emit('exit', code, signal, reason);
  }
}

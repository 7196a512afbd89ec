// Starts the debuggee under `valgrind --tool=planegrind` with Valgrind's embedded gdbserver waiting for
// gdb before the first instruction, and ends it (with everything it started) on dispose.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTree } from '../core/mi/processTree';

export interface TargetOptions {
  vgdb: string;
  onOutput: (category: 'stdout' | 'stderr', text: string) => void;
}

/** How long valgrind may take to open its gdbserver (slow under load). */
const READY_TIMEOUT_MS = 60_000;

/** What to start: valgrind (or a wrapper of it) with its arguments, already including gdbserverArgs. */
export interface TargetInvocation {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The lines valgrind prints when its gdbserver waits for gdb (--vgdb-error=0). */
const GDBSERVER_BANNER = /TO DEBUG THIS PROCESS USING GDB|\/path\/to\/gdb |and then give GDB the following command|target remote \||--pid is optional|\(action at startup\) vgdb me/;

export class PlanegrindTarget {
  private child: ChildProcess | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitWaiters: Array<() => void> = [];
  readonly workDir: string;

  constructor(private readonly options: TargetOptions) {
    this.workDir = mkdtempSync(join(tmpdir(), 'planescope-dbg-'));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The `target remote` argument that connects gdb to this process through vgdb. */
  get remoteTarget(): string {
    return `| ${this.options.vgdb} --vgdb-prefix=${join(this.workDir, 'vgdb')} --pid=${this.pid}`;
  }

  /** valgrind's options that open its gdbserver before the first instruction, for this target's vgdb.
   *  No --log-file: valgrind leaves that file open at the program's first free fd (3), which shifts
   *  every fd the program opens and makes a recording's replay diverge. Its messages come on stderr. */
  get gdbserverArgs(): string[] {
    return ['--vgdb=yes', '--vgdb-error=0', `--vgdb-prefix=${join(this.workDir, 'vgdb')}`];
  }

  /** Where planegrind's taint log goes (removed with the session). */
  get taintLog(): string {
    return join(this.workDir, 'planegrind.taintlog');
  }

  /** Starts valgrind and resolves once its gdbserver waits for gdb. */
  start(inv: TargetInvocation): Promise<void> {
    const o = this.options;
    // Own process group, so ending the session ends the program's children too.
    const child = spawn(inv.command, inv.args, { cwd: inv.cwd, env: inv.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    let ready: (() => void) | undefined;
    let failed: ((e: Error) => void) | undefined;
    const started = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => o.onOutput('stdout', d));
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      // Valgrind's own lines (==PID== ...) are kept apart; the rest is the program's stderr.
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      let program = '';
      for (const line of lines) {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 40) this.stderrTail.shift();
        if (!/^==\d+==/.test(line)) program += line + '\n';
        else {
          this.messages.push(line);
          // Besides the gdbserver's banner, valgrind's messages are planegrind's warnings and errors: show them.
          if (/^==\d+==\s*\S/.test(line) && !GDBSERVER_BANNER.test(line)) program += line + '\n';
        }
      }
      if (partial && !partial.startsWith('=')) {
        program += partial;
        partial = '';
      }
      if (program) o.onOutput('stderr', program);
      // Valgrind prints this once the gdbserver's FIFOs exist and it waits for gdb.
      if (ready && this.messages.some((l) => l.includes('TO DEBUG THIS PROCESS USING GDB'))) {
        const done = ready;
        ready = undefined;
        void this.gdbserverFiles().then((there) => there && done(), (e: Error) => failed?.(e));
      }
    });
    child.on('error', (e) => failed?.(new Error(`cannot start valgrind (${inv.command}): ${e.message}`)));
    child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
    });
    child.on('close', () => {
      if (partial) {
        this.stderrTail.push(partial);
        if (/^==\d+==/.test(partial)) this.messages.push(partial);
        else o.onOutput('stderr', partial);
      }
      failed?.(new Error(`valgrind --tool=planegrind exited before the program started (${this.exitInfo?.signal ?? `code ${this.exitInfo?.code}`}):\n${this.logTail()}`));
    });
    const timer = setTimeout(() => failed?.(new Error(`valgrind did not open its gdbserver within ${READY_TIMEOUT_MS / 1000} s:\n${this.logTail()}`)), READY_TIMEOUT_MS);
    return started.finally(() => {
      clearTimeout(timer);
      ready = undefined;
      failed = undefined;
    });
  }

  /** Resolves once the gdbserver's two FIFOs and its shared memory file exist: vgdb refuses to connect
   *  before ("no FIFO found matching pid"), and the banner has been seen to arrive a moment before them.
   *  False if valgrind exited first (its exit is reported by start()). */
  private async gdbserverFiles(): Promise<boolean> {
    const pid = this.pid;
    const wanted = [`vgdb-from-vgdb-to-${pid}-`, `vgdb-to-vgdb-from-${pid}-`, `vgdb-shared-mem-vgdb-${pid}-`];
    for (const started = Date.now(); Date.now() - started < READY_TIMEOUT_MS; await new Promise((r) => setTimeout(r, 5))) {
      if (this.exited) return false;
      const names = readdirSync(this.workDir);
      if (wanted.every((w) => names.some((n) => n.startsWith(w)))) return true;
    }
    throw new Error(`valgrind announced its gdbserver but its FIFOs did not appear in ${this.workDir}`);
  }

  private readonly messages: string[] = [];
  /** The last lines of stderr, valgrind's and the program's (valgrind's own errors have no ==PID== prefix). */
  private readonly stderrTail: string[] = [];

  /** Valgrind's own messages so far. */
  log(): string {
    return this.messages.join('\n');
  }

  logTail(lines = 12): string {
    return this.stderrTail
      .filter((l) => l.trim() && !/^==\d+==\s*$/.test(l))
      .slice(-lines)
      .join('\n');
  }

  /** Resolves when the valgrind process has exited (immediately if it has). */
  waitForExit(): Promise<void> {
    if (this.exitInfo || !this.child) return Promise.resolve();
    return new Promise((r) => this.exitWaiters.push(r));
  }

  /** Kills valgrind, the program's children and vgdb helpers; removes the FIFO directory. */
  async dispose(): Promise<void> {
    if (this.child && !this.exitInfo) {
      killTree(this.child.pid);
      await this.waitForExit();
    }
    if (existsSync(this.workDir)) rmSync(this.workDir, { recursive: true, force: true });
  }
}

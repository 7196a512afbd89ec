// Starts the debuggee under `valgrind --tool=planegrind` with Valgrind's embedded gdbserver waiting for
// gdb before the first instruction, and ends it (with everything it started) on dispose.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTree } from '../core/mi/processTree';

export interface TargetOptions {
  valgrind: string;
  vgdb: string;
  valgrindLib: string;
  program: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** planegrind's own options (--user-data=..., --pointer-policy=...) and any extra valgrind options. */
  toolArgs: string[];
  onOutput: (category: 'stdout' | 'stderr', text: string) => void;
  /** How long to wait for the gdbserver to be ready. */
  readyTimeoutMs?: number;
}

export class PlanegrindTarget {
  private child: ChildProcess | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitWaiters: Array<() => void> = [];
  readonly workDir: string;
  readonly logFile: string;

  constructor(private readonly options: TargetOptions) {
    this.workDir = mkdtempSync(join(tmpdir(), 'planescope-dbg-'));
    this.logFile = join(this.workDir, 'valgrind.log');
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

  /** Starts valgrind and resolves once its gdbserver waits for gdb. */
  async start(): Promise<void> {
    const o = this.options;
    const args = [
      '--tool=planegrind',
      '--vgdb=yes',
      '--vgdb-error=0',
      `--vgdb-prefix=${join(this.workDir, 'vgdb')}`,
      `--log-file=${this.logFile}`,
      ...o.toolArgs,
      o.program,
      ...o.args,
    ];
    // Own process group, so ending the session ends the program's children too.
    this.child = spawn(o.valgrind, args, {
      cwd: o.cwd,
      env: { ...o.env, VALGRIND_LIB: o.valgrindLib },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => o.onOutput('stdout', d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => o.onOutput('stderr', d));
    const spawnError = new Promise<Error>((resolve) => this.child!.on('error', resolve));
    this.child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
    });

    const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
    let failure: Error | undefined;
    void spawnError.then((e) => (failure = e));
    for (;;) {
      if (failure) throw new Error(`cannot start valgrind (${o.valgrind}): ${failure.message}`);
      const log = this.log();
      // Valgrind prints this once the gdbserver's FIFOs exist and it waits for gdb.
      if (/TO DEBUG THIS PROCESS USING GDB/.test(log)) return;
      if (this.exitInfo) {
        throw new Error(`valgrind --tool=planegrind exited before the program started (${this.exitInfo.signal ?? `code ${this.exitInfo.code}`}):\n${this.logTail()}`);
      }
      if (Date.now() > deadline) throw new Error(`valgrind did not open its gdbserver within ${(o.readyTimeoutMs ?? 60_000) / 1000} s:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Valgrind's own messages (its --log-file). */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 12): string {
    return this.log()
      .split('\n')
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

// Starts one program of a distributed system under the analysis, as `planescope run --mode online`
// does, plus librecord preloaded so taint crosses the program's sockets: valgrind --tool=planegrind,
// the taint log in a trace directory, user data named by globs. Tracks the child so it can be stopped.
import { ChildProcess, spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { analysisEnv, planegrindArgs } from '../analysisCommand';

export interface AnalyzedOptions {
  /** Name of the component; the log is TRACE/<name>.<pid>.taintlog. */
  name: string;
  trace: string;
  userData: string[];
  command: string;
  args: string[];
  /** Called with every line the program prints (stdout and stderr). */
  onLine?: (line: string) => void;
  cwd?: string;
}

export interface Analyzed {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or 128 + signal) when the process has ended. */
  exited: Promise<number>;
  /** Resolves with the first printed line matching re (its match), rejects if the process ends first. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

export function analyzedEnv(): NodeJS.ProcessEnv {
  return analysisEnv();
}

export function startAnalyzed(opts: AnalyzedOptions, env = analyzedEnv()): Analyzed {
  const vgArgs = planegrindArgs({ logPattern: `${opts.trace}/${opts.name}.%p.taintlog`, userData: opts.userData }, opts.command, opts.args);
  const child = spawn('valgrind', vgArgs, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onText = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        seen.push(line);
        opts.onLine?.(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          const m = line.match(waiters[i].re);
          if (m) waiters.splice(i, 1)[0].resolve(m);
        }
      }
    });
  };
  onText(child.stdout!);
  onText(child.stderr!);
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  });
  return {
    name: opts.name,
    child,
    exited,
    waitForLine(re, timeoutMs) {
      for (const line of seen) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${opts.name} printed no line matching ${re} within ${timeoutMs / 1000} s`)), timeoutMs);
        waiters.push({ re, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${opts.name} exited (code ${code}) before printing a line matching ${re}`));
        });
      });
    },
  };
}

/** Stops a process: SIGTERM (the program exits cleanly and planegrind flushes its log), then SIGKILL. */
export async function stopProcess(p: Analyzed, graceMs = 10000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

// Starts one program of a distributed system under the analysis, as `planescope run --mode online`
// does, plus librecord preloaded so taint crosses the program's sockets: valgrind --tool=planegrind,
// the taint log in a trace directory, user data named by globs (startNative: the same handle without
// the analysis). Tracks the child's printed lines and its end, so callers can wait for a line or stop it.
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
  /** A command that runs the rest, e.g. `ip netns exec NS` (valgrind and the program follow it). */
  prefix?: string[];
}

export interface Analyzed {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or 128 + signal) when the process has ended. */
  exited: Promise<number>;
  /** Resolves with the first printed line matching re (its match), rejects if the process ends first. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Every line printed so far. */
  output(): string;
}

export function analyzedEnv(): NodeJS.ProcessEnv {
  return analysisEnv();
}

export function startAnalyzed(opts: AnalyzedOptions, env = analyzedEnv()): Analyzed {
  const vgArgs = planegrindArgs({ logPattern: `${opts.trace}/${opts.name}.%p.taintlog`, userData: opts.userData }, opts.command, opts.args);
  const [command, ...args] = [...(opts.prefix ?? []), 'valgrind', ...vgArgs];
  return watch(opts.name, spawn(command, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] }), opts.onLine);
}

/** The same handle for a program started natively (no analysis): e.g. the untagged side of a comparison. */
export function startNative(opts: Omit<AnalyzedOptions, 'trace' | 'userData'>, env: NodeJS.ProcessEnv = process.env): Analyzed {
  const [command, ...args] = [...(opts.prefix ?? []), opts.command, ...opts.args];
  return watch(opts.name, spawn(command, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] }), opts.onLine);
}

/** Tracks a child's printed lines (stdout and stderr) and its end. */
function watch(name: string, child: ChildProcess, onLine?: (line: string) => void): Analyzed {
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
        onLine?.(line);
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
    name,
    child,
    exited,
    output: () => seen.join('\n'),
    waitForLine(re, timeoutMs) {
      for (const line of seen) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} printed no line matching ${re} within ${timeoutMs / 1000} s:\n${seen.join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) before printing a line matching ${re}:\n${seen.join('\n')}`));
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

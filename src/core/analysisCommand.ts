// The one place that knows how to start a program under the online analysis: planegrind for the taint,
// librecord preloaded so taint crosses the program's sockets (docs/message-tagging.md). Used by
// `planescope run --mode online` and by the demo.
import { distAsset } from './assets';
import { ensureValgrindLib } from './valgrindLib';

export interface AnalysisOptions {
  /** Taint log path; `%p` expands to the pid. */
  logPattern: string;
  userData: readonly string[];
  pointerPolicy?: 'insensitive' | 'sensitive';
  /** Follow fork and exec (one log per process). */
  traceChildren?: boolean;
}

/** valgrind's argument list for running `command args` under planegrind. */
export function planegrindArgs(opts: AnalysisOptions, command: string, args: readonly string[]): string[] {
  return [
    '-q',
    '--tool=planegrind',
    ...(opts.traceChildren ? ['--trace-children=yes'] : []),
    `--taint-log=${opts.logPattern}`,
    ...(opts.pointerPolicy ? [`--pointer-policy=${opts.pointerPolicy}`] : []),
    ...opts.userData.map((g) => `--user-data=${g}`),
    command,
    ...args,
  ];
}

/** The environment for valgrind: planegrind's VALGRIND_LIB, and librecord.so added to LD_PRELOAD. */
export function analysisEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const librecord = distAsset('native/librecord.so');
  const preload = base.LD_PRELOAD ? `${librecord}:${base.LD_PRELOAD}` : librecord;
  return { ...base, VALGRIND_LIB: ensureValgrindLib(), LD_PRELOAD: preload };
}

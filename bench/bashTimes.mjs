// A program's CPU time from bash's `times`, in milliseconds (GNU time prints only hundredths): run it as
// spawn('bash', ['-c', PREFIX + TIMES_SCRIPT, 'bash', ...argv]) and read stderr with childCpu.

/** Runs "$@" and prints `times` to stderr, keeping the program's exit code. */
export const TIMES_SCRIPT = '"$@"; rc=$?; times >&2; exit $rc';

/** [user, sys] seconds of bash's children (the program), from the last `times` report in stderr
 *  (a preload may print after it); NaN when there is none. */
export function childCpu(stderr) {
  const m = [...stderr.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)].pop();
  return m ? [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])] : [NaN, NaN];
}

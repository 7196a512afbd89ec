// Where a replay of a recording stops on its own: librecord diverged from the log (the program made
// another call than the one recorded) or reached the log's end (a truncated log, the point where the
// recorded process crashed or was killed, or its exec). librecord reports all in one function, which writes
// `<log>.divergence` / `<log>.end` / `<log>.exec` and exits (86 / 75 / 0). The engine breaks there, so the user sees the
// program's state at that call; when the breakpoint could not be set, the report file read at exit says it.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { GdbDriver } from '../core/mi/gdbDriver';
import { miQuote, miString, miTuples } from '../core/mi/parser';
import { parseReplayReport } from '../core/recording/log';
import { EXIT_DIVERGED, EXIT_LOG_END } from '../core/recording/session';

/** librecord's reporting function (native/librecord/lr_rr_log.c): report(status, call, fd, arg, reason, code). */
export const REPLAY_REPORT_LOCATION = 'lr_rr_log.c:report';

const REPORT_SUFFIXES = ['.divergence', '.end'];

export interface ReplayStop {
  status: 'divergence' | 'end';
  /** One line for the Debug Console and the stop's description. */
  message: string;
}

/** Removes the report files of an earlier replay of this log, so the one read at exit is this run's. */
export function clearReplayReports(log: string): void {
  for (const suffix of REPORT_SUFFIXES) rmSync(log + suffix, { force: true });
}

function headline(status: 'divergence' | 'end', process: string): string {
  return status === 'divergence' ? `the replay of ${process} diverged from the recording` : `the replay of ${process} reached the end of the recording`;
}

/** Reads the report's arguments at the breakpoint in librecord's reporting function. */
export async function readReplayStop(gdb: GdbDriver, threadId: number, process: string): Promise<ReplayStop> {
  const ev = async (expr: string): Promise<string | undefined> => {
    try {
      const r = await gdb.send(`-data-evaluate-expression --thread ${threadId} --frame 0 ${miQuote(expr)}`);
      return miString(r.results, 'value');
    } catch {
      return undefined;
    }
  };
  const text = (v: string | undefined) => (v ? (/"((?:[^"\\]|\\.)*)"/.exec(v)?.[1] ?? v).replace(/\\"/g, '"').replace(/\\\\/g, '\\') : undefined);
  // librecord's reasons run past gdb's default 200 printed characters.
  await gdb.send('-gdb-set print elements 0').catch(() => undefined);
  let status: string | undefined, reason: string | undefined, call: string | undefined, record: string | undefined, offset: string | undefined;
  try {
    status = text(await ev('status'));
    reason = text(await ev('reason'));
    call = text(await ev('call'));
    record = await ev('log_index');
    offset = await ev('log_pos');
  } finally {
    await gdb.send('-gdb-set print elements 200').catch(() => undefined);
  }
  // An exec ends the replay where the recorded process exec'd, as recorded (parseReplayReport reads it so too).
  const kind = status === 'end' || status === 'exec' ? 'end' : 'divergence';
  const frames = await gdb.send(`-stack-list-frames --thread ${threadId} 0 40`).then((r) => miTuples(r.results, 'stack'), () => []);
  // The program's frame: the first with source that is not librecord's own.
  const own = frames.find((f) => {
    const file = miString(f, 'file');
    return file && !/^lr_[a-z_]+\.c$/.test(basename(file));
  });
  const where = own ? `${miString(own, 'func') ?? '??'} at ${miString(own, 'file')}:${miString(own, 'line')}` : undefined;
  const position = record !== undefined ? `log record ${record}${offset !== undefined ? ` (byte ${offset})` : ''}` : undefined;
  const parts = [call ? `at ${call}` : undefined, position, where].filter(Boolean).join(', ');
  return { status: kind, message: `${headline(kind, process)}${parts ? ` ${parts}` : ''}: ${reason ?? 'see the replay report next to the log'}` };
}

/** The replay's own report when the process exited with librecord's divergence or end-of-log code. */
export function replayStopAtExit(log: string, exitCode: number, process: string): ReplayStop | undefined {
  if (exitCode !== EXIT_DIVERGED && exitCode !== EXIT_LOG_END) return undefined;
  for (const suffix of REPORT_SUFFIXES) {
    if (!existsSync(log + suffix)) continue;
    const r = parseReplayReport(readFileSync(log + suffix, 'utf8'));
    return { status: r.status, message: `${headline(r.status, process)} at ${r.call}, log record ${r.record} (byte ${r.offset}): ${r.reason}` };
  }
  return undefined;
}

// `planescope replay DIR`: re-executes recorded processes from their logs, with no network or peers,
// and reports how each ended (as recorded, a divergence with its source line, or the log's end).
// Also holds the record mode of `planescope run` (recordMode), which run.ts calls.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { distAsset } from '../../core/assets';
import { LogSummary, readRecordingLog, RecordingError } from '../../core/recording/log';
import { readManifest } from '../../core/recording/manifest';
import { librecordMismatch, recordRun, ReplayOutcome } from '../../core/recording/session';
import { planReplaySet, runReplaySet } from '../../core/recording/replaySet';
import { analyzeRecording, AnalyzeOutcome } from '../../core/recording/analyze';
import { Command, UserError } from '../command';
import { optionValue, ParsedArgs, parseArgs } from '../args';

function kib(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/** `planescope run --mode record --trace DIR [--user-data GLOB]... [--record-data value|reference] -- CMD...` */
export async function recordMode(parsed: ParsedArgs): Promise<number> {
  const dir = optionValue(parsed, 'trace');
  if (!dir) throw new UserError('run --mode record: --trace DIR is required (the directory the recording goes to)', 2);
  if (!parsed.rest.length) throw new UserError('run --mode record: give the command after --, e.g. `planescope run --trace rec -- ./server 7000`', 2);
  const data = optionValue(parsed, 'record-data', 'value');
  if (data !== 'value' && data !== 'by-value' && data !== 'reference' && data !== 'by-reference') {
    throw new UserError(`run: --record-data must be by-value or by-reference, not ${data}`, 2);
  }
  try {
    const { exit, manifest } = await recordRun({
      dir, command: parsed.rest, librecord: distAsset('native/librecord.so'),
      recordData: data.endsWith('reference') ? 'reference' : 'value', userData: parsed.values.get('user-data') ?? [],
    });
    const bytes = manifest.processes.reduce((s, p) => s + p.bytes, 0);
    console.error(`planescope: recorded ${parsed.rest[0]} into ${resolve(dir)}, which now holds ${manifest.processes.length} recorded process(es) (${kib(bytes)} of logs)`);
    if (exit.signal) {
      console.error(`planescope: the program was killed by ${exit.signal}; the recording holds every call it completed`);
      return 128 + (osConstants.signals[exit.signal] ?? 0);
    }
    return exit.code ?? 1;
  } catch (e) {
    if (e instanceof RecordingError) throw new UserError(e.message);
    throw e;
  }
}

function logsOf(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`replay: ${dir} is not a directory (give the --trace directory of \`planescope run --mode record\`)`);
  const logs = readdirSync(dir).filter((f) => f.endsWith('.rec')).sort();
  if (!logs.length) throw new UserError(`replay: ${dir} holds no recording (*.rec files); record one with \`planescope run --mode record --trace ${dir} -- CMD\``);
  return logs.map((f) => join(dir, f));
}

function selected(logs: string[], name: string | undefined): string[] {
  if (!name) return logs;
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1).replace(/\.rec$/, '');
  const hit = logs.filter((p) => { const b = base(p); return b === name || b.replace(/\.\d+(-\d+)?$/, '') === name || b.endsWith(`.${name}`); });
  if (!hit.length) throw new UserError(`replay: no recorded process named ${name}; the recording holds: ${logs.map(base).join(', ')}`);
  return hit;
}

function describe(o: ReplayOutcome): { line: string; ok: boolean } {
  const s: LogSummary = o.summary;
  const p = s.header.process;
  if (o.report?.status === 'divergence') {
    const r = o.report;
    // Files that are not user data are read from the disk as it is now, not from the log: the commonest
    // cause of a divergence is a program that reads back files its recorded run wrote (a data directory).
    const hint = /changed since the recording|differs from the recording/.test(r.reason) ? '' :
      '\n            a replay reads every file that is not user data from the disk as it is now: if the program reads files that ' +
      'its recorded run changed (its data directory), replay it from a copy of them as they were when the recording started (docs/recording.md, "What is recorded")';
    return { ok: false, line: `${p}: DIVERGED in thread ${r.thread} at ${r.call}, log record ${r.record} (byte ${r.offset})${o.sourceLine ? `, ${o.sourceLine}` : ''}: ${r.reason}${hint}` };
  }
  if (o.report?.exec) {
    return { ok: true, line: `${p}: replayed ${s.records} records up to its exec, as recorded: ${o.report.reason}` };
  }
  if (o.report?.status === 'end') {
    const why = s.partialBytes ? `the log is truncated (${s.partialBytes} bytes of a partial record)` : s.ended ? 'the log ends' : 'the recorded process stopped here (crashed or killed)';
    return { ok: !s.ended, line: `${p}: replayed all ${s.records} records up to the end of the recording; ${why}` };
  }
  const how = o.exit.signal ? `was killed by ${o.exit.signal}` : `exited with code ${o.exit.code}`;
  const asRecorded = o.exit.signal ? !s.ended : s.ended;
  return { ok: asRecorded, line: `${p}: replayed ${s.records} records; it ${how}${asRecorded ? ' as recorded' : s.ended ? ', but the recorded process exited normally' : ''}` };
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay recorded processes from their logs, with no network or peers',
  help: `Usage: planescope replay DIR [--process NAME] [--json]
       planescope replay DIR --analyze [--process NAME] [--trace OUT] [--user-data GLOB]...
                             [--pointer-policy insensitive|sensitive] [--json]

Re-executes each process recorded in DIR (by \`planescope run --mode record --trace DIR\`) from its
log: reads, accepts, readiness, clocks, randomness, pids and the order of pthread mutex/condvar
operations come from the log, so the program behaves as recorded with no network or peers. Sends
go nowhere; writes to files, pipes and the terminal happen for real. Files that are not user data
are read from the disk as it is at replay: a program that reads back what its recorded run wrote (a
data directory) must replay from a copy of those files as they were when the recording started.

A process that does something else than the log says (another call, fd or size; a user-data file
that changed, with --record-data by-reference) stops with a divergence naming the process, thread,
call, log position and source line. A recording of a different binary (GNU build-id) is refused.
A truncated log replays up to the truncation. A process recorded with --record-data by-reference
that received message payloads by reference replays with its senders' recordings alongside (their
replays regenerate those bytes, checked against the recorded hashes); it says so.

  --process NAME   only this process: <exe>.<pid> as in the log's file name, the exe name, or the pid
  --json           print the outcome of each process as JSON

--analyze replays the processes under planegrind, all at once, and writes one taint log per process
into OUT (default DIR/analysis) for \`planescope classify OUT\`. Each receiver gets its senders'
per-byte taint by message id through OUT/<sender>.msgtaint, written by the sender's replay; those
files stay, so a process replayed alone later (--process, the debugger) still receives its senders'
taint. Taint sources are the user-data patterns of the recording unless --user-data is given.

Exit status: 0 when every process replayed as recorded, 1 otherwise.`,
  async run(args) {
    const parsed = parseArgs(args, { values: ['process', 'trace', 'pointer-policy'], repeatable: ['user-data'], flags: ['json', 'analyze'] }, 'replay');
    if (parsed.positional.length !== 1) throw new UserError('replay: give one recording directory, e.g. `planescope replay rec`', 2);
    const analyze = parsed.flags.has('analyze');
    const policy = optionValue(parsed, 'pointer-policy');
    if (!analyze) {
      for (const o of ['trace', 'pointer-policy', 'user-data']) {
        if (parsed.values.has(o)) throw new UserError(`replay: --${o} applies to an analysis only: add --analyze (replay under planegrind)`, 2);
      }
    }
    if (policy !== undefined && policy !== 'insensitive' && policy !== 'sensitive') {
      throw new UserError(`replay: --pointer-policy must be 'insensitive' or 'sensitive', not '${policy}'`, 2);
    }
    for (const g of parsed.values.get('user-data') ?? []) if (!g) throw new UserError('replay: --user-data needs a non-empty glob', 2);
    const dir = resolve(parsed.positional[0]);
    const allLogs = logsOf(dir);
    const logs = selected(allLogs, optionValue(parsed, 'process'));
    try {
      readManifest(dir);
    } catch (e) {
      throw new UserError(`replay: ${(e as Error).message}`);
    }
    const librecord = distAsset('native/librecord.so');
    let outcomes: (ReplayOutcome | AnalyzeOutcome)[];
    const note = (line: string) => console.error(`planescope: ${line}`);
    for (const log of logs) {
      try {
        const warn = librecordMismatch(readRecordingLog(log), librecord);
        if (warn) note(`warning: ${warn}`);
      } catch (e) {
        if (!(e instanceof RecordingError)) throw e; // the replay reports an unreadable log
      }
    }
    let outDir: string | undefined;
    try {
      // processes replay concurrently: each waits only on its own log
      // with --json the programs' own output goes to stderr, so stdout is only the JSON
      const stdio = parsed.flags.has('json') ? (['ignore', 2, 2] as const) : (['ignore', 'inherit', 'inherit'] as const);
      if (analyze) {
        outDir = resolve(optionValue(parsed, 'trace') ?? join(dir, 'analysis'));
        const userData = (parsed.values.get('user-data') ?? []).map((g) => resolve(g));
        outcomes = await analyzeRecording({ logs, allLogs, outDir, librecord, userData, pointerPolicy: policy as 'insensitive' | 'sensitive' | undefined, stdio: [...stdio] }, note);
      } else {
        const { plan, notes } = planReplaySet(allLogs, logs);
        notes.forEach(note);
        outcomes = await runReplaySet({ plan, librecord, stdio: [...stdio] });
      }
    } catch (e) {
      if (e instanceof RecordingError) throw new UserError(e.message);
      throw e;
    }
    let ok = true;
    const rows = outcomes.map((o) => {
      const d = describe(o);
      ok &&= d.ok;
      const s = o.summary;
      return { ...d, process: s.header.process, s, o };
    });
    if (parsed.flags.has('json')) {
      console.log(JSON.stringify(rows.map((r) => ({
        process: r.process, ok: r.ok, message: r.line, records: r.s.records, logBytes: r.s.logBytes, dataMode: r.s.header.data,
        userDataBytesByValue: r.s.userDataBytesByValue, userDataBytesByReference: r.s.userDataBytesByReference,
        messageBytesByReference: r.s.messageBytesByReference,
        exit: r.o.exit, report: r.o.report ?? null, sourceLine: r.o.sourceLine ?? null,
        ...(analyze ? { taintLog: (r.o as AnalyzeOutcome).taintLog } : {}),
      })), (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2));
    } else {
      for (const r of rows) {
        console.error(`planescope: ${r.line}`);
        const ud = r.s.header.data === 'reference'
          ? `user data by reference: ${kib(r.s.userDataBytesByReference)} stood for by ${r.s.byKind.get('read(user data, by reference)')?.bytes ?? 0} log bytes`
          : `user data by value: ${kib(r.s.userDataBytesByValue)}`;
        const msg = r.s.messageBytesByReference ? `; message payloads by reference: ${kib(r.s.messageBytesByReference)} from ${r.s.referencedSenders.join(', ')}` : '';
        console.error(`            log ${kib(r.s.logBytes)}, ${r.s.records} records, ${r.s.threads.length} thread(s); ${ud}${msg}`);
      }
      if (outDir) console.error(`planescope: taint logs in ${outDir}; classify them with \`planescope classify ${outDir} --out app.planes.db\``);
    }
    return ok ? 0 : 1;
  },
};

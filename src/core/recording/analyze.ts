// `planescope replay --analyze`: every selected process replays from its log under planegrind, all at
// once, with no network or peers. Cross-process taint goes through message-taint files in the analysis
// directory (native/librecord/lr_rr_taint.c): each sender's replay writes the taint of every message it
// sends, keyed by its recorded identity and the message id; each receiver's replay takes it from there
// when it replays the recv. The files stay, so one process can later be replayed alone (the debugger)
// and still receive its senders' taint (PLANESCOPE_RR_TAINT_DIR). Senders a selected process needs for
// message payloads recorded by reference replay alongside, natively (their taint files stay as an
// earlier analysis left them).
import { StdioOptions } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { planegrindArgs } from '../analysisCommand';
import { ensureValgrindLib } from '../valgrindLib';
import { LogSummary, recordedUserData, RecordingError } from './log';
import { closeMessageFile, messageTaintFile } from './messageFiles';
import { planReplaySet, runReplaySet } from './replaySet';
import { checkReplayable, ReplayOutcome } from './session';

export interface AnalyzeOptions {
  /** The processes to analyse. */
  logs: string[];
  /** Every log of the recording (senders of payloads by reference are found among them). */
  allLogs?: string[];
  /** Where the taint logs and message files go. */
  outDir: string;
  librecord: string;
  /** planegrind's user-data globs; default: the patterns the processes were recorded with (all of
   *  them, for every process: a process recorded without any still receives tainted messages). */
  userData?: string[];
  pointerPolicy?: 'insensitive' | 'sensitive';
  stdio?: StdioOptions;
}

export interface AnalyzeOutcome extends ReplayOutcome {
  /** Empty for a process replayed alongside (natively, for its message payloads). */
  taintLog: string;
  identity: string;
  alongside: boolean;
}

/** Replays the logs under planegrind concurrently; resolves when all have ended. */
export async function analyzeRecording(opts: AnalyzeOptions, notes: (line: string) => void = () => {}): Promise<AnalyzeOutcome[]> {
  const outDir = resolve(opts.outDir);
  const selected = opts.logs.map((l) => resolve(l));
  const { plan, notes: why } = planReplaySet((opts.allLogs ?? opts.logs).map((l) => resolve(l)), selected);
  why.forEach(notes);
  for (const p of plan) checkReplayable(p.summary);
  const analysed = plan.filter((p) => !p.alongside);
  const userData = opts.userData?.length ? opts.userData : [...new Set(analysed.flatMap((p) => recordedUserData(p.summary)))];
  if (!userData.length) {
    throw new RecordingError(`cannot analyze ${analysed.map((p) => p.summary.header.process).join(', ')}: recorded without --user-data patterns, nothing would be tainted; give --user-data GLOB`);
  }
  const seen = new Map<string, string>();
  for (const p of plan) {
    const other = seen.get(p.identity);
    if (other) throw new RecordingError(`cannot analyze ${other} and ${p.summary.header.process} together: both were recorded as ${p.identity} (the same pid on the same host); analyze them one at a time with --process`);
    seen.set(p.identity, p.summary.header.process);
  }
  mkdirSync(outDir, { recursive: true });
  const taintLog = (s: LogSummary) => join(outDir, `${s.header.process}.taintlog`);
  // what this analysis rewrites; other senders' files (an earlier analysis) stay for receivers to use
  for (const p of analysed) for (const f of [taintLog(p.summary), messageTaintFile(outDir, p.identity)]) rmSync(f, { force: true });
  const valgrindLib = ensureValgrindLib();
  const waitFor = analysed.map((p) => p.identity).join('\n');
  const outcomes = await runReplaySet({
    plan, librecord: opts.librecord, stdio: opts.stdio, payloadDir: outDir,
    wrapperOf: (p) => {
      if (p.alongside) return undefined;
      const args = planegrindArgs({ logPattern: taintLog(p.summary), userData, pointerPolicy: opts.pointerPolicy }, p.summary.header.exe, []);
      return {
        command: 'valgrind',
        args: args.slice(0, -1), // replayInvocation appends the program and its recorded arguments
        // under planegrind a thread may compute for minutes between two logged calls
        env: { VALGRIND_LIB: valgrindLib, PLANESCOPE_RR_STALL_S: process.env.PLANESCOPE_RR_STALL_S ?? '3600' },
      };
    },
    envOf: () => ({ PLANESCOPE_RR_TAINT_DIR: outDir, PLANESCOPE_RR_TAINT_WAIT: waitFor }),
    onEnd: (p) => { if (!p.alongside) closeMessageFile(messageTaintFile(outDir, p.identity)); },
  });
  return outcomes.map((o) => ({ ...o, taintLog: o.planned.alongside ? '' : taintLog(o.summary), identity: o.planned.identity, alongside: o.planned.alongside }));
}

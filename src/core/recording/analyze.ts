// `planescope replay --analyze`: every selected process replays from its log under planegrind, all at
// once, with no network or peers. Cross-process taint goes through message-taint files in the analysis
// directory (native/librecord/lr_rr_taint.c): each sender's replay writes the taint of every message it
// sends, keyed by its recorded identity and the message id; each receiver's replay takes it from there
// when it replays the recv. The files stay, so one process can later be replayed alone (the debugger)
// and still receive its senders' taint (PLANESCOPE_RR_TAINT_DIR).
import { StdioOptions } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { planegrindArgs } from '../analysisCommand';
import { ensureValgrindLib } from '../valgrindLib';
import { LogSummary, readRecordingLog, RecordingError } from './log';
import { checkReplayable, replayProcess, ReplayOutcome } from './session';

export const MSG_TAINT_MAGIC = 'PSMT0001';
const ENTRY_BYTES = 24;
const KIND_END = 2;

/** The identity a process had on the wire when it was recorded: "exe:pid@host" (lr_main.c). */
export function recordedIdentity(summary: LogSummary): string {
  const h = summary.header;
  const exe = basename(h.exe.slice(0, 127));
  return `${exe}:${h.pid}@${(h.host || hostname()).slice(0, 63)}`;
}

/** The message-taint file of a sender in an analysis directory. */
export function messageTaintFile(dir: string, identity: string): string {
  return join(dir, `${identity.replace(/\//g, '_')}.msgtaint`);
}

/** Marks a sender's message-taint file complete (creating it when the sender sent nothing), so no
 *  receiver waits for messages that will never come. */
export function closeMessageTaint(path: string): void {
  const end = Buffer.alloc(ENTRY_BYTES);
  end.writeUInt32LE(KIND_END, 4);
  if (!existsSync(path) || readFileSync(path).subarray(0, 8).toString('latin1') !== MSG_TAINT_MAGIC) {
    writeFileSync(path, Buffer.concat([Buffer.from(MSG_TAINT_MAGIC, 'latin1'), end]));
  } else {
    appendFileSync(path, end);
  }
}

export interface AnalyzeOptions {
  logs: string[];
  /** Where the taint logs and message-taint files go. */
  outDir: string;
  librecord: string;
  /** planegrind's user-data globs; default: the patterns the processes were recorded with (all of
   *  them, for every process: a process recorded without any still receives tainted messages). */
  userData?: string[];
  pointerPolicy?: 'insensitive' | 'sensitive';
  stdio?: StdioOptions;
}

export interface AnalyzeOutcome extends ReplayOutcome {
  taintLog: string;
  identity: string;
  messageTaint: string;
}

function recordedUserData(summary: LogSummary): string[] {
  return (summary.header.env.PLANESCOPE_RR_USER_DATA ?? '').split('\n').filter((p) => p.length > 0);
}

/** Replays the logs under planegrind concurrently; resolves when all have ended. */
export async function analyzeRecording(opts: AnalyzeOptions): Promise<AnalyzeOutcome[]> {
  const outDir = resolve(opts.outDir);
  const summaries = opts.logs.map((log) => readRecordingLog(resolve(log)));
  for (const s of summaries) checkReplayable(s);
  const userData = opts.userData?.length ? opts.userData : [...new Set(summaries.flatMap(recordedUserData))];
  if (!userData.length) {
    throw new RecordingError(`cannot analyze ${summaries.map((s) => s.header.process).join(', ')}: recorded without --user-data patterns, nothing would be tainted; give --user-data GLOB`);
  }
  const plans = summaries.map((summary) => {
    const identity = recordedIdentity(summary);
    return { log: summary.path, summary, userData, identity, taintLog: join(outDir, `${summary.header.process}.taintlog`), messageTaint: messageTaintFile(outDir, identity) };
  });
  const seen = new Map<string, string>();
  for (const p of plans) {
    const other = seen.get(p.identity);
    if (other) throw new RecordingError(`cannot analyze ${other} and ${p.summary.header.process} together: both were recorded as ${p.identity} (the same pid on the same host); analyze them one at a time with --process`);
    seen.set(p.identity, p.summary.header.process);
  }
  mkdirSync(outDir, { recursive: true });
  // what this analysis rewrites; other senders' files (an earlier analysis) stay for receivers to use
  for (const p of plans) for (const f of [p.taintLog, p.messageTaint]) rmSync(f, { force: true });
  const valgrindLib = ensureValgrindLib();
  const waitFor = plans.map((p) => p.identity).join('\n');
  return Promise.all(plans.map(async (p) => {
    const args = planegrindArgs({ logPattern: p.taintLog, userData, pointerPolicy: opts.pointerPolicy }, p.summary.header.exe, []);
    const wrapper = {
      command: 'valgrind',
      args: args.slice(0, -1), // replayInvocation appends the program and its recorded arguments
      env: {
        VALGRIND_LIB: valgrindLib,
        PLANESCOPE_RR_TAINT_DIR: outDir,
        PLANESCOPE_RR_TAINT_WAIT: waitFor,
        // under planegrind a thread may compute for minutes between two logged calls
        PLANESCOPE_RR_STALL_S: process.env.PLANESCOPE_RR_STALL_S ?? '3600',
      },
    };
    try {
      const outcome = await replayProcess({ log: p.log, librecord: opts.librecord, wrapper, stdio: opts.stdio });
      return { ...outcome, taintLog: p.taintLog, identity: p.identity, messageTaint: p.messageTaint };
    } finally {
      closeMessageTaint(p.messageTaint);
    }
  }));
}

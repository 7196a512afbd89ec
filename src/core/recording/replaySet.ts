// Which processes a replay needs, and running them together. A receiver recorded with message payloads
// by reference gets those bytes from its senders' replays, so a replay of it alone is not possible:
// planReplaySet adds the senders' recordings (found in the same directory by the identity they had on
// the wire) and says so; runReplaySet replays them concurrently with the payload files in between.
import { StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogSummary, readRecordingLog, RecordingError } from './log';
import { closeMessageFile, payloadFile, recordedIdentity } from './messageFiles';
import { ReplayOptions, replayProcess, ReplayOutcome } from './session';

export interface PlannedReplay {
  log: string;
  summary: LogSummary;
  identity: string;
  /** Not asked for: replayed only because a selected process needs its message payloads. */
  alongside: boolean;
}

/** The selected logs plus, transitively, the recordings of the senders they refer to. */
export function planReplaySet(allLogs: string[], selected: string[]): { plan: PlannedReplay[]; notes: string[] } {
  const byLog = new Map<string, PlannedReplay>();
  const all = allLogs.map((log) => {
    const summary = readRecordingLog(log);
    return { log, summary, identity: recordedIdentity(summary), alongside: !selected.includes(log) };
  });
  const notes: string[] = [];
  const queue = all.filter((p) => !p.alongside);
  for (const p of queue) byLog.set(p.log, p);
  while (queue.length) {
    const p = queue.shift()!;
    for (const sender of p.summary.referencedSenders) {
      const s = all.find((x) => x.identity === sender);
      if (!s) {
        throw new RecordingError(`cannot replay ${p.summary.header.process}: it received ${p.summary.messageBytesByReference} message payload bytes by reference from ${sender}, whose recording is not in this directory; the replay needs the sender's recording (record every process of the system into one directory, or record the receiver with --record-data by-value)`);
      }
      if (!byLog.has(s.log)) {
        byLog.set(s.log, s);
        queue.push(s);
        notes.push(`${p.summary.header.process} received message payloads by reference from ${sender}: replaying its recording ${s.summary.header.process} alongside`);
      }
    }
  }
  return { plan: [...byLog.values()], notes };
}

export interface ReplaySetOptions {
  plan: PlannedReplay[];
  librecord: string;
  stdio?: StdioOptions;
  /** Where the payload files go, when some process needs them; default a temporary directory, removed afterwards. */
  payloadDir?: string;
  /** Per process: a wrapper (planegrind) and extra environment. */
  wrapperOf?: (p: PlannedReplay) => ReplayOptions['wrapper'];
  envOf?: (p: PlannedReplay) => NodeJS.ProcessEnv;
  /** Called when a process's replay has ended (before its payload file is closed). */
  onEnd?: (p: PlannedReplay) => void;
}

export async function runReplaySet(opts: ReplaySetOptions): Promise<(ReplayOutcome & { planned: PlannedReplay })[]> {
  const needPayloads = opts.plan.some((p) => p.summary.referencedSenders.length > 0);
  // senders write payload files only for receivers recorded by reference (they cost disk and I/O)
  const temp = needPayloads && !opts.payloadDir ? mkdtempSync(join(tmpdir(), 'planescope-payloads-')) : undefined;
  const dir = needPayloads ? (opts.payloadDir ?? temp) : undefined;
  try {
    if (dir) for (const p of opts.plan) rmSync(payloadFile(dir, p.identity), { force: true });
    const waitFor = opts.plan.map((p) => p.identity).join('\n');
    return await Promise.all(opts.plan.map(async (p) => {
      const env: NodeJS.ProcessEnv = { ...(opts.envOf?.(p) ?? {}), ...(dir ? { PLANESCOPE_RR_PAYLOAD_DIR: dir, PLANESCOPE_RR_PAYLOAD_WAIT: waitFor } : {}) };
      try {
        const outcome = await replayProcess({ log: p.log, librecord: opts.librecord, stdio: opts.stdio, wrapper: opts.wrapperOf?.(p), env });
        return { ...outcome, planned: p };
      } finally {
        opts.onEnd?.(p);
        if (dir) closeMessageFile(payloadFile(dir, p.identity));
      }
    }));
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

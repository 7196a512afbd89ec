// The librecord recordings next to the taint logs being classified: per recorded process its log size,
// recording mode and the user data it read, so that `planescope report` can show the log size of each
// mode measured on the user's own program (issue 6, item 4). A recording directory is one with a
// manifest*.json (docs/recording.md); its logs are the *.rec files in it, summarised by recordingSizes().
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MANIFEST_FILE } from '../recording/manifest';
import { recordingSizes } from '../recording/sizes';

export type RecordingMode = 'by-value' | 'by-reference';

export interface RecordedProcess {
  /** The .rec file. */
  log: string;
  /** `<exe>.<pid>`: the log's name without .rec; `replay --analyze` names its taint log after it. */
  process: string;
  exe: string;
  mode: RecordingMode;
  /** Bytes of records (without the unused tail of a process that did not exit normally). */
  logBytes: number;
  records: number;
  /** User-data bytes the process read from files (logged by value or standing behind by-reference records). */
  userDataBytes: number;
  /** Of those, the bytes the log holds by value. */
  userDataLoggedBytes: number;
  /** Received message payload bytes the log stands for by reference (the sender's replay regenerates them). */
  messageBytesByReference: number;
}

const MAX_DEPTH = 8;

/** The recording directories at or below the inputs (directories only; a file input is a taint log). */
function recordingDirs(inputs: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // not a directory, or unreadable: findTaintLogs reports missing inputs
    }
    if (entries.some((e) => e.isFile() && MANIFEST_FILE.test(e.name))) found.push(dir);
    if (depth >= MAX_DEPTH) return;
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
  };
  for (const input of inputs) walk(resolve(input), 0);
  return [...new Set(found)];
}

/** Every recorded process of the recording directories at or below the inputs; unreadable logs become warnings. */
export function findRecordings(inputs: string[], warn: (message: string) => void = () => undefined): RecordedProcess[] {
  const out: RecordedProcess[] = [];
  for (const dir of recordingDirs(inputs)) {
    const sizes = recordingSizes(dir);
    for (const u of sizes.unreadable) warn(`recording log ${join(dir, u.log)} left out of the log sizes: ${u.reason}`);
    for (const p of sizes.processes) {
      out.push({
        log: join(dir, `${p.process}.rec`),
        process: p.process,
        exe: p.exe,
        mode: p.dataMode === 'reference' ? 'by-reference' : 'by-value',
        logBytes: p.logBytes,
        records: p.records,
        userDataBytes: p.userDataBytesByValue + p.userDataBytesByReference,
        userDataLoggedBytes: p.userDataBytesByValue,
        messageBytesByReference: p.messageBytesByReference,
      });
    }
  }
  return out;
}

/**
 * The component of each recorded process: the run whose taint log `replay --analyze` named after it
 * (`<exe>.<pid>.taintlog`), else the component of the same executable path, else of the same unique name.
 */
export function recordingComponents(
  recordings: RecordedProcess[],
  runs: Array<{ logPath: string; component: number }>,
  components: Array<{ id: number; name: string; exe: string }>,
): Array<number | undefined> {
  const byLog = new Map(runs.map((r) => [basename(r.logPath).replace(/\.taintlog$/, ''), r.component]));
  return recordings.map((rec) => {
    const run = byLog.get(rec.process);
    if (run !== undefined) return run;
    const exact = components.find((c) => c.exe === rec.exe);
    if (exact) return exact.id;
    const named = components.filter((c) => c.name === basename(rec.exe));
    return named.length === 1 ? named[0].id : undefined;
  });
}

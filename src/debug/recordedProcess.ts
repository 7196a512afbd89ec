// Finds the process of a recording (a `planescope run --trace DIR` directory) that a `recording` launch
// replays, and turns every way that can fail (no such directory, no or a corrupt manifest, an unknown
// process, a corrupt log, a rebuilt binary) into a LaunchError that says what to do.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { MANIFEST_FILE, MANIFEST_VERSION, ManifestProcess, mergeManifestProcesses, RecordingManifest, scanProcesses } from '../core/recording/manifest';
import { LogSummary, readRecordingLog, recordedUserData, RecordingError } from '../core/recording/log';
import { checkReplayable } from '../core/recording/session';
import { LaunchError } from './launchConfig';

export interface RecordedProcess {
  dir: string;
  /** Absolute path of the process's librecord log. */
  log: string;
  summary: LogSummary;
  /** User-data patterns of the run that recorded it (absolute). */
  userData: string[];
}

/** manifest.json, manifest-2.json, ...: one per `planescope run` into the directory. */
function manifestNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => MANIFEST_FILE.test(f))
    .sort((a, b) => (a === 'manifest.json' ? -1 : b === 'manifest.json' ? 1 : a.localeCompare(b, 'en', { numeric: true })));
}

function readManifestFile(dir: string, name: string): RecordingManifest {
  const path = join(dir, name);
  let m: RecordingManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
    if (!m || typeof m !== 'object' || !Array.isArray(m.processes)) throw new Error('it has no "processes" list');
  } catch (e) {
    throw new LaunchError(`the recording ${dir} is corrupt: ${name} cannot be read (${(e as Error).message}). Record the run again with \`planescope run --trace ${dir} -- PROGRAM\``);
  }
  if (m.version !== MANIFEST_VERSION) throw new LaunchError(`the recording ${dir} has a ${name} of version ${m.version}; this Planescope reads version ${MANIFEST_VERSION}: record the run again`);
  return m;
}

/** How a user can name a process: its log name (`taintdemo.1234`), its program's name, or its pid. */
function matches(p: ManifestProcess, name: string): boolean {
  return p.process === name || String(p.pid) === name || p.exe.split('/').pop() === name;
}

/** Resolves `recording` + `process` of a launch configuration to a replayable log. */
export function findRecordedProcess(recording: string, processName: string | undefined, cwd: string): RecordedProcess {
  const dir = isAbsolute(recording) ? recording : resolve(cwd, recording);
  if (!existsSync(dir)) throw new LaunchError(`the recording ${dir} does not exist: record a run with \`planescope run --trace ${recording} -- PROGRAM\` or fix "recording" in launch.json`);
  if (!statSync(dir).isDirectory()) throw new LaunchError(`the recording ${dir} is not a directory: "recording" must name the directory \`planescope run --trace\` wrote`);
  const names = manifestNames(dir);
  if (names.length === 0) throw new LaunchError(`${dir} is not a recording, or an incomplete one: it has no manifest.json. Record the run with \`planescope run --trace ${recording} -- PROGRAM\``);
  const manifests = names.map((n) => readManifestFile(dir, n));
  // The manifests list the logs found when each run ended; logs of processes that outlived their run
  // (or of a run that was killed) are found by scanning, which reads every log: only when needed.
  const wellFormed = (list: ManifestProcess[]) => list.filter((p) => p && typeof p.log === 'string' && typeof p.exe === 'string');
  let processes = mergeManifestProcesses(manifests.map((m) => wellFormed(m.processes)));
  const listed = processName ? processes.some((p) => matches(p, processName)) : processes.length === 1;
  if (!listed || readdirSync(dir).filter((f) => f.endsWith('.rec')).length > processes.length) processes = mergeManifestProcesses([processes, scanProcesses(dir)]);
  if (processes.length === 0) throw new LaunchError(`the recording ${dir} holds no recorded process (no readable *.rec log): the program exited before librecord started, or the recording is corrupt`);
  const known = processes.map((p) => `${p.process} (${p.exe.split('/').pop()}, pid ${p.pid})`).join(', ');
  let chosen: ManifestProcess;
  if (!processName) {
    if (processes.length > 1) throw new LaunchError(`the recording ${dir} holds several processes: ${known}. Set "process" in launch.json to the one to replay`);
    chosen = processes[0];
  } else {
    const found = processes.filter((p) => matches(p, processName));
    if (found.length === 0) throw new LaunchError(`the recording ${dir} has no process "${processName}": it holds ${known}`);
    if (found.length > 1) throw new LaunchError(`"${processName}" names several processes of the recording ${dir}: ${found.map((p) => p.process).join(', ')}. Set "process" to one of those`);
    chosen = found[0];
  }
  const log = join(dir, chosen.log);
  let summary: LogSummary;
  try {
    summary = readRecordingLog(log);
  } catch (e) {
    if (e instanceof RecordingError) throw new LaunchError(`the recording ${dir} is corrupt: ${e.message}. Record the run again with \`planescope run\``);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LaunchError(`the recording ${dir} is corrupt: the log ${chosen.log} of process ${chosen.process} is missing. Record the run again`);
    throw e;
  }
  try {
    checkReplayable(summary);
  } catch (e) {
    if (e instanceof RecordingError) throw new LaunchError(e.message);
    throw e;
  }
  const manifest = manifests.find((m) => m.processes.some((p) => p.log === chosen.log)) ?? manifests[0];
  const userData = summary.header.env.PLANESCOPE_RR_USER_DATA ? recordedUserData(summary) : (manifest.userData ?? []);
  return { dir, log, summary, userData };
}

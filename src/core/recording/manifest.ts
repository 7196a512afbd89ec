// DIR/manifest.json: what `planescope run --mode record` recorded (the command, the binary and its
// build-id, the data mode, how the root process ended) and the per-process logs found after the run.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRecordingLog, RecordingError } from './log';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_VERSION = 1;
/** Any manifest of a directory: manifest.json, or the manifest-N.json of a later run into it (newManifestName). */
export const MANIFEST_FILE = /^manifest(-\d+)?\.json$/;

/** Environment variables worth showing in the manifest (each log holds the full environment). */
const ENV_SUBSET = /^(PATH|HOME|USER|LANG|LC_[A-Z]+|TZ|PWD|PLANESCOPE_[A-Z_]+)$/;

export interface ManifestProcess {
  log: string;
  process: string;
  pid: number;
  ppid: number;
  exe: string;
  buildId: string;
  argv: string[];
  cwd: string;
  records: number;
  bytes: number;
  ended: boolean;
}

export interface RecordingManifest {
  version: number;
  createdAt: string;
  command: string[];
  cwd: string;
  exe: string;
  buildId: string | null;
  recordData: 'value' | 'reference';
  userData: string[];
  env: Record<string, string>;
  exit: { code: number | null; signal: string | null } | null;
  processes: ManifestProcess[];
}

export function envSubset(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && ENV_SUBSET.test(k)) out[k] = v;
  return out;
}

/** The logs in dir, one per recorded process, read and summarised. */
export function scanProcesses(dir: string): ManifestProcess[] {
  const out: ManifestProcess[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.rec')).sort()) {
    try {
      const s = readRecordingLog(join(dir, file));
      out.push({
        log: file, process: s.header.process, pid: s.header.pid, ppid: s.header.ppid, exe: s.header.exe,
        buildId: s.header.buildId, argv: s.header.argv, cwd: s.header.cwd, records: s.records, bytes: s.logBytes, ended: s.ended,
      });
    } catch (e) {
      if (!(e instanceof RecordingError)) throw e;
    }
  }
  return out;
}

export function writeManifest(dir: string, manifest: RecordingManifest, name = MANIFEST_NAME): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(tmp, join(dir, name));
}

/** The manifest name for a new run in dir: manifest.json, or manifest-N.json when several runs (the
 *  processes of one system started one by one) record into the same directory. */
export function newManifestName(dir: string): string {
  if (!existsSync(join(dir, MANIFEST_NAME))) return MANIFEST_NAME;
  for (let n = 2; ; n++) if (!existsSync(join(dir, `manifest-${n}.json`))) return `manifest-${n}.json`;
}

export function readManifest(dir: string): RecordingManifest | undefined {
  const path = join(dir, MANIFEST_NAME);
  if (!existsSync(path)) return undefined;
  const m = JSON.parse(readFileSync(path, 'utf8')) as RecordingManifest;
  if (m.version !== MANIFEST_VERSION) throw new RecordingError(`${path} has version ${m.version}; this Planescope reads version ${MANIFEST_VERSION}`);
  return m;
}

/** The processes that several listings of one directory name (manifest.json, each later run's manifest-N.json,
 *  a scan of the logs), each recorded process (its log) once: a later listing of the same log replaces an
 *  earlier one and keeps its place. */
export function mergeManifestProcesses<P extends { log: string }>(listings: P[][]): P[] {
  const byLog = new Map<string, P>();
  for (const list of listings) for (const p of list) byLog.set(p.log, p);
  return [...byLog.values()];
}

// Starts a recorded run and the replay of one recorded process. Both run the program with address
// space randomisation off (`setarch -R`), so pointer values a program hands to the kernel (epoll data)
// replay as recorded; librecord is preloaded into the program only (through `env`), not into setarch.
import { ChildProcess, spawn, spawnSync, StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { which } from '../processes';
import { isFixedAddressExecutable, readBuildId } from './buildId';
import { LogSummary, parseReplayReport, readRecordingLog, RecordingError, ReplayReport } from './log';
import { envSubset, RecordingManifest, MANIFEST_VERSION, newManifestName, scanProcesses, writeManifest } from './manifest';

/** Exit codes of a replaying process (lr_rr_log.c). */
export const EXIT_DIVERGED = 86;
export const EXIT_LOG_END = 75;

/** The environment variables librecord reads; the rest of a recorded environment is the program's. */
const OURS = /^(LD_PRELOAD|PLANESCOPE_RR_[A-Z_]+)$/;

export interface RecordOptions {
  dir: string;
  command: string[];
  librecord: string;
  recordData: 'value' | 'reference';
  /** fnmatch(3) patterns of user-data files, made absolute against cwd. */
  userData: string[];
  cwd?: string;
  stdio?: StdioOptions;
  /** Sees the child right after it started (to feed or read its pipes). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

function resolveExecutable(name: string, cwd: string): string {
  const found = name.includes('/') ? resolve(cwd, name) : which(name);
  if (!found || !existsSync(found)) throw new RecordingError(`cannot find the program ${name}${name.includes('/') ? '' : ' on PATH'}`);
  return found;
}

function preload(lib: string, existing: string | undefined): string {
  return existing ? `${lib}:${existing}` : lib;
}

function waitExit(child: ReturnType<typeof spawn>): Promise<Exit> {
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => res({ code, signal }));
  });
}

/** Records `command` into dir: one log per process, then DIR/manifest.json (manifest-N.json for the
 *  N-th run into the same directory). */
export async function recordRun(opts: RecordOptions): Promise<{ exit: Exit; manifest: RecordingManifest }> {
  const cwd = opts.cwd ?? process.cwd();
  const dir = resolve(cwd, opts.dir);
  mkdirSync(dir, { recursive: true });
  const exe = resolveExecutable(opts.command[0], cwd);
  const userData = opts.userData.map((p) => (isAbsolute(p) ? p : join(cwd, p)));
  const manifest: RecordingManifest = {
    version: MANIFEST_VERSION, createdAt: new Date().toISOString(), command: [exe, ...opts.command.slice(1)], cwd, exe,
    buildId: readBuildId(exe) ?? null, recordData: opts.recordData, userData, env: envSubset(process.env), exit: null, processes: [],
  };
  const manifestName = newManifestName(dir);
  writeManifest(dir, manifest, manifestName);
  const env: NodeJS.ProcessEnv = { ...process.env, PLANESCOPE_RR_MODE: 'record', PLANESCOPE_RR_DIR: dir, PLANESCOPE_RR_DATA: opts.recordData, PLANESCOPE_RR_USER_DATA: userData.join('\n') };
  const existing = env.LD_PRELOAD;
  delete env.LD_PRELOAD;
  const child = spawn('setarch', ['-R', 'env', `LD_PRELOAD=${preload(opts.librecord, existing)}`, exe, ...opts.command.slice(1)], { cwd, env, stdio: opts.stdio ?? 'inherit' });
  opts.onSpawn?.(child);
  const exit = await waitExit(child);
  manifest.exit = { code: exit.code, signal: exit.signal };
  manifest.processes = scanProcesses(dir);
  writeManifest(dir, manifest, manifestName);
  return { exit, manifest };
}

export interface ReplayOptions {
  log: string;
  librecord: string;
  stdio?: StdioOptions;
  /** Run under this wrapper (e.g. valgrind and its options) instead of setarch -R. */
  wrapper?: { command: string; args: string[]; env: NodeJS.ProcessEnv };
  /** Extra environment for librecord (e.g. PLANESCOPE_RR_TAINT_DIR, PLANESCOPE_RR_PAYLOAD_DIR). */
  env?: NodeJS.ProcessEnv;
  onSpawn?: (child: ChildProcess) => void;
}

export interface ReplayOutcome {
  summary: LogSummary;
  exit: Exit;
  report?: ReplayReport;
  /** `function at file:line` of the first program frame of a divergence, when addr2line knows it. */
  sourceLine?: string;
}

/** A warning when the log was recorded by another librecord build than the one that will replay it
 *  (its own calls, message and datagram sizes may differ: a divergence would come from that). */
export function librecordMismatch(summary: LogSummary, librecord: string): string | undefined {
  const then = summary.header.librecordBuildId;
  if (!then) return undefined;
  let now: string | undefined;
  try { now = readBuildId(librecord); } catch { return undefined; }
  if (!now || now === then) return undefined;
  return `${summary.header.process} was recorded with another librecord build (${then}; replaying with ${now}): a divergence in librecord's own calls (message or datagram sizes) would come from that; record again with this build`;
}

/** Refuses a replay that cannot be faithful, with the reason. */
export function checkReplayable(summary: LogSummary): void {
  const h = summary.header;
  if (!existsSync(h.exe)) throw new RecordingError(`cannot replay ${h.process}: its program ${h.exe} no longer exists`);
  const now = readBuildId(h.exe) ?? '';
  if (h.buildId && now !== h.buildId) {
    throw new RecordingError(`refusing to replay ${h.process}: ${h.exe} has build-id ${now || '(none)'} but the recording was made from build-id ${h.buildId}; the program was rebuilt since the recording (rebuild the recorded version or record again)`);
  }
  if (!h.buildId) throw new RecordingError(`refusing to replay ${h.process}: the recording has no build-id for ${h.exe} (link with --build-id to make recordings checkable)`);
  if (!existsSync(h.cwd) || !statSync(h.cwd).isDirectory()) throw new RecordingError(`cannot replay ${h.process}: its working directory ${h.cwd} no longer exists`);
}

function sourceLineOf(report: ReplayReport): string | undefined {
  const frame = report.frames.find((f) => !/\/(libc|libm|ld-linux[^/]*|libgcc_s|libpthread|libstdc\+\+)[.-][^/]*$/.test(f.module));
  if (!frame || !which('addr2line')) return undefined;
  let fixed: boolean | undefined;
  try { fixed = isFixedAddressExecutable(frame.module); } catch { return undefined; }
  const pc = (fixed ? frame.pc : frame.pc - frame.base) - 1n; /* a return address: the call is just before */
  const r = spawnSync('addr2line', ['-f', '-C', '-e', frame.module, '0x' + pc.toString(16)], { encoding: 'utf8' });
  const [fn, loc] = (r.stdout ?? '').split('\n');
  if (r.status !== 0 || !loc || loc.startsWith('??')) return `${frame.module}+0x${pc.toString(16)}`;
  return `${fn} at ${loc.replace(/ \(discriminator \d+\)$/, '')}`;
}

/** How to start the replay of one recorded process: the command, its arguments, environment and cwd.
 *  With a wrapper (valgrind and its options) the program runs under it; otherwise under setarch -R. */
export interface ReplayInvocation { command: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string }

export function replayInvocation(log: string, summary: LogSummary, librecord: string, wrapper?: ReplayOptions['wrapper'], extraEnv: NodeJS.ProcessEnv = {}): ReplayInvocation {
  const h = summary.header;
  const programEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(h.env)) if (!OURS.test(k)) programEnv[k] = v;
  // the user-data patterns decide which reads the log holds: replay classifies files as recorded
  const rr = { ...extraEnv, PLANESCOPE_RR_MODE: 'replay', PLANESCOPE_RR_LOG: log, PLANESCOPE_RR_USER_DATA: h.env.PLANESCOPE_RR_USER_DATA ?? '' };
  const args = h.argv.length ? h.argv.slice(1) : [];
  if (wrapper) {
    const env = { ...programEnv, ...wrapper.env, ...rr, LD_PRELOAD: preload(librecord, h.env.LD_PRELOAD?.split(':').filter((p) => !p.endsWith('/librecord.so')).join(':') || undefined) };
    return { command: wrapper.command, args: [...wrapper.args, h.exe, ...args], env, cwd: h.cwd };
  }
  const assignments = Object.entries({ ...programEnv, ...rr, LD_PRELOAD: librecord }).map(([k, v]) => `${k}=${v}`);
  return { command: 'setarch', args: ['-R', 'env', '-i', ...assignments, h.exe, ...args], env: { PATH: process.env.PATH }, cwd: h.cwd };
}

/** The report files a replaying process may leave next to its log (`<log>.divergence` etc.; parseReplayReport). */
const REPORT_SUFFIXES = ['.divergence', '.end', '.exec'];

/** Replays one process from its log. Resolves when it ends; a divergence or the log's end comes back as a report. */
export async function replayProcess(opts: ReplayOptions): Promise<ReplayOutcome> {
  const log = resolve(opts.log);
  const summary = readRecordingLog(log);
  checkReplayable(summary);
  for (const suffix of REPORT_SUFFIXES) rmSync(log + suffix, { force: true });
  const inv = replayInvocation(log, summary, opts.librecord, opts.wrapper, opts.env);
  const child = spawn(inv.command, inv.args, { cwd: inv.cwd, env: inv.env, stdio: opts.stdio ?? ['ignore', 'inherit', 'inherit'] });
  opts.onSpawn?.(child);
  const exit = await waitExit(child);
  const outcome: ReplayOutcome = { summary, exit };
  for (const suffix of REPORT_SUFFIXES) {
    if (existsSync(log + suffix)) {
      outcome.report = parseReplayReport(readFileSync(log + suffix, 'utf8'));
      if (outcome.report.status === 'divergence') outcome.sourceLine = sourceLineOf(outcome.report);
      break;
    }
  }
  return outcome;
}

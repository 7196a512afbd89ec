// The `planescope` launch configuration: its fields, and the checks that turn every way it can be wrong
// (missing recording, unknown process, missing tools, build-id mismatch) into one clear message.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { which } from '../core/processes';
import { readBuildId } from './buildId';

export interface PlanescopeLaunchArguments {
  /** A recording directory made by `planescope run` (replayed with librecord). */
  recording?: string;
  /** Which recorded process to replay (its name, e.g. "master", or its recorded pid). */
  process?: string;
  /** Run this program directly under planegrind (a deterministic re-run is a faithful replay). */
  program?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Globs of user-data files (planegrind --user-data). */
  userData?: string[];
  pointerPolicy?: 'insensitive' | 'sensitive';
  stopOnEntry?: boolean;
  /** Source path prefix remapping: recorded prefix -> local prefix (longest first). */
  sourceMap?: Record<string, string>;
  /** Extra options passed to valgrind before the program. */
  valgrindArgs?: string[];
  gdbPath?: string;
  valgrindPath?: string;
  /** Log every DAP and MI message to this file (also enabled by PLANESCOPE_DAP_LOG). */
  trace?: string;
}

/** An error the user can act on; its message is shown as is. */
export class LaunchError extends Error {}

export interface ResolvedTools {
  gdb: string;
  valgrind: string;
  vgdb: string;
}

export function resolveTools(args: PlanescopeLaunchArguments, path = process.env.PATH ?? ''): ResolvedTools {
  const find = (name: string, override: string | undefined, pkg: string): string => {
    if (override) {
      if (!isExecutable(override)) throw new LaunchError(`${name} was configured as "${override}", which is not an executable file: fix "${name}Path" in launch.json or remove it to use ${name} from PATH`);
      return override;
    }
    const found = which(name, path);
    if (!found) throw new LaunchError(`${name} is not installed (not found on PATH): install it with \`apt-get install ${pkg}\` (or \`npm run setup\`)`);
    return found;
  };
  const gdb = find('gdb', args.gdbPath, 'gdb');
  const valgrind = find('valgrind', args.valgrindPath, 'valgrind');
  // vgdb ships with valgrind; look next to it first so a custom valgrind uses its own vgdb.
  const sibling = join(resolve(valgrind, '..'), 'vgdb');
  const vgdb = isExecutable(sibling) ? sibling : which('vgdb', path);
  if (!vgdb) throw new LaunchError(`vgdb (Valgrind's gdbserver relay) is not installed next to ${valgrind} nor on PATH: install valgrind with \`apt-get install valgrind\``);
  return { gdb, valgrind, vgdb };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What one recorded process is, as the recording's manifest lists it. */
export interface RecordedProcess {
  name: string;
  pid?: number;
  exe: string;
  buildId?: string;
  args?: string[];
  cwd?: string;
}

/**
 * Checks a recording directory and finds the process to replay. The recording's manifest is
 * `manifest.json` with `{ "processes": [{ "name", "pid", "exe", "buildId", "args", "cwd" }] }`.
 */
export function checkRecording(dir: string, processName: string | undefined, cwd: string): RecordedProcess {
  const path = isAbsolute(dir) ? dir : resolve(cwd, dir);
  if (!existsSync(path)) throw new LaunchError(`the recording ${path} does not exist: record a run with \`planescope run --trace ${dir} -- PROGRAM\` or fix "recording" in launch.json`);
  if (!statSync(path).isDirectory()) throw new LaunchError(`the recording ${path} is not a directory: "recording" must name the directory \`planescope run --trace\` wrote`);
  const manifestPath = join(path, 'manifest.json');
  if (!existsSync(manifestPath)) throw new LaunchError(`the recording ${path} is incomplete or corrupt: it has no manifest.json. Record the run again with \`planescope run\``);
  let processes: RecordedProcess[];
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    processes = manifest.processes;
    if (!Array.isArray(processes) || processes.some((p) => typeof p?.name !== 'string' || typeof p?.exe !== 'string')) throw new Error('"processes" must be a list of { name, exe }');
  } catch (e) {
    throw new LaunchError(`the recording ${path} is corrupt: manifest.json cannot be read (${(e as Error).message}). Record the run again with \`planescope run\``);
  }
  if (processes.length === 0) throw new LaunchError(`the recording ${path} holds no process: the recorded program exited before librecord started, or the recording is corrupt`);
  const names = processes.map((p) => (p.pid ? `${p.name} (pid ${p.pid})` : p.name)).join(', ');
  if (!processName) {
    if (processes.length === 1) return processes[0];
    throw new LaunchError(`the recording ${path} holds several processes (${names}): set "process" in launch.json to the one to replay`);
  }
  const found = processes.find((p) => p.name === processName || String(p.pid) === processName);
  if (!found) throw new LaunchError(`the recording ${path} has no process "${processName}": it holds ${names}`);
  if (!existsSync(found.exe)) throw new LaunchError(`the recorded program ${found.exe} (process "${found.name}") no longer exists: rebuild it exactly as it was recorded, or record again`);
  if (found.buildId) {
    const actual = readBuildId(found.exe);
    if (actual !== found.buildId) {
      throw new LaunchError(
        `${found.exe} does not match the recording: its build-id is ${actual || 'missing'}, the recorded one is ${found.buildId}. The program was rebuilt since the run was recorded; a replay would diverge. Record the run again with the current binary`,
      );
    }
  }
  return found;
}

/** Checks the direct-run form (`program`), returning the absolute program path. */
export function checkProgram(program: string, cwd: string): string {
  const path = isAbsolute(program) ? program : resolve(cwd, program);
  if (!existsSync(path)) throw new LaunchError(`the program ${path} does not exist: build it (with -g) or fix "program" in launch.json`);
  if (!isExecutable(path)) throw new LaunchError(`the program ${path} is not an executable file: fix "program" in launch.json`);
  try {
    readBuildId(path);
  } catch (e) {
    throw new LaunchError(`the program ${path} cannot be debugged: ${(e as Error).message}`);
  }
  return path;
}

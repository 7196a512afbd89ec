// The `planescope` launch configuration: its fields, and the checks that turn every way it can be wrong
// (missing program, missing tools) into one clear message; recordings are checked in recordedProcess.ts.
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { which } from '../core/processes';

export interface PlanescopeLaunchArguments {
  /** A recording directory made by `planescope run` (replayed with librecord). */
  recording?: string;
  /** Which recorded process to replay: its log name (`master.1234`), its program's name, or its recorded pid. */
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
  /** Let gdb read the separate debug files of system libraries (/usr/lib/debug): slower start, libc's own symbols. */
  systemDebugInfo?: boolean;
  /** false: run without planegrind's exact instruction counting (faster); Step Back then re-runs the recorded steps. */
  exactStepBack?: boolean;
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

/** Checks the direct-run form (`program`), returning the absolute program path. */
export function checkProgram(program: string, cwd: string): string {
  const path = isAbsolute(program) ? program : resolve(cwd, program);
  if (!existsSync(path)) throw new LaunchError(`the program ${path} does not exist: build it (with -g) or fix "program" in launch.json`);
  if (!isExecutable(path)) throw new LaunchError(`the program ${path} is not an executable file: fix "program" in launch.json`);
  const problem = elfProblem(path);
  if (problem) throw new LaunchError(`the program ${path} cannot be debugged: ${problem}`);
  return path;
}

/** Why planegrind cannot run the file (it runs 64-bit little-endian ELF only), or undefined. */
function elfProblem(path: string): string | undefined {
  const head = Buffer.alloc(64);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 64 || head.readUInt32BE(0) !== 0x7f454c46) return `${path} is not an ELF file`;
  if (head[4] !== 2 || head[5] !== 1) return `${path} is not a 64-bit little-endian ELF file`;
  return undefined;
}

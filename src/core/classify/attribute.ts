// Opens the DWARF index of every module the runs loaded and attributes instructions to source: the
// innermost inline frame gives the line and function (code inlined from f into g counts on f's line).
// Modules that cannot be indexed keep their instruction rows; a warning names the build-id.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo, ModuleIndex } from '../dwarf/types';
import { ANONYMOUS_MODULE, MergedModule } from './merge';

export type OpenModuleIndex = (path: string) => ModuleIndex;

/** How a module's source information was obtained: `dwarf`, or why lines are unavailable. */
export type DebugStatus = 'dwarf' | 'none' | 'missing' | 'mismatch';

export interface ModuleSource {
  module: MergedModule;
  status: DebugStatus;
  /** The file the index was read from (the module itself or a separate debug file). */
  debugPath?: string;
  index?: ModuleIndex;
  warning?: string;
}

/** Where distributions install detached debug info, by build-id. */
export function debugFileCandidates(buildId: string): string[] {
  if (buildId.length < 3) return [];
  return [join('/usr/lib/debug/.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`)];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function openModuleSource(module: MergedModule, open: OpenModuleIndex): ModuleSource {
  // Tooling (valgrind's preloads, librecord) is left out of every figure: no need for its lines.
  if (module.kind === 'tooling' || module.path === ANONYMOUS_MODULE) return { module, status: 'none' };
  const label = module.buildId ? `build-id ${module.buildId}` : 'no build-id';
  const candidates = [module.path, ...debugFileCandidates(module.buildId)].filter((p) => existsSync(p));
  if (!existsSync(module.path) && candidates.length === 0) {
    return {
      module,
      status: 'missing',
      warning: `module ${module.path} (${label}) is not on this machine: its instruction rows are kept, its lines are unavailable (classify where the binary is, or copy it to the same path)`,
    };
  }
  let lastError = '';
  let mismatch = false;
  for (const path of candidates) {
    let index: ModuleIndex;
    try {
      index = open(path);
    } catch (error) {
      lastError = describe(error);
      // Planescope's own DWARF decoder is missing or stale: no module would get lines; stop and say how to fix.
      if (/planescope_dwarf\.wasm|npm run build/.test(lastError)) throw new Error(`cannot read DWARF: ${lastError}`);
      continue;
    }
    if (module.buildId && index.buildId && index.buildId !== module.buildId) {
      mismatch = true;
      lastError = `${path} has build-id ${index.buildId}, the run loaded ${module.buildId}`;
      continue;
    }
    return { module, status: 'dwarf', debugPath: path, index };
  }
  if (mismatch) {
    return {
      module,
      status: 'mismatch',
      warning: `module ${module.path} (${label}) was rebuilt since the run (${lastError}): its instruction rows are kept, its lines are unavailable (re-run, or classify with the binary the run used)`,
    };
  }
  return {
    module,
    status: 'none',
    warning: `module ${module.path} (${label}) has no usable debug info${lastError ? ` (${lastError})` : ''}: its instruction rows are kept, its lines are unavailable (build with -g, or install its -dbgsym/-dbg package)`,
  };
}

/** The source of one instruction, innermost frame first. */
export interface Attribution {
  file: string;
  line: number;
  function: string;
  /** The non-inlined function the code physically sits in. */
  outerFunction: string;
  inlined: boolean;
}

export function attribute(info: AddressInfo | undefined): Attribution | undefined {
  if (!info) return undefined;
  const own = info.frames[0] ?? { function: info.function, file: info.file, line: info.line, column: info.column };
  if (!own.file || own.line <= 0) return undefined;
  return { file: own.file, line: own.line, function: own.function || '??', outerFunction: info.function || own.function || '??', inlined: info.frames.length > 1 };
}

/** Source files that come with the system (headers and sources under /usr/): "well-tested" code. */
export function isSystemSource(path: string): boolean {
  return path.startsWith('/usr/');
}

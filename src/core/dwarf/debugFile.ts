// Finds the separate debug file of a stripped module the way gdb does: by build-id under the debug
// root, then through .gnu_debuglink next to the module, in its .debug/ and under the debug root.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { crc32, ElfFile } from '../elf/elfFile';

export const DEFAULT_DEBUG_ROOT = '/usr/lib/debug';

export interface DebugFileCandidate {
  path: string;
  elf: ElfFile;
}

/** Every place gdb would look, in gdb's order. */
export function debugFileCandidates(modulePath: string, elf: ElfFile, buildId: string | undefined, debugRoot = DEFAULT_DEBUG_ROOT): string[] {
  const out: string[] = [];
  if (buildId && buildId.length > 2) out.push(join(debugRoot, '.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`));
  const link = elf.debugLink();
  if (link && !link.file.includes('\0')) {
    const dir = dirname(resolve(modulePath));
    out.push(join(dir, link.file), join(dir, '.debug', link.file), join(debugRoot, dir, link.file));
  }
  return out;
}

/**
 * The first candidate that is an ELF file with DWARF and belongs to the module: same build-id when
 * both have one, else the debuglink CRC matches. Unreadable or foreign candidates are skipped.
 */
export function findDebugFile(modulePath: string, elf: ElfFile, buildId: string | undefined, debugRoot?: string): DebugFileCandidate | undefined {
  const link = elf.debugLink();
  for (const path of debugFileCandidates(modulePath, elf, buildId, debugRoot)) {
    if (resolve(path) === resolve(modulePath) || !existsSync(path)) continue;
    let data: Uint8Array;
    let candidate: ElfFile;
    try {
      data = readFileSync(path);
      candidate = new ElfFile(path, data);
    } catch {
      continue;
    }
    const otherId = candidate.buildId();
    if (buildId && otherId) {
      if (otherId !== buildId) continue;
    } else if (link && crc32(data) !== link.crc) {
      continue;
    }
    if (!candidate.section('.debug_info') && !candidate.section('.zdebug_info')) continue;
    return { path, elf: candidate };
  }
  return undefined;
}

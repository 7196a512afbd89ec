// Whether a source file still is the one that was classified: the database records each file's sha256 at
// classify time; a different hash on disk means line numbers and planes may no longer match the text.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export type Freshness =
  | { state: 'fresh' }
  | { state: 'stale'; reason: string }
  | { state: 'unknown'; reason: string };

export function sha256Hex(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Compares the recorded hash with the current one and says why a file is stale, in words. */
export function compareHashes(file: string, recorded: string, current: string | undefined): Freshness {
  if (!recorded) {
    return { state: 'unknown', reason: `the database has no hash of ${file} (it could not be read when it was classified), so changes cannot be detected` };
  }
  if (current === undefined) {
    return { state: 'unknown', reason: `${file} could not be read to compare it with the classified version` };
  }
  if (current.toLowerCase() === recorded.toLowerCase()) return { state: 'fresh' };
  return {
    state: 'stale',
    reason:
      `${file} changed since it was classified (sha256 now ${current.slice(0, 12)}…, classified ${recorded.slice(0, 12)}…): ` +
      'lines may have moved. Re-run `planescope classify` (or the "Planescope: Classify a Trace Directory" command) to refresh.',
  };
}

/** Reads `path` and compares it with the recorded hash. */
export async function fileFreshness(path: string, recorded: string): Promise<Freshness> {
  let current: string | undefined;
  try {
    current = sha256Hex(await readFile(path));
  } catch {
    current = undefined;
  }
  return compareHashes(path, recorded, current);
}

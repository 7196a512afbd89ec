// The one place the extension opens a classification database. The import is dynamic so that the
// reader and sql.js (and its .wasm) load on first open, not at activation.
import type { PlanesDatabaseReader } from '../core/db/api';

export async function openReader(path: string): Promise<PlanesDatabaseReader> {
  const { openPlanesDatabase } = await import('../core/db/reader.js');
  return openPlanesDatabase(path);
}

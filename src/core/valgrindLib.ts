// Builds the VALGRIND_LIB directory Valgrind needs to find planegrind: the tool binary plus links
// to the system's run-time files (/usr/libexec/valgrind). Kept in a per-user cache, keyed by the tool's
// content, because a .vsix cannot carry symlinks and the extension directory may be read-only.
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { distAsset } from './assets';

export const SYSTEM_VALGRIND_LIBEXEC = '/usr/libexec/valgrind';
export const PLANEGRIND_BINARY = 'planegrind-amd64-linux';

export function cacheDir(): string {
  return process.env.PLANESCOPE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'planescope');
}

/** Returns a directory usable as VALGRIND_LIB for `valgrind --tool=planegrind`, creating it once. */
export function ensureValgrindLib(toolPath = distAsset(join('native', PLANEGRIND_BINARY)), systemLib = SYSTEM_VALGRIND_LIBEXEC): string {
  if (!existsSync(join(systemLib, 'vgpreload_core-amd64-linux.so'))) {
    throw new Error(`Valgrind's run-time files are missing from ${systemLib}: install valgrind (\`apt-get install valgrind\`)`);
  }
  const tool = readFileSync(toolPath);
  const key = createHash('sha256').update(tool).update(readdirSync(systemLib).join('\n')).digest('hex').slice(0, 16);
  const dir = join(cacheDir(), `vglib-${key}`);
  if (existsSync(join(dir, PLANEGRIND_BINARY))) return dir;

  // Build in a temporary directory and rename, so concurrent callers never see a half-made one.
  const temp = `${dir}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  for (const name of readdirSync(systemLib)) {
    if (!name.startsWith('planegrind-')) symlinkSync(join(systemLib, name), join(temp, name));
  }
  copyFileSync(toolPath, join(temp, PLANEGRIND_BINARY));
  chmodSync(join(temp, PLANEGRIND_BINARY), 0o755);
  try {
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // another process won the race
  }
  return dir;
}

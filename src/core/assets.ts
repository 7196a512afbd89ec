// Locates Planescope's run-time assets (the .wasm, the native tool binaries) in dist/, both from the
// bundles (which live in dist/) and from the TypeScript sources run by tests (src/...).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/** The directory holding Planescope's package.json (the repository or the installed extension). */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'planescope') return (cachedRoot = dir);
      } catch {
        // not ours or unreadable: keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find Planescope's package.json above ${__dirname}`);
    dir = parent;
  }
}

/** Path of a built asset under dist/, with a clear error when the build has not produced it. */
export function distAsset(relative: string): string {
  const path = join(packageRoot(), 'dist', relative);
  if (!existsSync(path)) {
    throw new Error(`missing built file ${path}: run \`npm run build\` in ${packageRoot()}`);
  }
  return path;
}

/** The package version from package.json. */
export function planescopeVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}

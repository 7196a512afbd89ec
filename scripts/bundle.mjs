// Bundles the three TypeScript entry points with esbuild and copies the run-time assets they load.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

await Promise.all([
  esbuild.build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.build({ ...common, entryPoints: ['src/debug/debugAdapter.ts'], outfile: 'dist/debugAdapter.js' }),
  // dist/cli.js picks the bundle a command needs: `planescope dwarf` has one of its own (src/cli/entry.ts).
  esbuild.build({ ...common, entryPoints: ['src/cli/entry.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
  esbuild.build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli-main.js' }),
  esbuild.build({ ...common, entryPoints: ['src/cli/dwarfMain.ts'], outfile: 'dist/cli-dwarf.js' }),
]);

// sql.js loads its wasm from next to the bundle; copy when newer.
const assets = [[join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'), join(dist, 'sql-wasm.wasm')]];
for (const [from, to] of assets) {
  if (!existsSync(to) || statSync(from).mtimeMs > statSync(to).mtimeMs) copyFileSync(from, to);
}

// Builds the extension (scripts/build.sh, incremental) and packages it (scripts/package.sh) into the
// .vsix the e2e tests install, exactly as a user would get it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { repoRoot } from './paths';

function run(script: string): string {
  const result = spawnSync('bash', [script], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `e2e: 'bash ${script}' failed (exit ${result.status ?? result.signal}); fix the build first.\n` +
        `${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`,
    );
  }
  return result.stdout;
}

let packaged: string | undefined;

/**
 * The path of a freshly built planescope-<version>.vsix (built once per mocha process), or of the .vsix
 * named by $PLANESCOPE_E2E_VSIX (to test a given package without building).
 */
export function buildAndPackage(): string {
  if (packaged) return packaged;
  const given = process.env.PLANESCOPE_E2E_VSIX;
  if (given) {
    if (!existsSync(given)) throw new Error(`e2e: PLANESCOPE_E2E_VSIX=${given} does not exist`);
    return (packaged = resolve(given));
  }
  run('scripts/build.sh');
  const lines = run('scripts/package.sh').trim().split('\n');
  const vsix = lines[lines.length - 1].trim();
  if (!vsix.endsWith('.vsix')) throw new Error(`e2e: scripts/package.sh printed no .vsix path (got '${vsix}')`);
  packaged = isAbsolute(vsix) ? vsix : join(repoRoot, vsix);
  return packaged;
}

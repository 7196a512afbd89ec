// Builds the extension (scripts/build.sh, incremental) and packages it (scripts/package.sh) into the
// .vsix the e2e tests install, exactly as a user would get it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  // The working tree is shared: another `npm run package` may be rewriting the .vsix right now. Keep a
  // private copy, checked to be a whole zip, and package again when it is not.
  const dir = mkdtempSync(join(tmpdir(), 'planescope-vsix-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'planescope.vsix');
  for (let attempt = 1; ; attempt++) {
    const lines = run('scripts/package.sh').trim().split('\n');
    const vsix = lines[lines.length - 1].trim();
    if (!vsix.endsWith('.vsix')) throw new Error(`e2e: scripts/package.sh printed no .vsix path (got '${vsix}')`);
    copyFileSync(isAbsolute(vsix) ? vsix : join(repoRoot, vsix), copy);
    if (spawnSync('unzip', ['-tqq', copy]).status === 0) return (packaged = copy);
    if (attempt === 3) throw new Error(`e2e: ${vsix} is not a valid zip after 3 packagings (is another packaging running?)`);
  }
}

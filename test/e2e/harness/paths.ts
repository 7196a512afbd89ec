// Where the e2e harness finds the repository, its fixtures, and where it keeps failure artifacts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'e2e', 'fixtures');
/** Screenshots and logs of failed e2e tests (ignored by git). */
export const resultsDir = join(repoRoot, 'test-results');

/** A fresh scratch directory for one VS Code instance (user data, extensions, workspace copy). */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'planescope-e2e-'));
}

/** A file-system-safe name for a test title. */
export function safeName(title: string): string {
  return title.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120) || 'test';
}

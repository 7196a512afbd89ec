#!/usr/bin/env node
// `npm run test:desktop`: the e2e tests of test/e2e against desktop VS Code (Electron) instead of
// code-server + Chromium. @vscode/test-electron downloads VS Code 1.100.3 (the version code-server 4.100.3
// serves, so both modes test the same workbench); the same test files then run unchanged, because the
// harness drives the Electron window through playwright-core exactly as it drives the Chromium page
// (test/e2e/harness/desktop.ts). Usage: npm run test:desktop [-- mocha arguments, e.g. a test file]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadAndUnzipVSCode, resolveCliPathFromVSCodeExecutablePath } from '@vscode/test-electron';

const version = '1.100.3';
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cachePath = join(process.env.PLANESCOPE_CACHE || join(homedir(), '.cache', 'planescope'), 'vscode-test');

let executable;
try {
  // Fails within a second when the download site cannot be resolved or reached; `timeout` bounds a stall.
  executable = await downloadAndUnzipVSCode({ version, cachePath, timeout: 20000 });
} catch (error) {
  console.error(
    `test:desktop: cannot download VS Code ${version} (${error?.message ?? error}).\n` +
      'This mode needs a machine that reaches the VS Code download site. Here, run the same e2e tests with\n' +
      'real VS Code served by code-server in headless Chromium: npm test (docs/testing.md shows how to run only e2e).',
  );
  process.exit(1);
}
const cli = resolveCliPathFromVSCodeExecutablePath(executable);

const mochaArgs = process.argv.slice(2);
const command = [
  join(repo, 'node_modules', '.bin', 'mocha'),
  '--no-config', '--node-option', 'import=tsx', '--extension', 'ts', '--timeout', '120000', '--reporter', 'spec',
  ...(mochaArgs.length ? mochaArgs : ['test/e2e/**/*.test.ts']),
];
// Electron needs a display: on a Linux machine without one, run under xvfb-run (Debian package xvfb).
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  if (spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status !== 0) {
    console.error('test:desktop: no display and no xvfb-run; install the Debian package xvfb (or set DISPLAY).');
    process.exit(1);
  }
  command.unshift('xvfb-run', '-a');
}
if (!existsSync(command.find((c) => c.endsWith('mocha')))) {
  console.error('test:desktop: mocha is not installed; run npm run setup first.');
  process.exit(1);
}

const child = spawn(command[0], command.slice(1), {
  cwd: repo,
  stdio: 'inherit',
  env: { ...process.env, PLANESCOPE_E2E_VSCODE: executable, PLANESCOPE_E2E_VSCODE_CLI: JSON.stringify([cli]) },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

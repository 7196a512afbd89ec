// The desktop back end: VS Code's Electron build, downloaded by @vscode/test-electron in test/e2e/desktop.mjs
// (which sets PLANESCOPE_E2E_VSCODE and PLANESCOPE_E2E_VSCODE_CLI), driven through playwright-core's
// Electron support, so the same Workbench helpers and test files work on both back ends.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import type { Backend, BackendStart, StartedBackend } from './backend';

function cliCommand(): string[] {
  const raw = process.env.PLANESCOPE_E2E_VSCODE_CLI;
  if (!raw) throw new Error('e2e desktop: PLANESCOPE_E2E_VSCODE_CLI is not set; run through `npm run test:desktop`.');
  return JSON.parse(raw) as string[];
}

async function start(options: BackendStart): Promise<StartedBackend> {
  const executablePath = process.env.PLANESCOPE_E2E_VSCODE as string;
  const dirs = ['--user-data-dir', options.userDataDir, '--extensions-dir', options.extensionsDir];
  const [cli, ...cliArgs] = cliCommand();
  for (const vsix of options.vsixes) {
    // On Windows the CLI is a .cmd script, which only a shell runs.
    const installed = spawnSync(cli, [...cliArgs, ...dirs, '--install-extension', vsix, '--force'], { encoding: 'utf8', shell: cli.endsWith('.cmd') });
    if (installed.status !== 0) {
      throw new Error(`e2e desktop: installing ${vsix} failed:\n${installed.stdout}\n${installed.stderr}`);
    }
  }
  const serverLog = join(options.scratch, 'electron.log');
  const app = await electron.launch({
    executablePath,
    args: [
      ...dirs,
      '--no-sandbox', '--disable-gpu', '--disable-updates', '--skip-welcome', '--skip-release-notes',
      ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-telemetry', '--new-window', options.workspaceFile ?? options.workspace,
    ],
    timeout: 60000,
  });
  const log = openSync(serverLog, 'a');
  app.process().stdout?.on('data', (d: Buffer) => writeSync(log, d));
  app.process().stderr?.on('data', (d: Buffer) => writeSync(log, d));
  try {
    const page = await app.firstWindow();
    await options.attachPage(page);
    return {
      page,
      serverLog,
      pid: app.process().pid,
      logsRoot: join(options.userDataDir, 'logs'),
      async stop() {
        try {
          await app.close();
        } finally {
          closeSync(log);
        }
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    closeSync(log);
    throw error;
  }
}

export const desktopBackend: Backend = { name: 'desktop', start };

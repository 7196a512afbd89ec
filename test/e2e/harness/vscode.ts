// One real VS Code instance for a test suite: fresh user data and extensions directories, the packaged
// extension installed, a scratch copy of a fixture workspace opened, and a Workbench to drive it.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Backend, StartedBackend } from './backend';
import { codeServerBackend } from './codeServer';
import { desktopBackend } from './desktop';
import { buildAndPackage } from './extensionPackage';
import { fixturesDir, resultsDir, safeName, scratchDir } from './paths';
import { pageShim, Workbench } from './workbench';

export interface VSCodeOptions {
  /** A fixture folder name under test/e2e/fixtures, or an absolute path; a scratch copy is opened. */
  workspace: string;
  /** User settings added to (or overriding) the harness defaults. */
  settings?: Record<string, unknown>;
  /** Install the freshly packaged Planescope .vsix (default true). */
  installPlanescope?: boolean;
  /** Unpacked extension folders (with a package.json) copied into the extensions directory. */
  extraExtensions?: string[];
  /**
   * A `.code-workspace` file inside the workspace copy (relative path) to open instead of the folder: a
   * multi-root workspace. Its folders are resolved relative to the file, as VS Code does.
   */
  workspaceFile?: string;
  /**
   * Keep workspace trust on and never ask: the workspace opens untrusted (Restricted Mode), as a folder a
   * user declined to trust. Default false (trust off: everything runs).
   */
  untrusted?: boolean;
}

/** Settings of an untrusted start: trust enabled, no start-up prompt (a modal dialog), so Restricted Mode. */
const untrustedSettings: Record<string, unknown> = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'security.workspace.trust.emptyWindow': false,
};

/** Settings that make a fresh VS Code quiet and deterministic: no trust prompt, welcome page, tips or telemetry. */
export const defaultSettings: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'files.hotExit': 'off',
  'window.restoreWindows': 'none',
  'editor.hover.delay': 150,
  'editor.minimap.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'debug.openDebug': 'openOnDebugBreak',
  'debug.internalConsoleOptions': 'neverOpen',
};

/** The back end chosen by the environment: desktop Electron when desktop.mjs set PLANESCOPE_E2E_VSCODE. */
export function selectedBackend(): Backend {
  return process.env.PLANESCOPE_E2E_VSCODE ? desktopBackend : codeServerBackend;
}

export class VSCode {
  private consoleLines: string[] = [];
  private stopped = false;

  private constructor(
    readonly backend: Backend,
    readonly scratch: string,
    readonly workspace: string,
    readonly userDataDir: string,
    private readonly started: StartedBackend,
    readonly workbench: Workbench,
  ) {}

  get page(): Page {
    return this.started.page;
  }

  static async start(options: VSCodeOptions): Promise<VSCode> {
    const backend = selectedBackend();
    const vsixes = options.installPlanescope === false ? [] : [buildAndPackage()];
    const scratch = scratchDir();
    const userDataDir = join(scratch, 'user-data');
    const extensionsDir = join(scratch, 'extensions');
    const source = isAbsolute(options.workspace) ? options.workspace : join(fixturesDir, options.workspace);
    if (!existsSync(source)) throw new Error(`e2e: fixture workspace ${source} does not exist`);
    const workspace = join(scratch, 'workspace', basename(source));
    mkdirSync(join(userDataDir, 'User'), { recursive: true });
    mkdirSync(extensionsDir, { recursive: true });
    cpSync(source, workspace, { recursive: true });
    writeFileSync(
      join(userDataDir, 'User', 'settings.json'),
      JSON.stringify({ ...defaultSettings, ...(options.untrusted ? untrustedSettings : {}), ...options.settings }, null, 2),
    );
    for (const dir of options.extraExtensions ?? []) {
      // VS Code names installed extension folders publisher.name-version.
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
      cpSync(dir, join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`), { recursive: true });
    }
    const consoleLines: string[] = [];
    const workspaceFile = options.workspaceFile ? join(workspace, options.workspaceFile) : undefined;
    if (workspaceFile && !existsSync(workspaceFile)) throw new Error(`e2e: workspace file ${options.workspaceFile} is not in ${source}`);
    let started: StartedBackend;
    try {
      started = await backend.start({
        scratch, userDataDir, extensionsDir, workspace, vsixes, workspaceFile, workspaceTrust: options.untrusted,
        async attachPage(page) {
          await page.addInitScript({ content: pageShim });
          page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
          page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
        },
      });
    } catch (error) {
      // Keep what explains a failed start, then clean up.
      const dest = join(resultsDir, `startup-${Date.now()}`);
      mkdirSync(dest, { recursive: true });
      for (const f of ['code-server.log', 'electron.log']) {
        if (existsSync(join(scratch, f))) copyFileSync(join(scratch, f), join(dest, f));
      }
      if (existsSync(join(userDataDir, 'logs'))) cpSync(join(userDataDir, 'logs'), join(dest, 'logs'), { recursive: true });
      rmSync(scratch, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\n(logs kept in ${dest})`);
    }
    const vscode = new VSCode(backend, scratch, workspace, userDataDir, started, new Workbench(started.page, workspace));
    vscode.consoleLines = consoleLines;
    try {
      await started.page.evaluate(pageShim); // the desktop window may have loaded before the init script
      // A multi-root workspace's Explorer is titled after its file ("NAME (WORKSPACE)").
      await vscode.workbench.waitUntilReady(workspaceFile ? basename(workspaceFile, '.code-workspace') : basename(workspace));
      if (process.env.PLANESCOPE_E2E_TRACE) console.log(`      e2e trace: workbench ready`);
    } catch (error) {
      await vscode.saveArtifacts('startup').catch(() => undefined);
      await vscode.stop();
      throw error;
    }
    return vscode;
  }

  /**
   * Keeps a screenshot, VS Code's logs (extension host, window, output channels), the server output and
   * the browser console in test-results/<name>/. Returns that directory.
   */
  async saveArtifacts(name: string): Promise<string> {
    const dest = join(resultsDir, safeName(name));
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    await this.page.screenshot({ path: join(dest, 'screenshot.png'), timeout: 10000 }).catch((e: Error) => {
      writeFileSync(join(dest, 'screenshot-failed.txt'), e.message);
    });
    if (existsSync(this.started.logsRoot)) cpSync(this.started.logsRoot, join(dest, 'logs'), { recursive: true });
    if (existsSync(this.started.serverLog)) copyFileSync(this.started.serverLog, join(dest, basename(this.started.serverLog)));
    writeFileSync(join(dest, 'browser-console.log'), this.consoleLines.join('\n') + '\n');
    // The extension host log is the first thing to read: keep the newest at the top as exthost.log too.
    const exthost = this.extensionHostLogs();
    if (exthost.length) copyFileSync(exthost[exthost.length - 1], join(dest, 'exthost.log'));
    writeFileSync(
      join(dest, 'README.txt'),
      `Artifacts of a failed e2e test (${this.backend.name}).\n` +
        'screenshot.png       the window when the test failed\n' +
        'exthost.log          the extension host log (activation, errors of extensions)\n' +
        'logs/                all of VS Code\'s logs; output channels under logs/*/exthost*/output_logging_*\n' +
        `${basename(this.started.serverLog).padEnd(21)}output of the server process\n` +
        'browser-console.log  the workbench page\'s console\n',
    );
    return dest;
  }

  /** Paths of the extension host logs VS Code wrote so far (exthost.log / remoteexthost.log). */
  extensionHostLogs(): string[] {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/exthost\.log$/i.test(name)) found.push(path);
      }
    };
    if (existsSync(this.started.logsRoot)) walk(this.started.logsRoot);
    return found;
  }

  /**
   * The text an output channel (e.g. 'Planescope') has written so far, from the log file VS Code keeps of
   * it (logs/<session>/exthost1/output_logging_<time>/<n>-<name>.log); '' when it wrote nothing yet.
   */
  outputChannelText(name: string): string {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (/output_logging_/.test(dir) && entry.replace(/^\d+-/, '') === `${name}.log`) found.push(path);
      }
    };
    if (existsSync(this.started.logsRoot)) walk(this.started.logsRoot);
    return found.map((f) => readFileSync(f, 'utf8')).join('');
  }

  /**
   * Waits until the output channel `name` has written text matching `pattern` (VS Code flushes channels to
   * their log file shortly after the extension appends); returns the whole text.
   */
  async waitForOutputChannel(name: string, pattern: RegExp, timeoutMs = 30000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.outputChannelText(name);
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`e2e: the ${name} output channel never showed ${pattern}; it holds:\n${text.slice(-3000)}`);
      // A log file has no change event here: poll it (a condition, not a fixed delay).
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Process id of VS Code's server (code-server) or main process (desktop). */
  get pid(): number | undefined {
    return this.started.pid;
  }

  /**
   * Closes the browser, stops VS Code and every process it started, and removes the scratch directory.
   * Calling it again does nothing.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.started.stop();
    } finally {
      rmSync(this.scratch, { recursive: true, force: true });
    }
  }
}

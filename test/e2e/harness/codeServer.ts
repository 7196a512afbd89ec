// The code-server back end: the real VS Code 1.100.3 server (installed by scripts/install-code-server.sh
// into a cache outside the repository) on a free loopback port, shown in Debian's Chromium through
// playwright-core. DESIGN §9 has the recipe and its pitfalls.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './paths';
import { spawnGroup, stopGroup } from './processes';
import type { Backend, BackendStart, StartedBackend } from './backend';

/** Chromium flags: no sandbox (root), no GPU, and nothing that reaches the network on its own. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The Chromium to drive: $PLANESCOPE_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.PLANESCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Runs scripts/install-code-server.sh (seconds when already installed); returns code-server's entry.js. */
export function installCodeServer(): string {
  const result = spawnSync('bash', ['scripts/install-code-server.sh'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`e2e: scripts/install-code-server.sh failed (exit ${result.status}):\n${result.stderr}`);
  }
  const entry = result.stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(entry)) throw new Error(`e2e: install-code-server.sh printed '${entry}', which does not exist`);
  return entry;
}

/** Resolves when `pattern` appears in the file that `child` writes its output to; rejects if it exits first. */
function waitForOutput(child: ChildProcess, logFile: string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = (): void => {
      const match = readFileSync(logFile, 'utf8').match(pattern);
      if (match) return finish(() => resolvePromise(match));
      if (child.exitCode !== null || child.signalCode !== null) {
        return finish(() => reject(new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before it listened:\n${readFileSync(logFile, 'utf8')}`)));
      }
      if (Date.now() > deadline) {
        return finish(() => reject(new Error(`code-server did not listen within ${timeoutMs} ms:\n${readFileSync(logFile, 'utf8')}`)));
      }
    };
    // Polling a small log file is the simplest reliable "wait for this line"; it is a condition, not a sleep.
    const timer = setInterval(check, 50);
    const onExit = (): void => check();
    child.once('exit', onExit);
    function finish(done: () => void): void {
      clearInterval(timer);
      child.off('exit', onExit);
      done();
    }
    check();
  });
}

/** With PLANESCOPE_E2E_TRACE=1, prints how long each start-up step took. */
function tracer(): (step: string) => void {
  const begin = Date.now();
  return (step) => {
    if (process.env.PLANESCOPE_E2E_TRACE) console.log(`      e2e trace: ${step} at ${Date.now() - begin} ms`);
  };
}

async function start(options: BackendStart): Promise<StartedBackend> {
  const trace = tracer();
  const executablePath = chromiumPath();
  if (!executablePath) {
    throw new Error('e2e: Chromium not found (/usr/bin/chromium). Install it: bash scripts/setup.sh --no-npm, or set PLANESCOPE_CHROMIUM.');
  }
  const entry = installCodeServer();
  trace('code-server installed');
  const serverLog = join(options.scratch, 'code-server.log');
  const cfgHome = join(options.scratch, 'config');
  mkdirSync(cfgHome, { recursive: true });
  const common = [
    '--config', join(cfgHome, 'config.yaml'),
    '--user-data-dir', options.userDataDir,
    '--extensions-dir', options.extensionsDir,
  ];
  const env = { ...process.env, XDG_CONFIG_HOME: cfgHome, XDG_DATA_HOME: join(options.scratch, 'data') };
  // Installing through the real CLI checks the .vsix the way a user's install does.
  for (const vsix of options.vsixes) {
    const installed = spawnSync(process.execPath, [entry, ...common, '--install-extension', vsix, '--force'], { env, encoding: 'utf8' });
    if (installed.status !== 0 || !/successfully installed/i.test(installed.stdout + installed.stderr)) {
      throw new Error(`e2e: installing ${vsix} into code-server failed:\n${installed.stdout}\n${installed.stderr}`);
    }
  }

  trace('extensions installed');
  const out = openSync(serverLog, 'a');
  const server = spawnGroup(
    process.execPath,
    [
      entry, ...common,
      '--auth', 'none',
      '--bind-addr', '127.0.0.1:0', // the kernel picks a free port; code-server prints it
      '--disable-telemetry', '--disable-update-check',
      ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override', '--ignore-last-opened',
    ],
    { env, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  // Chromium starts while code-server does.
  const launching = chromium.launch({ executablePath, args: chromiumArgs, headless: true });
  launching.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  let browser: Browser | undefined;
  try {
    const [, url] = await waitForOutput(server, serverLog, /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/, 120000);
    trace('code-server listening');
    browser = await launching;
    trace('chromium started');
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page: Page = await context.newPage();
    await options.attachPage(page);
    // The harness then waits for the workbench itself (a DOM condition), so only the navigation is awaited.
    const target = options.workspaceFile ? `workspace=${encodeURIComponent(options.workspaceFile)}` : `folder=${encodeURIComponent(options.workspace)}`;
    await page.goto(`${url}?${target}`, { waitUntil: 'commit', timeout: 120000 });
    trace('workbench page loaded');
    return {
      page,
      serverLog,
      pid: server.pid,
      logsRoot: join(options.userDataDir, 'logs'),
      async stop() {
        try {
          await browser?.close();
        } finally {
          await stopGroup(server);
        }
      },
    };
  } catch (error) {
    browser ??= await launching.catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stopGroup(server);
    throw error;
  }
}

export const codeServerBackend: Backend = { name: 'code-server', start };

// Mocha wiring: one real VS Code per suite (started in `before`, stopped in `after`), and the failure
// artifacts (screenshot, extension host log, server output, browser console) kept in test-results/.
import { platform } from 'node:os';
import { chromiumPath } from './codeServer';
import { VSCode, type VSCodeOptions } from './vscode';
import type { Workbench } from './workbench';

/** Why the e2e suite cannot run here, or undefined. Only a non-Linux machine without Chromium skips. */
export function e2eSkipReason(): string | undefined {
  if (process.env.PLANESCOPE_E2E_VSCODE) return undefined; // desktop mode: VS Code itself is the browser
  if (platform() !== 'linux' && !chromiumPath()) {
    return `no Chromium on this ${platform()} machine (set PLANESCOPE_CHROMIUM to a Chromium/Chrome executable, or run npm run test:desktop)`;
  }
  return undefined; // on Linux scripts/setup.sh installs Chromium: a missing one is a failure, not a skip
}

export interface VSCodeFixture {
  readonly vscode: VSCode;
  readonly workbench: Workbench;
}

/**
 * Call inside a `describe`: starts one VS Code for the suite with `options`, stops it (and every process
 * it started) after the suite, and keeps artifacts of each failed test in test-results/<full title>/.
 */
export function useVSCode(options: VSCodeOptions): VSCodeFixture {
  let instance: VSCode | undefined;
  before(async function () {
    // A first run installs code-server (about 2 minutes on 2 cores) and builds the extension.
    this.timeout(600000);
    const reason = e2eSkipReason();
    if (reason) {
      console.log(`      e2e suite skipped: ${reason}`);
      this.skip();
    }
    instance = await VSCode.start(options);
  });
  afterEach(async function () {
    const test = this.currentTest;
    if (instance && test && test.state === 'failed') {
      this.timeout(60000);
      const dir = await instance.saveArtifacts(test.fullTitle());
      console.log(`      e2e: screenshot and logs of the failure kept in ${dir}`);
    }
  });
  after(async function () {
    this.timeout(60000);
    await instance?.stop();
  });
  return {
    get vscode(): VSCode {
      if (!instance) throw new Error('e2e: VS Code is not running (its start failed, see the before hook)');
      return instance;
    },
    get workbench(): Workbench {
      return this.vscode.workbench;
    },
  };
}

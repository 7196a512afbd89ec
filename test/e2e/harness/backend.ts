// What the two ways of running real VS Code (code-server + Chromium here, desktop Electron where it can
// be downloaded) have in common: the harness prepares directories, a back end starts VS Code on them and
// hands back a Playwright page showing the workbench.
import type { Page } from 'playwright-core';

export interface BackendStart {
  /** Scratch directory of this instance (removed when it stops). */
  scratch: string;
  userDataDir: string;
  extensionsDir: string;
  /** The workspace folder to open (already a scratch copy of the fixture). */
  workspace: string;
  /** A `.code-workspace` file (absolute) to open instead of the folder: a multi-root workspace. */
  workspaceFile?: string;
  /** Leave workspace trust on (VS Code's own switch), so an untrusted folder opens in Restricted Mode. */
  workspaceTrust?: boolean;
  /** Extension packages to install with VS Code's own CLI before it starts. */
  vsixes: string[];
  /** Called as soon as the page exists, before navigation, so that console output is captured. */
  attachPage(page: Page): Promise<void>;
}

export interface StartedBackend {
  page: Page;
  /** VS Code's log directory (window, extension host, output channels). */
  logsRoot: string;
  /** Output of the server process (code-server) or of the Electron main process. */
  serverLog: string;
  /** Process id of VS Code's main process (code-server: also its process group id). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface Backend {
  name: 'code-server' | 'desktop';
  start(options: BackendStart): Promise<StartedBackend>;
}

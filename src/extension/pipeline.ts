// Runs the bundled `planescope` CLI (dist/cli.js) from the editor: argument arrays only, a cancellable
// progress notification that kills the whole process group, output streamed to the Planescope channel.
// Never runs in an untrusted workspace (the manifest declares limited untrusted support).
import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import { procStats } from '../core/mi/processTree';

export interface PipelineResult {
  code: number | null;
  cancelled: boolean;
  stdout: string;
}

const KILL_GRACE_MS = 3000;

export class PipelineRunner {
  constructor(private readonly extensionUri: vscode.Uri, private readonly output: vscode.OutputChannel) {}

  /** False (with a message naming `what` and how to proceed) when the workspace is not trusted. */
  checkTrust(what: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    this.output.appendLine(`refused in an untrusted workspace: ${what} (nothing was started)`);
    void vscode.window.showErrorMessage(
      `Planescope does not run ${what} in an untrusted workspace: it would start valgrind and the programs it analyses. ` +
        'Trust this workspace ("Workspaces: Manage Workspace Trust") to run it; opening databases works without.',
    );
    return false;
  }

  /** Runs `planescope <args>`; resolves when it ended, was cancelled or could not start. */
  run(title: string, args: string[], cwd: string): Promise<PipelineResult> {
    const cli = vscode.Uri.joinPath(this.extensionUri, 'dist', 'cli.js').fsPath;
    this.output.appendLine(`$ planescope ${args.join(' ')}   (in ${cwd})`);
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
        new Promise<PipelineResult>((resolve) => {
          // The extension host's Node (Electron in desktop VS Code, hence ELECTRON_RUN_AS_NODE). detached:
          // the CLI leads its own process group, so cancelling also stops valgrind and the programs.
          const child = spawn(process.execPath, [cli, ...args], {
            cwd,
            detached: true,
            env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let cancelled = false;
          let killTimer: NodeJS.Timeout | undefined;
          const onText = (chunk: string, keep: boolean) => {
            if (keep) stdout += chunk;
            this.output.append(chunk);
            const last = chunk.trim().split('\n').pop();
            if (last) progress.report({ message: last.length > 90 ? last.slice(0, 87) + '…' : last });
          };
          child.stdout.setEncoding('utf8').on('data', (d: string) => onText(d, true));
          child.stderr.setEncoding('utf8').on('data', (d: string) => onText(d, false));
          const killGroup = (signal: NodeJS.Signals) => {
            try {
              if (child.pid) process.kill(-child.pid, signal);
            } catch {
              // already gone
            }
          };
          const cancel = token.onCancellationRequested(() => {
            cancelled = true;
            const members = child.pid ? liveGroupMembers(child.pid) : 0;
            this.output.appendLine(`cancelled: stopping planescope ${args[0]} and every process it started (SIGTERM to its process group, ${members} running)`);
            killGroup('SIGTERM');
            killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
          });
          child.on('error', (e) => {
            cancel.dispose();
            this.output.appendLine(`cannot start ${process.execPath} ${cli}: ${e.message}`);
            resolve({ code: null, cancelled, stdout });
          });
          child.on('close', (code, signal) => {
            cancel.dispose();
            clearTimeout(killTimer);
            this.output.appendLine(`planescope ${args[0]} ended: ${signal ? `signal ${signal}` : `exit code ${code}`}`);
            if (!cancelled || !child.pid) return resolve({ code, cancelled, stdout });
            // The CLI stops what it started; whatever outlived it (ignoring SIGTERM) is killed now.
            const left = liveGroupMembers(child.pid);
            if (left > 0) {
              killGroup('SIGKILL');
              this.output.appendLine(`cancelled: ${left} process${left === 1 ? '' : 'es'} outlived planescope ${args[0]}; sent SIGKILL`);
            }
            void waitUntilGone(child.pid).then((gone) => {
              this.output.appendLine(
                gone
                  ? `cancelled: planescope ${args[0]} and every process it started have stopped`
                  : `cancelled: some processes of group ${child.pid} are still running after SIGKILL (see ps -g ${child.pid})`,
              );
              resolve({ code, cancelled, stdout });
            });
          });
        }),
      ),
    );
  }

  /** Tells the user how a failed run ended, with a button to the output. */
  reportFailure(what: string, result: PipelineResult): void {
    if (result.cancelled) {
      void vscode.window.showInformationMessage(`Planescope: ${what} cancelled.`);
      return;
    }
    void vscode.window
      .showErrorMessage(`Planescope: ${what} failed (exit code ${result.code ?? 'none'}). The output channel has the details.`, 'Show Output')
      .then((choice) => choice && this.output.show());
  }
}

/** Resolves true once no member of group `pgid` runs, false after `timeoutMs`. */
async function waitUntilGone(pgid: number, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (liveGroupMembers(pgid) > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Members of process group `pgid` that are still running (zombies, which nobody may reap here, are not). */
function liveGroupMembers(pgid: number): number {
  if (process.platform !== 'linux') {
    try {
      process.kill(-pgid, 0);
      return 1;
    } catch {
      return 0;
    }
  }
  return procStats().filter((p) => p.pgrp === pgid && p.state !== 'Z' && p.state !== 'X').length;
}

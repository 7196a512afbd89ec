// The commands that run the pipeline from the editor: the demo, and classify a trace directory. Both
// open the resulting database when they succeed.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DatabaseSet } from './databases';
import { findDatabasePath, PipelineRunner } from './pipeline';

export function registerPipelineCommands(context: vscode.ExtensionContext, databases: DatabaseSet, output: vscode.OutputChannel): vscode.Disposable[] {
  const runner = new PipelineRunner(context.extensionUri, output);

  const openResult = async (path: string) => {
    try {
      await databases.open(path, 'command');
      void vscode.window.showInformationMessage(`Planescope: opened ${path}.`);
    } catch (e) {
      void vscode.window.showErrorMessage(`Planescope: the run finished but ${path} cannot be opened: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return [
    vscode.commands.registerCommand('planescope.runDemo', async () => {
      if (!runner.checkTrust()) return undefined;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const cwd = folder ?? context.globalStorageUri.fsPath;
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(cwd));
      output.show(true);
      const result = await runner.run('Planescope: running the demo', ['demo', '--json'], cwd);
      if (result.code !== 0) return runner.reportFailure('the demo', result);
      let db: string | undefined;
      try {
        db = findDatabasePath(JSON.parse(result.stdout));
      } catch {
        db = undefined;
      }
      if (!db) {
        void vscode.window.showWarningMessage('Planescope: the demo finished but named no *.planes.db in its --json output; see the output channel.');
        return undefined;
      }
      await openResult(db);
      return db;
    }),

    vscode.commands.registerCommand('planescope.classifyTrace', async (arg?: vscode.Uri) => {
      if (!runner.checkTrust()) return undefined;
      let trace = arg?.fsPath;
      if (!trace) {
        const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Classify this trace directory' });
        trace = picked?.[0]?.fsPath;
      }
      if (!trace) return undefined;
      if (!existsSync(trace)) {
        void vscode.window.showErrorMessage(`Planescope: the trace directory ${trace} does not exist.`);
        return undefined;
      }
      const suggested = vscode.Uri.file(join(dirname(trace), `${basename(trace)}.planes.db`));
      const target = await vscode.window.showSaveDialog({ defaultUri: suggested, filters: { 'Planescope classification database': ['db'] } });
      if (!target) return undefined;
      const result = await runner.run(`Planescope: classifying ${basename(trace)}`, ['classify', trace, '--out', target.fsPath], dirname(trace));
      if (result.code !== 0) return runner.reportFailure(`classify ${trace}`, result);
      await openResult(target.fsPath);
      return target.fsPath;
    }),
  ];
}

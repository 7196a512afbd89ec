// The commands that run the pipeline from the editor: the demo, and classify a trace directory. Both
// open the resulting database when they succeed.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DatabaseSet } from './databases';
import { PipelineRunner } from './pipeline';

// Small enough to finish in a minute or two under the taint analysis.
const DEMO_SIZE = '4m';

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
    // The demo records and analyses the bundled example (planescope demo --keep), then classifies its
    // taint logs into a database next to them and opens it.
    vscode.commands.registerCommand('planescope.runDemo', async () => {
      if (!runner.checkTrust('the demo pipeline')) return undefined;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const work = folder ? join(folder, 'planescope-demo') : join(context.globalStorageUri.fsPath, 'demo');
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(work));
      output.show(true);
      const demo = await runner.run('Planescope: running the demo (record and analyse the example)', ['demo', '--json', '--keep', work, '--size', DEMO_SIZE], work);
      if (demo.code !== 0) return runner.reportFailure('the demo', demo);
      const db = join(work, 'demo.planes.db');
      const classify = await runner.run('Planescope: classifying the demo run', ['classify', join(work, 'trace'), '--out', db], work);
      if (classify.code !== 0) return runner.reportFailure('classifying the demo run', classify);
      await openResult(db);
      return db;
    }),

    vscode.commands.registerCommand('planescope.classifyTrace', async (arg?: vscode.Uri) => {
      if (!runner.checkTrust('classify (of a trace directory)')) return undefined;
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

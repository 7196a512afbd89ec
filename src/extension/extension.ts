// The Planescope VS Code extension entry point. Thin: it wires VS Code to src/core. Activation only
// registers things; databases (and sql.js) load after activate() returns, on first need.
import * as vscode from 'vscode';
import { planescopeVersion } from '../core/assets';
import { which } from '../core/processes';
import { ComponentsTreeProvider } from './componentsTree';
import { DatabaseSet } from './databases';
import { registerDebugging } from './debugging';
import { LineDecorator } from './decorations';
import { DocumentStates } from './documents';
import { OPEN_ORIGIN_COMMAND, PlaneHoverProvider } from './hover';
import { openOrigin, revealSite, SiteTarget } from './navigation';
import { registerPipelineCommands } from './pipelineCommands';
import { ReportPanel } from './reportPanel';
import { PlaneStatusBar, SHOW_REPORT_COMMAND } from './statusBar';
import { REVEAL_SITE_COMMAND, SitesTreeProvider } from './sitesTree';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Planescope');
  const databases = new DatabaseSet(output);
  const states = new DocumentStates(databases, (line) => output.appendLine(line));
  const decorator = new LineDecorator(vscode.Uri.joinPath(context.extensionUri, 'media'), states, (line) => output.appendLine(line));
  const statusBar = new PlaneStatusBar(states);
  const sites = new SitesTreeProvider(databases);
  const components = new ComponentsTreeProvider(databases);
  const report = new ReportPanel(context.extensionUri, databases, output);
  registerDebugging(context);

  context.subscriptions.push(
    output,
    databases,
    states,
    decorator,
    statusBar,
    sites,
    components,
    report,
    vscode.window.registerTreeDataProvider('planescope.sites', sites),
    vscode.window.registerTreeDataProvider('planescope.components', components),
    vscode.languages.registerHoverProvider({ scheme: 'file' }, new PlaneHoverProvider(states, () => decorator.isEnabled)),
    databases.onDidChange(() => {
      void vscode.commands.executeCommand('setContext', 'planescope.databaseOpen', !databases.isEmpty);
      decorator.refreshVisible();
      statusBar.update();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('planescope.decorations')) decorator.restyle();
      if (e.affectsConfiguration('planescope.pathMappings') || e.affectsConfiguration('planescope.compDir')) databases.remap();
      if (e.affectsConfiguration('planescope.database') || e.affectsConfiguration('planescope.autoDiscover')) void databases.openConfigured();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      databases.remap();
      void databases.openConfigured();
    }),
    vscode.commands.registerCommand('planescope.showVersion', () => {
      const tools = ['valgrind', 'gdb'].map((t) => `${t}: ${which(t) ?? 'missing'}`).join(', ');
      const message = `Planescope ${planescopeVersion()} (${tools})`;
      output.appendLine(message);
      void vscode.window.showInformationMessage(message);
      return message;
    }),
    vscode.commands.registerCommand('planescope.openDatabase', async (arg?: vscode.Uri | string) => {
      let path = typeof arg === 'string' ? arg : arg?.fsPath;
      if (!path) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Open Classification Database',
          filters: { 'Planescope classification database': ['db'] },
        });
        path = picked?.[0]?.fsPath;
      }
      if (!path) return undefined;
      try {
        const entry = await databases.open(path, 'command');
        return entry.db.path;
      } catch (e) {
        void vscode.window.showErrorMessage(`Planescope cannot open ${path}: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('planescope.closeDatabases', () => {
      for (const e of databases.all) databases.close(e.db.path);
    }),
    vscode.commands.registerCommand('planescope.toggleDecorations', () => {
      decorator.setEnabled(!decorator.isEnabled);
      return decorator.isEnabled;
    }),
    vscode.commands.registerCommand(OPEN_ORIGIN_COMMAND, (target) => openOrigin(target)),
    vscode.commands.registerCommand(REVEAL_SITE_COMMAND, (target: SiteTarget) => revealSite(databases, states, target)),
    vscode.commands.registerCommand(SHOW_REPORT_COMMAND, () => report.show()),
    vscode.commands.registerCommand('planescope.exportReport', () => report.exportHtml()),
    ...registerPipelineCommands(context, databases, output),
  );
  void vscode.commands.executeCommand('setContext', 'planescope.decorationsVisible', true);

  // Find databases after activation returns, so activation itself stays cheap.
  setTimeout(() => void databases.openConfigured(), 0);
}

export function deactivate(): void {
  // Nothing to release: every resource is in context.subscriptions.
}

// The Planescope VS Code extension entry point. Thin: it wires VS Code to src/core.
import * as vscode from 'vscode';
import { planescopeVersion } from '../core/assets';
import { which } from '../core/processes';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Planescope');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('planescope.showVersion', () => {
      const tools = ['valgrind', 'gdb'].map((t) => `${t}: ${which(t) ?? 'missing'}`).join(', ');
      const message = `Planescope ${planescopeVersion()} (${tools})`;
      output.appendLine(message);
      void vscode.window.showInformationMessage(message);
      return message;
    }),
  );
}

export function deactivate(): void {
  // Nothing to release: every resource is in context.subscriptions.
}

// Wires the `planescope` debug type into VS Code: the inline debug adapter (the same DAP session the
// standalone dist/debugAdapter.js runs), the launch configuration provider, the taint watch command
// and the current line's plane while a session is stopped.
import * as vscode from 'vscode';
import { ReplayDebugSession } from '../debug/replayDebugSession';
import { PlanescopeConfigurationProvider } from './debugConfiguration';
import { CurrentLinePlane } from './debugCurrentLine';

export const DEBUG_TYPE = 'planescope';
export const TAINT_WATCH_COMMAND = 'planescope.taintWatch';

class InlineAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    return new vscode.DebugAdapterInlineImplementation(new ReplayDebugSession());
  }
}

/** Registers everything the debugger needs; called once from activate(). */
export function registerDebugging(context: vscode.ExtensionContext): void {
  const currentLine = new CurrentLinePlane();
  const provider = new PlanescopeConfigurationProvider();
  context.subscriptions.push(
    currentLine,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new InlineAdapterFactory()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, { createDebugAdapterTracker: (session) => currentLine.trackerFor(session) }),
    vscode.debug.onDidTerminateDebugSession((session) => currentLine.sessionEnded(session)),
    vscode.commands.registerCommand(TAINT_WATCH_COMMAND, async (expressionArg?: string) => {
      const session = vscode.debug.activeDebugSession;
      if (!session || session.type !== DEBUG_TYPE) {
        void vscode.window.showErrorMessage('Planescope taint watch needs a running Planescope debug session (a "planescope" launch configuration).');
        return;
      }
      const editor = vscode.window.activeTextEditor;
      const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
      const expression =
        expressionArg ??
        (await vscode.window.showInputBox({
          title: 'Planescope: Taint Watch',
          prompt: 'Run until tainted (user) data first reaches this expression (an lvalue: variable, field, array element)',
          value: selected,
        }));
      if (!expression) return;
      // The expression is resolved in the frame selected in the Call Stack view (the top one otherwise).
      const item = vscode.debug.activeStackItem;
      const threadId = item && 'threadId' in item ? item.threadId : 1;
      const frameId = item && 'frameId' in item ? item.frameId : undefined;
      try {
        await session.customRequest('planescope.taintWatch', { expression, threadId, frameId });
      } catch (e) {
        void vscode.window.showErrorMessage(`Planescope taint watch: ${e instanceof Error ? e.message : String(e)}`);
      }
    }),
  );
}

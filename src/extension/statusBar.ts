// The status bar item: the active file's control/data instruction share, or why it is stale; a click
// opens the report.
import * as vscode from 'vscode';
import { formatCount } from '../core/hoverText';
import { dataShare, formatShares } from '../core/lineIndex';
import type { DocumentStates } from './documents';

export const SHOW_REPORT_COMMAND = 'planescope.showReport';

export class PlaneStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('planescope.share', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly states: DocumentStates) {
    this.item.name = 'Planescope plane share';
    this.item.command = SHOW_REPORT_COMMAND;
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      states.onDidChangeLines((d) => d === vscode.window.activeTextEditor?.document && this.update()),
    ];
  }

  update(): void {
    const editor = vscode.window.activeTextEditor;
    const state = editor && this.states.get(editor.document);
    if (!state) {
      this.item.hide();
      return;
    }
    const s = state.index.share;
    const data = dataShare(s.controlInstructions, s.dataInstructions);
    const tip = new vscode.MarkdownString();
    if (state.freshness.state === 'stale') {
      this.item.text = '$(warning) Planescope: stale';
      tip.appendText(state.freshness.reason + '\n\n');
    } else {
      const shares = formatShares(data);
      this.item.text = `$(layers) C ${shares.control} · D ${shares.data}${state.index.hasEdits ? ' (edited)' : ''}`;
    }
    tip.appendMarkdown(
      `**Planescope** — ${formatCount(s.controlInstructions)} control-plane and ${formatCount(s.dataInstructions)} data-plane instructions ` +
        `on ${formatCount(s.controlLines)} control, ${formatCount(s.dataLines)} data and ${formatCount(s.mixedLines)} mixed lines.\n\n`,
    );
    tip.appendText(`Database: ${state.match.entry.db.path}\n\n`);
    tip.appendMarkdown('Click to open the report.');
    this.item.tooltip = tip;
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}

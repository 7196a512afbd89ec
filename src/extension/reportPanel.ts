// The report webview: the paper's figures for a database, drawn by the same generator as
// `planescope report --html` (src/core/report), under a strict Content-Security-Policy (no remote
// content, scripts and styles only with this panel's nonce), and its export to a standalone HTML file.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DatabaseSet, OpenDatabase } from './databases';
import { reportHtml } from './reportSource';
import { withStrictCsp } from '../core/webviewCsp';

export class ReportPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private shown: OpenDatabase | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly extensionUri: vscode.Uri, private readonly databases: DatabaseSet, private readonly output: vscode.OutputChannel) {
    // A reloaded database redraws the open report.
    this.subscription = databases.onDidChange(() => {
      if (this.panel && this.shown) {
        const again = this.databases.all.find((e) => e.db.path === this.shown!.db.path);
        if (again) void this.render(again);
        else this.panel.dispose();
      }
    });
  }

  /** The database of the active editor's file, else the only one, else the user's choice. */
  private async pick(): Promise<OpenDatabase | undefined> {
    const all = this.databases.all;
    if (all.length === 0) {
      const choice = await vscode.window.showWarningMessage('Planescope: no classification database is open.', 'Open Classification Database');
      if (choice) await vscode.commands.executeCommand('planescope.openDatabase');
      return this.databases.all[0];
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    const match = active && this.databases.lookup(active);
    if (match) return match.entry;
    if (all.length === 1) return all[0];
    const picked = await vscode.window.showQuickPick(
      all.map((e) => ({ label: basename(e.db.path), description: e.db.path, entry: e })),
      { placeHolder: 'Report of which classification database?' },
    );
    return picked?.entry;
  }

  async show(): Promise<void> {
    const entry = await this.pick();
    if (!entry) return;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('planescope.report', 'Planescope Report', vscode.ViewColumn.Active, {
        enableScripts: true,
        enableCommandUris: false,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')],
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.shown = undefined;
      });
    } else this.panel.reveal();
    await this.render(entry);
  }

  private async render(entry: OpenDatabase): Promise<void> {
    if (!this.panel) return;
    this.shown = entry;
    this.panel.title = `Planescope Report — ${basename(entry.db.path)}`;
    try {
      const nonce = randomBytes(16).toString('base64');
      const html = await reportHtml(entry.db.reader, nonce);
      this.panel.webview.html = withStrictCsp(html, nonce, this.panel.webview.cspSource);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.output.appendLine(`report of ${entry.db.path} failed: ${message}`);
      this.panel.webview.html = withStrictCsp(`<!DOCTYPE html><html><head></head><body><p>The report cannot be drawn: ${escapeHtml(message)}</p></body></html>`, randomBytes(16).toString('base64'), this.panel.webview.cspSource);
    }
  }

  /** Writes the standalone report (the same HTML `planescope report --html` writes) to a chosen file. */
  async exportHtml(): Promise<string | undefined> {
    const entry = this.shown ?? (await this.pick());
    if (!entry) return undefined;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(entry.db.path.replace(/(\.planes)?\.db$/, '') + '.report.html'),
      filters: { HTML: ['html'] },
    });
    if (!target) return undefined;
    await writeFile(target.fsPath, await reportHtml(entry.db.reader), 'utf8');
    void vscode.window.showInformationMessage(`Planescope: report written to ${target.fsPath}.`);
    return target.fsPath;
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

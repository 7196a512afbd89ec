// While a `planescope` session is stopped, shows the plane of the line it stopped at (from the
// classification database) after the line and in the status bar. The position comes from the adapter's
// own stackTrace answers, seen through a DebugAdapterTracker.
import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';
import { statSync } from 'node:fs';
import type { LineRecord, PlanesDatabaseReader } from '../core/db/api';
import { openReader } from './dbOpener';

const LETTER: Record<LineRecord['plane'], string> = { control: 'C', data: 'D', mixed: 'C+D' };

export class CurrentLinePlane implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' },
  });
  private readonly status = vscode.window.createStatusBarItem('planescope.debugPlane', vscode.StatusBarAlignment.Left, 50);
  private reader: { path: string; mtime: number; db: PlanesDatabaseReader } | undefined;
  private readonly fileCache = new Map<string, Map<number, LineRecord>>();
  private stoppedSessions = new Set<string>();
  private shown: { session: string; file: string; line: number } | undefined;

  constructor() {
    this.status.name = 'Planescope: plane of the current line';
  }

  trackerFor(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    return {
      onDidSendMessage: (message: { type?: string; event?: string; command?: string; success?: boolean; body?: { stackFrames?: Array<{ source?: { path?: string }; line?: number }> } }) => {
        if (message.type === 'event' && message.event === 'stopped') this.stoppedSessions.add(session.id);
        else if (message.type === 'event' && (message.event === 'continued' || message.event === 'terminated')) this.clear(session);
        else if (message.type === 'response' && message.command === 'stackTrace' && message.success && this.stoppedSessions.has(session.id)) {
          const top = message.body?.stackFrames?.find((f) => f.source?.path);
          // Only the first stack answer after a stop is the current line (later ones may be other threads).
          this.stoppedSessions.delete(session.id);
          if (top?.source?.path && top.line) void this.show(session, top.source.path, top.line);
        }
      },
      onWillStopSession: () => this.clear(session),
    };
  }

  sessionEnded(session: vscode.DebugSession): void {
    this.clear(session);
  }

  private clear(session: vscode.DebugSession): void {
    this.stoppedSessions.delete(session.id);
    if (this.shown?.session !== session.id) return;
    this.shown = undefined;
    for (const editor of vscode.window.visibleTextEditors) editor.setDecorations(this.decoration, []);
    this.status.hide();
  }

  private async show(session: vscode.DebugSession, file: string, line: number): Promise<void> {
    this.shown = { session: session.id, file, line };
    const record = await this.lookup(session, file, line).catch(() => undefined);
    if (this.shown?.session !== session.id || this.shown.file !== file || this.shown.line !== line) return;
    const text =
      record === undefined
        ? undefined
        : record === null
          ? 'not executed in the classified runs'
          : `${LETTER[record.plane]} · ${record.plane} plane · ${record.dataInstructions} data / ${record.controlInstructions} control instructions, ${record.executions} executions`;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.fsPath !== file || !text) {
        editor.setDecorations(this.decoration, []);
        continue;
      }
      editor.setDecorations(this.decoration, [{ range: new vscode.Range(line - 1, 0, line - 1, 0), renderOptions: { after: { contentText: `◆ ${text}` } } }]);
    }
    if (text) {
      this.status.text = record ? `$(debug-stackframe) ${LETTER[record.plane]}: ${record.plane} plane` : '$(debug-stackframe) unclassified line';
      this.status.tooltip = `Planescope: line ${line} of ${file} — ${text}`;
      this.status.show();
    } else this.status.hide();
  }

  /** The line's record; null when the database does not have the line; undefined without a database. */
  private async lookup(session: vscode.DebugSession, file: string, line: number): Promise<LineRecord | null | undefined> {
    const db = await this.database(session.workspaceFolder);
    if (!db) return undefined;
    let lines = this.fileCache.get(file);
    if (!lines) {
      lines = new Map(db.fileLines(file).map((r) => [r.line, r]));
      this.fileCache.set(file, lines);
    }
    return lines.get(line) ?? null;
  }

  private async database(folder: vscode.WorkspaceFolder | undefined): Promise<PlanesDatabaseReader | undefined> {
    let path = vscode.workspace.getConfiguration('planescope', folder).get<string>('database') || undefined;
    if (path && !isAbsolute(path) && folder) path = join(folder.uri.fsPath, path);
    if (!path) {
      const found = await vscode.workspace.findFiles('**/*.planes.db', '**/node_modules/**', 1);
      path = found[0]?.fsPath;
    }
    if (!path) return undefined;
    const mtime = statSync(path).mtimeMs;
    if (this.reader?.path !== path || this.reader.mtime !== mtime) {
      this.reader?.db.close();
      this.fileCache.clear();
      this.reader = { path, mtime, db: await openReader(path) };
    }
    return this.reader.db;
  }

  dispose(): void {
    this.reader?.db.close();
    this.decoration.dispose();
    this.status.dispose();
  }
}

// Commands that go to a place: the origin of tainted data (a user-data file at a byte range) and a
// tainted pointer site's line (following edits made since classification).
import * as vscode from 'vscode';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import type { OriginTarget } from '../core/hoverText';
import { applyPrefixPairs } from '../core/pathMap';
import type { DatabaseSet } from './databases';
import type { DocumentStates } from './documents';
import { readSettings } from './settings';

export interface SiteTarget {
  db: string;
  file: string;
  line: number;
}

function missing(kind: string, recorded: string, local: string): void {
  const extra = local === recorded ? '' : ` (remapped to ${local})`;
  void vscode.window.showErrorMessage(
    `Planescope: the ${kind} ${recorded}${extra} does not exist on this machine. ` +
      'Add a prefix pair to the setting "planescope.pathMappings" to say where it is.',
  );
}

// A file with a NUL byte in its first 8 KiB is shown by VS Code's default (binary/hex) editor.
function looksBinary(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

export async function openOrigin(target: OriginTarget): Promise<void> {
  const local = applyPrefixPairs(target.path, readSettings().pathMappings, 'toLocal') ?? target.path;
  if (!existsSync(local)) return missing('user-data file', target.path, local);
  const uri = vscode.Uri.file(local);
  if (looksBinary(local)) {
    await vscode.commands.executeCommand('vscode.open', uri);
    void vscode.window.showInformationMessage(`Planescope: the tainted bytes are ${target.start ?? 0}–${target.end ?? '?'} of ${local}.`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const start = doc.positionAt(target.start ?? 0);
  const end = doc.positionAt(target.end ?? target.start ?? 0);
  const editor = await vscode.window.showTextDocument(doc, { preview: true });
  editor.selection = new vscode.Selection(start, end);
  editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

export async function revealSite(databases: DatabaseSet, states: DocumentStates, target: SiteTarget): Promise<void> {
  const entry = databases.all.find((e) => e.db.path === target.db) ?? databases.all[0];
  const local = entry ? entry.paths.toLocal(target.file) : target.file;
  if (!existsSync(local)) return missing('source file', target.file, local);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(local));
  const line = states.get(doc)?.index.currentLineOf(target.line) ?? target.line - 1;
  const editor = await vscode.window.showTextDocument(doc, { preview: true });
  const range = doc.lineAt(Math.min(Math.max(line, 0), doc.lineCount - 1)).range;
  editor.selection = new vscode.Selection(range.start, range.start);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
}

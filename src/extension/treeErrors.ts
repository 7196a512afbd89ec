// A database that cannot answer a view's query shows one explanatory row instead of an empty view and a
// bare error toast.
import * as vscode from 'vscode';

export interface ErrorNode {
  kind: 'error';
  text: string;
  detail: string;
}

export function errorNode(e: unknown): ErrorNode {
  const detail = e instanceof Error ? e.message : String(e);
  return { kind: 'error', text: 'The database cannot be read', detail };
}

export function errorItem(node: ErrorNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
  item.description = node.detail;
  item.tooltip = `${node.detail}\n\nRe-create it with \`planescope classify\` (this Planescope may be newer or older than the one that wrote it).`;
  item.iconPath = new vscode.ThemeIcon('error');
  return item;
}

// What the two tree views (pointer sites, components) share: they refresh when the open databases change,
// show one level per database only when several are open, and turn a database that cannot answer into
// one explanatory row. A view supplies its own nodes below that level.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { DatabaseSet, OpenDatabase } from './databases';
import { ErrorNode, errorItem, errorNode } from './treeErrors';

export interface DbNode {
  kind: 'db';
  entry: OpenDatabase;
}

export type TreeNode<N> = N | DbNode | ErrorNode;

export abstract class DatabaseTreeProvider<N extends { kind: string }> implements vscode.TreeDataProvider<TreeNode<N>>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(protected readonly databases: DatabaseSet) {
    this.subscription = databases.onDidChange(() => {
      this.invalidate();
      this.changed.fire(undefined);
    });
  }

  /** The view's top-level nodes for one database. */
  protected abstract rootsOf(entry: OpenDatabase): N[];
  /** The children of one of the view's own nodes. */
  protected abstract childrenOf(node: N): N[];
  /** The item of one of the view's own nodes. */
  protected abstract itemOf(node: N): vscode.TreeItem;
  /** Drops what the view cached about the databases (they opened, reloaded or closed). */
  protected invalidate(): void {}
  /** Description of a database's row when several are open. */
  protected describeDatabase(_entry: OpenDatabase): string | undefined {
    return undefined;
  }

  getChildren(node?: TreeNode<N>): TreeNode<N>[] {
    try {
      if (!node) {
        const all = this.databases.all;
        return all.length === 1 ? this.rootsOf(all[0]) : all.map((entry): DbNode => ({ kind: 'db', entry }));
      }
      if (isDb(node)) return this.rootsOf(node.entry);
      if (isError(node)) return [];
      return this.childrenOf(node as N);
    } catch (e) {
      return [errorNode(e)];
    }
  }

  getTreeItem(node: TreeNode<N>): vscode.TreeItem {
    if (isError(node)) return errorItem(node);
    if (isDb(node)) {
      const item = new vscode.TreeItem(basename(node.entry.db.path), vscode.TreeItemCollapsibleState.Expanded);
      item.description = this.describeDatabase(node.entry);
      item.tooltip = node.entry.db.path;
      item.iconPath = new vscode.ThemeIcon('database');
      return item;
    }
    return this.itemOf(node as N);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function isDb(node: { kind: string }): node is DbNode {
  return node.kind === 'db';
}

function isError(node: { kind: string }): node is ErrorNode {
  return node.kind === 'error';
}

// The "Components" view: each executable of the recorded system with its processes and its share of
// control- vs data-plane instructions and I/O (the paper's per-component numbers).
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { ComponentStats } from '../core/db/api';
import { formatCount } from '../core/hoverText';
import { dataShare, formatPercent } from '../core/lineIndex';
import type { DatabaseSet, OpenDatabase } from './databases';
import { errorItem, errorNode } from './treeErrors';

type Node =
  | { kind: 'error'; text: string; detail: string }
  | { kind: 'db'; entry: OpenDatabase }
  | { kind: 'component'; entry: OpenDatabase; c: ComponentStats }
  | { kind: 'detail'; label: string; description: string };

export class ComponentsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly databases: DatabaseSet) {
    this.subscription = databases.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: Node): Node[] {
    try {
      return this.children(node);
    } catch (e) {
      return [errorNode(e)];
    }
  }

  private children(node?: Node): Node[] {
    if (!node) {
      const all = this.databases.all;
      if (all.length === 1) return all[0].db.components().map((c) => ({ kind: 'component', entry: all[0], c }));
      return all.map((entry) => ({ kind: 'db', entry }));
    }
    if (node.kind === 'db') return node.entry.db.components().map((c) => ({ kind: 'component', entry: node.entry, c }));
    if (node.kind === 'component') return details(node.c);
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'error') return errorItem(node);
    if (node.kind === 'db') {
      const item = new vscode.TreeItem(basename(node.entry.db.path), vscode.TreeItemCollapsibleState.Expanded);
      item.tooltip = node.entry.db.path;
      item.iconPath = new vscode.ThemeIcon('database');
      return item;
    }
    if (node.kind === 'component') {
      const c = node.c;
      const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.Collapsed);
      const ioData = c.io.dataIn + c.io.dataOut;
      const ioAll = ioData + c.io.controlIn + c.io.controlOut;
      item.description = `${c.processes} process${c.processes === 1 ? '' : 'es'} · code ${formatPercent(dataShare(c.controlInstructions, c.dataInstructions))} data · I/O ${formatPercent(ioAll ? ioData / ioAll : NaN)} data`;
      item.tooltip = c.exe;
      item.iconPath = new vscode.ThemeIcon('server-process');
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.description;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function details(c: ComponentStats): Node[] {
  const bytes = (n: number) => `${formatCount(n)} B`;
  return [
    { kind: 'detail', label: 'control-plane instructions', description: formatCount(c.controlInstructions) },
    { kind: 'detail', label: 'data-plane instructions', description: `${formatCount(c.dataInstructions)} (${formatPercent(dataShare(c.controlInstructions, c.dataInstructions))})` },
    { kind: 'detail', label: 'input', description: `${bytes(c.io.dataIn)} data, ${bytes(c.io.controlIn)} control` },
    { kind: 'detail', label: 'output', description: `${bytes(c.io.dataOut)} data, ${bytes(c.io.controlOut)} control` },
    { kind: 'detail', label: 'executable', description: c.exe },
  ];
}

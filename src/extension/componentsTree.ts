// The "Components" view: each executable of the recorded system with its processes and its share of
// control- vs data-plane instructions and I/O (the paper's per-component numbers).
import * as vscode from 'vscode';
import type { ComponentStats } from '../core/db/api';
import { formatCount } from '../core/hoverText';
import { dataShare, formatPercent } from '../core/lineIndex';
import { DatabaseTreeProvider } from './databaseTree';
import type { OpenDatabase } from './databases';

type Node =
  | { kind: 'component'; c: ComponentStats }
  | { kind: 'detail'; label: string; description: string };

export class ComponentsTreeProvider extends DatabaseTreeProvider<Node> {
  protected rootsOf(entry: OpenDatabase): Node[] {
    return entry.db.components().map((c) => ({ kind: 'component', c }));
  }

  protected childrenOf(node: Node): Node[] {
    return node.kind === 'component' ? details(node.c) : [];
  }

  protected itemOf(node: Node): vscode.TreeItem {
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

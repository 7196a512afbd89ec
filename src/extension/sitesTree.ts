// The "Tainted pointer sites" view: ranked sites grouped by file and function, with dereference counts and
// policy disagreements; a click reveals the site's line. One database level only when several are open.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { RankedSite } from '../core/db/api';
import { formatCount } from '../core/hoverText';
import { FileGroup, FunctionGroup, groupSites } from '../core/siteGroups';
import type { DatabaseSet, OpenDatabase } from './databases';
import { errorItem, errorNode } from './treeErrors';

export const REVEAL_SITE_COMMAND = 'planescope.revealSite';

type Node =
  | { kind: 'error'; text: string; detail: string }
  | { kind: 'db'; entry: OpenDatabase }
  | { kind: 'file'; entry: OpenDatabase; group: FileGroup }
  | { kind: 'function'; entry: OpenDatabase; group: FunctionGroup; file: string }
  | { kind: 'site'; entry: OpenDatabase; site: RankedSite };

export class SitesTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly groups = new Map<OpenDatabase, FileGroup[]>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly databases: DatabaseSet) {
    this.subscription = databases.onDidChange(() => {
      this.groups.clear();
      this.changed.fire(undefined);
    });
  }

  private groupsOf(entry: OpenDatabase): FileGroup[] {
    let g = this.groups.get(entry);
    if (!g) this.groups.set(entry, (g = groupSites(entry.db.sites())));
    return g;
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
      if (all.length === 1) return this.groupsOf(all[0]).map((group) => ({ kind: 'file', entry: all[0], group }));
      return all.map((entry) => ({ kind: 'db', entry }));
    }
    switch (node.kind) {
      case 'db':
        return this.groupsOf(node.entry).map((group) => ({ kind: 'file', entry: node.entry, group }));
      case 'file':
        return node.group.functions.map((group) => ({ kind: 'function', entry: node.entry, group, file: node.group.file }));
      case 'function':
        return node.group.sites.map((site) => ({ kind: 'site', entry: node.entry, site }));
      default:
        return [];
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const expanded = vscode.TreeItemCollapsibleState.Expanded;
    switch (node.kind) {
      case 'error':
        return errorItem(node);
      case 'db': {
        const item = new vscode.TreeItem(basename(node.entry.db.path), expanded);
        item.description = `${node.entry.db.sites().length} sites`;
        item.tooltip = node.entry.db.path;
        item.iconPath = new vscode.ThemeIcon('database');
        return item;
      }
      case 'file': {
        const g = node.group;
        const item = new vscode.TreeItem(basename(g.file), expanded);
        item.description = summary(g.siteCount, g.count, g.disagreements);
        item.tooltip = `${node.entry.paths.toLocal(g.file)}\nbest rank #${g.bestRank}`;
        item.resourceUri = vscode.Uri.file(node.entry.paths.toLocal(g.file));
        item.iconPath = vscode.ThemeIcon.File;
        return item;
      }
      case 'function': {
        const g = node.group;
        const item = new vscode.TreeItem(g.function, expanded);
        item.description = summary(g.sites.length, g.count, g.disagreements);
        item.iconPath = new vscode.ThemeIcon('symbol-function');
        return item;
      }
      case 'site': {
        const s = node.site;
        const item = new vscode.TreeItem(`#${s.rank} ${s.access} at line ${s.line}`, vscode.TreeItemCollapsibleState.None);
        item.description = `×${formatCount(s.count)} · score ${s.score.toFixed(2)}${s.policyDisagreement ? ' · policies disagree' : ''}`;
        const tip = new vscode.MarkdownString();
        tip.appendMarkdown(`**Tainted pointer site #${s.rank}** (${s.access}, ${formatCount(s.count)} dereferences)\n\n`);
        tip.appendText(`${basename(s.file)}:${s.line} in ${s.function} — ${s.module}+0x${s.offset.toString(16)}\n\n`);
        if (s.labelText) tip.appendText(`Address from: ${s.labelText}\n\n`);
        for (const e of s.evidence) tip.appendText(`• ${e}\n`);
        item.tooltip = tip;
        item.iconPath = new vscode.ThemeIcon(s.policyDisagreement ? 'git-compare' : 'debug-breakpoint-data-unverified');
        item.command = { command: REVEAL_SITE_COMMAND, title: 'Reveal', arguments: [{ db: node.entry.db.path, file: s.file, line: s.line }] };
        return item;
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function summary(sites: number, count: number, disagreements: number): string {
  const d = disagreements ? ` · ${disagreements} disagree` : '';
  return `${sites} site${sites === 1 ? '' : 's'} · ×${formatCount(count)}${d}`;
}

// The "Tainted pointer sites" view: ranked sites grouped by file and function, with dereference counts and
// policy disagreements; a click reveals the site's line. One database level only when several are open.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { RankedSite } from '../core/db/api';
import { formatCount } from '../core/hoverText';
import { FileGroup, FunctionGroup, groupSites } from '../core/siteGroups';
import { DatabaseTreeProvider } from './databaseTree';
import type { OpenDatabase } from './databases';

export const REVEAL_SITE_COMMAND = 'planescope.revealSite';

type Node =
  | { kind: 'file'; entry: OpenDatabase; group: FileGroup }
  | { kind: 'function'; entry: OpenDatabase; group: FunctionGroup }
  | { kind: 'site'; entry: OpenDatabase; site: RankedSite };

export class SitesTreeProvider extends DatabaseTreeProvider<Node> {
  private readonly groups = new Map<OpenDatabase, FileGroup[]>();

  protected override invalidate(): void {
    this.groups.clear();
  }

  protected override describeDatabase(entry: OpenDatabase): string {
    return `${entry.db.sites().length} sites`;
  }

  protected rootsOf(entry: OpenDatabase): Node[] {
    let g = this.groups.get(entry);
    if (!g) this.groups.set(entry, (g = groupSites(entry.db.sites())));
    return g.map((group) => ({ kind: 'file', entry, group }));
  }

  protected childrenOf(node: Node): Node[] {
    switch (node.kind) {
      case 'file':
        return node.group.functions.map((group) => ({ kind: 'function', entry: node.entry, group }));
      case 'function':
        return node.group.sites.map((site) => ({ kind: 'site', entry: node.entry, site }));
      default:
        return [];
    }
  }

  protected itemOf(node: Node): vscode.TreeItem {
    const expanded = vscode.TreeItemCollapsibleState.Expanded;
    switch (node.kind) {
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
}

function summary(sites: number, count: number, disagreements: number): string {
  const d = disagreements ? ` · ${disagreements} disagree` : '';
  return `${sites} site${sites === 1 ? '' : 's'} · ×${formatCount(count)}${d}`;
}

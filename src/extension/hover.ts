// Hover on a classified line: plane, counts, functions, provenance chain with links to its origin, and
// the line's tainted pointer sites (text from src/core/hoverText.ts).
import * as vscode from 'vscode';
import { buildHoverMarkdown } from '../core/hoverText';
import type { DocumentStates } from './documents';

export const OPEN_ORIGIN_COMMAND = 'planescope.openOrigin';

export class PlaneHoverProvider implements vscode.HoverProvider {
  constructor(private readonly states: DocumentStates, private readonly enabled: () => boolean) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    if (!this.enabled()) return undefined;
    const state = this.states.get(document);
    const at = state?.index.at(position.line);
    if (!state || !at) return undefined;
    const db = state.match.entry.db;
    const md = new vscode.MarkdownString(
      buildHoverMarkdown({
        record: at.record,
        edited: at.edited,
        staleReason: state.freshness.state === 'stale' ? state.freshness.reason : undefined,
        chains: at.record.labels.map((l) => db.labelChain(l)),
        sites: db.sitesAt(state.match.recorded, at.record.line),
        openOriginCommand: OPEN_ORIGIN_COMMAND,
      }),
      true,
    );
    md.isTrusted = { enabledCommands: [OPEN_ORIGIN_COMMAND] };
    return new vscode.Hover(md, document.lineAt(position.line).range);
  }
}

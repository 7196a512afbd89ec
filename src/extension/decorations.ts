// Line shading: one decoration type per class (control, data, mixed, stale) with contributed theme colours
// on the line background and the overview ruler, a letter and a border style per class so colour is never
// the only cue, gutter icons only when asked (the glyph margin belongs to breakpoints). Only visible
// editors are decorated, from the per-document index; nothing here queries the database.
import * as vscode from 'vscode';
import { DECORATION_CLASSES, DecorationClass } from '../core/lineIndex';
import type { DocumentStates } from './documents';
import { readSettings } from './settings';

const STYLE: Record<DecorationClass, { color: string; letter: string; border: string; icon: string }> = {
  control: { color: 'control', letter: 'C', border: 'dotted', icon: 'control' },
  data: { color: 'data', letter: 'D', border: 'solid', icon: 'data' },
  mixed: { color: 'mixed', letter: 'M', border: 'dashed', icon: 'mixed' },
  stale: { color: 'stale', letter: '?', border: 'double', icon: 'stale' },
};

const LETTER_MARGIN = '0 0 0 1.5em';

export class LineDecorator implements vscode.Disposable {
  private types: Record<DecorationClass, vscode.TextEditorDecorationType>;
  private enabled = true;
  private letters = true;
  private readonly subscriptions: vscode.Disposable[];
  private readonly pending = new Set<vscode.TextDocument>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly media: vscode.Uri, private readonly states: DocumentStates) {
    this.types = this.createTypes();
    this.subscriptions = [
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshVisible()),
      states.onDidChangeLines((d) => this.scheduleDocument(d)),
    ];
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    void vscode.commands.executeCommand('setContext', 'planescope.decorationsVisible', enabled);
    this.refreshVisible();
  }

  /** Recreates the decoration types after a settings change (gutter icons, letters, ruler). */
  restyle(): void {
    for (const t of Object.values(this.types)) t.dispose();
    this.types = this.createTypes();
    this.refreshVisible();
  }

  refreshVisible(): void {
    for (const editor of vscode.window.visibleTextEditors) this.decorate(editor);
  }

  decorate(editor: vscode.TextEditor): void {
    const state = this.enabled ? this.states.get(editor.document) : undefined;
    if (!state) {
      for (const c of DECORATION_CLASSES) editor.setDecorations(this.types[c], []);
      return;
    }
    const doc = editor.document;
    const byClass = state.index.linesByClass(state.freshness.state === 'stale');
    const lineCount = doc.lineCount;
    for (const c of DECORATION_CLASSES) {
      const lines = byClass[c];
      const options: vscode.DecorationOptions[] = [];
      for (const line of lines) {
        if (line >= lineCount) continue;
        // The range spans the line's text so the letter lands after it.
        const range = new vscode.Range(line, 0, line, doc.lineAt(line).text.length);
        if (c === 'stale' && this.letters) {
          const recorded = state.index.at(line)?.record.plane;
          const was = recorded ? STYLE[recorded].letter : '';
          options.push({ range, renderOptions: { after: { contentText: `${was}?` } } });
        } else options.push({ range });
      }
      editor.setDecorations(this.types[c], options);
    }
  }

  private scheduleDocument(document: vscode.TextDocument): void {
    this.pending.add(document);
    if (this.timer) return;
    // Coalesce bursts of typing; VS Code moves the existing marks with the text in the meantime.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const docs = new Set(this.pending);
      this.pending.clear();
      for (const editor of vscode.window.visibleTextEditors) if (docs.has(editor.document)) this.decorate(editor);
    }, 150);
  }

  private createTypes(): Record<DecorationClass, vscode.TextEditorDecorationType> {
    const settings = readSettings();
    this.letters = settings.lineLetters;
    const out = {} as Record<DecorationClass, vscode.TextEditorDecorationType>;
    for (const c of DECORATION_CLASSES) {
      const s = STYLE[c];
      const options: vscode.DecorationRenderOptions = {
        isWholeLine: true,
        backgroundColor: new vscode.ThemeColor(`planescope.${s.color}LineBackground`),
        borderColor: new vscode.ThemeColor(`planescope.${s.color}Marker`),
        borderStyle: `none none none ${s.border}`,
        borderWidth: '0 0 0 3px',
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      };
      if (settings.overviewRuler) {
        options.overviewRulerColor = new vscode.ThemeColor(`planescope.${s.color}OverviewRuler`);
        options.overviewRulerLane = vscode.OverviewRulerLane.Left;
      }
      if (settings.lineLetters) {
        options.after = {
          contentText: c === 'stale' ? '?' : s.letter,
          color: new vscode.ThemeColor(`planescope.${s.color}Marker`),
          margin: LETTER_MARGIN,
          fontWeight: 'bold',
        };
      }
      if (settings.gutterIcons) {
        options.light = { gutterIconPath: vscode.Uri.joinPath(this.media, `gutter-${s.icon}-light.svg`), gutterIconSize: 'contain' };
        options.dark = { gutterIconPath: vscode.Uri.joinPath(this.media, `gutter-${s.icon}-dark.svg`), gutterIconSize: 'contain' };
      }
      out[c] = vscode.window.createTextEditorDecorationType(options);
    }
    return out;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    for (const t of Object.values(this.types)) t.dispose();
  }
}

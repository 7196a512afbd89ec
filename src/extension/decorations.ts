// Line shading: one background decoration type per class (control, data, mixed, stale) with contributed
// theme colours on the line background and the overview ruler and a border style per class, plus a letter
// after each classified line, so colour is never the only cue; gutter icons only when asked (the glyph
// margin belongs to breakpoints). Only visible editors are decorated, from the per-document index; nothing
// here queries the database.
// Speed (a 20,000-line file within budget): backgrounds go as one whole-line range per run of consecutive
// lines of a class, letters only for the lines in and around the viewport (moved as it scrolls), all as
// plain Range arrays, which VS Code sends to the renderer as flat numbers. A document's runs and per-line
// classes are built once and reused until its text changes (switching editors redraws from them).
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DECORATION_CLASSES, DecorationClass } from '../core/lineIndex';
import type { Plane } from '../core/db/api';
import { cpuMs, type DocumentState, type DocumentStates } from './documents';
import { readSettings } from './settings';

const STYLE: Record<DecorationClass, { color: string; letter: string; border: string; icon: string }> = {
  control: { color: 'control', letter: 'C', border: 'dotted', icon: 'control' },
  data: { color: 'data', letter: 'D', border: 'solid', icon: 'data' },
  mixed: { color: 'mixed', letter: 'M', border: 'dashed', icon: 'mixed' },
  stale: { color: 'stale', letter: '?', border: 'double', icon: 'stale' },
};

/** Letter kinds: a class, or a stale line by the plane it was classified as (its letter says so: D?). */
type Letter = DecorationClass | `stale-${Plane}`;
const PLANES: readonly Plane[] = ['control', 'data', 'mixed'];
const LETTERS: readonly Letter[] = [...DECORATION_CLASSES, ...PLANES.map((p): Letter => `stale-${p}`)];
const NONE = -1;

const LETTER_MARGIN = '0 0 0 1.5em';
/** Letters are set this many lines above and below the viewport, and moved when it scrolls out of them. */
const LETTER_WINDOW = 300;

/** What a document's decorations are built from, for one version of its text. */
interface DocumentMarks {
  version: number;
  /** Whole-line runs of consecutive lines, per class. */
  runs: Record<DecorationClass, vscode.Range[]>;
  /** The letter kind of each line (an index into LETTERS), NONE for unclassified lines. */
  letterOf: Int8Array;
  lines: number;
}

export class LineDecorator implements vscode.Disposable {
  private backgrounds!: Record<DecorationClass, vscode.TextEditorDecorationType>;
  private letters!: Record<Letter, vscode.TextEditorDecorationType> | undefined;
  private enabled = true;
  private readonly subscriptions: vscode.Disposable[];
  private readonly pending = new Set<vscode.TextDocument>();
  private timer: NodeJS.Timeout | undefined;
  /** States whose first decoration was reported (one line per file and database load). */
  private readonly reported = new WeakSet<DocumentState>();
  private readonly marks = new WeakMap<DocumentState, DocumentMarks>();
  /** The lines each editor has letters for, [from, to), with the marks they came from. */
  private readonly letterWindows = new WeakMap<vscode.TextEditor, { from: number; to: number; marks: DocumentMarks }>();

  constructor(private readonly media: vscode.Uri, private readonly states: DocumentStates, private readonly log: (line: string) => void = () => undefined) {
    this.createTypes();
    this.subscriptions = [
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshVisible()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.onScroll(e.textEditor)),
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
    this.disposeTypes();
    this.createTypes();
    this.refreshVisible();
  }

  refreshVisible(): void {
    for (const editor of vscode.window.visibleTextEditors) this.decorate(editor);
  }

  decorate(editor: vscode.TextEditor): void {
    const state = this.enabled ? this.states.get(editor.document) : undefined;
    if (!state) {
      for (const c of DECORATION_CLASSES) editor.setDecorations(this.backgrounds[c], []);
      if (this.letters) for (const l of LETTERS) editor.setDecorations(this.letters[l], []);
      this.letterWindows.delete(editor);
      return;
    }
    const started = performance.now();
    const cpu = process.cpuUsage();
    const doc = editor.document;
    let marks = this.marks.get(state);
    if (!marks || marks.version !== doc.version) this.marks.set(state, (marks = buildMarks(state, doc)));
    for (const c of DECORATION_CLASSES) editor.setDecorations(this.backgrounds[c], marks.runs[c]);
    this.setLetters(editor, marks);
    if (!this.reported.has(state)) {
      // Which database shades the file, and what the first shading cost (the budget is 50 ms). CPU time
      // too: on a loaded machine the wall time is mostly waiting for a core.
      this.reported.add(state);
      const ms = (wall: number, cpuTime: number) => `${wall.toFixed(1)} ms (CPU ${cpuTime.toFixed(1)} ms)`;
      this.log(
        `shaded ${basename(doc.uri.fsPath)} from ${basename(state.match.entry.db.path)} (recorded as ${state.match.recorded}): ${marks.lines} lines; ` +
          `lines read and indexed in ${ms(state.buildMs, state.buildCpuMs)}, first decoration ${ms(performance.now() - started, cpuMs(process.cpuUsage(cpu)))}; ` +
          `of the reading: database lines ${state.indexMs.toFixed(1)} ms, hash of the file on disk ${state.hashMs.toFixed(1)} ms`,
      );
    }
  }

  /** Sets the letters of the lines in and around `editor`'s viewport. */
  private setLetters(editor: vscode.TextEditor, marks: DocumentMarks): void {
    if (!this.letters) return;
    const doc = editor.document;
    const visible = editor.visibleRanges;
    const top = visible.length ? visible[0].start.line : 0;
    const bottom = visible.length ? visible[visible.length - 1].end.line : 0;
    const from = Math.max(0, top - LETTER_WINDOW);
    const to = Math.min(marks.letterOf.length, bottom + LETTER_WINDOW + 1);
    const byLetter = Object.fromEntries(LETTERS.map((l) => [l, [] as vscode.Range[]])) as Record<Letter, vscode.Range[]>;
    for (let line = from; line < to; line++) {
      const k = marks.letterOf[line];
      // The range spans the line's text so the letter lands after it.
      if (k !== NONE) byLetter[LETTERS[k]].push(new vscode.Range(line, 0, line, doc.lineAt(line).text.length));
    }
    for (const l of LETTERS) editor.setDecorations(this.letters[l], byLetter[l]);
    this.letterWindows.set(editor, { from, to, marks });
  }

  // Moves the letters once the viewport gets near the edge of the lines that have them.
  private onScroll(editor: vscode.TextEditor): void {
    const window = this.letterWindows.get(editor);
    if (!window || window.marks.version !== editor.document.version) return;
    const visible = editor.visibleRanges;
    if (!visible.length) return;
    const top = visible[0].start.line;
    const bottom = visible[visible.length - 1].end.line;
    const slack = LETTER_WINDOW / 3;
    const coversTop = window.from === 0 || top - window.from >= slack;
    const coversBottom = window.to >= window.marks.letterOf.length || window.to - bottom >= slack;
    if (!coversTop || !coversBottom) this.setLetters(editor, window.marks);
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

  private createTypes(): void {
    const settings = readSettings();
    this.backgrounds = {} as Record<DecorationClass, vscode.TextEditorDecorationType>;
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
      if (settings.gutterIcons) {
        options.light = { gutterIconPath: vscode.Uri.joinPath(this.media, `gutter-${s.icon}-light.svg`), gutterIconSize: 'contain' };
        options.dark = { gutterIconPath: vscode.Uri.joinPath(this.media, `gutter-${s.icon}-dark.svg`), gutterIconSize: 'contain' };
      }
      this.backgrounds[c] = vscode.window.createTextEditorDecorationType(options);
    }
    this.letters = undefined;
    if (!settings.lineLetters) return;
    this.letters = {} as Record<Letter, vscode.TextEditorDecorationType>;
    for (const l of LETTERS) {
      const c: DecorationClass = l.startsWith('stale') ? 'stale' : (l as DecorationClass);
      // A stale line says what it was classified as: C?, D?, M?.
      const was = l.startsWith('stale-') ? STYLE[l.slice(6) as Plane].letter : '';
      this.letters[l] = vscode.window.createTextEditorDecorationType({
        after: {
          contentText: c === 'stale' ? `${was}?` : STYLE[c].letter,
          color: new vscode.ThemeColor(`planescope.${STYLE[c].color}Marker`),
          margin: LETTER_MARGIN,
          fontWeight: 'bold',
        },
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
    }
  }

  private disposeTypes(): void {
    for (const t of Object.values(this.backgrounds)) t.dispose();
    for (const t of Object.values(this.letters ?? {})) t.dispose();
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.disposeTypes();
  }
}

/** The whole-line runs per class and the letter of each line of a document, from its state's index. */
function buildMarks(state: DocumentState, doc: vscode.TextDocument): DocumentMarks {
  const letterOf = new Int8Array(doc.lineCount).fill(NONE);
  const classOf = new Int8Array(doc.lineCount).fill(NONE);
  const classIndex = (c: DecorationClass) => DECORATION_CLASSES.indexOf(c);
  const letterIndex = (l: Letter) => LETTERS.indexOf(l);
  const plainClass = PLANES.map(classIndex);
  const plainLetter = PLANES.map((p) => letterIndex(p));
  const staleLetter = PLANES.map((p) => letterIndex(`stale-${p}`));
  const stale = classIndex('stale');
  let lines = 0;
  state.index.forEachShown(state.freshness.state === 'stale', (line, plane, isStale) => {
    if (line >= doc.lineCount) return;
    const p = PLANES.indexOf(plane);
    classOf[line] = isStale ? stale : plainClass[p];
    letterOf[line] = isStale ? staleLetter[p] : plainLetter[p];
    lines++;
  });
  const runs = Object.fromEntries(DECORATION_CLASSES.map((c) => [c, [] as vscode.Range[]])) as Record<DecorationClass, vscode.Range[]>;
  for (let line = 0; line < classOf.length; ) {
    const ci = classOf[line];
    let end = line;
    while (end + 1 < classOf.length && classOf[end + 1] === ci) end++;
    if (ci !== NONE) runs[DECORATION_CLASSES[ci]].push(new vscode.Range(line, 0, end, 0));
    line = end + 1;
  }
  return { version: doc.version, runs, letterOf, lines };
}

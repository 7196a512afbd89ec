// Line shading: one decoration type per class (control, data, mixed, stale) with contributed theme colours
// on the line background and the overview ruler, a letter and a border style per class so colour is never
// the only cue, gutter icons only when asked (the glyph margin belongs to breakpoints). Only visible
// editors are decorated, from the per-document index; nothing here queries the database.
// Speed (20,000 lines in budget): plain Range arrays only, which VS Code sends to the renderer as flat
// numbers (per-line DecorationOptions are serialised one object each, ~10x slower), so a stale line's
// "what it was" letter comes from one stale type per recorded plane; the ranges of a document are built
// once and reused until its lines change (switching editors redraws from them).
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

/** The decoration types: a class, or stale lines by the plane they were classified as. */
type Slot = DecorationClass | `stale-${Plane}`;
const PLANES: readonly Plane[] = ['control', 'data', 'mixed'];
const SLOTS: readonly Slot[] = [...DECORATION_CLASSES, ...PLANES.map((p): Slot => `stale-${p}`)];

const LETTER_MARGIN = '0 0 0 1.5em';

interface DocumentRanges {
  /** The document version the ranges were built for. */
  version: number;
  bySlot: Record<Slot, vscode.Range[]>;
  lines: number;
}

export class LineDecorator implements vscode.Disposable {
  private types: Record<Slot, vscode.TextEditorDecorationType>;
  private enabled = true;
  private readonly subscriptions: vscode.Disposable[];
  private readonly pending = new Set<vscode.TextDocument>();
  private timer: NodeJS.Timeout | undefined;
  /** States whose first decoration was reported (one line per file and database load). */
  private readonly reported = new WeakSet<DocumentState>();
  private readonly ranges = new WeakMap<DocumentState, DocumentRanges>();

  constructor(private readonly media: vscode.Uri, private readonly states: DocumentStates, private readonly log: (line: string) => void = () => undefined) {
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
      for (const slot of SLOTS) editor.setDecorations(this.types[slot], []);
      return;
    }
    const started = performance.now();
    const cpu = process.cpuUsage();
    const doc = editor.document;
    let ranges = this.ranges.get(state);
    if (!ranges || ranges.version !== doc.version) this.ranges.set(state, (ranges = buildRanges(state, doc)));
    for (const slot of SLOTS) editor.setDecorations(this.types[slot], ranges.bySlot[slot]);
    if (!this.reported.has(state)) {
      // Which database shades the file, and what the first shading cost (the budget is 50 ms). CPU time
      // too: on a loaded machine the wall time is mostly waiting for a core.
      this.reported.add(state);
      const ms = (wall: number, cpuTime: number) => `${wall.toFixed(1)} ms (CPU ${cpuTime.toFixed(1)} ms)`;
      this.log(
        `shaded ${basename(doc.uri.fsPath)} from ${basename(state.match.entry.db.path)} (recorded as ${state.match.recorded}): ${ranges.lines} lines; ` +
          `lines read and indexed in ${ms(state.buildMs, state.buildCpuMs)}, first decoration ${ms(performance.now() - started, cpuMs(process.cpuUsage(cpu)))}`,
      );
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

  private createTypes(): Record<Slot, vscode.TextEditorDecorationType> {
    const settings = readSettings();
    const out = {} as Record<Slot, vscode.TextEditorDecorationType>;
    for (const slot of SLOTS) {
      const c: DecorationClass = slot.startsWith('stale') ? 'stale' : (slot as DecorationClass);
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
        // A stale line says what it was classified as: C?, D?, M?.
        const was = slot.startsWith('stale-') ? STYLE[slot.slice(6) as Plane].letter : '';
        options.after = {
          contentText: c === 'stale' ? `${was}?` : s.letter,
          color: new vscode.ThemeColor(`planescope.${s.color}Marker`),
          margin: LETTER_MARGIN,
          fontWeight: 'bold',
        };
      }
      if (settings.gutterIcons) {
        options.light = { gutterIconPath: vscode.Uri.joinPath(this.media, `gutter-${s.icon}-light.svg`), gutterIconSize: 'contain' };
        options.dark = { gutterIconPath: vscode.Uri.joinPath(this.media, `gutter-${s.icon}-dark.svg`), gutterIconSize: 'contain' };
      }
      out[slot] = vscode.window.createTextEditorDecorationType(options);
    }
    return out;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    for (const t of Object.values(this.types)) t.dispose();
  }
}

/** The ranges of a document's classified lines per slot, each spanning its line's text (the letter lands after it). */
function buildRanges(state: DocumentState, doc: vscode.TextDocument): DocumentRanges {
  const bySlot = Object.fromEntries(SLOTS.map((slot) => [slot, [] as vscode.Range[]])) as Record<Slot, vscode.Range[]>;
  const byClass = state.index.linesByClass(state.freshness.state === 'stale');
  const lengths = lineLengths(doc.getText());
  let lines = 0;
  for (const c of DECORATION_CLASSES) {
    for (const line of byClass[c]) {
      if (line >= lengths.length) continue;
      const slot: Slot = c === 'stale' ? staleSlot(state.index.at(line)?.record.plane) : c;
      bySlot[slot].push(new vscode.Range(line, 0, line, lengths[line]));
      lines++;
    }
  }
  return { version: doc.version, bySlot, lines };
}

function staleSlot(plane: Plane | undefined): Slot {
  return plane ? `stale-${plane}` : 'stale';
}

/** Length of every line of `text` (without its \n or \r\n), in one pass instead of a lineAt per line. */
function lineLengths(text: string): Int32Array {
  let count = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  const out = new Int32Array(count);
  let start = 0;
  for (let n = 0; n < count; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    out[n] = end - start - (end > start && text.charCodeAt(end - 1) === 13 ? 1 : 0);
    start = end + 1;
  }
  return out;
}

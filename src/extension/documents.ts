// Per open document: which database classified it, its live line index (following edits) and whether the
// file on disk is still the classified one. Built on first need from the database cache, never re-queried.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { FileIndex, TextChange } from '../core/lineIndex';
import { compareHashes, Freshness, sha256Hex } from '../core/staleness';
import type { DatabaseSet, FileMatch } from './databases';

export interface DocumentState {
  match: FileMatch;
  index: FileIndex;
  freshness: Freshness;
  /**
   * The classified text's bytes when the document was first seen fresh and saved: the file on disk, read
   * for its hash anyway, equals it then (decoded and split on first need). Else undefined.
   */
  original: Buffer | undefined;
  /** `original` split into lines (index: recorded line - 1), once an edit needs it. */
  originalLines?: readonly string[];
  /** How long building this state took (database query or cache, index, hash): wall and CPU ms. */
  buildMs: number;
  buildCpuMs: number;
  /** Of buildMs: the database's lines (query or cache, and the live index), and hashing the file on disk. */
  indexMs: number;
  hashMs: number;
}

export class DocumentStates implements vscode.Disposable {
  private readonly states = new Map<string, DocumentState | null>();
  private readonly changed = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when a tracked document's lines moved or changed (decorations must be redrawn). */
  readonly onDidChangeLines = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly databases: DatabaseSet, private readonly log: (line: string) => void = () => undefined) {
    this.subscriptions = [
      databases.onDidChange(() => this.states.clear()),
      vscode.workspace.onDidCloseTextDocument((d) => this.states.delete(d.uri.toString())),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
    ];
  }

  /** The state of a document, or undefined when no open database classified it. */
  get(document: vscode.TextDocument): DocumentState | undefined {
    const key = document.uri.toString();
    const known = this.states.get(key);
    if (known !== undefined) return known ?? undefined;
    let state: DocumentState | undefined;
    try {
      state = this.create(document);
    } catch (e) {
      // A database that cannot answer leaves the file undecorated; say why once per document.
      this.log(`cannot read the planes of ${document.uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.states.set(key, state ?? null);
    return state;
  }

  private create(document: vscode.TextDocument): DocumentState | undefined {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const match = this.databases.lookup(document.uri);
    if (!match) return undefined;
    const indexStarted = performance.now();
    const pristine = match.entry.db.fileIndex(match.recorded);
    if (!pristine) return undefined;
    const index = pristine.live();
    const indexMs = performance.now() - indexStarted;
    const recordedHash = match.entry.db.sourceFiles().get(match.recorded)?.sha256 ?? '';
    const hashStarted = performance.now();
    let current: string | undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(document.uri.fsPath);
      current = sha256Hex(bytes);
    } catch {
      current = undefined;
    }
    const hashMs = performance.now() - hashStarted;
    const freshness = compareHashes(document.uri.fsPath, recordedHash, current);
    // The bytes, not a lineAt per classified line (~10x the cost on a 20,000-line file) nor getText(); split
    // when an edit first needs a line of them.
    const original = freshness.state !== 'stale' && !document.isDirty ? bytes : undefined;
    return { match, index, freshness, original, buildMs: performance.now() - started, buildCpuMs: cpuMs(process.cpuUsage(cpu)), indexMs, hashMs };
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const key = e.document.uri.toString();
    const state = this.states.get(key);
    if (!state) return;
    if (e.contentChanges.length === 0) {
      // The dirty flag changed (save, revert, undo to the saved text). VS Code reports it apart from the
      // text changes, so compare texts: back to the classified one means start again from the database.
      if (!e.document.isDirty && state.index.hasEdits && this.recordedHash(state) === sha256Hex(e.document.getText())) {
        this.states.delete(key);
        this.changed.fire(e.document);
      }
      return;
    }
    for (const c of e.contentChanges) {
      const change: TextChange = {
        startLine: c.range.start.line,
        startCharacter: c.range.start.character,
        endLine: c.range.end.line,
        endCharacter: c.range.end.character,
        text: c.text,
      };
      // Enter at the end of a classified line leaves that line's own text as it was.
      if (c.range.isEmpty && /^\r?\n/.test(c.text)) {
        const at = state.index.at(c.range.start.line);
        if (at && e.document.lineAt(c.range.start.line).text === this.originalLine(state, at.record.line)) change.startLineUnchanged = true;
      }
      state.index.applyChange(change);
    }
    this.changed.fire(e.document);
  }

  /** Text of recorded (1-based) `line` when the document was first seen, or undefined. */
  private originalLine(state: DocumentState, line: number): string | undefined {
    if (state.original === undefined) return undefined;
    state.originalLines ??= state.original.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
    return state.originalLines[line - 1];
  }

  private recordedHash(state: DocumentState): string | undefined {
    return state.match.entry.db.sourceFiles().get(state.match.recorded)?.sha256 || undefined;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

/** User + system time of a process.cpuUsage() difference, in ms. */
export function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

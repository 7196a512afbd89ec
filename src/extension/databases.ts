// The open classification databases: explicit (setting or command), discovered in the workspace folders,
// reloaded when their file changes, and the lookup from an editor's file to (database, recorded path).
import * as vscode from 'vscode';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CachedDatabase } from '../core/dbCache';
import { PathMap } from '../core/pathMap';
import { openReader } from './dbOpener';
import { readSettings } from './settings';

export interface OpenDatabase {
  db: CachedDatabase;
  paths: PathMap;
  /** How it was found, for messages. */
  origin: 'setting' | 'command' | 'discovered';
}

export interface FileMatch {
  entry: OpenDatabase;
  recorded: string;
}

const RELOAD_DELAY_MS = 400;

export class DatabaseSet implements vscode.Disposable {
  private readonly entries = new Map<string, OpenDatabase>();
  private readonly watchers = new Map<string, vscode.Disposable>();
  private readonly reloadTimers = new Map<string, NodeJS.Timeout>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after a database opened, reloaded or closed: caches of the views are invalid. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.OutputChannel) {}

  get all(): OpenDatabase[] {
    return [...this.entries.values()];
  }

  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  /** The database that classified the file shown at `uri`, first come first served across databases. */
  lookup(uri: vscode.Uri): FileMatch | undefined {
    if (uri.scheme !== 'file' || this.entries.size === 0) return undefined;
    for (const entry of this.entries.values()) {
      const recorded = entry.paths.toRecorded(uri.fsPath);
      if (recorded !== undefined) return { entry, recorded };
    }
    return undefined;
  }

  /** Opens (or reopens) a database; throws an Error whose message says what is wrong and what to do. */
  async open(path: string, origin: OpenDatabase['origin']): Promise<OpenDatabase> {
    const absolute = this.absolute(path);
    const reader = await openReader(absolute);
    const db = new CachedDatabase(reader);
    const entry: OpenDatabase = { db, paths: this.pathMapFor(db), origin };
    const previous = this.entries.get(absolute);
    this.entries.set(absolute, entry);
    previous?.db.close();
    this.watch(absolute);
    this.log.appendLine(`opened ${absolute} (${origin}, schema ${reader.schemaVersion}, ${db.sourceFiles().size} source files)`);
    this.changed.fire();
    return entry;
  }

  close(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    this.watchers.get(path)?.dispose();
    this.watchers.delete(path);
    entry.db.close();
    this.log.appendLine(`closed ${path}`);
    this.changed.fire();
  }

  /** Opens the databases named by the settings and, if enabled, every *.planes.db in the workspace. */
  async openConfigured(): Promise<void> {
    const settings = readSettings();
    const wanted = new Set<string>(settings.databases.map((p) => this.absolute(p)));
    if (settings.autoDiscover && vscode.workspace.workspaceFolders?.length) {
      const found = await vscode.workspace.findFiles(settings.discoveryGlob, '**/node_modules/**', 50);
      for (const uri of found) wanted.add(uri.fsPath);
    }
    for (const path of wanted) {
      if (this.entries.has(path)) continue;
      try {
        await this.open(path, settings.databases.some((p) => this.absolute(p) === path) ? 'setting' : 'discovered');
      } catch (e) {
        this.report(path, e);
      }
    }
  }

  /** Rebuilds the path maps (after the mapping settings or the workspace folders changed). */
  remap(): void {
    for (const entry of this.entries.values()) entry.paths = this.pathMapFor(entry.db);
    this.changed.fire();
  }

  private pathMapFor(db: CachedDatabase): PathMap {
    const settings = readSettings();
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    // Relative recorded names (no DWARF comp_dir) resolve against the setting, else next to the database.
    const compDir = settings.compDir ? this.absolute(settings.compDir) : dirname(db.path);
    return new PathMap([...db.sourceFiles().keys()], { pairs: settings.pathMappings, compDir, roots });
  }

  private absolute(path: string): string {
    if (isAbsolute(path)) return path;
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return resolve(root ?? process.cwd(), path);
  }

  // Works for files outside the workspace too: the pattern's base is the database's own directory.
  private watch(path: string): void {
    if (this.watchers.has(path)) return;
    const pattern = new vscode.RelativePattern(vscode.Uri.file(dirname(path)), path.slice(dirname(path).length + 1));
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const schedule = () => this.scheduleReload(path);
    this.watchers.set(
      path,
      vscode.Disposable.from(watcher, watcher.onDidChange(schedule), watcher.onDidCreate(schedule), watcher.onDidDelete(() => this.close(path))),
    );
  }

  // Writers replace the file in several steps: wait for quiet, then reopen; keep the old one on failure.
  private scheduleReload(path: string): void {
    clearTimeout(this.reloadTimers.get(path));
    this.reloadTimers.set(
      path,
      setTimeout(() => {
        this.reloadTimers.delete(path);
        const origin = this.entries.get(path)?.origin ?? 'discovered';
        this.open(path, origin).then(
          () => this.log.appendLine(`reloaded ${path} after it changed`),
          (e) => this.report(path, e),
        );
      }, RELOAD_DELAY_MS),
    );
  }

  private report(path: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.log.appendLine(`cannot open ${path}: ${message}`);
    void vscode.window.showWarningMessage(`Planescope cannot open ${path}: ${message}`);
  }

  dispose(): void {
    for (const t of this.reloadTimers.values()) clearTimeout(t);
    for (const w of this.watchers.values()) w.dispose();
    for (const e of this.entries.values()) e.db.close();
    this.entries.clear();
    this.changed.dispose();
  }
}

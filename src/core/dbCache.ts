// Memoises what the editor asks a classification database for, so switching editors, hovering and
// redrawing never re-query it: one FileIndex per source file, one chain per label, sites and components
// once. Dropped as a whole when the database file changes.
import type { ComponentStats, PlanesDatabaseReader, ProvenanceStep, RankedSite, SourceFileRecord } from './db/api';
import { FileIndex } from './lineIndex';
import { sitesByLine } from './siteGroups';

export class CachedDatabase {
  private files: Map<string, SourceFileRecord> | undefined;
  private readonly indexes = new Map<string, FileIndex>();
  private readonly chains = new Map<number, ProvenanceStep[]>();
  private siteList: RankedSite[] | undefined;
  private siteLines: Map<string, Map<number, RankedSite[]>> | undefined;
  private componentList: ComponentStats[] | undefined;

  constructor(readonly reader: PlanesDatabaseReader) {}

  get path(): string {
    return this.reader.path;
  }

  sourceFiles(): Map<string, SourceFileRecord> {
    if (!this.files) this.files = new Map(this.reader.sourceFiles().map((f) => [f.path, f]));
    return this.files;
  }

  /** The pristine index of a recorded file (undefined when the database does not know the file). */
  fileIndex(recordedPath: string): FileIndex | undefined {
    let index = this.indexes.get(recordedPath);
    if (!index) {
      if (!this.sourceFiles().has(recordedPath)) return undefined;
      // The column table when the reader has one (no record objects until a hover asks for one).
      index = new FileIndex(this.reader.fileLineTable?.(recordedPath) ?? this.reader.fileLines(recordedPath));
      this.indexes.set(recordedPath, index);
    }
    return index;
  }

  labelChain(labelId: number): ProvenanceStep[] {
    let chain = this.chains.get(labelId);
    if (!chain) this.chains.set(labelId, (chain = this.reader.labelChain(labelId)));
    return chain;
  }

  sites(): RankedSite[] {
    if (!this.siteList) this.siteList = this.reader.sites();
    return this.siteList;
  }

  sitesAt(recordedPath: string, line: number): RankedSite[] {
    if (!this.siteLines) this.siteLines = sitesByLine(this.sites());
    return this.siteLines.get(recordedPath)?.get(line) ?? [];
  }

  components(): ComponentStats[] {
    if (!this.componentList) this.componentList = this.reader.components();
    return this.componentList;
  }

  close(): void {
    this.reader.close();
  }
}

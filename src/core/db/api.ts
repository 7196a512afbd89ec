// The read side of a classification database (*.planes.db), as the extension, the debug adapter and the
// CLI's `lines`/`sites`/`report` use it. Implemented over sql.js in this directory (docs/database.md).
import type { FileLineTable } from './lineTable';

export type Plane = 'control' | 'data' | 'mixed';

export interface LineRecord {
  line: number;
  /** 'mixed': the line has both control- and data-plane instructions. */
  plane: Plane;
  controlInstructions: number;
  dataInstructions: number;
  executions: number;
  functions: string[];
  /** Labels of the tainted data seen on this line (ids into labelChain). */
  labels: number[];
  /** Pointer sites on this line, if any. */
  siteIds: number[];
}

export interface SourceFileRecord {
  /** Absolute path as recorded in DWARF (after comp_dir resolution). */
  path: string;
  /** sha256 hex of the file's content at classify time, '' when it could not be read. */
  sha256: string;
}

export interface RankedSite {
  id: number;
  rank: number;
  /** Higher = more evidence that the site hides data-plane work. */
  score: number;
  /** Why it ranks where it does, in words (shown in trees and hovers). */
  evidence: string[];
  module: string;
  offset: number;
  file: string;
  line: number;
  function: string;
  access: 'load' | 'store';
  count: number;
  /** true when runs with both policies exist and they classify the site's code differently. */
  policyDisagreement: boolean;
  /** Provenance text of the address's label. */
  labelText: string;
}

export interface ComponentStats {
  /** The executable's name (basename), e.g. "master". */
  name: string;
  exe: string;
  processes: number;
  controlInstructions: number;
  dataInstructions: number;
  io: { controlIn: number; controlOut: number; dataIn: number; dataOut: number };
}

/** One step of a provenance chain, outermost (what the line saw) first. */
export interface ProvenanceStep {
  labelId: number;
  text: string;
  /** Where to go: a user-data file and byte range, or a sending process. */
  file?: { path: string; start: number; end: number };
  message?: { peer: string; msg: number };
}

export interface PlanesDatabaseReader {
  readonly path: string;
  readonly schemaVersion: number;
  sourceFiles(): SourceFileRecord[];
  /** Per-line records of one source file (absolute path as in sourceFiles()). */
  fileLines(file: string): LineRecord[];
  /** The same lines in columns, details loaded on first need (the editor's fast path); optional. */
  fileLineTable?(file: string): FileLineTable | undefined;
  sites(): RankedSite[];
  components(): ComponentStats[];
  labelChain(labelId: number): ProvenanceStep[];
  close(): void;
}

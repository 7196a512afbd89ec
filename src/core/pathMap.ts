// Maps source paths recorded in a classification database (DWARF paths of the build machine) to paths on
// this machine and back: DWARF comp_dir for relative names, user prefix pairs (longest `from` first), and,
// when nothing is configured, a unique match on trailing path components.
import { posix } from 'node:path';

export interface PrefixPair {
  /** Prefix as recorded in the database (the build machine's path). */
  from: string;
  /** What it is on this machine. */
  to: string;
}

/** Normalises a POSIX path: resolves `.`/`..`, collapses slashes, drops a trailing slash (except `/`). */
export function normalizePath(path: string): string {
  if (!path) return path;
  const n = posix.normalize(path.replace(/\\/g, '/'));
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** A DWARF file name made absolute with its compilation unit's comp_dir (no-op when already absolute). */
export function resolveCompDir(name: string, compDir: string | undefined): string {
  if (posix.isAbsolute(name) || !compDir) return normalizePath(name);
  return normalizePath(posix.join(compDir, name));
}

/** True when `prefix` is `path` or a whole-component prefix of it ("/a/b" covers "/a/b/c", not "/a/bc"). */
export function hasPathPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return path.startsWith('/');
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */);
}

function replacePrefix(path: string, from: string, to: string): string {
  if (from === '/') return normalizePath(posix.join(to, path));
  return normalizePath(to + path.slice(from.length));
}

/** Applies the first matching pair of `pairs` ordered longest `from` first; undefined when none matches. */
export function applyPrefixPairs(path: string, pairs: readonly PrefixPair[], direction: 'toLocal' | 'toRecorded'): string | undefined {
  const key = direction === 'toLocal' ? 'from' : 'to';
  const other = direction === 'toLocal' ? 'to' : 'from';
  const sorted = pairs
    .map((p) => ({ from: normalizePath(p[key]), to: normalizePath(p[other]) }))
    .filter((p) => p.from && p.to)
    .sort((a, b) => b.from.length - a.from.length);
  const n = normalizePath(path);
  for (const p of sorted) if (hasPathPrefix(n, p.from)) return replacePrefix(n, p.from, p.to);
  return undefined;
}

export interface PathMapOptions {
  pairs?: readonly PrefixPair[];
  /** Directory against which relative recorded paths resolve (DWARF comp_dir or a configured fallback). */
  compDir?: string;
  /** Workspace folders, used to resolve relative paths and for the trailing-component match. */
  roots?: readonly string[];
}

/**
 * A two-way index between the recorded paths of one database and local paths. Lookups of local paths
 * (what an editor shows) are O(1) after construction; the suffix fallback is computed once per miss.
 */
export class PathMap {
  private readonly toLocalMap = new Map<string, string>();
  private readonly toRecordedMap = new Map<string, string>();
  private readonly byBasename = new Map<string, string[]>();
  private readonly pairs: readonly PrefixPair[];

  constructor(recorded: readonly string[], options: PathMapOptions = {}) {
    this.pairs = options.pairs ?? [];
    for (const r of recorded) {
      const abs = resolveCompDir(r, options.compDir ?? options.roots?.[0]);
      const local = applyPrefixPairs(abs, this.pairs, 'toLocal') ?? abs;
      this.toLocalMap.set(r, local);
      if (!this.toRecordedMap.has(local)) this.toRecordedMap.set(local, r);
      const base = posix.basename(local);
      const list = this.byBasename.get(base);
      if (list) list.push(r);
      else this.byBasename.set(base, [r]);
    }
  }

  /** Where a recorded path is on this machine (may not exist: callers check and explain). */
  toLocal(recorded: string): string {
    return this.toLocalMap.get(recorded) ?? applyPrefixPairs(recorded, this.pairs, 'toLocal') ?? normalizePath(recorded);
  }

  /**
   * The recorded path for a local file, or undefined when the database has no such file. Tries the exact
   * mapped path, the reverse prefix pairs, then the recorded file sharing the longest run of trailing
   * components (at least the file name and its directory, and only when that best match is unique).
   */
  toRecorded(local: string): string | undefined {
    const n = normalizePath(local);
    const exact = this.toRecordedMap.get(n);
    if (exact !== undefined) return exact;
    const reversed = applyPrefixPairs(n, this.pairs, 'toRecorded');
    if (reversed !== undefined && this.toLocalMap.has(reversed)) return reversed;
    const candidates = this.byBasename.get(posix.basename(n));
    if (!candidates) return undefined;
    const want = n.split('/');
    let best: string | undefined;
    let bestScore = 0;
    let tie = false;
    for (const c of candidates) {
      const have = this.toLocal(c).split('/');
      let k = 0;
      while (k < want.length && k < have.length && want[want.length - 1 - k] === have[have.length - 1 - k]) k++;
      if (k > bestScore) {
        best = c;
        bestScore = k;
        tie = false;
      } else if (k === bestScore) tie = true;
    }
    return best !== undefined && !tie && bestScore >= 2 ? best : undefined;
  }
}

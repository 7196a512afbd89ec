// Groups ranked tainted pointer sites by file and function for the "Tainted pointer sites" tree: groups are
// ordered by their best-ranked site, so the most suspicious code comes first at every level.
import type { RankedSite } from './db/api';

export interface FunctionGroup {
  function: string;
  sites: RankedSite[];
  /** Dereferences over all sites of the group. */
  count: number;
  bestRank: number;
  disagreements: number;
}

export interface FileGroup {
  file: string;
  functions: FunctionGroup[];
  siteCount: number;
  count: number;
  bestRank: number;
  disagreements: number;
}

export function groupSites(sites: readonly RankedSite[]): FileGroup[] {
  const files = new Map<string, Map<string, RankedSite[]>>();
  for (const s of sites) {
    let fns = files.get(s.file);
    if (!fns) files.set(s.file, (fns = new Map()));
    const fn = s.function || '(unknown function)';
    const list = fns.get(fn);
    if (list) list.push(s);
    else fns.set(fn, [s]);
  }
  const out: FileGroup[] = [];
  for (const [file, fns] of files) {
    const functions: FunctionGroup[] = [];
    for (const [fn, list] of fns) {
      list.sort((a, b) => a.rank - b.rank);
      functions.push({
        function: fn,
        sites: list,
        count: list.reduce((n, s) => n + s.count, 0),
        bestRank: list[0].rank,
        disagreements: list.filter((s) => s.policyDisagreement).length,
      });
    }
    functions.sort((a, b) => a.bestRank - b.bestRank);
    out.push({
      file,
      functions,
      siteCount: functions.reduce((n, f) => n + f.sites.length, 0),
      count: functions.reduce((n, f) => n + f.count, 0),
      bestRank: functions[0].bestRank,
      disagreements: functions.reduce((n, f) => n + f.disagreements, 0),
    });
  }
  return out.sort((a, b) => a.bestRank - b.bestRank);
}

/** Sites by recorded file and line, for hovers. */
export function sitesByLine(sites: readonly RankedSite[]): Map<string, Map<number, RankedSite[]>> {
  const out = new Map<string, Map<number, RankedSite[]>>();
  for (const s of sites) {
    let lines = out.get(s.file);
    if (!lines) out.set(s.file, (lines = new Map()));
    const list = lines.get(s.line);
    if (list) list.push(s);
    else lines.set(s.line, [s]);
  }
  return out;
}

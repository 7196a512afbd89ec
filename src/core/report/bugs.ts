// The paper's Figure 3 from a repository's history: each bug-fix commit's changed lines, taken in the
// pre-fix source (`git diff -U0 REV^ REV`), mapped to planes through the classification database.
import { resolve, sep } from 'node:path';
import type { PlanesDatabase } from '../db/reader';
import { queryAll } from '../db/sqlite';
import { run } from '../processes';

export interface ChangedLines {
  /** Path in the pre-fix tree, relative to the repository root. */
  path: string;
  lines: number[];
}

/** Pre-fix line numbers of a `git diff -U0` output. A pure insertion counts as the line it follows. */
export function parseUnifiedDiff(diff: string): ChangedLines[] {
  const files: ChangedLines[] = [];
  let current: ChangedLines | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('--- ')) {
      const name = line.slice(4).trim();
      current = undefined;
      if (name !== '/dev/null') {
        current = { path: unquote(name).replace(/^a\//, ''), lines: [] };
        files.push(current);
      }
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line);
    if (hunk && current) {
      const start = Number(hunk[1]);
      const count = hunk[2] === undefined ? 1 : Number(hunk[2]);
      if (count === 0) {
        if (start > 0) current.lines.push(start);
      } else {
        for (let l = start; l < start + count; l++) current.lines.push(l);
      }
    }
  }
  return files.filter((f) => f.lines.length > 0);
}

function unquote(name: string): string {
  if (!name.startsWith('"')) return name;
  // git quotes unusual names C-style; octal escapes are bytes of UTF-8.
  const body = name.slice(1, -1);
  const bytesOut: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && /[0-7]{3}/.test(body.slice(i + 1, i + 4))) {
      bytesOut.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (body[i] === '\\' && i + 1 < body.length) {
      const map: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };
      bytesOut.push(...Buffer.from(map[body[i + 1]] ?? body[i + 1]));
      i++;
    } else bytesOut.push(...Buffer.from(body[i]));
  }
  return Buffer.from(bytesOut).toString('utf8');
}

export type CommitPlane = 'control' | 'data' | 'unclassified';

export interface CommitResult {
  rev: string;
  subject: string;
  /** Changed pre-fix lines by what the database says about them. */
  lines: { control: number; data: number; mixed: number; notExecuted: number; unknownFile: number };
  /** data when any changed executed line has data-plane instructions; control when all are control plane;
   * unclassified when none of its changed lines executed in the classified runs. */
  plane: CommitPlane;
  components: string[];
  functions: string[];
  files: string[];
  note?: string;
}

export interface BugsResult {
  repo: string;
  database: string;
  commits: CommitResult[];
  counts: Record<CommitPlane, number>;
  perComponent: Array<{ component: string; control: number; data: number }>;
}

async function git(repo: string, args: string[]): Promise<string> {
  const result = await run('git', ['-C', repo, ...args], { env: { ...process.env, GIT_PAGER: 'cat', LC_ALL: 'C' } });
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed in ${repo}: ${result.stderr.trim() || `exit ${result.code}`}`);
  return result.stdout;
}

export async function commitsMatching(repo: string, pattern: string): Promise<string[]> {
  const out = await git(repo, ['log', '--format=%H', `--grep=${pattern}`, '--regexp-ignore-case', '--extended-regexp', 'HEAD']);
  return out.split('\n').filter(Boolean);
}

/** Maps the database's absolute source paths to repository-relative ones (longest suffix wins). */
export class RepoFileMatcher {
  private readonly byPath: Map<string, number>;
  constructor(private readonly root: string, files: Array<{ id: number; path: string }>) {
    this.byPath = new Map(files.map((f) => [f.path, f.id]));
  }

  match(relative: string): number | undefined {
    const direct = this.byPath.get(resolve(this.root, relative));
    if (direct !== undefined) return direct;
    // The database was built elsewhere (another checkout): match on whole trailing components.
    const suffix = sep + relative.split('/').join(sep);
    const candidates = [...this.byPath.entries()].filter(([p]) => p.endsWith(suffix));
    return candidates.length === 1 ? candidates[0][1] : undefined;
  }
}

export async function mapBugFixes(db: PlanesDatabase, repo: string, revs: string[]): Promise<BugsResult> {
  const root = (await git(repo, ['rev-parse', '--show-toplevel'])).trim();
  const files = queryAll(db.sql, 'SELECT id, path FROM files').map((r) => ({ id: Number(r.id), path: String(r.path) }));
  const matcher = new RepoFileMatcher(root, files);
  const commits: CommitResult[] = [];
  const perComponent = new Map<string, { control: number; data: number }>();
  for (const rev of revs) {
    const hash = (await git(root, ['rev-parse', '--verify', `${rev}^{commit}`])).trim();
    const subject = (await git(root, ['log', '-1', '--format=%s', hash])).trim();
    const result: CommitResult = { rev: hash, subject, lines: { control: 0, data: 0, mixed: 0, notExecuted: 0, unknownFile: 0 }, plane: 'unclassified', components: [], functions: [], files: [] };
    const parents = (await git(root, ['rev-list', '--parents', '-n', '1', hash])).trim().split(' ').slice(1);
    if (parents.length === 0) {
      result.note = 'root commit: no pre-fix source';
      commits.push(result);
      continue;
    }
    const diff = await git(root, ['diff', '-U0', '--no-color', '--no-ext-diff', `${hash}^`, hash]);
    const functions = new Set<string>();
    const components = new Set<string>();
    for (const changed of parseUnifiedDiff(diff)) {
      result.files.push(changed.path);
      const fileId = matcher.match(changed.path);
      if (fileId === undefined) {
        result.lines.unknownFile += changed.lines.length;
        continue;
      }
      const wanted = new Set(changed.lines);
      const known = new Map(queryAll(db.sql, 'SELECT line, control_insns, data_insns, functions FROM lines WHERE file_id = ?', [fileId])
        .filter((r) => wanted.has(Number(r.line))).map((r) => [Number(r.line), r]));
      for (const line of changed.lines) {
        const r = known.get(line);
        if (!r) {
          result.lines.notExecuted++;
          continue;
        }
        const control = Number(r.control_insns);
        const data = Number(r.data_insns);
        if (data > 0 && control > 0) result.lines.mixed++;
        else if (data > 0) result.lines.data++;
        else result.lines.control++;
        for (const f of JSON.parse(String(r.functions)) as string[]) functions.add(f);
      }
      if (known.size > 0) {
        for (const c of queryAll(db.sql, `SELECT DISTINCT c.name, i.line FROM insns i JOIN insn_counts ic ON ic.module_id = i.module_id AND ic.offset = i.offset
            JOIN components c ON c.id = ic.component_id WHERE i.file_id = ?`, [fileId])) if (known.has(Number(c.line))) components.add(String(c.name));
      }
    }
    const executed = result.lines.control + result.lines.data + result.lines.mixed;
    result.plane = executed === 0 ? 'unclassified' : result.lines.data + result.lines.mixed > 0 ? 'data' : 'control';
    result.functions = [...functions].sort();
    result.components = [...components].sort();
    for (const c of result.components) {
      const entry = perComponent.get(c) ?? { control: 0, data: 0 };
      if (result.plane === 'control') entry.control++;
      if (result.plane === 'data') entry.data++;
      perComponent.set(c, entry);
    }
    commits.push(result);
  }
  const counts: Record<CommitPlane, number> = { control: 0, data: 0, unclassified: 0 };
  for (const c of commits) counts[c.plane]++;
  return { repo: root, database: db.path, commits, counts, perComponent: [...perComponent.entries()].map(([component, v]) => ({ component, ...v })) };
}

export function formatBugsText(r: BugsResult): string {
  const out = [`Figure 3: ${r.commits.length} bug-fix commit(s) in ${r.repo} mapped to planes through ${r.database}`,
    `  control plane ${r.counts.control}   data plane ${r.counts.data}   unclassified (changed lines never executed) ${r.counts.unclassified}`];
  for (const c of r.perComponent) out.push(`  ${c.component}: control ${c.control}, data ${c.data}`);
  out.push('', 'commit    plane         ctl data mixed not-run unknown  subject');
  for (const c of r.commits) {
    const l = c.lines;
    out.push(`${c.rev.slice(0, 8)}  ${c.plane.padEnd(12)} ${String(l.control).padStart(4)} ${String(l.data).padStart(4)} ${String(l.mixed).padStart(5)} ${String(l.notExecuted).padStart(7)} ${String(l.unknownFile).padStart(7)}  ${c.subject}${c.note ? ` (${c.note})` : ''}`);
  }
  return out.join('\n');
}

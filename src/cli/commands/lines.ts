// `planescope lines DB FILE [--json]`: the plane of every classified line of one source file.
import { resolve, sep } from 'node:path';
import type { PlanesDatabase } from '../../core/db/reader';
import { Command, UserError } from '../command';
import { parseArgs } from '../args';
import { openDatabaseForCli } from './report';

/** The database's path for FILE: the absolute path, else a unique match on trailing path components. */
export function findSourceFile(db: PlanesDatabase, file: string): string {
  const known = db.sourceFiles().map((f) => f.path);
  const absolute = resolve(file);
  if (known.includes(absolute)) return absolute;
  if (known.includes(file)) return file;
  const suffix = file.startsWith(sep) ? file : sep + file.replace(/^\.\//, '');
  const matches = known.filter((p) => p.endsWith(suffix));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new UserError(`lines: ${file} matches ${matches.length} files of the database (${matches.slice(0, 5).join(', ')}): give more of the path`);
  throw new UserError(`lines: ${file} has no classified lines in ${db.path} (it never executed in the runs, or was compiled without -g); \`planescope lines ${db.path} --list\` shows the files it has`);
}

/** Where a line's tainted data came from: its first label (a mixed one by its sources), and how many more. */
function provenance(db: PlanesDatabase, labels: number[]): string {
  if (labels.length === 0) return '';
  const chain = db.labelChain(labels[0]);
  if (chain.length === 0) return '';
  // A message label's text names the sender's origin already; a mixed one is shown by its sources.
  const sources = chain[0].file || chain[0].message ? [chain[0]] : chain.filter((step) => step.file || step.message);
  const text = sources.length ? sources.slice(0, 3).map((step) => step.text).join(', ') + (sources.length > 3 ? ', …' : '') : chain[0].text;
  return `  [from ${text}${labels.length > 1 ? ` +${labels.length - 1} more` : ''}]`;
}

export const linesCommand: Command = {
  name: 'lines',
  summary: 'per-line planes of one source file (plane, instruction counts, executions, functions)',
  help: `Usage: planescope lines APP.planes.db FILE [--json]
       planescope lines APP.planes.db --list

Prints each executed line of FILE with its plane (C control, D data, M mixed), the number of
control- and data-plane static instructions on it, its executions, the functions it belongs to,
its pointer sites and where its tainted data came from (a user-data file range or a message; --json
has every label id, for \`labelChain\`).
FILE is the absolute path recorded in DWARF or a unique trailing part of it (e.g. src/crc.c).
--list prints the source files the database knows, with their sha256 at classify time.`,
  async run(args) {
    const parsed = parseArgs(args, { flags: ['json', 'list'] }, 'lines');
    const [dbPath, file] = parsed.positional;
    const db = await openDatabaseForCli(dbPath, 'lines');
    try {
      if (parsed.flags.has('list')) {
        const files = db.sourceFiles();
        if (parsed.flags.has('json')) console.log(JSON.stringify(files, null, 2));
        else for (const f of files) console.log(`${f.sha256 ? f.sha256.slice(0, 12) : '(unreadable)'}  ${f.path}`);
        return 0;
      }
      if (!file) throw new UserError('lines: which source file? (planescope lines DB FILE, or --list)', 2);
      const path = findSourceFile(db, file);
      const lines = db.fileLines(path);
      if (parsed.flags.has('json')) {
        console.log(JSON.stringify({ file: path, sha256: db.sourceFiles().find((f) => f.path === path)?.sha256 ?? '', lines }, null, 2));
        return 0;
      }
      console.log(`${path}: ${lines.length} executed lines`);
      console.log('  line  plane  ctl  data  executions  functions');
      const letter = { control: 'C', data: 'D', mixed: 'M' } as const;
      for (const l of lines) {
        console.log(`${String(l.line).padStart(6)}  ${letter[l.plane]}     ${String(l.controlInstructions).padStart(4)} ${String(l.dataInstructions).padStart(5)}  ${String(l.executions).padStart(10)}  ${l.functions.join(', ')}${l.siteIds.length ? `  [sites ${l.siteIds.join(',')}]` : ''}${provenance(db, l.labels)}`);
      }
      return 0;
    } finally {
      db.close();
    }
  },
};

// `planescope bugs --db DB --repo PATH --fixes REV... | --grep PATTERN`: the paper's Figure 3.
import { existsSync } from 'node:fs';
import { commitsMatching, formatBugsText, mapBugFixes } from '../../core/report/bugs';
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';
import { openDatabaseForCli } from './report';

export const bugsCommand: Command = {
  name: 'bugs',
  summary: "the paper's Figure 3: bug-fix commits mapped to planes through their changed lines",
  help: `Usage: planescope bugs --db APP.planes.db --repo PATH (--fixes REV... | --grep PATTERN) [--json]

For each bug-fix commit, takes the lines it changed in the pre-fix source (git diff -U0 REV^ REV)
and looks up their planes in the database. A commit is data plane when any changed line that
executed has data-plane instructions, control plane when all of them are control plane, and
unclassified when none executed. Prints the counts per plane and the per-commit table.
--fixes takes one or more revisions (repeat the option or list them after it);
--grep selects the commits whose message matches PATTERN (extended regexp, any case).`,
  async run(args) {
    const parsed = parseArgs(args, { values: ['db', 'repo', 'grep'], repeatable: ['fixes'], flags: ['json'] }, 'bugs');
    const repo = optionValue(parsed, 'repo');
    if (!repo) throw new UserError('bugs: --repo PATH (the git repository of the program) is required', 2);
    if (!existsSync(repo)) throw new UserError(`bugs: repository ${repo} does not exist`);
    const fixes = parsed.values.get('fixes') ?? [];
    const grep = optionValue(parsed, 'grep');
    if (fixes.length > 0) fixes.push(...parsed.positional);
    else if (parsed.positional.length) throw new UserError(`bugs: unexpected ${parsed.positional[0]} (revisions go after --fixes)`, 2);
    if (!fixes.length && grep === undefined) throw new UserError('bugs: give the fix commits with --fixes REV... or select them with --grep PATTERN', 2);
    const db = await openDatabaseForCli(optionValue(parsed, 'db'), 'bugs');
    try {
      let revs = fixes;
      try {
        if (grep !== undefined) revs = [...new Set([...fixes, ...(await commitsMatching(repo, grep))])];
        if (revs.length === 0) throw new UserError(`bugs: no commit message in ${repo} matches ${JSON.stringify(grep)}`);
        const result = await mapBugFixes(db, repo, revs);
        console.log(parsed.flags.has('json') ? JSON.stringify(result, null, 2) : formatBugsText(result));
      } catch (error) {
        if (error instanceof UserError) throw error;
        throw new UserError(`bugs: ${error instanceof Error ? error.message : String(error)}`);
      }
      return 0;
    } finally {
      db.close();
    }
  },
};

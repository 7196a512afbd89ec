// `planescope report DB [--json] [--html FILE]`: the paper's Figures 1, 2, 4 and 5 per component.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseVersionError, openPlanesDatabase, PlanesDatabase } from '../../core/db/reader';
import { buildReportHtml, computeReport, formatReportText } from '../../core/report/index';
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';

/** Opens a classification database, turning a version mismatch or an unreadable file into a UserError. */
export async function openDatabaseForCli(path: string | undefined, command: string): Promise<PlanesDatabase> {
  if (!path) throw new UserError(`${command}: which classification database? (see \`planescope help ${command}\`)`, 2);
  try {
    return await openPlanesDatabase(resolve(path));
  } catch (error) {
    if (error instanceof DatabaseVersionError || error instanceof Error) throw new UserError(error.message);
    throw error;
  }
}

export const reportCommand: Command = {
  name: 'report',
  summary: "the paper's figures (code size, functions, libraries, I/O per plane) for each component",
  help: `Usage: planescope report APP.planes.db [--json] [--html FILE]

For each component (executable) of the classified program:
  Figure 1  static instructions per plane
  Figure 2  functions hosting the top 90% of executed instructions, per plane
  Figure 4  % of dynamic instructions from well-tested libraries (every shared object but the
            program's own, plus code inlined from system headers under /usr), per plane
  Figure 5  I/O bytes per plane, in and out
--json prints the figures as JSON; --html FILE writes a self-contained page with charts.`,
  async run(args) {
    const parsed = parseArgs(args, { flags: ['json'], values: ['html'] }, 'report');
    if (parsed.positional.length > 1) throw new UserError('report: one database at a time', 2);
    const db = await openDatabaseForCli(parsed.positional[0], 'report');
    try {
      const report = computeReport(db);
      const html = optionValue(parsed, 'html');
      if (html) {
        writeFileSync(html, buildReportHtml(report));
        console.error(`planescope: wrote ${html}`);
      }
      if (parsed.flags.has('json')) console.log(JSON.stringify(report, null, 2));
      else if (!html) console.log(formatReportText(report));
      return 0;
    } finally {
      db.close();
    }
  },
};

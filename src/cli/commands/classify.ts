// `planescope classify DIR... --out APP.planes.db`: taint logs of one or more runs -> the classification database.
import { classifyLogs } from '../../core/classify/classify';
import { findTaintLogs, writeFileAtomic } from '../../core/classify/inputs';
import { findRecordings } from '../../core/classify/recordings';
import { openSymbolTable } from '../../core/classify/symbols';
import { openModuleIndex } from '../../core/dwarf/moduleIndex';
import { readTaintLog } from '../../core/taintLog/reader';
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'build the classification database (*.planes.db) from the taint logs of one or more runs',
  help: `Usage: planescope classify DIR|FILE... --out APP.planes.db [--quiet] [--no-hash]

Reads every *.taintlog under the given directories (or the given log files), merges the runs
(an instruction is classified if it executed in any run, data plane if it touched user data in
any run of the primary pointer policy: insensitive when such runs exist), attributes instructions
to source lines and functions through DWARF (inline-aware), ranks the tainted pointer sites and
writes one SQLite database (schema: docs/database.md). An existing --out file is replaced.
Runs of the same program under both pointer policies (planegrind --pointer-policy=sensitive)
add policy-disagreement evidence to \`planescope sites\`. A recording directory among the inputs
(one with a manifest*.json, from \`planescope run --mode record\`) adds the size of each recorded
process's log and its mode (by-value, by-reference) to \`planescope report\`.
  --quiet    no progress output
  --no-hash  do not read the source files to record their sha256 (staleness then unknown)`,
  async run(args) {
    const parsed = parseArgs(args, { values: ['out'], flags: ['quiet', 'no-hash'] }, 'classify');
    const out = optionValue(parsed, 'out');
    if (!out) throw new UserError('classify: --out APP.planes.db is required', 2);
    if (parsed.positional.length === 0) throw new UserError('classify: give the trace directories or taint logs to classify', 2);
    let logs: string[];
    try {
      logs = findTaintLogs(parsed.positional);
    } catch (error) {
      throw new UserError(`classify: ${(error as Error).message}`);
    }
    const warn = (w: string) => console.error(`planescope: warning: ${w}`);
    const recordings = findRecordings(parsed.positional, warn);
    if (logs.length === 0) {
      throw new UserError(`classify: no *.taintlog files in ${parsed.positional.join(', ')} (` + (recordings.length
        ? `${recordings.length} recorded process(es) there: run \`planescope replay DIR --analyze\` first, which writes their taint logs)`
        : 'run `planescope replay DIR --analyze` or `planescope run --mode online` first)'));
    }
    const quiet = parsed.flags.has('quiet');
    const started = Date.now();
    if (recordings.length && !quiet) console.error(`classify: ${recordings.length} recorded process log(s) (librecord) for the report's log sizes`);
    const result = await classifyLogs(logs, { readLog: readTaintLog, openIndex: (path) => openModuleIndex(path), openSymbols: openSymbolTable }, {
      progress: quiet ? undefined : (m) => console.error(`classify: ${m}`),
      warn,
      hashSources: !parsed.flags.has('no-hash'),
      recordings,
    }).catch((error: unknown) => {
      throw new UserError(`classify: ${error instanceof Error ? error.message : String(error)}`);
    });
    writeFileAtomic(out, result.bytes);
    console.log(`${out}: ${result.runs} run(s), ${result.components} component(s), ${result.instructions} instructions ` +
      `(${result.dataInstructions} data plane), ${result.lines} source lines, ${result.sites} pointer sites, ` +
      `${(result.bytes.length / 1048576).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (result.warnings.length ? `, ${result.warnings.length} warning(s)` : ''));
    return 0;
  },
};

// `planescope run`: runs a program of the system under planegrind (`--mode online`) and writes its
// taint logs (one per process, docs/taint-log.md) into the trace directory.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { which } from '../../core/processes';
import { analysisEnv, planegrindArgs } from '../../core/analysisCommand';
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';
import { recordMode } from './replay';

const HELP = `Usage: planescope run [--mode online] --trace DIR --user-data GLOB [--user-data GLOB ...]
                      [--pointer-policy insensitive|sensitive] [--name NAME] -- CMD [ARGS...]

Runs CMD under planegrind, Planescope's Valgrind taint tool, following fork and exec: every process
writes DIR/<NAME>.<pid>.taintlog (NAME defaults to CMD's file name), a program it exec's writes
DIR/<NAME>.<pid>.exec<N>.taintlog. Bytes read or mapped from files
matching a --user-data GLOB are user data (tainted). librecord is preloaded, so taint crosses the
sockets to the other processes of the system, each started with its own \`planescope run\` into the
same DIR. Exits with CMD's exit code (128+N if a signal N killed it).

  --mode online        taint analysis while the program runs
  --mode record        (default) cheap native recording for \`planescope replay\` (docs/recording.md);
                       --record-data by-value|by-reference: user-data reads, and received message
                       payloads of >= 4 KiB, as bytes or as references (hashes; a receiver then
                       replays with its senders' recordings); record every process into one DIR
  --trace DIR          where the taint logs go (created if missing)
  --user-data GLOB     user-data files (repeatable); relative globs are relative to the current
                       directory; * and ? stay within a path component, ** crosses directories
  --pointer-policy P   insensitive (default): a load through a tainted pointer gives a clean value;
                       sensitive: it gives a tainted value
  --name NAME          log file name prefix
  --tag-peers LIST     peers on OTHER machines that run under planescope too, so taint crosses to them:
                       addresses ADDR or ADDR:PORT separated by spaces or commas, '*' for all, '!ADDR'
                       for one that does not (sets PLANESCOPE_TAG_PEERS; docs/message-tagging.md).
                       Peers on this machine are found without it.`;

export const runCommand: Command = {
  name: 'run',
  summary: 'run a program under the planegrind taint tool and write its taint logs',
  help: HELP,
  async run(args) {
    const parsed = parseArgs(args, { values: ['mode', 'trace', 'pointer-policy', 'name', 'record-data', 'tag-peers'], repeatable: ['user-data'] }, 'run');
    if (parsed.flags.has('help')) {
      console.log(HELP);
      return 0;
    }
    const tagPeers = optionValue(parsed, 'tag-peers');
    // librecord reads it in the program (both modes spawn with this process's environment)
    if (tagPeers !== undefined) process.env.PLANESCOPE_TAG_PEERS = tagPeers;
    const mode = optionValue(parsed, 'mode', 'record');
    if (mode === 'record') return recordMode(parsed);
    if (mode !== 'online') throw new UserError(`run: unknown --mode '${mode}' (use --mode online)`, 2);
    const trace = optionValue(parsed, 'trace');
    if (!trace) throw new UserError('run: --trace DIR is required (where the taint logs go)', 2);
    const userData = parsed.values.get('user-data') ?? [];
    if (!userData.length) throw new UserError("run: at least one --user-data GLOB is required (e.g. --user-data 'data/*')", 2);
    for (const g of userData) if (!g) throw new UserError('run: --user-data needs a non-empty glob', 2);
    const policy = optionValue(parsed, 'pointer-policy', 'insensitive')!;
    if (policy !== 'insensitive' && policy !== 'sensitive') {
      throw new UserError(`run: --pointer-policy must be 'insensitive' or 'sensitive', not '${policy}'`, 2);
    }
    if (parsed.positional.length) throw new UserError(`run: put the program after \`--\`: planescope run ... -- ${parsed.positional.join(' ')}`, 2);
    const [cmd, ...cmdArgs] = parsed.rest;
    if (!cmd) throw new UserError('run: no program given: planescope run --mode online --trace DIR --user-data GLOB -- CMD ARGS...', 2);
    if (!which('valgrind')) throw new UserError('run: valgrind is not installed (apt-get install valgrind)');
    if (cmd.includes('/') ? !existsSync(cmd) : !which(cmd)) throw new UserError(`run: program not found: ${cmd}`);

    const dir = resolve(trace);
    try {
      // check the nearest existing ancestor first: recursive mkdir can spin on pseudo file systems (/proc)
      const missing: string[] = [];
      let existing = dir;
      while (!existsSync(existing)) {
        missing.unshift(existing);
        existing = dirname(existing);
      }
      if (!statSync(existing).isDirectory()) throw new Error(`${existing} is not a directory`);
      for (const d of missing) mkdirSync(d);
      accessSync(dir, constants.W_OK);
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new UserError(`run: cannot write taint logs into ${dir}: ${(e as Error).message}`);
    }
    const name = (optionValue(parsed, 'name') ?? basename(cmd)).replace(/[^A-Za-z0-9._-]/g, '_');
    let env: NodeJS.ProcessEnv;
    try {
      env = analysisEnv();
    } catch (e) {
      throw new UserError(`run: ${(e as Error).message}`);
    }
    // a log of a reused pid replaces an older file of the same name: compare modification times too
    const mtime = (f: string) => statSync(join(dir, f), { throwIfNoEntry: false })?.mtimeMs;
    const before = new Map(readdirSync(dir).map((f) => [f, mtime(f)]));
    const vgArgs = planegrindArgs(
      { logPattern: `${dir}/${name}.%p.taintlog`, userData, pointerPolicy: policy, traceChildren: true },
      cmd,
      cmdArgs,
    );
    // librecord is preloaded so that taint crosses sockets to the system's other processes, each
    // started with its own `planescope run` (docs/message-tagging.md).
    const child = spawn('valgrind', vgArgs, { stdio: 'inherit', env });
    // the program gets the terminal's signals itself; we only wait for it
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
      child.on('error', rej);
      child.on('close', (c, s) => res([c, s]));
    });
    process.off('SIGINT', ignore);
    process.off('SIGTERM', ignore);
    const logs = readdirSync(dir).filter((f) => f.endsWith('.taintlog') && (!before.has(f) || before.get(f) !== mtime(f)));
    // planegrind opens its log before the program starts: no log means valgrind refused to start
    // (a bad option, an unwritable log), and it has already said why on stderr
    if (!logs.length && (signal || code !== 0)) {
      throw new UserError(`run: planegrind stopped before ${cmd} started (its message is above); no taint log was written into ${dir}`);
    }
    process.stderr.write(`planescope: ${logs.length} taint log${logs.length === 1 ? '' : 's'} in ${dir}\n`);
    if (signal) return 128 + (osConstants.signals[signal] ?? 0);
    return code ?? 1;
  },
};

// `planescope demo`: the whole pipeline on the bundled example (minidfs), printing the per-component
// summary of the paper's Figures 1 and 5.
import { resolve } from 'node:path';
import { runDemo } from '../../core/demo/demo';
import { formatSummary } from '../../core/demo/summary';
import { which } from '../../core/processes';
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';

const HELP = `Usage: planescope demo [--size BYTES] [--json] [--keep DIR]

Builds the example distributed file system (examples/minidfs) into a work directory, starts its master,
a chunk server and a client that puts and then gets a generated user-data file, each process under the
taint analysis (planegrind, with librecord carrying taint across their sockets), and prints per
component the static instructions per plane (Figure 1) and the I/O bytes per plane (Figure 5).

  --size BYTES   size of the generated user-data file (default 67108864 = 64 MB; suffixes k, m, g)
  --json         print the summary as JSON on stdout (progress still goes to stderr)
  --keep DIR     build and run in DIR and keep it (binaries, data, chunk store, taint logs in DIR/trace)`;

export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw new UserError(`demo: --size must be a byte count like 67108864 or 64m, not '${text}'`, 2);
  const n = Number(m[1]) * { '': 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  if (!Number.isSafeInteger(n) || n <= 0) throw new UserError(`demo: --size must be positive, not '${text}'`, 2);
  return n;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the bundled distributed file system under the analysis and print Figures 1 and 5',
  help: HELP,
  async run(args) {
    const parsed = parseArgs(args, { values: ['size', 'keep'], flags: ['json'] }, 'demo');
    const size = parseSize(optionValue(parsed, 'size', '67108864')!);
    const keep = optionValue(parsed, 'keep');
    for (const tool of ['valgrind', 'make', 'gcc']) {
      if (!which(tool)) throw new UserError(`demo: ${tool} is not installed (apt-get install ${tool === 'gcc' ? 'build-essential' : tool}, or npm run setup)`);
    }
    const started = Date.now();
    const abort = new AbortController();
    const onSigint = () => {
      process.stderr.write('\ndemo: interrupted, stopping every process it started...\n');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      const result = await runDemo({
        size,
        keep: keep ? resolve(keep) : undefined,
        signal: abort.signal,
        progress: (line) => process.stderr.write(`[demo ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`),
      });
      if (parsed.flags.has('json')) console.log(JSON.stringify(result, null, 2));
      else {
        console.log(formatSummary(result.components));
        console.log(`\nput ${result.seconds.put.toFixed(1)} s, get ${result.seconds.get.toFixed(1)} s, total ${result.seconds.total.toFixed(1)} s` + (result.workDir ? `; taint logs in ${result.workDir}/trace` : ''));
      }
      return 0;
    } catch (e) {
      if (abort.signal.aborted) {
        process.stderr.write('demo: interrupted; every process it started has been stopped\n');
        return 130;
      }
      throw new UserError(`demo: ${(e as Error).message}`);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  },
};

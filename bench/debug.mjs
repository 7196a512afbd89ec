// Benchmark of the `planescope` debug adapter (not a test). Measured side by side in one run, on a
// recording of the fixture (`planescope run --trace`, made here):
//   1. time to reach a breakpoint after ~100 M guest instructions replaying the recording through the
//      adapter (librecord replay under valgrind --tool=planegrind + gdbserver + vgdb + gdb/MI + DAP),
//      against the anchor: the same replay run to completion under planegrind without gdb (target:
//      ratio <= 1.2);
//   2. median latency of a Next (DAP request to stopped event; target < 300 ms), and of Step Back.
// The launch ratio includes the fixed start-up (valgrind, gdb loading symbols, the vgdb handshake); the
// Continue ratio is the run itself under the gdbserver.
// Usage: node bench/debug.mjs [--runs N] [--iterations N]   (needs `npm run build` first)
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { require as tsxRequire } from 'tsx/cjs/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const opt = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = opt('--runs', 3);
// About 6.7 guest instructions an iteration of the -O0 spin loop: 15 M iterations ~ 100 M instructions.
const iterations = opt('--iterations', 15_000_000);

const adapter = join(root, 'dist', 'debugAdapter.js');
const tool = join(root, 'dist', 'native', 'planegrind-amd64-linux');
for (const f of [adapter, tool]) if (!existsSync(f)) throw new Error(`missing ${f}: run \`npm run build\` first`);

const source = join(root, 'test', 'fixtures', 'debug', 'taintdemo.c');
const work = mkdtempSync(join(tmpdir(), 'planescope-bench-debug-'));
const program = join(work, 'taintdemo');
execFileSync('gcc', ['-g', '-O0', '-o', program, source]);
const dataFile = join(work, 'data.bin');
writeFileSync(dataFile, 'user data bytes!');
const lineOf = (marker) => readFileSync(source, 'utf8').split('\n').findIndex((l) => l.includes(`/* ${marker} */`)) + 1;

// VALGRIND_LIB and the replay's command line as the adapter makes them (loaded through tsx).
const { ensureValgrindLib } = tsxRequire(join(root, 'src', 'core', 'valgrindLib.ts'), import.meta.url);
const { replayInvocation } = tsxRequire(join(root, 'src', 'core', 'recording', 'session.ts'), import.meta.url);
const { readRecordingLog } = tsxRequire(join(root, 'src', 'core', 'recording', 'log.ts'), import.meta.url);
const valgrindLib = ensureValgrindLib();
const recording = join(work, 'rec');
execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'run', '--trace', recording, '--user-data', dataFile, '--', program, dataFile, String(iterations)], { cwd: work, stdio: 'ignore' });
const log = join(recording, readdirSync(recording).find((f) => f.endsWith('.rec')));
const summary = readRecordingLog(log);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** The replay under planegrind without gdb; `extra` valgrind options (e.g. --stop-at-support=yes). */
function anchorRun(extra = []) {
  const wrapper = { command: 'valgrind', args: ['-q', '--tool=planegrind', `--user-data=${dataFile}`, `--taint-log=${join(work, 'anchor.taintlog')}`, ...extra], env: { VALGRIND_LIB: valgrindLib } };
  const inv = replayInvocation(log, summary, join(root, 'dist', 'native', 'librecord.so'), wrapper);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(inv.command, inv.args, { env: inv.env, cwd: inv.cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`planegrind replay failed: ${r.stderr}`);
  return ms(t0);
}

async function adapterRun(measureSteps, extra = {}) {
  const dc = new DebugClient(process.execPath, adapter, 'planescope');
  dc.defaultTimeout = 600_000;
  await dc.start();
  try {
    // VS Code runs the adapter inline in the extension host, loaded already: the clock starts at the
    // launch request, after the adapter process here has started node and answered initialize.
    await dc.initializeRequest();
    const t0 = process.hrtime.bigint();
    const initialized = dc.waitForEvent('initialized');
    const launched = dc.launchRequest({ recording, process: 'taintdemo', ...extra });
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: source }, breakpoints: [{ line: lineOf('BREAK_HERE') }] });
    const stopped = dc.waitForEvent('stopped');
    const t1 = process.hrtime.bigint();
    await dc.configurationDoneRequest();
    await launched;
    await stopped;
    const toBreakpoint = ms(t0);
    const continueToBreakpoint = ms(t1);
    const frameId = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id;
    const icount = (await dc.evaluateRequest({ expression: '-exec monitor icount', frameId, context: 'repl' })).body.result.trim();
    const steps = [];
    const backs = [];
    if (measureSteps) {
      // Step into checksum(), then Next through its loop (with the view refreshed like VS Code does).
      await Promise.all([dc.stepInRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
      for (let i = 0; i < 20; i++) {
        const s0 = process.hrtime.bigint();
        await Promise.all([dc.nextRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
        const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
        const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
        await dc.variablesRequest({ variablesReference: scopes[0].variablesReference });
        steps.push(ms(s0));
      }
      for (let i = 0; i < 3; i++) {
        const s0 = process.hrtime.bigint();
        await Promise.all([dc.stepBackRequest({ threadId: 1 }), dc.waitForEvent('stopped')]);
        backs.push(ms(s0));
      }
    }
    return { toBreakpoint, continueToBreakpoint, icount, steps, backs };
  } finally {
    await dc.terminateRequest().catch(() => undefined);
    await dc.stop();
  }
}

const anchors = [];
const countingAnchors = [];
const debugs = [];
const fasts = [];
const continues = [];
let steps = [];
let backs = [];
let icount = '';
const load = [loadavg()];
for (let i = 0; i < runs; i++) {
  anchors.push(anchorRun());
  // What the debugger's planegrind pays for exact instruction counts (stop-at, step back).
  countingAnchors.push(anchorRun(['--stop-at-support=yes']));
  const r = await adapterRun(i === 0);
  // Without exact counting (Step Back then re-runs the recorded steps): what the gdb side costs alone.
  const fast = await adapterRun(false, { exactStepBack: false });
  fasts.push(fast.toBreakpoint);
  debugs.push(r.toBreakpoint);
  continues.push(r.continueToBreakpoint);
  icount = r.icount;
  if (r.steps.length) {
    steps = r.steps;
    backs = r.backs;
  }
  console.log(
    `run ${i + 1}: planegrind replay alone ${Math.round(anchors[i])} ms, with --stop-at-support=yes ${Math.round(countingAnchors[i])} ms; ` +
      `adapter launch -> breakpoint ${Math.round(debugs[i])} ms (ratio ${(debugs[i] / anchors[i]).toFixed(2)}; ${(debugs[i] / countingAnchors[i]).toFixed(2)} of the counting run), ` +
      `Continue -> breakpoint ${Math.round(continues[i])} ms; with "exactStepBack": false ${Math.round(fasts[i])} ms (ratio ${(fasts[i] / anchors[i]).toFixed(2)})`,
  );
}
load.push(loadavg());
rmSync(work, { recursive: true, force: true });

const anchor = median(anchors);
const debug = median(debugs);
const result = {
  instructionsAtBreakpoint: icount,
  runs,
  loadAverage: load.map((l) => l.map((x) => Number(x.toFixed(2)))),
  planegrindWithoutGdbMs: Math.round(anchor),
  planegrindCountingMs: Math.round(median(countingAnchors)),
  adapterToBreakpointMs: Math.round(debug),
  // Runs are paired (anchor, then adapter, one after the other): the median of the per-run ratios.
  ratio: median(debugs.map((d, i) => d / anchors[i])),
  ratios: debugs.map((d, i) => Number((d / anchors[i]).toFixed(3))),
  ratioToCountingRun: median(debugs.map((d, i) => d / countingAnchors[i])),
  inexactToBreakpointMs: Math.round(median(fasts)),
  inexactRatio: median(fasts.map((d, i) => d / anchors[i])),
  continueToBreakpointMs: Math.round(median(continues)),
  continueRatio: Number(median(continues.map((c, i) => c / anchors[i])).toFixed(3)),
  ratioTarget: 1.2,
  medianNextMs: Number(median(steps).toFixed(1)),
  nexts: steps.map((x) => Math.round(x)),
  nextTargetMs: 300,
  medianStepBackMs: backs.length ? Math.round(median(backs)) : null,
};
console.log(`planescope debug adapter replaying a recording, breakpoint after ${icount} (median of ${runs}; load average ${load.map((l) => l.map((x) => x.toFixed(2)).join(' ')).join(' -> ')})`);
console.log(`  planegrind replay without gdb, whole run : ${result.planegrindWithoutGdbMs} ms   (anchor)`);
console.log(`  the same with --stop-at-support=yes      : ${result.planegrindCountingMs} ms`);
for (const k of ['ratio', 'ratioToCountingRun', 'inexactRatio']) result[k] = Number(result[k].toFixed(3));
console.log(`  adapter: launch -> breakpoint            : ${result.adapterToBreakpointMs} ms   ratio ${result.ratio} (target <= 1.2); ${result.ratioToCountingRun} of the counting run`);
console.log(`  the same, "exactStepBack": false         : ${result.inexactToBreakpointMs} ms   ratio ${result.inexactRatio}`);
console.log(`  adapter: Continue -> breakpoint          : ${result.continueToBreakpointMs} ms   ratio ${result.continueRatio} (the run itself, without valgrind/gdb start-up)`);
console.log(`  Next (request -> stopped + stack + locals), median of ${steps.length}: ${result.medianNextMs} ms (target < 300)`);
console.log(`  Step Back (restart + stop-at), median of ${backs.length}: ${result.medianStepBackMs} ms`);
console.log(JSON.stringify(result));

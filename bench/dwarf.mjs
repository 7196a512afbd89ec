// Benchmark of the DWARF layer against binutils and LLVM on SQLite built with -g -O2, side by side in
// one run. Not a test. Usage: node bench/dwarf.mjs [--runs N]   (needs gcc, binutils, npm and a built
// dist/; the first run fetches better-sqlite3@12 with `npm pack` into ~/.cache/planescope/bench and
// compiles SQLite's amalgamation once).
//
// It reports, each over N runs (6N inside the process, where a run takes milliseconds and one
// disturbed run moves a median of few; median and range; wall and CPU time, CPU
// being steadier on a loaded machine):
//  1. what a user waits for: `planescope dwarf lines LIB >/dev/null` vs `objdump --dwarf=decodedline`
//     and `llvm-dwarfdump --debug-line`, `planescope dwarf addr2line` vs `addr2line -f -i` fed every
//     address, outputs checked byte for byte; the floor is node's own start-up (`node -e 0`).
//  2. where the CLI's time goes, phase by phase, in fresh processes (first-run costs included).
//  3. the same work inside a long-lived process (the extension), after warm-up.
//  4. peak memory.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'planescope', 'bench');
const cli = join(root, 'dist', 'cli.js');
const require = createRequire(import.meta.url);

function which(cmd) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' }).stdout.trim() || undefined;
}

/** SQLite's amalgamation from the better-sqlite3 package, built once as a shared library. */
function sqliteLibrary() {
  mkdirSync(cacheDir, { recursive: true });
  const lib = join(cacheDir, 'libsqlite3-g-O2.so');
  if (existsSync(lib)) return lib;
  const source = join(cacheDir, 'package', 'deps', 'sqlite3', 'sqlite3.c');
  if (!existsSync(source)) {
    let tgz = readdirSync(cacheDir).find((f) => /^better-sqlite3-12\..*\.tgz$/.test(f));
    if (!tgz) {
      console.error('bench: fetching better-sqlite3@12 (npm pack) for deps/sqlite3/sqlite3.c ...');
      execFileSync('npm', ['pack', 'better-sqlite3@12', '--pack-destination', cacheDir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
      tgz = readdirSync(cacheDir).find((f) => /^better-sqlite3-12\..*\.tgz$/.test(f));
    }
    execFileSync('tar', ['-xzf', join(cacheDir, tgz), '-C', cacheDir, 'package/deps/sqlite3/sqlite3.c', 'package/deps/sqlite3/sqlite3.h']);
  }
  console.error('bench: compiling sqlite3.c with gcc -g -O2 (once, a few minutes) ...');
  execFileSync('gcc', ['-g', '-O2', '-fPIC', '-shared', '-o', `${lib}.tmp`, source, '-lpthread', '-lm'], { stdio: 'inherit' });
  execFileSync('mv', [`${lib}.tmp`, lib]);
  return lib;
}

/**
 * The DWARF layer as the CLI and the extension run it: one esbuild bundle (under a per-file
 * transpiler such as tsx every imported constant is a getter call, which costs lookups 20%). It
 * lives under wasm/target/ (ignored by git) so that it finds dist/ as the bundles do.
 */
function bundleDwarfLayer() {
  const out = join(root, 'wasm', 'target', 'bench-dwarf.cjs');
  const contents = ['core/dwarf/moduleIndex', 'core/dwarf/decodedLine', 'core/dwarf/wasmResult', 'core/dwarfWasm', 'core/elf/elfReader'].map((m) => `export * from './src/${m}';`).join('\n');
  require('esbuild').buildSync({ stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'bench-dwarf.ts' }, bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'warning' });
  return out;
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const wallMs = () => Number(process.hrtime.bigint()) / 1e6;

// ---- 2. the phases of `dwarf lines` / `dwarf addr2line`, in a fresh process (child mode) ----
if (process.argv[2] === '--phases') {
  const [, , , lib, tiering] = process.argv;
  const { instantiateDwarfWasm, preferBaselineWasm, ElfReader, ModuleData, SECTION_IDS, copySections } = require(process.argv[5]);
  if (tiering === 'baseline') preferBaselineWasm();
  const phases = [];
  let c = cpuMs();
  let w = wallMs();
  const mark = (name) => {
    phases.push([name, cpuMs() - c, wallMs() - w]);
    c = cpuMs();
    w = wallMs();
  };
  // The steps of openModuleIndex/buildModuleData, timed one by one.
  const wasm = instantiateDwarfWasm();
  mark('wasm read + compile + instantiate');
  const reader = new ElfReader(lib);
  const sections = new Map();
  for (const name of Object.keys(SECTION_IDS)) {
    const s = reader.elf.section(name);
    if (s && s.size) sections.set(name, reader.source(s));
  }
  reader.elf.buildId();
  mark('ELF headers, build-id');
  const { table, count, prefix, fill } = copySections(wasm, sections);
  mark('debug sections for the line pass into wasm memory');
  if (wasm.ps_build_index(table, count, prefix) !== 0) throw new Error('ps_build_index failed');
  reader.close(); // as openModuleIndex does: the function pass reopens the file
  mark('line pass (wasm: line programs, file table)');
  const data = new ModuleData(wasm, fill);
  mark('typed-array views of the result');
  const out = openSync('/dev/null', 'w');
  data.writeText((chunk) => writeSync(out, chunk)); // as the CLI does: straight from wasm memory
  closeSync(out);
  mark('objdump text (wasm) written to /dev/null');
  data.buildAddressMap();
  mark('address -> row map (wasm, lookups only)');
  fill();
  mark('rest of .debug_info, range lists into wasm memory');
  data.buildFunctions();
  mark('function pass (wasm, lookups only)');
  console.log(JSON.stringify({ phases, rows: data.rowData.length / 3 }));
  process.exit(0);
}

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const dwarfBundle = bundleDwarfLayer();
if (!existsSync(cli)) throw new Error(`missing ${cli}: run \`npm run build\` first`);
const lib = sqliteLibrary();
// The same library with zlib-compressed debug sections (SHF_COMPRESSED), for the cost of inflating.
const libGz = lib.replace(/\.so$/, '-gz.so');
if (!existsSync(libGz)) execFileSync('objcopy', ['--compress-debug-sections=zlib', lib, libGz]);
const load0 = loadavg()[0];

/** Runs a command `runs` times with output to /dev/null: wall/CPU (ms) of each run, peak RSS (KiB). */
function timeTool(args, { stdinFile, env } = {}) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const devnull = openSync('/dev/null', 'w');
    const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
    // bash's `time` reports CPU to the millisecond (GNU time to 10 ms); GNU time gives the peak RSS.
    const script = 'TIMEFORMAT="%3R %3U %3S"; time /usr/bin/time -f "%M" "$@"';
    const r = spawnSync('bash', ['-c', script, 'bash', ...args], { stdio: [stdin, devnull, 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
    closeSync(devnull);
    if (typeof stdin === 'number') closeSync(stdin);
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    const [peak, times] = r.stderr.trim().split('\n').slice(-2);
    const [real, user, sys] = times.split(' ').map(Number);
    samples.push({ wall: real * 1000, cpu: (user + sys) * 1000, peak: Number(peak) });
  }
  return samples;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const spread = (xs, digits = 0) => `${median(xs).toFixed(digits)} ms [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`;
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
const summary = (s) => ({ wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), peak: Math.max(...s.map((x) => x.peak)), text: `wall ${spread(s.map((x) => x.wall))}  cpu ${spread(s.map((x) => x.cpu))}` });

// ---- 1. end to end ----
const rowsText = execFileSync('node', [cli, 'dwarf', 'info', lib, '--json'], { encoding: 'utf8' });
const rows = JSON.parse(rowsText).rows;
const ours = execFileSync('node', [cli, 'dwarf', 'lines', lib], { maxBuffer: 1 << 30 });
const theirs = execFileSync('objdump', ['--dwarf=decodedline', lib], { maxBuffer: 1 << 30 });
const identical = Buffer.compare(ours, theirs) === 0;

const { openModuleIndex, clearModuleIndexCache, writeDecodedLines } = require(dwarfBundle);
let index = openModuleIndex(lib); // also the warm-up of section 3 (compiles the .wasm once)
const addrSet = new Set();
for (let r = 0; r < index.rowCount; r++) if (!(index.rowFlags(r) & 2)) addrSet.add(index.rowAddress(r));
const addrs = Float64Array.from(addrSet);
const addrFile = join(cacheDir, 'addresses.txt');
writeFileSync(addrFile, Array.from(addrs, (a) => `0x${a.toString(16)}`).join('\n') + '\n');
const a2lOurs = execFileSync('node', [cli, 'dwarf', 'addr2line', lib], { input: readFileSync(addrFile), maxBuffer: 1 << 30 });
const a2lTheirs = execFileSync('addr2line', ['-f', '-i', '-e', lib], { input: readFileSync(addrFile), maxBuffer: 1 << 30 });
const a2lIdentical = Buffer.compare(a2lOurs, a2lTheirs) === 0;

const nodeBare = summary(timeTool(['node', '-e', '0']));
const nodeBundle = summary(timeTool(['node', cli, '--version']));
const nodeDwarfBundle = summary(timeTool(['node', cli, 'dwarf', '--help']));
const cliLines = summary(timeTool(['node', cli, 'dwarf', 'lines', lib]));
const cliLinesGz = summary(timeTool(['node', cli, 'dwarf', 'lines', libGz]));
const objdumpGz = summary(timeTool(['objdump', '--dwarf=decodedline', libGz]));
const cliLinesOpt = summary(timeTool(['node', cli, 'dwarf', 'lines', lib], { env: { PLANESCOPE_WASM_TIERING: 'optimize' } }));
const objdump = summary(timeTool(['objdump', '--dwarf=decodedline', lib]));
const dwarfdumpBin = which('llvm-dwarfdump') ?? which('llvm-dwarfdump-14');
const dwarfdump = dwarfdumpBin ? summary(timeTool([dwarfdumpBin, '--debug-line', lib])) : undefined;
const cliA2l = summary(timeTool(['node', cli, 'dwarf', 'addr2line', lib], { stdinFile: addrFile }));
const a2l = summary(timeTool(['addr2line', '-f', '-i', '-e', lib], { stdinFile: addrFile }));

// ---- 2. phases in fresh processes ----
function phases(tiering) {
  const all = [];
  for (let i = 0; i < Math.max(3, runs); i++) {
    const r = spawnSync('node', [fileURLToPath(import.meta.url), '--phases', lib, tiering, dwarfBundle], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`phase run failed: ${r.stderr}`);
    all.push(JSON.parse(r.stdout).phases);
  }
  return all[0].map(([name], k) => [name, median(all.map((p) => p[k][1])), median(all.map((p) => p[k][2]))]);
}
const phasesBaseline = phases('baseline');
const phasesOptimize = phases('optimize');

// ---- 3. in a long-lived process, after warm-up ----
// A full GC before each timed run, then a short pause, so that one run's dropped index (its wasm
// memory, unmapped by V8's background threads) is not collected, and billed, inside the next.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const pause = new Int32Array(new SharedArrayBuffer(4));
const inProcessRuns = 6 * runs;
function inProcess(work) {
  const cpu = [];
  const wall = [];
  // Warm-up: V8 optimises what this workload runs (the JS loops too, which need a few runs).
  for (let i = 0; i < 3; i++) {
    clearModuleIndexCache();
    work();
  }
  for (let i = 0; i < inProcessRuns; i++) {
    clearModuleIndexCache();
    gc();
    Atomics.wait(pause, 0, 0, 20);
    const c0 = cpuMs();
    const w0 = wallMs();
    work();
    cpu.push(cpuMs() - c0);
    wall.push(wallMs() - w0);
  }
  return { cpu: median(cpu), wall: median(wall), text: `wall ${spread(wall, 1)}  cpu ${spread(cpu, 1)}` };
}
// A walk of every row (address, line, file) straight over the typed arrays, as bulk consumers do,
// and the same through the per-row accessors.
const rowWalk = (idx) => {
  const { rowLo, rowAddr, rowData } = idx.data;
  let check = 0;
  if (rowLo.length) for (let r = 0; r < idx.rowCount; r++) check += rowLo[r] + rowData[r * 3 + 1] + rowData[r * 3];
  else for (let r = 0; r < idx.rowCount; r++) check += rowAddr[r] + rowData[r * 3 + 1] + rowData[r * 3];
  if (check < 0) throw new Error('unreachable');
};
const rowWalkAccessors = (idx) => {
  let check = 0;
  for (let r = 0; r < idx.rowCount; r++) check += idx.rowAddress(r) + idx.rowLine(r) + idx.rowFile(r);
  if (check < 0) throw new Error('unreachable');
};
const lineOpen = inProcess(() => (index = openModuleIndex(lib)));
const lineIndex = inProcess(() => rowWalk((index = openModuleIndex(lib))));
const lineIndexAccessors = inProcess(() => rowWalkAccessors(openModuleIndex(lib)));
const lineIndexGz = inProcess(() => rowWalk(openModuleIndex(libGz)));
const lineIndexGimli = inProcess(() => rowWalk(openModuleIndex(lib, { lineDecoder: 'gimli' })));
let textBytes = 0;
const lineText = inProcess(() => {
  textBytes = 0;
  writeDecodedLines(openModuleIndex(lib), (c) => (textBytes += c.length));
});
const fullIndex = inProcess(() => {
  const idx = openModuleIndex(lib);
  idx.rowAt(0);
  idx.buildFunctions();
});
index = openModuleIndex(lib);
index.rowAt(0);
index.buildFunctions();
let frames = 0;
const lookups = inProcess(() => {
  frames = 0;
  for (let k = 0; k < addrs.length; k++) frames += index.lookup(addrs[k]).frames.length;
});
const fast = inProcess(() => {
  let acc = 0;
  for (let k = 0; k < addrs.length; k++) acc += index.rowAt(addrs[k]) + index.functionAt(addrs[k]);
  if (acc === -1) throw new Error('unreachable');
});
const ourPeakKiB = process.resourceUsage().maxRSS;

// ---- report ----
const ratio = (theirMs, ourMs) => `${(theirMs / ourMs).toFixed(2)}x`;
const line = (label, s, extra = '') => console.log(`  ${label.padEnd(44)} ${s.text}${extra}`);
console.log(`DWARF benchmark: ${lib}`);
console.log(`  ${rows} line rows, ${index.cuCount} unit(s), ${addrs.length} distinct addresses (${frames} frames incl. inlined); ${runs} runs each (${inProcessRuns} in-process), median [range]`);
console.log(`  load average ${load0.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (2 cores shared: wall times are noisy, CPU times less so)`);
console.log('');
console.log('1. what a user waits for (whole processes, output to /dev/null)');
line('node -e 0 (node start-up alone)', nodeBare);
line('node dist/cli.js --version (+ bundle load)', nodeBundle);
line('node dist/cli.js dwarf --help (+ dwarf bundle)', nodeDwarfBundle);
line('planescope dwarf lines', cliLines, `  -> ${fmt(rows / (cliLines.wall / 1000))} rows/s`);
line('  same, wasm on TurboFan (default V8 tiering)', cliLinesOpt);
line('objdump --dwarf=decodedline', objdump, `  -> ${fmt(rows / (objdump.wall / 1000))} rows/s`);
line('planescope dwarf lines, -gz copy (zlib)', cliLinesGz, `  vs objdump on it: ${ratio(objdumpGz.cpu, cliLinesGz.cpu)} CPU, ${ratio(objdumpGz.wall, cliLinesGz.wall)} wall`);
line('objdump --dwarf=decodedline, -gz copy', objdumpGz);
if (dwarfdump) line('llvm-dwarfdump --debug-line', dwarfdump, `  -> ${fmt(rows / (dwarfdump.wall / 1000))} rows/s`);
console.log(`  => planescope dwarf lines vs objdump: ${ratio(objdump.wall, cliLines.wall)} wall, ${ratio(objdump.cpu, cliLines.cpu)} CPU (target >= 5x); output ${identical ? 'byte-identical' : 'DIFFERENT'} (${ours.length} bytes)`);
if (dwarfdump) console.log(`     vs llvm-dwarfdump: ${ratio(dwarfdump.wall, cliLines.wall)} wall, ${ratio(dwarfdump.cpu, cliLines.cpu)} CPU`);
console.log(`     5x objdump would leave ${(objdump.cpu / 5).toFixed(0)} ms of CPU (${(objdump.wall / 5).toFixed(0)} ms wall) for the whole CLI; node -e 0 alone takes ${nodeBare.cpu.toFixed(0)} ms (${nodeBare.wall.toFixed(0)} ms wall): no node CLI can reach 5x here`);
line('planescope dwarf addr2line (stdin)', cliA2l, `  -> ${fmt(addrs.length / (cliA2l.wall / 1000))} lookups/s`);
line('addr2line -f -i (stdin)', a2l, `  -> ${fmt(addrs.length / (a2l.wall / 1000))} lookups/s`);
console.log(`  => planescope dwarf addr2line vs addr2line: ${ratio(a2l.wall, cliA2l.wall)} wall, ${ratio(a2l.cpu, cliA2l.cpu)} CPU; output ${a2lIdentical ? 'byte-identical' : 'DIFFERENT'}`);
console.log('');
console.log('2. where `planescope dwarf lines` spends its time (fresh processes; CPU ms, wall ms; medians)');
console.log(`  ${'phase'.padEnd(56)} ${'baseline (CLI)'.padStart(16)} ${'TurboFan'.padStart(16)}`);
phasesBaseline.forEach(([name, c, w], k) => {
  const [, c2, w2] = phasesOptimize[k];
  console.log(`  ${name.padEnd(56)} ${`${c.toFixed(1)} / ${w.toFixed(1)}`.padStart(16)} ${`${c2.toFixed(1)} / ${w2.toFixed(1)}`.padStart(16)}`);
});
console.log(`  ${'node start-up (node -e 0)'.padEnd(56)} ${`${nodeBare.cpu.toFixed(0)} / ${nodeBare.wall.toFixed(0)}`.padStart(16)}`);
console.log(`  ${'dwarf bundle load (dwarf --help minus node -e 0, medians)'.padEnd(56)} ${`${(nodeDwarfBundle.cpu - nodeBare.cpu).toFixed(0)} / ${(nodeDwarfBundle.wall - nodeBare.wall).toFixed(0)}`.padStart(16)}`);
console.log(`  ${'(all commands: --version minus node -e 0, medians)'.padEnd(56)} ${`${(nodeBundle.cpu - nodeBare.cpu).toFixed(0)} / ${(nodeBundle.wall - nodeBare.wall).toFixed(0)}`.padStart(16)}`);
console.log('');
console.log('3. inside a long-lived process (the extension), .wasm compiled and optimised by earlier use');
line('line index build alone (openModuleIndex)', lineOpen, `  -> ${fmt(rows / (lineOpen.wall / 1000))} rows/s = ${ratio(objdump.wall, lineOpen.wall)} objdump wall, ${ratio(objdump.cpu, lineOpen.cpu)} CPU`);
line('line index (openModuleIndex + walk of every row)', lineIndex, `  -> ${fmt(rows / (lineIndex.wall / 1000))} rows/s = ${ratio(objdump.wall, lineIndex.wall)} objdump wall, ${ratio(objdump.cpu, lineIndex.cpu)} CPU`);
line('  same, the walk through rowAddress/rowLine/rowFile', lineIndexAccessors, `  -> ${fmt(rows / (lineIndexAccessors.wall / 1000))} rows/s = ${ratio(objdump.wall, lineIndexAccessors.wall)} objdump wall, ${ratio(objdump.cpu, lineIndexAccessors.cpu)} CPU`);
line('  same, -gz copy (sections inflated first)', lineIndexGz, `  -> ${fmt(rows / (lineIndexGz.wall / 1000))} rows/s = ${ratio(objdumpGz.cpu, lineIndexGz.cpu)} objdump's CPU on it`);
line('  same, line programs decoded by gimli alone', lineIndexGimli, `  -> ${fmt(rows / (lineIndexGimli.wall / 1000))} rows/s`);
line('line index + objdump text (rendered, not written)', lineText, `  -> ${fmt(rows / (lineText.wall / 1000))} rows/s = ${ratio(objdump.wall, lineText.wall)} objdump wall, ${ratio(objdump.cpu, lineText.cpu)} CPU (${textBytes} bytes)`);
line('full index (+ address map + functions)', fullIndex, `  -> ${fmt(rows / (fullIndex.wall / 1000))} rows/s = ${ratio(objdump.wall, fullIndex.wall)} objdump wall, ${ratio(objdump.cpu, fullIndex.cpu)} CPU`);
line('lookup() of every address (AddressInfo)', lookups, `  -> ${fmt(addrs.length / (lookups.wall / 1000))} lookups/s = ${ratio(a2l.wall, lookups.wall)} addr2line wall, ${ratio(a2l.cpu, lookups.cpu)} CPU (target >= 100x); with the full index build ${ratio(a2l.wall, lookups.wall + fullIndex.wall)} wall, ${ratio(a2l.cpu, lookups.cpu + fullIndex.cpu)} CPU`);
line('rowAt() + functionAt() of every address', fast, `  -> ${fmt(addrs.length / (fast.wall / 1000))} lookups/s = ${ratio(a2l.wall, fast.wall)} addr2line wall, ${ratio(a2l.cpu, fast.cpu)} CPU`);
console.log('  (objdump and addr2line are whole processes here; their own start-up is about 1 ms)');
console.log('');
console.log('4. peak memory (RSS)');
console.log(`  planescope dwarf lines ${(cliLines.peak / 1024).toFixed(0)} MiB, dwarf addr2line ${(cliA2l.peak / 1024).toFixed(0)} MiB, node -e 0 ${(nodeBare.peak / 1024).toFixed(0)} MiB; this benchmark process ${(ourPeakKiB / 1024).toFixed(0)} MiB`);
console.log(`  objdump ${(objdump.peak / 1024).toFixed(0)} MiB, addr2line ${(a2l.peak / 1024).toFixed(0)} MiB${dwarfdump ? `, llvm-dwarfdump ${(dwarfdump.peak / 1024).toFixed(0)} MiB` : ''}`);

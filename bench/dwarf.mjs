// Benchmark of the DWARF layer against binutils and LLVM on SQLite built with -g -O2, side by side in
// one run: line rows/s (our index build included) vs `objdump --dwarf=decodedline` and
// `llvm-dwarfdump --debug-line`; address lookups/s vs `addr2line -f -i` fed every address; peak memory.
// Not a test. Usage: node bench/dwarf.mjs [--keep-going]   (needs gcc, binutils, npm; first run
// fetches better-sqlite3@12 with `npm pack` into ~/.cache/planescope/bench and compiles SQLite once).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'planescope', 'bench');

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

/** Wall seconds, CPU seconds and peak RSS (KiB, from GNU time) of a tool run, output discarded. */
function timeTool(args, stdinFile) {
  const devnull = openSync('/dev/null', 'w');
  const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const started = process.hrtime.bigint();
  const r = timeBin
    ? spawnSync(timeBin, ['-f', '%U %S %M', ...args], { stdio: [stdin, devnull, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(args[0], args.slice(1), { stdio: [stdin, devnull, 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(devnull);
  if (typeof stdin === 'number') closeSync(stdin);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const [user, sys, peak] = timeBin ? r.stderr.trim().split('\n').pop().split(' ').map(Number) : [NaN, NaN, NaN];
  return { seconds, cpu: user + sys, peakKiB: peak };
}

function rate(n, s) {
  return n / s;
}
function fmt(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0);
}

const lib = sqliteLibrary();
register();
const require = createRequire(import.meta.url);
const { openModuleIndex, clearModuleIndexCache } = require(join(root, 'src/core/dwarf/moduleIndex.ts'));
const { writeDecodedLines } = require(join(root, 'src/core/dwarf/decodedLine.ts'));

// Warm-up (compiles the .wasm once, as a long-lived extension would have done).
openModuleIndex(lib);

// 1. Line rows: index build + a walk over every row (address, file, line, column, flags).
const runs = 5;
let best = Infinity;
let bestCpu = Infinity;
let rows = 0;
let index;
for (let i = 0; i < runs; i++) {
  clearModuleIndexCache();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  index = openModuleIndex(lib);
  const { rowAddr, rowData } = index.data;
  let check = 0;
  for (let r = 0; r < index.rowCount; r++) check += rowAddr[r] + rowData[r * 5 + 1] + rowData[r * 5];
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (check < 0) throw new Error('unreachable');
  const c = process.cpuUsage(c0);
  bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  best = Math.min(best, s);
  rows = index.rowCount;
}
// The same plus rendering objdump's text (what objdump itself spends its time on).
let bestText = Infinity;
for (let i = 0; i < 3; i++) {
  clearModuleIndexCache();
  const t0 = process.hrtime.bigint();
  const idx = openModuleIndex(lib);
  let chars = 0;
  writeDecodedLines(idx, (c) => (chars += c.length));
  bestText = Math.min(bestText, Number(process.hrtime.bigint() - t0) / 1e9);
}

const objdump = timeTool(['objdump', '--dwarf=decodedline', lib]);
const dwarfdumpBin = which('llvm-dwarfdump') ?? which('llvm-dwarfdump-14');
const dwarfdump = dwarfdumpBin ? timeTool([dwarfdumpBin, '--debug-line', lib]) : undefined;

// 2. Lookups: every distinct address of the line table.
const addrSet = new Set();
for (let r = 0; r < rows; r++) if (!(index.rowFlags(r) & 2)) addrSet.add(index.rowAddress(r));
const addrs = Float64Array.from(addrSet);
const addrFile = join(cacheDir, 'addresses.txt');
writeFileSync(addrFile, Array.from(addrs, (a) => `0x${a.toString(16)}`).join('\n') + '\n');

let bestLookup = Infinity;
let frames = 0;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  frames = 0;
  for (let k = 0; k < addrs.length; k++) frames += index.lookup(addrs[k]).frames.length;
  bestLookup = Math.min(bestLookup, Number(process.hrtime.bigint() - t0) / 1e9);
}
// The allocation-free path (row + innermost function) classification uses for bulk attribution.
let bestFast = Infinity;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  let acc = 0;
  for (let k = 0; k < addrs.length; k++) acc += index.rowAt(addrs[k]) + index.functionAt(addrs[k]);
  if (acc === -1) throw new Error('unreachable');
  bestFast = Math.min(bestFast, Number(process.hrtime.bigint() - t0) / 1e9);
}
const ourPeakKiB = process.resourceUsage().maxRSS;

// Diagnostic, not a result: the same decoder on wasm memory that was touched beforehand, which shows
// how much of the build is first-touch page faults (very expensive in sandboxed VMs).
const { instantiateDwarfWasm } = require(join(root, 'src/core/dwarfWasm.ts'));
const { SECTION_IDS } = require(join(root, 'src/core/dwarf/wasmResult.ts'));
const { ElfFile } = require(join(root, 'src/core/elf/elfFile.ts'));
const elf = new ElfFile(lib, (await import('node:fs')).readFileSync(lib));
const coldWarm = {};
for (const warm of [false, true, false, true]) {
  const w = instantiateDwarfWasm();
  if (warm) {
    const p = w.ps_alloc(64 << 20);
    new Uint8Array(w.memory.buffer, p, 64 << 20).fill(1);
    w.ps_free(p, 64 << 20);
  }
  const triples = [];
  for (const name of Object.keys(SECTION_IDS)) {
    const b = elf.debugSection(name);
    if (!b) continue;
    const p = w.ps_alloc(b.length);
    new Uint8Array(w.memory.buffer, p, b.length).set(b);
    triples.push(SECTION_IDS[name], p, b.length);
  }
  const table = w.ps_alloc(triples.length * 4);
  new Uint32Array(w.memory.buffer, table, triples.length).set(triples);
  const c0 = process.cpuUsage();
  w.ps_build_index(table, triples.length / 3);
  const c = process.cpuUsage(c0);
  coldWarm[warm] = Math.min(coldWarm[warm] ?? Infinity, (c.user + c.system) / 1e6);
}
const addr2line = timeTool(['addr2line', '-f', '-i', '-e', lib], addrFile);

const ours = rate(rows, best);
const oursCpu = rate(rows, bestCpu);
console.log(`DWARF benchmark: ${lib}   (load average ${(await import('node:os')).loadavg()[0].toFixed(1)})`);
console.log(`  ${rows} line rows, ${index.cuCount} units, ${addrs.length} distinct addresses (${frames} frames incl. inlined)`);
console.log('');
console.log('line rows/s (index build included; wall time, and CPU time which a loaded machine distorts less)');
console.log(`  planescope (index + row walk)        ${fmt(ours).padStart(9)} rows/s   ${(best * 1000).toFixed(0)} ms   cpu ${fmt(oursCpu)} rows/s`);
console.log(`  planescope (index + objdump text)    ${fmt(rate(rows, bestText)).padStart(9)} rows/s   ${(bestText * 1000).toFixed(0)} ms`);
console.log(`  objdump --dwarf=decodedline          ${fmt(rate(rows, objdump.seconds)).padStart(9)} rows/s   ${(objdump.seconds * 1000).toFixed(0)} ms   -> ratio ${(ours / rate(rows, objdump.seconds)).toFixed(1)}x (text: ${(rate(rows, bestText) / rate(rows, objdump.seconds)).toFixed(1)}x; target >= 5x); cpu ${fmt(rate(rows, objdump.cpu))} rows/s -> cpu ratio ${(oursCpu / rate(rows, objdump.cpu)).toFixed(1)}x`);
if (dwarfdump) console.log(`  llvm-dwarfdump --debug-line          ${fmt(rate(rows, dwarfdump.seconds)).padStart(9)} rows/s   ${(dwarfdump.seconds * 1000).toFixed(0)} ms   -> ratio ${(ours / rate(rows, dwarfdump.seconds)).toFixed(1)}x; cpu ratio ${(oursCpu / rate(rows, dwarfdump.cpu)).toFixed(1)}x`);
console.log('');
console.log('address lookups/s');
const a2l = rate(addrs.length, addr2line.seconds);
const lk = rate(addrs.length, bestLookup);
const lkBuild = rate(addrs.length, bestLookup + best);
console.log(`  planescope lookup() (AddressInfo)    ${fmt(lk).padStart(9)} /s   -> ratio ${(lk / a2l).toFixed(0)}x (target >= 100x); with index build ${(lkBuild / a2l).toFixed(0)}x`);
console.log(`  planescope rowAt()+functionAt()      ${fmt(rate(addrs.length, bestFast)).padStart(9)} /s   -> ratio ${(rate(addrs.length, bestFast) / a2l).toFixed(0)}x`);
console.log(`  addr2line -f -i (all on stdin)       ${fmt(a2l).padStart(9)} /s   ${(addr2line.seconds * 1000).toFixed(0)} ms`);
console.log('');
console.log('diagnostic: the .wasm build alone, CPU time');
console.log(`  fresh memory ${(coldWarm.false * 1000).toFixed(0)} ms (${fmt(rate(rows, coldWarm.false))} rows/s), pre-touched memory ${(coldWarm.true * 1000).toFixed(0)} ms (${fmt(rate(rows, coldWarm.true))} rows/s = ${(rate(rows, coldWarm.true) / rate(rows, objdump.cpu)).toFixed(1)}x objdump's CPU rate)`);
console.log('');
console.log('peak memory (RSS)');
console.log(`  planescope (node process, all of the above)  ${(ourPeakKiB / 1024).toFixed(0)} MiB`);
console.log(`  objdump                                      ${(objdump.peakKiB / 1024).toFixed(0)} MiB`);
if (dwarfdump) console.log(`  llvm-dwarfdump                               ${(dwarfdump.peakKiB / 1024).toFixed(0)} MiB`);
console.log(`  addr2line                                    ${(addr2line.peakKiB / 1024).toFixed(0)} MiB`);

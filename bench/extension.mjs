// Benchmarks the extension's hot paths (DESIGN §8 style: ratios against anchors measured in the same run):
//  1. decorating a 20,000-line file backed by 100,000 instruction rows: the database query (sql.js, first
//     open of the file), the per-file index, the per-class line lists and the Range objects — against the
//     50 ms budget and against the anchor of merely aggregating those instruction rows in plain JS;
//  2. switching back to a file (cache hit: no query) and redrawing after an edit;
//  3. activation: loading dist/extension.js and running activate() against a stand-in `vscode` module,
//     against the 100 ms budget and the anchor of loading the CLI bundle.
//  4. with --vscode: the activation time real VS Code reports for the installed package.
// Not a test: it prints numbers. Run: node bench/extension.mjs [--vscode [N]]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Module from 'node:module';
import { readFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { require: tsRequire } = await import('tsx/cjs/api');
const load = (p) => tsRequire(join(root, p), import.meta.url);

const LINES = 20000;
const INSNS = 100000;
const RUNS = 7;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
function time(fn) {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return median(out);
}
async function timeAsync(fn) {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}
const fmt = (ms) => `${ms.toFixed(2)} ms`;

// Deterministic synthetic instructions, the worst case: every line has code (5 instructions each), one
// line in 30 is data plane, one in 97 mixed.
const insns = [];
for (let i = 0; i < INSNS; i++) {
  const line = 1 + ((i * 7919) % LINES);
  const data = line % 30 === 0 ? 1 : line % 97 === 0 ? i & 1 : 0;
  insns.push({ line, data, executions: 1 + ((i * 31) % 1000) });
}

// Anchor A: aggregate the instruction rows into per-line rows in plain JS (what any reader must at least do).
function aggregate() {
  const byLine = new Map();
  for (const x of insns) {
    let r = byLine.get(x.line);
    if (!r) byLine.set(x.line, (r = { line: x.line, control: 0, data: 0, executions: 0 }));
    if (x.data) r.data++;
    else r.control++;
    r.executions += x.executions;
  }
  return [...byLine.values()].sort((a, b) => a.line - b.line);
}
const anchorAggregate = time(aggregate);
const lineRows = aggregate();

// The database: the real schema and reader (sql.js), one file with the aggregated lines.
const { SCHEMA_SQL, SCHEMA_VERSION } = load('src/core/db/schema.ts');
const { loadSqlJs } = load('src/core/db/sqlite.ts');
const { openPlanesDatabaseBytes } = load('src/core/db/reader.ts');
const SQL = await loadSqlJs();
const writer = new SQL.Database();
writer.exec(SCHEMA_SQL);
writer.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
writer.run("INSERT INTO files (id, path, sha256, system) VALUES (1, '/src/big.c', '', 0)");
const insert = writer.prepare('INSERT INTO lines VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)');
writer.exec('BEGIN');
for (const r of lineRows) insert.run([r.line, r.control, r.data, r.executions, r.data ? r.executions : 0, '["f"]', r.data ? '[1]' : '[]', '[]']);
// The reader serves a file's lines from one column row per file (file_lines), as classify writes it.
const records = lineRows.map((r) => ({
  line: r.line, plane: r.data === 0 ? 'control' : r.control === 0 ? 'data' : 'mixed', controlInstructions: r.control, dataInstructions: r.data,
  executions: r.executions, functions: ['f'], labels: r.data ? [1] : [], siteIds: [],
}));
const { encodeFileLines } = load('src/core/db/lineTable.ts');
const encoded = encodeFileLines(records);
writer.run('INSERT INTO file_lines VALUES (1, ?, ?, ?, ?, ?, ?)', [encoded.count, encoded.controlInsns, encoded.dataInsns, encoded.planes, encoded.details, encoded.functions]);
writer.exec('COMMIT');
insert.free();
const bytes = writer.export();
writer.close();
const plainReader = await openPlanesDatabaseBytes('/bench.planes.db', bytes);
// Counts the per-file queries, to show that switching editors and redrawing never re-query.
let queries = 0;
const reader = new Proxy(plainReader, {
  get(target, key) {
    const value = target[key];
    if (key === 'fileLines' || key === 'fileLineTable') return (...args) => (queries++, value.apply(target, args));
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

const { FileIndex } = load('src/core/lineIndex.ts');
const { CachedDatabase } = load('src/core/dbCache.ts');

// What LineDecorator builds for a document (one Range per classified line, per class), with plain
// objects standing in for vscode.Range.
function ranges(index) {
  const byClass = index.linesByClass(false);
  let n = 0;
  for (const c of Object.keys(byClass)) {
    const list = [];
    for (const line of byClass[c]) list.push({ start: { line, character: 0 }, end: { line, character: 80 } });
    n += list.length;
  }
  return n;
}

// The first query of the process is timed apart: in the extension host it is the one a user waits for.
let t = performance.now();
const firstTable = reader.fileLineTable('/src/big.c');
const coldQuery = performance.now() - t;
t = performance.now();
new FileIndex(firstTable);
const coldIndex = performance.now() - t;
const query = time(() => reader.fileLineTable('/src/big.c'));
const allRecords = time(() => reader.fileLines('/src/big.c'));
const hover = time(() => reader.fileLineTable('/src/big.c').record(LINES / 2));
const firstOpen = time(() => {
  const db = new CachedDatabase(reader);
  ranges(db.fileIndex('/src/big.c').live());
});
const cache = new CachedDatabase(reader);
cache.fileIndex('/src/big.c');
const queriesBefore = queries;
const switchBack = time(() => ranges(cache.fileIndex('/src/big.c').live()));
const live = cache.fileIndex('/src/big.c').live();
const edit = time(() => {
  live.applyChange({ startLine: 100, startCharacter: 0, endLine: 100, endCharacter: 0, text: 'x\n' });
  ranges(live);
});
const requeries = queries - queriesBefore;

console.log(`decorations: ${lineRows.length} classified lines from ${INSNS} instruction rows (median of ${RUNS})`);
console.log(`  anchor: aggregate the instruction rows in JS      ${fmt(anchorAggregate)}`);
console.log(`  first query + index of the process (cold JIT)    ${fmt(coldQuery)} + ${fmt(coldIndex)}`);
console.log(`  fileLineTable query (lines + planes)             ${fmt(query)}`);
console.log(`  fileLines (every LineRecord, details too)        ${fmt(allRecords)}`);
console.log(`  query + one hover record (details read)          ${fmt(hover)}`);
console.log(`  first decoration of the file (query+index+ranges) ${fmt(firstOpen)}  = ${(firstOpen / 50).toFixed(2)}x the 50 ms budget, ${(firstOpen / anchorAggregate).toFixed(2)}x the anchor`);
console.log(`  switch back to the file (cached, no query)        ${fmt(switchBack)}  = ${(switchBack / 50).toFixed(2)}x the budget`);
console.log(`  redraw after an edit                              ${fmt(edit)}  = ${(edit / 50).toFixed(2)}x the budget`);
console.log(`  database queries during ${2 * RUNS} switches and redraws      ${requeries}${requeries === 0 ? '' : '  (expected 0: the cache is not used)'}`);

// --vscode [N]: real VS Code (code-server, the e2e harness), N fresh starts (default 3, ~30 s each) on a
// workspace holding a 20,000-line C file and a database the real classifier wrote from 100,000
// instruction rows of it. Opening the file activates the extension and shades it; measured: the
// activation time VS Code shows in "Developer: Show Running Extensions" (the built-in extensions' times
// are the anchors), and the first shading as the extension reports it in its output channel (lines read
// and indexed, then decorated); then switching to another file and back must not build the file's
// state again (no second report: no query). Before the stand-in part below, whose activations leave
// timers that would fire against the stand-in while this waits.
const at = process.argv.indexOf('--vscode');
if (at >= 0) {
  const starts = Number(process.argv[at + 1]) || 3;
  const { VSCode } = load('test/e2e/harness/vscode.ts');
  const { classifyLogs } = load('src/core/classify/classify.ts');
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ps-bench-ext-'));
  mkdirSync(join(dir, 'src'));
  const big = join(dir, 'src', 'big.c');
  writeFileSync(big, Array.from({ length: LINES }, (_, i) => `  x${i} = x${i} + 1; /* line ${i + 1} */`).join('\n') + '\n');
  writeFileSync(join(dir, 'src', 'other.c'), 'int other(void) { return 0; }\n');
  const exe = join(dir, 'big.bin');
  writeFileSync(exe, 'not an ELF: the bench index answers for it');
  const index = {
    path: exe,
    buildId: 'b16',
    lookup: (offset) => {
      const line = insns[offset]?.line;
      return line && { offset, file: big, line, column: 1, function: 'f', frames: [{ function: 'f', file: big, line, column: 1 }] };
    },
    rangesForLine: () => [],
    files: () => [big],
  };
  const log = {
    version: 1, source: 'big.taintlog',
    tool: { name: 'planegrind', version: '0.1.0', policy: 'insensitive' },
    process: { pid: 1, ppid: 1, exe, args: [exe], startMs: 0 },
    userData: [], modules: [{ id: 1, buildId: 'b16', path: exe, bias: 0 }], labels: new Map(),
    instructions: insns.map((x, offset) => ({ module: 1, offset, executions: x.executions, taintedExecutions: x.data ? x.executions : 0 })),
    sites: [], io: [], warnings: [], icount: 1e6, end: { reason: 'exit', code: 0 },
  };
  const classified = await classifyLogs([log.source], { readLog: async () => log, openIndex: () => index });
  writeFileSync(join(dir, 'big.planes.db'), classified.bytes);
  console.log(`real VS Code: src/big.c, ${LINES} lines; big.planes.db from ${classified.instructions} instruction rows, ${classified.lines} lines`);
  const ours = [];
  const shading = [];
  const shadingCpu = [];
  try {
    for (let i = 0; i < starts; i++) {
      const vscode = await VSCode.start({ workspace: dir });
      try {
        const wb = vscode.workbench;
        await wb.openFile('src/big.c');
        const reported = /shaded big\.c from big\.planes\.db .*: (\d+) lines; lines read and indexed in ([\d.]+) ms \(CPU ([\d.]+) ms\), first decoration ([\d.]+) ms \(CPU ([\d.]+) ms\); of the reading: database lines ([\d.]+) ms, hash of the file on disk ([\d.]+) ms/;
        const [, lines, readMs, readCpu, decorateMs, decorateCpu, dbMs, hashMs] = reported.exec(await vscode.waitForOutputChannel('Planescope', reported, 120000));
        await wb.openFile('src/other.c');
        await wb.openFile('src/big.c');
        // The switch back redraws from the cached state; a rebuilt state would report again.
        await wb.lineDecorations(30, (d) => d.after.includes('D'), 60000);
        // Far down: the letters follow the viewport.
        await wb.lineDecorations(LINES - 20, (d) => d.after.includes('D') && d.backgrounds.length > 0, 60000);
        const reports = vscode.outputChannelText('Planescope').split('\n').filter((l) => reported.test(l)).length;
        await wb.runCommand('Developer: Show Running Extensions');
        const rows = vscode.page.locator('.runtime-extensions-editor .monaco-list-row');
        await rows.filter({ hasText: /Planescope[\s\S]*Activation: \d+ms/ }).first().waitFor();
        const times = (await rows.allInnerTexts()).map((t) => ({ name: t.split('\n')[0], ms: Number(/Activation: (\d+)ms/.exec(t)?.[1]) }));
        const planescope = times.find((t) => t.name === 'Planescope');
        ours.push(planescope.ms);
        shading.push(Number(readMs) + Number(decorateMs));
        shadingCpu.push(Number(readCpu) + Number(decorateCpu));
        const others = times.filter((t) => t.name !== 'Planescope' && Number.isFinite(t.ms)).map((t) => `${t.name} ${t.ms} ms`);
        console.log(`  start ${i + 1}: activation ${planescope.ms} ms (anchors: ${others.join(', ')})`);
        console.log(`           first shading of ${lines} lines: read+index ${readMs} ms (CPU ${readCpu}) + decorate ${decorateMs} ms (CPU ${decorateCpu}); of the read: database lines ${dbMs} ms, file hash ${hashMs} ms; states built for big.c after a switch away and back: ${reports} (1 expected)`);
      } finally {
        await vscode.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`real VS Code: activation median ${median(ours)} ms = ${(median(ours) / 100).toFixed(2)}x the 100 ms budget; first shading median ${median(shading).toFixed(1)} ms = ${(median(shading) / 50).toFixed(2)}x the 50 ms budget, CPU ${median(shadingCpu).toFixed(1)} ms = ${(median(shadingCpu) / 50).toFixed(2)}x (${starts} starts)`);
}
// Activation against a stand-in vscode module: every property is callable and constructible. esbuild's
// interop copies the module's own keys, so the namespaces the extension uses are listed.
// Every name the real module exports, from its type declarations.
const NAMESPACES = [
  ...new Set(
    [...readFileSync(join(root, 'node_modules/@types/vscode/index.d.ts'), 'utf8').matchAll(/^\s+export (?:class|enum|namespace|const|function|let) (\w+)/gm)].map((m) => m[1]),
  ),
];
function standIn() {
  const handler = {
    get(_t, key) {
      if (key === 'then') return undefined;
      if (key === Symbol.toPrimitive) return () => '';
      if (key === Symbol.iterator) return function* () {};
      return proxy;
    },
    set: () => true,
    apply: () => proxy,
    construct: () => proxy,
    ownKeys: () => [...NAMESPACES, 'prototype'],
    getOwnPropertyDescriptor: (t, key) =>
      key === 'prototype' ? Reflect.getOwnPropertyDescriptor(t, key) : NAMESPACES.includes(key) ? { configurable: true, enumerable: true, value: proxy } : undefined,
  };
  const proxy = new Proxy(function () {}, handler);
  return proxy;
}
const vscodeStub = standIn();
const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscodeStub : originalLoad.call(this, request, ...rest);
};
const req = createRequire(import.meta.url);
function fresh(path) {
  delete req.cache[req.resolve(path)];
  return req(path);
}
const extPath = join(root, 'dist/extension.js');
const context = { subscriptions: [], extensionUri: vscodeStub, globalStorageUri: vscodeStub, extensionPath: root };
// The first load is the cold one a user sees (read + compile); later ones hit V8's caches.
const t0 = performance.now();
fresh(extPath);
const coldRequire = performance.now() - t0;
const t1 = performance.now();
fresh(extPath).activate(context);
const coldActivate = performance.now() - t1;
const requireOnly = time(() => fresh(extPath));
const activation = await timeAsync(async () => {
  const ext = fresh(extPath);
  context.subscriptions.length = 0;
  ext.activate(context);
});
console.log('activation (stand-in vscode; loads dist/extension.js and runs activate())');
console.log(`  first load of the bundle (cold)                   ${fmt(coldRequire)}, then activate() ${fmt(coldActivate)}: ${((coldRequire + coldActivate) / 100).toFixed(2)}x the 100 ms budget`);
console.log(`  anchor: load the bundle only (warm)               ${fmt(requireOnly)}`);
console.log(`  load + activate (warm)                            ${fmt(activation)}  = ${(activation / 100).toFixed(2)}x the budget, ${(activation / requireOnly).toFixed(2)}x the anchor`);

process.exit(0);

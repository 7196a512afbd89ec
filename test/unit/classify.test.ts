// Classification on synthetic logs: merging runs, inline-aware lines, labels, messages, I/O, bad input.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyLogs, ClassifyDeps, resolvePeer } from '../../src/core/classify/classify';
import { openPlanesDatabaseBytes } from '../../src/core/db/reader';
import { loadSqlJs } from '../../src/core/db/sqlite';
import type { ModuleIndex } from '../../src/core/dwarf/types';
import type { TaintLog } from '../../src/core/taintLog/types';
import { fakeIndex, labels, makeLog } from './classify.helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-classify-'));
const appPath = join(dir, 'app');
const srcPath = join(dir, 'app.c');
writeFileSync(appPath, 'not really an ELF: the fake index answers for it');
writeFileSync(srcPath, 'int main() { return 0; }\n');

const APP_ID = 'aa11';
const appIndex = fakeIndex(appPath, APP_ID, {
  0x10: { file: srcPath, line: 3, function: 'main' },
  0x14: { file: srcPath, line: 3, function: 'main' },
  0x18: { file: srcPath, line: 4, function: 'main' },
  // checksum() inlined into main: counts on checksum's own line 10.
  0x20: { file: srcPath, line: 10, function: 'checksum', inlinedInto: { function: 'main', file: srcPath, line: 5 } },
  0x24: { file: '/usr/include/x86_64-linux-gnu/bits/string_fortified.h', line: 29, function: 'memcpy', inlinedInto: { function: 'main', file: srcPath, line: 6 } },
});

function deps(logs: TaintLog[], indexes: Record<string, ModuleIndex | Error>): ClassifyDeps {
  return {
    readLog: async (path) => logs.find((l) => l.source === path)!,
    openIndex: (path) => {
      const index = indexes[path];
      if (!index) throw new Error(`no such index ${path}`);
      if (index instanceof Error) throw index;
      return index;
    },
  };
}

async function classify(logs: TaintLog[], indexes: Record<string, ModuleIndex | Error> = { [appPath]: appIndex }) {
  const warnings: string[] = [];
  const result = await classifyLogs(logs.map((l) => l.source), deps(logs, indexes), { warn: (w) => warnings.push(w) });
  const db = await openPlanesDatabaseBytes('test.planes.db', result.bytes);
  return { result, db, warnings };
}

const appModule = { id: 1, buildId: APP_ID, path: appPath, bias: 0x5555_0000_0000 };

describe('classify (synthetic logs)', () => {
  it('merges runs: classified if executed in any run, data plane if tainted in any', async () => {
    const a = makeLog({
      source: 'a.taintlog', modules: [appModule],
      instructions: [
        { module: 1, offset: 0x10, executions: 5, taintedExecutions: 0 },
        { module: 1, offset: 0x14, executions: 5, taintedExecutions: 0 },
      ],
    });
    const b = makeLog({
      source: 'b.taintlog', process: { pid: 200, ppid: 1, exe: '/bin/app', args: [], startMs: 5 }, modules: [{ ...appModule, id: 7, bias: 0x1000 }],
      instructions: [
        { module: 7, offset: 0x14, executions: 3, taintedExecutions: 1 },
        { module: 7, offset: 0x18, executions: 2, taintedExecutions: 0 },
      ],
    });
    const { db, result } = await classify([a, b]);
    assert.equal(result.runs, 2);
    assert.equal(result.components, 1, 'both processes run /bin/app: one component');
    assert.equal(result.instructions, 3);
    assert.equal(result.dataInstructions, 1);
    const lines = db.fileLines(srcPath);
    const line3 = lines.find((l) => l.line === 3)!;
    assert.deepEqual([line3.plane, line3.controlInstructions, line3.dataInstructions, line3.executions], ['mixed', 1, 1, 13]);
    assert.deepEqual(line3.functions, ['main']);
    assert.equal(lines.find((l) => l.line === 4)!.plane, 'control');
    assert.equal(db.components()[0].processes, 2);
    assert.equal(db.instruction(APP_ID, 0x14)!.plane, 'data');
    assert.equal(db.instruction(APP_ID, 0x10)!.plane, 'control');
    assert.equal(db.instruction(APP_ID, 0x99), undefined, 'never executed: unclassified');
    assert.equal(db.schemaVersion, 2);
    db.close();
  });

  it('counts inlined code on the inlined function\'s own line and flags system-header code', async () => {
    const log = makeLog({
      source: 'c.taintlog', modules: [appModule],
      instructions: [
        { module: 1, offset: 0x20, executions: 100, taintedExecutions: 100 },
        { module: 1, offset: 0x24, executions: 10, taintedExecutions: 0 },
      ],
    });
    const { db } = await classify([log]);
    const lines = db.fileLines(srcPath);
    assert.deepEqual(lines.map((l) => l.line), [10], 'not on the call site (line 5)');
    assert.deepEqual(lines[0].functions, ['checksum']);
    assert.equal(lines[0].plane, 'data');
    const header = db.fileLines('/usr/include/x86_64-linux-gnu/bits/string_fortified.h');
    assert.equal(header[0].functions[0], 'memcpy');
    assert.ok(db.sourceFiles().some((f) => f.path === srcPath && /^[0-9a-f]{64}$/.test(f.sha256)), 'sha256 of the source');
    assert.equal(db.sourceFiles().find((f) => f.path.endsWith('string_fortified.h'))!.sha256.length >= 0, true);
    db.close();
  });

  it('gives labels DB-wide ids, keeps provenance and builds the message graph', async () => {
    const client = makeLog({
      source: 'client.taintlog', process: { pid: 300, ppid: 1, exe: '/opt/x/client', args: [], startMs: 0 }, modules: [appModule],
      labels: labels({ id: 1, provenance: { kind: 'file', path: '/data/in.bin', start: 0, end: 4096 } }),
      io: [{ kind: 'file', direction: 'in', taintedBytes: 4096, cleanBytes: 0 }, { kind: 'socket', direction: 'out', taintedBytes: 4096, cleanBytes: 64 }],
    });
    const server = makeLog({
      source: 'server.taintlog', process: { pid: 301, ppid: 1, exe: '/opt/x/server', args: [], startMs: 0 }, modules: [appModule],
      labels: labels(
        { id: 1, provenance: { kind: 'msg', peer: 'client:300', msg: 7, origin: '/data/in.bin bytes 0..4096' } },
        { id: 2, provenance: { kind: 'file', path: '/data/other.bin', start: 0, end: 10 } },
        { id: 3, provenance: { kind: 'mixed', of: [1, 2] } },
      ),
      io: [{ kind: 'socket', direction: 'in', taintedBytes: 4096, cleanBytes: 64 }, { kind: 'file', direction: 'out', taintedBytes: 4096, cleanBytes: 0 }],
    });
    const { db } = await classify([client, server]);
    const ids = (db.sql.exec('SELECT id FROM labels ORDER BY id')[0].values as number[][]).map((r) => r[0]);
    assert.deepEqual(ids, [1, 2, 3, 4], 'label 1 of each log gets its own id');
    const chain = db.labelChain(4);
    assert.equal(chain[0].text, 'mixed: 2 sources');
    assert.deepEqual(chain.slice(1).map((s) => s.labelId), [2, 1, 3]);
    assert.deepEqual(chain[1].message, { peer: 'client:300', msg: 7 });
    assert.deepEqual(chain[2].file, { path: '/data/in.bin', start: 0, end: 4096 }, 'followed back to the sender');
    const graph = db.messageGraph();
    assert.equal(graph.length, 1);
    assert.equal(graph[0].from, 'client[300]');
    assert.equal(graph[0].to, 'server[301]');
    const comps = db.components();
    assert.deepEqual(comps.map((c) => c.name), ['client', 'server']);
    assert.deepEqual(comps[0].io, { controlIn: 0, controlOut: 64, dataIn: 4096, dataOut: 4096 });
    db.close();
  });

  it('keeps instruction rows of modules without debug info or binary, with warnings naming the build-id', async () => {
    const libc = { id: 2, buildId: 'cc22', path: '/usr/lib/x86_64-linux-gnu/libc-planescope-test.so', bias: 0 };
    const nodebug = { id: 3, buildId: 'dd33', path: srcPath, bias: 0 };
    const log = makeLog({
      source: 'd.taintlog', modules: [appModule, libc, nodebug],
      instructions: [
        { module: 2, offset: 0x100, executions: 4, taintedExecutions: 4 },
        { module: 3, offset: 0x100, executions: 4, taintedExecutions: 0 },
      ],
      end: { reason: 'truncated' },
    });
    const { db, warnings, result } = await classify([log], { [appPath]: appIndex, [srcPath]: new Error('no .debug_info section') });
    assert.equal(result.instructions, 2);
    assert.ok(warnings.some((w) => /cc22/.test(w) && /not on this machine/.test(w)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /dd33/.test(w) && /no usable debug info \(no \.debug_info section\)/.test(w)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /d\.taintlog was cut short/.test(w)));
    assert.deepEqual(db.modules().map((m) => m.debug), ['dwarf', 'missing', 'none']);
    assert.equal(db.instruction('cc22', 0x100)!.plane, 'data');
    assert.equal(db.instruction('cc22', 0x100)!.line, null);
    assert.equal(db.runs()[0].end, 'truncated');
    db.close();
  });

  it('stops when Planescope\'s own DWARF decoder is stale instead of dropping every line', async () => {
    const log = makeLog({ source: 'f.taintlog', modules: [appModule], instructions: [{ module: 1, offset: 0x10, executions: 1, taintedExecutions: 0 }] });
    await assert.rejects(classify([log], { [appPath]: new Error('planescope_dwarf.wasm has ABI 2, this build expects 3: run `npm run build`') }), /cannot read DWARF: planescope_dwarf\.wasm has ABI 2.*npm run build/);
  });

  it('rejects a database of another schema version with the version and how to rebuild', async () => {
    const { result } = await classify([makeLog({ source: 'e.taintlog', modules: [appModule] })]);
    const SQL = await loadSqlJs();
    const raw = new SQL.Database(result.bytes);
    raw.run('PRAGMA user_version = 99');
    const bytes = raw.export();
    raw.close();
    await assert.rejects(openPlanesDatabaseBytes('old.planes.db', bytes), /old\.planes\.db has classification schema version 99.*reads version 2: rebuild it .*planescope classify/);
    await assert.rejects(openPlanesDatabaseBytes('x.db', new Uint8Array(1000).fill(1)), /x\.db is not/);
  });
});

describe('message peers', () => {
  it('resolves librecord\'s exe:pid@host names to runs, by pid and name, then by name alone', () => {
    const runs = [{ id: 1, pid: 10, exe: '/srv/client' }, { id: 2, pid: 11, exe: '/srv/chunkserver' }, { id: 3, pid: 12, exe: '/srv/chunkserver' }];
    assert.equal(resolvePeer('client:10@node-42', runs), 1);
    assert.equal(resolvePeer('chunkserver:12@node-42', runs), 3);
    assert.equal(resolvePeer('client:999@node-42', runs), 1, 'replayed under another pid: the name decides');
    assert.equal(resolvePeer('chunkserver:999@node-42', runs), undefined, 'ambiguous');
    assert.equal(resolvePeer('master:5@h', runs), undefined);
  });
});

// Classification of synthetic taint logs written as text in the documented format (docs/taint-log.md)
// and read by the real parser: delta records summed, percent-encoded paths, a torn last line.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linesCommand } from '../../src/cli/commands/lines';
import { classifyLogs } from '../../src/core/classify/classify';
import { openPlanesDatabaseBytes } from '../../src/core/db/reader';
import { readTaintLog } from '../../src/core/taintLog/reader';
import { fakeIndex } from './classify.helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-textlog-'));
const exe = join(dir, 'chunk server');
const src = join(dir, 'chunk.c');
writeFileSync(exe, '');
writeFileSync(src, 'x\n');
const enc = (s: string) => s.replace(/[% =\x00-\x1f\x7f-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);

function logText(pid: number, policy: string, end: boolean): string {
  return [
    'version v=1',
    `tool name=planegrind version=0.1.0 policy=${policy}`,
    `process pid=${pid} ppid=1 exe=${enc(exe)} start-ms=5 arg=${enc(exe)} arg=--port arg=7000`,
    'user-data glob=data/*',
    `module id=3 build-id=abcd path=${enc(exe)} bias=0x555555554000`,
    'label id=1 kind=file path=data/blob start=0 end=512',
    'label id=2 kind=msg peer=client:77 msg=3 origin=data/blob%20bytes%200..512',
    'insn m=3 off=0x1000 execs=10 tainted=0',
    'insn m=3 off=0x1004 execs=10 tainted=4',
    'site m=3 off=0x1004 access=load count=4 label=2',
    'io kind=socket dir=in tainted=512 clean=16',
    'flush seq=1 icount=1000',
    // Deltas since the previous flush: summed by the reader.
    'insn m=3 off=0x1000 execs=5 tainted=0',
    'insn m=3 off=0x1004 execs=5 tainted=1',
    'io kind=socket dir=in tainted=512 clean=16',
    'flush seq=2 icount=2000',
    ...(end ? ['end reason=exit code=0 icount=2000'] : []),
  ].join('\n') + (end ? '\n' : '\ninsn m=3 off=0x10');
}

/** A log whose tainted instructions carry `label=` (docs/taint-log.md), reading `file` through labels 5 and 6. */
function labelledLog(pid: number, policy: string, file: string): string {
  return [
    'version v=1',
    `tool name=planegrind version=0.1.0 policy=${policy}`,
    `process pid=${pid} ppid=1 exe=${enc(exe)} start-ms=5 arg=${enc(exe)}`,
    `module id=1 build-id=abcd path=${enc(exe)} bias=0x0`,
    `label id=5 kind=file path=${file} start=0 end=64`,
    `label id=6 kind=file path=${file} start=64 end=128`,
    'label id=7 kind=mixed of=5,6',
    'insn m=1 off=0x1000 execs=3 tainted=0',
    'insn m=1 off=0x1004 execs=3 tainted=3 label=5',
    // A later record's label replaces the earlier one.
    'insn m=1 off=0x1008 execs=3 tainted=1 label=5',
    'insn m=1 off=0x1008 execs=1 tainted=1 label=7',
    // Under the sensitive policy only: a tainted address makes 0x100c data plane there.
    `insn m=1 off=0x100c execs=2 tainted=${policy === 'sensitive' ? '2 label=6' : '0'}`,
    'insn m=1 off=0x1010 execs=2 tainted=2 label=99',
    'end reason=exit code=0 icount=100',
  ].join('\n') + '\n';
}

describe('classify (synthetic text logs through the parser)', () => {
  it('gives every data-plane line the labels of its tainted instructions, merged over runs', async () => {
    const logs = [
      ['l1.taintlog', labelledLog(200, 'insensitive', 'data/a')],
      ['l2.taintlog', labelledLog(201, 'insensitive', 'data/a')],
      ['l3.taintlog', labelledLog(202, 'insensitive', 'data/b')],
      ['l4.taintlog', labelledLog(203, 'sensitive', 'data/c')],
    ].map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    const src2 = join(dir, 'labels.c');
    const index = fakeIndex(exe, 'abcd', {
      0x1000: { file: src2, line: 10, function: 'f' }, 0x1004: { file: src2, line: 11, function: 'f' },
      0x1008: { file: src2, line: 12, function: 'f' }, 0x100c: { file: src2, line: 13, function: 'f' },
      0x1010: { file: src2, line: 14, function: 'f' },
    });
    const warnings: string[] = [];
    const result = await classifyLogs(logs, { readLog: readTaintLog, openIndex: () => index }, { warn: (w) => warnings.push(w), hashSources: false });
    const db = await openPlanesDatabaseBytes('l.planes.db', result.bytes);
    const lines = new Map(db.fileLines(src2).map((l) => [l.line, l]));
    const texts = (line: number) => lines.get(line)!.labels.map((id) => db.labelChain(id).map((s) => s.text).join(' <- '));
    assert.deepEqual(texts(10), [], 'control plane: no labels');
    // Runs 1 and 2 read the same bytes: one label for both; run 3 read another file.
    assert.deepEqual(texts(11), ['data/a bytes 0..64', 'data/b bytes 0..64']);
    assert.deepEqual(texts(12), ['mixed: 2 sources <- data/a bytes 0..64 <- data/a bytes 64..128', 'mixed: 2 sources <- data/b bytes 0..64 <- data/b bytes 64..128']);
    assert.equal(lines.get(13)!.plane, 'control', 'decided by the insensitive runs');
    assert.deepEqual(texts(13), [], "the sensitive run's label does not decorate a control-plane line");
    assert.equal(lines.get(14)!.plane, 'data');
    assert.deepEqual(texts(14), [], 'label 99 is not defined in the log');
    assert.equal(warnings.filter((w) => /name labels that no label record defines/.test(w)).length, 4, warnings.join('\n'));
    assert.equal(lines.get(11)!.siteIds.length, 0, 'labels without any pointer site');
    db.close();
    // `planescope lines` says where each line's data came from.
    const dbFile = join(dir, 'l.planes.db');
    writeFileSync(dbFile, result.bytes);
    const printed: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => printed.push(a.join(' '));
    try {
      assert.equal(await linesCommand.run([dbFile, src2]), 0);
    } finally {
      console.log = log;
    }
    const row = (line: number) => printed.find((p) => p.startsWith(String(line).padStart(6)))!;
    assert.match(row(11), / D .*\[from data\/a bytes 0\.\.64 \+1 more\]$/);
    assert.match(row(12), /\[from data\/a bytes 0\.\.64, data\/a bytes 64\.\.128 \+1 more\]$/, 'a mixed label: its sources');
    assert.doesNotMatch(row(10), /from/);
  });


  it('leaves out a file that is not a taint log, with a warning, and says so when none is', async () => {
    const good = join(dir, 'good.taintlog');
    const junk = join(dir, 'junk.taintlog');
    writeFileSync(good, logText(300, 'insensitive', true));
    writeFileSync(junk, '\x89PNG\r\n\x1a\nnot a log\n');
    const index = fakeIndex(exe, 'abcd', {});
    const warnings: string[] = [];
    const result = await classifyLogs([junk, good], { readLog: readTaintLog, openIndex: () => index }, { warn: (w) => warnings.push(w), hashSources: false });
    assert.equal(result.runs, 1);
    assert.ok(warnings.some((w) => w === `${junk} is not a planegrind taint log (no \`version\` line): left out`), warnings.join('\n'));
    const db = await openPlanesDatabaseBytes('j.planes.db', result.bytes);
    assert.deepEqual(db.components().map((c) => c.name), ['chunk server']);
    assert.ok(db.warnings().some((w) => w.includes('junk.taintlog is not a planegrind taint log')));
    db.close();
    await assert.rejects(classifyLogs([junk], { readLog: readTaintLog, openIndex: () => index }), /none of the 1 file\(s\) is a planegrind taint log \(.*junk\.taintlog\)/);
  });

  it('sums delta records, decodes names and classifies', async () => {
    const a = join(dir, 'a.taintlog');
    const b = join(dir, 'b.taintlog');
    writeFileSync(a, logText(100, 'insensitive', true));
    writeFileSync(b, logText(101, 'insensitive', false));
    const index = fakeIndex(exe, 'abcd', { 0x1000: { file: src, line: 1, function: 'serve' }, 0x1004: { file: src, line: 2, function: 'serve' } });
    const warnings: string[] = [];
    const result = await classifyLogs([a, b], { readLog: readTaintLog, openIndex: () => index }, { warn: (w) => warnings.push(w) });
    const db = await openPlanesDatabaseBytes('t.planes.db', result.bytes);
    assert.deepEqual(db.components().map((c) => [c.name, c.processes, c.io.dataIn, c.io.controlIn]), [['chunk server', 2, 2048, 64]]);
    const lines = db.fileLines(src);
    assert.deepEqual(lines.map((l) => [l.line, l.plane, l.executions]), [[1, 'control', 30], [2, 'data', 30]]);
    assert.equal(lines[1].labels.length, 1, 'the site\'s address label');
    assert.deepEqual(db.labelChain(lines[1].labels[0])[0].message, { peer: 'client:77', msg: 3 });
    assert.deepEqual(db.runs().map((r) => [r.pid, r.end, r.args.length]), [[100, 'exit 0', 3], [101, 'truncated', 3]]);
    assert.equal(warnings.filter((w) => /b\.taintlog/.test(w)).length, 1, warnings.join('\n'));
    assert.match(warnings.join('\n'), /b\.taintlog was cut short/);
    assert.equal(db.sites()[0].count, 8);
    db.close();
  });
});

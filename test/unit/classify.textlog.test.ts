// Classification of synthetic taint logs written as text in the documented format (docs/taint-log.md)
// and read by the real parser: delta records summed, percent-encoded paths, a torn last line.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('classify (synthetic text logs through the parser)', () => {
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

// The taint log reader (src/core/taintLog/reader.ts) against docs/taint-log.md.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeValue, parseTaintLog, readTaintLog } from '../../src/core/taintLog/reader';

const HEADER = [
  'version v=1',
  'tool name=planegrind version=0.1.0 policy=sensitive',
  'process pid=42 ppid=1 exe=/usr/bin/my%20app start-ms=1700000000000 arg=a%20b arg=c%3Dd',
  'user-data glob=data/*',
  'module id=1 build-id=abcd path=/usr/bin/my%20app bias=0x0',
  'module id=2 build-id=- path=[vdso] bias=0x7fff0000',
  'label id=1 kind=file path=/data/in.bin start=0 end=4096',
  'label id=2 kind=msg peer=node-2 msg=7 origin=file:/data/x[0,16)',
  'label id=3 kind=mixed of=1,2',
];

const BODY = [
  'insn m=1 off=0x401000 execs=10 tainted=3',
  'site m=1 off=0x401004 access=load count=5 label=1',
  'io kind=file dir=in tainted=4096 clean=10',
  '# a comment',
  'flush seq=1 icount=1000',
  'insn m=1 off=0x401000 execs=5 tainted=2',
  'insn m=2 off=0x10 execs=1 tainted=0',
  'site m=1 off=0x401004 access=load count=1 label=1',
  'site m=1 off=0x401004 access=store count=2 label=3',
  'io kind=file dir=in tainted=1 clean=1',
  'io kind=socket dir=out tainted=0 clean=9',
  'futurerecord x=1',
  'flush seq=2 icount=2000',
];

describe('taint log reader', () => {
  it('parses every record type and sums the delta records', () => {
    const log = parseTaintLog([...HEADER, ...BODY, 'warning text=glob%20x%20matched%20nothing', 'end reason=exit code=3 icount=2500', ''].join('\n'), 't');
    assert.equal(log.version, 1);
    assert.deepEqual(log.tool, { name: 'planegrind', version: '0.1.0', policy: 'sensitive' });
    assert.deepEqual(log.process, { pid: 42, ppid: 1, exe: '/usr/bin/my app', args: ['a b', 'c=d'], startMs: 1700000000000 });
    assert.deepEqual(log.userData, ['data/*']);
    assert.deepEqual(log.modules, [
      { id: 1, buildId: 'abcd', path: '/usr/bin/my app', bias: 0 },
      { id: 2, buildId: '', path: '[vdso]', bias: 0x7fff0000 },
    ]);
    assert.deepEqual(log.labels.get(1)?.provenance, { kind: 'file', path: '/data/in.bin', start: 0, end: 4096 });
    assert.deepEqual(log.labels.get(2)?.provenance, { kind: 'msg', peer: 'node-2', msg: 7, origin: 'file:/data/x[0,16)' });
    assert.deepEqual(log.labels.get(3)?.provenance, { kind: 'mixed', of: [1, 2] });
    assert.deepEqual(log.instructions, [
      { module: 1, offset: 0x401000, executions: 15, taintedExecutions: 5 },
      { module: 2, offset: 0x10, executions: 1, taintedExecutions: 0 },
    ]);
    assert.deepEqual(log.sites, [
      { module: 1, offset: 0x401004, access: 'load', count: 6, label: 1 },
      { module: 1, offset: 0x401004, access: 'store', count: 2, label: 3 },
    ]);
    assert.deepEqual(log.io, [
      { kind: 'file', direction: 'in', taintedBytes: 4097, cleanBytes: 11 },
      { kind: 'socket', direction: 'out', taintedBytes: 0, cleanBytes: 9 },
    ]);
    assert.deepEqual(log.warnings, ['glob x matched nothing']);
    assert.equal(log.icount, 2500);
    assert.deepEqual(log.end, { reason: 'exit', code: 3 });
  });

  it('reads a signal end', () => {
    const log = parseTaintLog([...HEADER, 'end reason=signal signal=11 icount=7', ''].join('\n'));
    assert.deepEqual(log.end, { reason: 'signal', signal: 11 });
    assert.equal(log.icount, 7);
  });

  it('tolerates a log cut short: counts up to the cut, a torn last line ignored, end truncated with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taintlog-'));
    const path = join(dir, 'cut.taintlog');
    writeFileSync(path, [...HEADER, ...BODY].join('\n') + '\ninsn m=1 off=0x401000 execs=99');
    const log = await readTaintLog(path);
    assert.deepEqual(log.end, { reason: 'truncated' });
    assert.equal(log.icount, 2000);
    assert.equal(log.instructions[0].executions, 15, 'the torn line is not counted');
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0], /no `end` record/);
  });

  it('streams a file: same result as the in-memory parser, a final line with its newline counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taintlog-'));
    const path = join(dir, 'full.taintlog');
    const text = [...HEADER, ...BODY, 'end reason=exit code=0 icount=9', ''].join('\n');
    writeFileSync(path, text);
    const a = await readTaintLog(path);
    const b = parseTaintLog(text, path);
    assert.deepEqual(a, b);
    assert.deepEqual(a.end, { reason: 'exit', code: 0 });
  });

  it('warns about a file that is not a taint log', async () => {
    const log = parseTaintLog('hello world\n', 'x');
    assert.ok(log.warnings.some((w) => /not a planegrind taint log/.test(w)));
  });

  it('decodes percent-encoding including UTF-8', () => {
    assert.equal(decodeValue('a%20b%25c%3D'), 'a b%c=');
    assert.equal(decodeValue('caf%C3%A9'), 'café');
    assert.equal(decodeValue('100%'), '100%');
  });
});

describe('taint log grammar', () => {
  it('is valid JSON whose patterns compile and classify records', () => {
    const grammar = JSON.parse(require('node:fs').readFileSync(join(__dirname, '..', '..', 'syntaxes', 'taintlog.tmLanguage.json'), 'utf8'));
    assert.equal(grammar.scopeName, 'source.planescope-taintlog');
    const regexes: string[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        for (const [k, v] of Object.entries(x)) {
          if ((k === 'match' || k === 'begin' || k === 'end') && typeof v === 'string') regexes.push(v);
          else walk(v);
        }
      }
    };
    walk(grammar);
    assert.ok(regexes.length >= 10);
    for (const r of regexes) new RegExp(r);
    const record = new RegExp(grammar.repository.record.begin);
    assert.equal(record.exec('insn m=1 off=0x10 execs=1 tainted=0')?.[1], 'insn');
    assert.equal(record.exec('newkind a=1')?.[2], 'newkind');
  });
});

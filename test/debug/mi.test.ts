// The gdb/MI parser and the parsers of planegrind's monitor command output (pure, no processes).
import { strict as assert } from 'node:assert';
import { miGet, miQuote, miString, miTuples, parseMiLine } from '../../src/core/mi/parser';
import { parseIcount, parseLabelChain, parseMonitorHelp, parseStopAt, parseTaintRange, parseTaintRegs, MonitorError } from '../../src/core/mi/planegrindMonitor';
import { parseHitCondition } from '../../src/debug/replayEngine';

describe('gdb/MI parser', () => {
  it('parses result records with tokens, tuples, lists of results and escapes', () => {
    const r = parseMiLine('12^done,stack=[frame={level="0",func="main",file="a \\"b\\".c",line="7"},frame={level="1",func="_start"}]');
    assert.equal(r.kind, 'result');
    if (r.kind !== 'result') return;
    assert.equal(r.token, 12);
    assert.equal(r.cls, 'done');
    const frames = miTuples(r.results, 'stack');
    assert.deepEqual(frames.map((f) => miString(f, 'func')), ['main', '_start']);
    assert.equal(miString(r.results, 'stack.0.frame.file'), 'a "b".c');
    assert.deepEqual(miGet(r.results, 'stack.frame.level'), ['0', '1']);
  });

  it('parses async records, streams (octal UTF-8 bytes) and the prompt', () => {
    const stopped = parseMiLine('*stopped,reason="breakpoint-hit",bkptno="1",frame={addr="0x1",args=[]},thread-id="1"');
    assert.equal(stopped.kind, 'exec');
    if (stopped.kind === 'exec') assert.deepEqual(miGet(stopped.results, 'frame.args'), []);
    const stream = parseMiLine('@"caf\\303\\251 \\t1\\n"');
    assert.deepEqual(stream, { kind: 'target', text: 'café \t1\n' });
    assert.deepEqual(parseMiLine('(gdb) '), { kind: 'prompt' });
    const notify = parseMiLine('=library-loaded,id="/lib/x.so",ranges=[{from="0x1",to="0x2"}]');
    assert.equal(notify.kind, 'notify');
  });

  it('rejects malformed lines with the column', () => {
    assert.throws(() => parseMiLine('^done,x="unterminated'), /unterminated string/);
    assert.throws(() => parseMiLine('^done,x={a="1"'), /expected/);
    assert.throws(() => parseMiLine('hello world'), /not an MI record|expected/);
  });

  it('quotes arguments', () => {
    assert.equal(miQuote('a "b" \\c'), '"a \\"b\\" \\\\c"');
  });
});

describe('planegrind monitor output', () => {
  it('finds the tool commands in `monitor help`', () => {
    const help = 'general valgrind monitor commands:\n  v.kill  : kill\nplanegrind monitor commands:\n  taint ADDR LEN     per-byte\n  taint-regs         regs\n  label N            chain\n  icount             count\n';
    assert.deepEqual(parseMonitorHelp(help), { taint: true, taintRegs: true, label: true, icount: true, stopAt: false });
    assert.deepEqual(parseMonitorHelp('general valgrind monitor commands:\n  v.kill  : kill\n'), { taint: false, taintRegs: false, label: false, icount: false, stopAt: false });
  });

  it('parses taint, taint-regs, label, icount and stop-at as docs/planegrind.md shows them', () => {
    const t = parseTaintRange('taint addr=0x1ffefffd40 len=16 tainted=4\nrange start=0x1ffefffd44 end=0x1ffefffd48 label=1\nbytes 0 0 0 0 1 1 1 1 0 0 0 0 0 0 0 0\n', 0x1ffefffd40n, 16);
    assert.equal(t.taintedBytes, 4);
    assert.deepEqual(t.runs, [{ start: 0x1ffefffd44n, end: 0x1ffefffd48n, label: 1 }]);
    assert.equal(parseTaintRange('taint addr=0x10 len=4 tainted=0\n', 0x10n, 4).taintedBytes, 0);
    assert.throws(() => parseTaintRange('error: address not mapped\n', 0n, 1), MonitorError);
    assert.deepEqual(parseTaintRegs('reg name=rax bytes=0xff label=1\nreg name=ymm0 bytes=0xffff label=2\ntaint-regs tid=1 tainted=2\n'), [
      { register: 'rax', taintedBytes: 8, labels: [1] },
      { register: 'ymm0', taintedBytes: 16, labels: [2] },
    ]);
    assert.deepEqual(parseLabelChain('label 3 mixed:1,2\n  label 1 file:/data/in.bin[0,4096)\n  label 2 msg:node-2#42<-file:/data/x[0,16)\n'), [
      { label: 3, text: 'mixed:1,2', depth: 0 },
      { label: 1, text: 'file:/data/in.bin[0,4096)', depth: 1 },
      { label: 2, text: 'msg:node-2#42<-file:/data/x[0,16)', depth: 1 },
    ]);
    assert.equal(parseIcount('icount 1523077\n'), 1523077n);
    assert.deepEqual(parseStopAt('stop-at armed icount=10 target=2000000\n'), { armed: true, icount: 10n });
    assert.throws(() => parseStopAt('error: icount 5 already reached (icount=9)\n'), /already reached/);
  });
});

describe('hit conditions', () => {
  it('maps N and >=N to gdb ignore counts, checks ==N and %N itself, refuses others', () => {
    assert.deepEqual(parseHitCondition('5'), { ignore: 4 });
    assert.deepEqual(parseHitCondition('>= 3'), { ignore: 2 });
    assert.deepEqual(parseHitCondition('>3'), { ignore: 3 });
    assert.deepEqual(parseHitCondition('1'), {});
    const every = parseHitCondition('%3').predicate!;
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(every), [false, false, true, false, false, true]);
    assert.equal(parseHitCondition('==2').predicate!(2), true);
    assert.throws(() => parseHitCondition('sometimes'), /not understood/);
  });
});

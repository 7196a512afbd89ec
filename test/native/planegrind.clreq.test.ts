// Client requests of native/planegrind/planegrind.h (the contract librecord codes against).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { compile, runPg, tempDir } from './planegrindHarness';

describe('planegrind client requests', function () {
  this.timeout(120000);
  it('IS_RUNNING, NEW_MSG_LABEL, SET_TAINT, GET_TAINT, LABEL_INFO round-trip and propagate through memcpy', async () => {
    const dir = tempDir('clreq');
    const bin = compile(dir, 'pg_clreq');
    const r = await runPg(dir, [bin]);
    assert.equal(r.code, 3, r.stderr);
    const out = r.stdout.split('\n');
    assert.ok(out.includes('running=1'), r.stdout);
    assert.ok(out.includes('label=1'), r.stdout);
    assert.ok(out.includes('tainted=4 0 0 0 0 1 1 1 1 0 0 0 0 0 0 0 0'), r.stdout);
    assert.ok(out.includes('info=msg:node-2#42<-file:/data/x[0,16) len=33'), r.stdout);
    assert.ok(out.includes('copy tainted=4 0 0 0 0 1 1 1 1 0 0 0 0 0 0 0 0'), r.stdout);
    assert.ok(out.includes('cleared=0'), r.stdout);
    const label = r.log.labels.get(1);
    assert.deepEqual(label?.provenance, { kind: 'msg', peer: 'node-2', msg: 42, origin: 'file:/data/x[0,16)' });
    assert.deepEqual(r.log.end, { reason: 'exit', code: 3 });
  });

  it('TAINTED_INPUT after a flush logged the bytes as clean: the sums stay exact (a negative clean delta)', async () => {
    const dir = tempDir('clreq-input');
    const bin = compile(dir, 'pg_tainted_input');
    const r = await runPg(dir, [bin], ['--flush-interval=10']);
    assert.equal(r.code, 0, r.stderr);
    const records = readFileSync(r.logs[0], 'utf8').split('\n').filter((l) => l.startsWith('io kind=socket dir=in '));
    assert.equal(records.length, 2, `a flush came between the recv and TAINTED_INPUT: ${records.join(' | ')}`);
    const io = (dir: string) => r.log.io.find((c) => c.kind === 'socket' && c.direction === dir);
    assert.deepEqual({ tainted: io('in')?.taintedBytes, clean: io('in')?.cleanBytes }, { tainted: 60, clean: 40 });
    assert.deepEqual({ tainted: io('out')?.taintedBytes, clean: io('out')?.cleanBytes }, { tainted: 0, clean: 100 });
  });

  it('are no-ops returning the defaults without planegrind', () => {
    const dir = tempDir('clreq-native');
    const bin = compile(dir, 'pg_clreq');
    const res = require('node:child_process').spawnSync(bin, { encoding: 'utf8' });
    assert.equal(res.status, 3);
    assert.match(res.stdout, /running=0\nlabel=0\ntainted=0 /);
  });
});

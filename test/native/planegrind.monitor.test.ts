// gdb monitor commands (docs/planegrind.md), through vgdb standalone and through gdb itself.
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VGLIB, buildTool, compile, tempDir } from './planegrindHarness';

function startMon(dir: string, bin: string, extra: string[], prefix: string): { child: ChildProcess; stdout: () => string } {
  const child = spawn('valgrind', ['-q', '--tool=planegrind', `--vgdb-prefix=${prefix}`, '--user-data=*.bin', `--taint-log=${join(dir, 'mon.%p.taintlog')}`, ...extra, bin, 'in.bin'], {
    cwd: dir, env: { ...process.env, VALGRIND_LIB: VGLIB }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  return { child, stdout: () => out };
}

async function waitFor(cond: () => boolean, what: string, ms = 60000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function vgdb(prefix: string, pid: number, cmd: string): string {
  const r = spawnSync('vgdb', [`--vgdb-prefix=${prefix}`, `--pid=${pid}`, ...cmd.split(' ')], { encoding: 'utf8', timeout: 60000 });
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('sending command')).join('\n');
}

function gdbBatch(bin: string, prefix: string, pid: number, commands: string[]): string {
  const args = ['-q', '-batch', '-nx', '-ex', `target remote | vgdb --vgdb-prefix=${prefix} --pid=${pid}`];
  for (const c of commands) args.push('-ex', c);
  args.push('-ex', 'kill', bin);
  const r = spawnSync('gdb', args, { encoding: 'utf8', timeout: 120000 });
  return `${r.stdout}\n${r.stderr}`;
}

describe('planegrind monitor commands', function () {
  this.timeout(180000);
  let dir: string;
  let bin: string;
  before(() => {
    buildTool();
    dir = tempDir('monitor');
    bin = compile(dir, 'pg_monitor');
    writeFileSync(join(dir, 'in.bin'), Buffer.from(Array.from({ length: 100 }, (_, i) => i + 1)));
  });

  it('taint, taint-regs, label, icount while the program is blocked in a syscall (vgdb)', async () => {
    const prefix = join(dir, 'vg-a');
    const { child, stdout } = startMon(dir, bin, ['--vgdb=yes'], prefix);
    try {
      await waitFor(() => /buf=0x[0-9a-f]+\n/.test(stdout()), 'the fixture to print its buffer');
      const addr = /buf=(0x[0-9a-f]+)/.exec(stdout())![1];
      const base = parseInt(addr, 16);
      const pid = child.pid!;
      const taint = vgdb(prefix, pid, `taint ${addr} 64`).split('\n');
      assert.equal(taint[0], `taint addr=${addr} len=64 tainted=32`);
      assert.equal(taint[1], `range start=0x${(base + 16).toString(16)} end=0x${(base + 48).toString(16)} label=1`);
      assert.equal(taint[2], `bytes ${[...Array(16).fill(0), ...Array(32).fill(1), ...Array(16).fill(0)].join(' ')}`);
      assert.equal(vgdb(prefix, pid, `taint ${addr}`), `taint addr=${addr} len=1 tainted=0\nbytes 0`);
      assert.equal(vgdb(prefix, pid, 'label 1'), `label 1 file:${join(dir, 'in.bin')}[0,32)`);
      assert.equal(vgdb(prefix, pid, 'label 99'), 'error: no label 99 (labels 1..1 exist)');
      assert.equal(vgdb(prefix, pid, 'taint-regs'), 'reg name=r12 bytes=0xff label=1\ntaint-regs tid=1 tainted=1');
      assert.equal(vgdb(prefix, pid, 'taint-regs 9'), 'error: no thread 9');
      assert.match(vgdb(prefix, pid, 'icount'), /^icount [1-9]\d*$/);
      assert.match(vgdb(prefix, pid, 'stop-at 5'), /^error: stop-at needs instruction-exact counting/);
    } finally {
      child.stdin!.end();
    }
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
  });

  it('stop-at stops exactly at an instruction count, the same place on every run (gdb)', async () => {
    const results: string[] = [];
    for (const run of ['b', 'c']) {
      const prefix = join(dir, `vg-${run}`);
      const { child } = startMon(dir, bin, ['--vgdb=full', '--vgdb-error=0'], prefix);
      await waitFor(() => {
        const l = spawnSync('vgdb', [`--vgdb-prefix=${prefix}`, '-l'], { encoding: 'utf8' });
        return `${l.stdout}${l.stderr}`.includes(`--pid=${child.pid}`);
      }, 'vgdb to list the process');
      const out = gdbBatch(bin, prefix, child.pid!, ['monitor icount', 'monitor stop-at 40000', 'continue', 'monitor icount', 'p/x $pc', 'monitor stop-at 40007', 'continue', 'monitor icount', 'p/x $pc', 'monitor stop-at 100']);
      await new Promise((r) => child.on('close', r));
      results.push(out);
      assert.match(out, /^icount 0$/m, out);
      assert.match(out, /^stop-at armed icount=0 target=40000$/m, out);
      assert.match(out, /^icount 40000$/m, out);
      assert.match(out, /^icount 40007$/m, out);
      assert.match(out, /^error: icount 100 already reached \(icount=40007\)$/m, out);
      assert.equal((out.match(/SIGTRAP/g) ?? []).length, 2, out);
    }
    const pcs = results.map((o) => [...o.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => m[1]));
    assert.equal(pcs[0].length, 2);
    assert.deepEqual(pcs[0], pcs[1]);
  });
});

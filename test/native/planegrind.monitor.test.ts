// gdb monitor commands (docs/planegrind.md), through vgdb standalone and through gdb itself.
import { strict as assert } from 'node:assert';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTaintLog } from '../../src/core/taintLog/reader';
import { VGLIB, buildTool, compile, disassemble, tempDir } from './planegrindHarness';

function startMon(dir: string, bin: string, extra: string[], prefix: string, logName = 'mon.%p.taintlog'): { child: ChildProcess; stdout: () => string } {
  const child = spawn('valgrind', ['-q', '--tool=planegrind', `--vgdb-prefix=${prefix}`, '--user-data=*.bin', `--taint-log=${join(dir, logName)}`, ...extra, bin, 'in.bin'], {
    cwd: dir, env: { ...process.env, VALGRIND_LIB: VGLIB }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  return { child, stdout: () => out };
}

/** The general registers, rip and eflags of gdb's `info registers` output. */
const regs = (out: string) => out.split('\n').filter((l) => /^(r[a-z0-9]+|eflags)\s+0x/.test(l)).join('\n');

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

/** Runs bin under planegrind with --vgdb=yes, waiting for gdb at start; gdb runs the commands. Returns
 *  gdb's output, then the program's. */
async function gdbRun(dir: string, bin: string, run: string, commands: string[], logName?: string): Promise<string> {
  const prefix = join(dir, `vg-${run}`);
  const { child, stdout } = startMon(dir, bin, ['--vgdb=yes', '--vgdb-error=0'], prefix, logName);
  await waitFor(() => {
    const l = spawnSync('vgdb', [`--vgdb-prefix=${prefix}`, '-l'], { encoding: 'utf8' });
    return `${l.stdout}${l.stderr}`.includes(`--pid=${child.pid}`);
  }, 'vgdb to list the process');
  const out = gdbBatch(bin, prefix, child.pid!, commands);
  await new Promise((r) => child.on('close', r));
  return `${out}\n${stdout()}`;
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

  // What the debugger's Step Back relies on (it runs with --vgdb=yes, where VEX keeps registers exact
  // only at memory accesses): a stop-at stop is indistinguishable from a breakpoint stop at the same
  // instruction, and stepping from it moves one instruction at a time.
  it('stop-at N stops where a breakpoint first reached at count N stops, with the same registers, and stepi counts from there (--vgdb=yes)', async () => {
    const withSegments = (out: string) => out.split('\n').filter((l) => /^(r[a-z0-9]+|eflags|[c-gs]s|fs_base|gs_base)\s+0x/.test(l)).join('\n');
    const runGdb = (run: string, commands: string[]) => gdbRun(dir, bin, run, commands);
    // main's first instruction after the prologue runs once: the breakpoint stop there is the reference
    const ref = await runGdb('d', ['break main', 'continue', 'monitor icount', 'info registers']);
    assert.match(ref, /Breakpoint 1, main/, ref);
    const n = Number(/^icount (\d+)$/m.exec(ref)?.[1]);
    assert.ok(n > 0, ref);
    const out = await runGdb('e', [`monitor stop-at ${n}`, 'continue', 'monitor icount', 'info registers', 'stepi', 'monitor icount', 'stepi', 'monitor icount', 'monitor stop-at 0']);
    assert.match(out, /SIGTRAP/, out);
    assert.match(out, /main \(/, out);
    assert.ok(withSegments(ref).split('\n').length >= 20, ref);
    assert.equal(withSegments(out), withSegments(ref), `registers at stop-at ${n} differ from those at the breakpoint\n${out}`);
    const counts = [...out.matchAll(/^icount (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(counts, [n, n + 1, n + 2], out);
    assert.match(out, /^stop-at cancelled icount=\d+$/m, out);
  });

  it('a stop-at stop between a flag write and its reader (cmp; sbb) shows and resumes from the exact flags', async () => {
    const prog = compile(dir, 'pg_flags');
    const dis = disassemble(prog, 'main');
    const sbb = /^\s*([0-9a-f]+):\s+sbb/m.exec(dis)?.[1];
    assert.ok(sbb, dis);
    const natively = execFileSync(prog, { encoding: 'utf8' });
    // the 300th arrival at the sbb, by a breakpoint (gdbserver keeps registers exact there)
    const ref = await gdbRun(dir, prog, 'flags-bp', [`break *0x${sbb}`, 'ignore 1 299', 'continue', 'monitor icount', 'info registers', 'delete', 'continue']);
    const n = Number(/^icount (\d+)$/m.exec(ref)?.[1]);
    assert.ok(n > 0, ref);
    const out = await gdbRun(dir, prog, 'flags-stop', [`monitor stop-at ${n}`, 'continue', 'p/x $pc', 'info registers', 'continue']);
    assert.match(out, new RegExp(`^\\$1 = 0x${sbb}$`, 'm'), out);
    assert.equal(regs(out), regs(ref), `registers (with the flags) at stop-at ${n} differ from the breakpoint's\n${out}`);
    for (const o of [ref, out]) assert.ok(o.includes(natively.trim()), `the program's output is ${natively.trim()}:\n${o}`);
  });

  it('a SIGFPE in a debug session shows the registers as they are at the faulting division', async () => {
    const prog = compile(dir, 'pg_sigfpe');
    const out = await gdbRun(dir, prog, 'sigfpe', ['continue', 'p/x $rax', 'p/x $rdx', 'p/x $rsi']);
    assert.match(out, /SIGFPE/, out);
    // the dividend the div faulted on (VEX drops these writes as overwritten unless the block is exact)
    assert.match(out, /^\$1 = 0x1111$/m, out);
    assert.match(out, /^\$2 = 0x0$/m, out);
    assert.match(out, /^\$3 = 0x2222$/m, out);
  });

  it('stops and steps leave the log\'s per-instruction counts as in a run without stops', async () => {
    const prog = compile(dir, 'pg_stopat');
    const counts = async (tag: string) => {
      const f = readdirSync(dir).filter((x) => x.startsWith(`${tag}.`) && x.endsWith('.taintlog'));
      assert.equal(f.length, 1, `one log for ${tag}: ${f}`);
      const log = await readTaintLog(join(dir, f[0]));
      assert.ok(log.end, `log of ${tag} is complete`);
      const m = new Map<string, string>();
      const buildId = new Map(log.modules.map((x) => [x.id, x.buildId]));
      for (const i of log.instructions) {
        const k = `${buildId.get(i.module)}:${i.offset.toString(16)}`;
        const [e, t] = (m.get(k) ?? '0/0').split('/').map(Number);
        m.set(k, `${e + i.executions}/${t + i.taintedExecutions}`);
      }
      return { m, icount: log.icount };
    };
    const plain = await gdbRun(dir, prog, 'f', ['continue'], 'plain.%p.taintlog');
    assert.match(plain, /exited normally/, plain);
    const stopped = await gdbRun(dir, prog, 'g', ['monitor stop-at 200000', 'continue', 'stepi', 'stepi', 'monitor icount', 'monitor stop-at 250000', 'continue', 'monitor icount', 'continue'], 'stopped.%p.taintlog');
    assert.equal((stopped.match(/SIGTRAP/g) ?? []).length, 2, stopped);
    assert.match(stopped, /^icount 200002$/m, stopped);
    assert.match(stopped, /^icount 250000$/m, stopped);
    assert.match(stopped, /exited normally/, stopped);
    const { m: a, icount: ia } = await counts('plain');
    const { m: b, icount: ib } = await counts('stopped');
    const diff = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k} ${a.get(k)} vs ${b.get(k)}`);
    // the differing instructions say where an icount difference comes from (seen once in CI: 14 fewer)
    assert.equal(ib, ia, `the icount of the end record; instructions that differ: ${diff.slice(0, 10).join('; ')}`);
    assert.ok(a.size > 100, `instructions in the log: ${a.size}`);
    assert.deepEqual(diff.slice(0, 10), []);
  });
  // Translations made while no stop-at is armed check once per segment and leave (discarding
  // themselves) when the target falls in the segment; the new translation checks every instruction.
  // A target armed after the code around it already ran must stop where one armed from the start does.
  it('stop-at armed after the code ran stops at the same count, pc and registers as one armed from the start', async () => {
    const src = join(dir, 'pg_rounds.c');
    writeFileSync(src, `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
static unsigned char buf[256];
volatile unsigned sink;
__attribute__((noinline)) void phase(int r) { sink += r; }
int main(int argc, char **argv) {
  int fd = open(argv[1], O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf);
  unsigned h = 2166136261u, odd = 0;
  for (int round = 0; round < 4; round++) {
    phase(round);
    for (ssize_t i = 0; i < n; i++) { h = (h ^ buf[i]) * 16777619u; if (h & 1) odd++; }
  }
  printf("%08x %u\\n", h, odd);
  return 0;
}
`);
    const prog = join(dir, 'pg_rounds');
    execFileSync('gcc', ['-g', '-O1', '-no-pie', '-fno-pie', src, '-o', prog]);
    // the third call of phase: rounds 0 and 1 ran the loop from translations made with no target armed
    const third = await gdbRun(dir, prog, 'h', ['break phase', 'continue', 'continue', 'continue', 'monitor icount']);
    const at = Number(/^icount (\d+)$/m.exec(third)?.[1]);
    assert.ok(at > 0, third);
    const target = at + 777;
    const lateOut = await gdbRun(dir, prog, 'i', ['break phase', 'continue', 'continue', 'continue', 'delete', `monitor stop-at ${target}`, 'continue', 'monitor icount', 'p/x $pc', 'info registers', 'continue']);
    const early = await gdbRun(dir, prog, 'j', [`monitor stop-at ${target}`, 'continue', 'monitor icount', 'p/x $pc', 'info registers', 'continue']);
    for (const out of [lateOut, early]) {
      assert.match(out, new RegExp(`^icount ${target}$`, 'm'), out);
      assert.match(out, /SIGTRAP/, out);
      assert.match(out, /exited normally/, out);
    }
    const pc = (out: string) => /^\$\d+ = (0x[0-9a-f]+)$/m.exec(out)?.[1];
    assert.ok(pc(early), early);
    assert.equal(pc(lateOut), pc(early), `${lateOut}\n----\n${early}`);
    assert.ok(regs(early).split('\n').length >= 16, early);
    assert.equal(regs(lateOut), regs(early));
  });
});

// planegrind end to end: real valgrind on C fixtures compiled at test time (issue 4's test list).
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { classifyCommand } from '../../src/cli/commands/classify';
import { findTaintLogs } from '../../src/core/classify/inputs';
import { openPlanesDatabase } from '../../src/core/db/reader';
import { readTaintLog } from '../../src/core/taintLog/reader';
import type { TaintLog } from '../../src/core/taintLog/types';
import { FIXTURES, VGLIB, buildTool, compile, disassemble, lineCounts, markerLines, moduleOf, runPg, siteLines, tempDir } from './planegrindHarness';

function io(log: TaintLog, kind: string, direction: string) {
  return log.io.find((x) => x.kind === kind && x.direction === direction) ?? { taintedBytes: 0, cleanBytes: 0 };
}

/** Bytes written to stdout: node's spawn gives the child a socketpair, a shell a pipe. */
function stdoutTainted(log: TaintLog): number {
  return io(log, 'pipe', 'out').taintedBytes + io(log, 'socket', 'out').taintedBytes;
}

function markerCounts(log: TaintLog, bin: string, name: string, marker: string) {
  const lines = markerLines(join(FIXTURES, `${name}.c`), marker);
  const counts = lineCounts(log, bin, name);
  let execs = 0;
  let tainted = 0;
  for (const l of lines) {
    execs += counts.get(l)?.execs ?? 0;
    tainted += counts.get(l)?.tainted ?? 0;
  }
  return { execs, tainted };
}

/** [start, end) offsets of a symbol of an ELF file (of its dynamic symbol table unless `dynamic` is false). */
function symbolRange(path: string, symbol: string, dynamic = true): [number, number] {
  const out = spawnSync('nm', [...(dynamic ? ['-D'] : []), '--defined-only', '-S', path], { encoding: 'utf8' }).stdout;
  for (const line of out.split('\n')) {
    const [addr, size, , name] = line.trim().split(/\s+/);
    if (name && name.split('@')[0] === symbol && size) return [parseInt(addr, 16), parseInt(addr, 16) + parseInt(size, 16)];
  }
  throw new Error(`${symbol} not found in ${path}`);
}

describe('planegrind', function () {
  this.timeout(240000);
  let dir: string;
  before(() => {
    buildTool();
    dir = tempDir('native');
    // fixed bytes: the tests must see the same run every time
    writeFileSync(join(dir, 'input.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 24) & 0xff)));
    writeFileSync(join(dir, 'other.txt'), 'hello, not user data\n'.repeat(10));
    writeFileSync(join(dir, 'big.bin'), Buffer.from(Array.from({ length: 12288 }, (_, i) => (i * 7 + 3) & 0xff)));
  });

  describe("the paper's CRC32 table lookup", () => {
    let bin: string;
    before(() => (bin = compile(dir, 'pg_crc32')));
    const lookupSite = (log: TaintLog) => {
      const lines = [...markerLines(join(FIXTURES, 'pg_crc32.c'), 'crc-lookup'), ...markerLines(join(FIXTURES, 'pg_crc32.c'), 'crc-combine')];
      const sites = siteLines(log, bin, 'pg_crc32').filter((s) => lines.includes(s.line) && s.access === 'load');
      assert.equal(sites.length, 1, JSON.stringify(siteLines(log, bin, 'pg_crc32')));
      const mod = moduleOf(log, 'pg_crc32');
      const site = log.sites.find((s) => s.module === mod.id && s.access === 'load' && s.count === sites[0].count)!;
      const insn = log.instructions.find((i) => i.module === mod.id && i.offset === site.offset)!;
      return { site, insn };
    };

    it('insensitive: the lookup is a tainted pointer site and its result is clean', async () => {
      const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
      assert.equal(r.code, 0, r.stderr);
      const { site, insn } = lookupSite(r.log);
      assert.equal(site.count, 4096);
      assert.equal(r.log.labels.get(site.label)?.provenance.kind, 'file');
      assert.equal(insn.executions, 4096);
      assert.equal(insn.taintedExecutions, 0);
      assert.ok(markerCounts(r.log, bin, 'pg_crc32', 'crc-index').tainted >= 4096);
      assert.equal(stdoutTainted(r.log), 0, 'the printed CRC is clean');
      assert.equal(r.log.tool.policy, 'insensitive');
    });

    it('sensitive: the lookup is data plane', async () => {
      const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin', '--pointer-policy=sensitive']);
      assert.equal(r.code, 0, r.stderr);
      const { site, insn } = lookupSite(r.log);
      assert.equal(site.count, 4096);
      assert.equal(insn.taintedExecutions, 4096);
      // printf's %08x pads with constant '0' characters: only the significant hex digits carry taint
      const digits = /crc=([0-9a-f]{8})/.exec(r.stdout)?.[1] ?? '';
      assert.equal(stdoutTainted(r.log), digits.replace(/^0+/, '').length, `the printed CRC's digits are tainted: ${r.stdout} io ${JSON.stringify(r.log.io)}`);
      assert.equal(r.log.tool.policy, 'sensitive');
    });
  });

  describe("the paper's hashed lock", () => {
    let bin: string;
    before(() => (bin = compile(dir, 'pg_hashlock', ['-pthread'])));
    const lockInsns = (log: TaintLog) => {
      const libc = log.modules.find((m) => /libc\.so/.test(m.path))!;
      const [lo, hi] = symbolRange(libc.path, 'pthread_mutex_lock');
      const sites = log.sites.filter((s) => s.module === libc.id && s.offset >= lo && s.offset < hi);
      const insns = sites.map((s) => log.instructions.find((i) => i.module === libc.id && i.offset === s.offset)!);
      return { sites, insns };
    };

    it('insensitive: the hash is data plane, pthread_mutex_lock on array[h].lock is control plane', async () => {
      const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /records=256/);
      assert.ok(markerCounts(r.log, bin, 'pg_hashlock', 'hash').tainted > 0);
      const { sites, insns } = lockInsns(r.log);
      assert.ok(sites.length > 0, 'the lock word accesses are tainted pointer sites');
      for (const i of insns) assert.equal(i.taintedExecutions, 0, `lock access at 0x${i.offset.toString(16)} is control plane`);
    });

    it("counts the hash's xor as touching tainted data, though only the next instruction (imul) reads its result", async () => {
      // VEX drops the xor's write of eax (the imul overwrites it): the xor has no Put of its own
      const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
      assert.equal(r.code, 0, r.stderr);
      const dis = disassemble(bin, 'hash');
      const offsets = (mnemonic: string) =>
        [...dis.matchAll(new RegExp(`^\\s*([0-9a-f]+):\\s+${mnemonic}\\s`, 'gm'))].map((m) => parseInt(m[1], 16));
      const exe = moduleOf(r.log, 'pg_hashlock');
      const counts = (off: number) => r.log.instructions.find((i) => i.module === exe.id && i.offset === off)!;
      const [xor] = offsets('xor'), [imul] = offsets('imul');
      assert.ok(xor !== undefined && imul !== undefined, dis);
      assert.ok(counts(imul).taintedExecutions > 0);
      assert.equal(counts(xor).taintedExecutions, counts(xor).executions, `xor at 0x${xor.toString(16)} touched tainted data on every execution`);
    });

    it('counts every instruction of a register-only chain over user data (xorshift: mov, shift, xor)', async () => {
      const chain = compile(dir, 'pg_chain');
      const r = await runPg(dir, [chain, 'input.bin'], ['--user-data=*.bin']);
      assert.equal(r.code, 0, r.stderr);
      const dis = disassemble(chain, 'mix');
      const body = [...dis.matchAll(/^\s*([0-9a-f]+):\s+(mov|shl|shr|xor)\s+\S*%e[ad]x$/gm)].map((m) => ({ off: parseInt(m[1], 16), op: m[2] }));
      assert.ok(body.length >= 9, dis);
      const exe = moduleOf(r.log, 'pg_chain');
      for (const { off, op } of body) {
        const i = r.log.instructions.find((x) => x.module === exe.id && x.offset === off)!;
        assert.equal(i.taintedExecutions, i.executions, `${op} at 0x${off.toString(16)} touched tainted data on each of its ${i.executions} executions`);
      }
    });

    it('sensitive: the lock accesses become data plane', async () => {
      const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin', '--pointer-policy=sensitive']);
      assert.equal(r.code, 0, r.stderr);
      const { sites, insns } = lockInsns(r.log);
      assert.ok(sites.length > 0);
      assert.ok(insns.some((i) => i.taintedExecutions > 0));
    });
  });

  it('code translated before the first tainted byte counts taint afterwards as code that first ran after it', async () => {
    // Until taint arrives blocks carry no shadow code; the first tainted byte discards them all.
    const bin = compile(dir, 'pg_latetaint');
    const run = async (mode: string) => {
      const r = await runPg(dir, [bin, 'input.bin', mode], ['--user-data=*.bin']);
      assert.equal(r.code, 0, r.stderr);
      const [lo, hi] = symbolRange(bin, 'sum', false);
      const exe = moduleOf(r.log, 'pg_latetaint');
      return new Map(r.log.instructions.filter((i) => i.module === exe.id && i.offset >= lo && i.offset < hi).map((i) => [i.offset, i]));
    };
    const warm = await run('warm');
    const cold = await run('cold');
    assert.ok(cold.size >= 5, `${cold.size} instructions of sum`);
    assert.ok([...cold.values()].some((i) => i.taintedExecutions >= 500), JSON.stringify([...cold.values()]));
    for (const [off, c] of cold) {
      const w = warm.get(off);
      assert.ok(w, `0x${off.toString(16)} ran in the cold run only`);
      assert.equal(w.taintedExecutions, c.taintedExecutions, `tainted executions of 0x${off.toString(16)}, warm vs cold`);
      assert.ok(w.executions > c.executions, `0x${off.toString(16)} ran before the read too`);
    }
  });

  it('memcpy, strcpy, memmove and SIMD string functions keep taint byte-exactly; zeroing idioms and constants clear it', async () => {
    const bin = compile(dir, 'pg_strings');
    const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      'src tainted=64 [5,69)',
      'memcpy tainted=64 [5,69)',
      'strcpy tainted=64 [5,69)',
      'memmove tainted=64 [6,70)',
      'strlen=256',
      'xor tainted=0',
      'sub tainted=0',
      'pxor tainted=0',
      'before-const tainted=8 [0,8)',
      'const tainted=0',
    ]);
  });

  it('an -O3 -mavx2 loop keeps taint byte-exactly (bytes) and lane-exactly (ints)', async () => {
    const bin = compile(dir, 'pg_avx2', ['-O3', '-mavx2']);
    const dis = spawnSync('objdump', ['-d', bin], { encoding: 'utf8' }).stdout;
    assert.match(dis, /vpaddb\s+%ymm/, 'the loop is vectorised with AVX2');
    const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['bytes tainted=60 [40,100)', 'ints tainted=60 [40,100)']);
  });

  it('sources: mmap private/shared, readv, pread, dup2 to fd 1005, dup3, F_DUPFD, close and reuse; other files stay clean', async () => {
    const bin = compile(dir, 'pg_sources');
    const r = await runPg(dir, [bin, 'input.bin', 'other.txt'], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'mmap-private=4096',
      'mmap-shared=4096',
      'mmap-copy=64',
      'readv=80 a=30 b=50',
      'pread=200 c=200',
      'pread-label=[1000,1200)',
      'fd1005=100 a=100',
      'dup3=10/10 fdupfd=10/10',
      'other=100 b=0',
      'reused=100 a=0 was=100',
    ]);
    const files = [...r.log.labels.values()].map((l) => l.provenance).filter((p) => p.kind === 'file');
    assert.ok(files.every((p) => p.kind === 'file' && p.path.endsWith('/input.bin')));
    // per-fd offsets: readv [0,80), the dup'ed fd continues at 80
    assert.ok(files.some((p) => p.kind === 'file' && p.start === 0 && p.end === 80));
    assert.ok(files.some((p) => p.kind === 'file' && p.start === 80 && p.end === 180));
  });

  it('sources: preadv/preadv2, a short read at EOF, per-fd offsets, dup and F_DUPFD_CLOEXEC, kernel writes clearing taint, mmap at an offset / past EOF / MAP_FIXED', async () => {
    const bin = compile(dir, 'pg_sources2');
    const r = await runPg(dir, [bin, 'input.bin', 'other.txt', 'big.bin'], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'preadv=100 a=40 b=60 label=[2000,2100)',
      'preadv2-current=100 tainted=100 label=[300,400) offset-after=400',
      'preadv2-at=100 label=[3000,3100)',
      'pread-eof=96 c=96 label=[4000,4096)',
      'second-open=10 [0,10) first=10 [1000,1010)',
      'dup=10 [1010,1020) dupfd-cloexec=10 [1020,1030) fd>=2000=1',
      'read-over=100 before=300 after=200 first100=0 rest=200',
      'recv-over=50 pipe-over=30 first80=0 rest=220',
      'mmap-past-eof=4096',
      'mmap-offset=4096 label=[4096,8192)',
      'mmap-fixed before=8192 clean-file=0 anonymous=0',
      'mmap-other=0',
    ]);
    const files = [...r.log.labels.values()].map((l) => l.provenance).filter((p) => p.kind === 'file');
    assert.ok(files.some((p) => p.kind === 'file' && p.path === join(dir, 'big.bin') && p.start === 4096 && p.end === 8192));
  });

  it('sendfile, splice, copy_file_range, vmsplice, sendmmsg/recvmmsg: exact io counts; bytes the kernel copied arrive clean', async () => {
    const bin = compile(dir, 'pg_kernelio', ['-static']);
    const r = await runPg(dir, [bin, 'input.bin', 'other.txt', join(dir, 'kernelio.out')], ['--user-data=*.bin']);
    assert.equal(r.code, 0, `check ${r.code} of pg_kernelio.c failed: ${r.stderr}`);
    const counts = Object.fromEntries(r.log.io.map((x) => [`${x.kind} ${x.direction}`, [x.taintedBytes, x.cleanBytes]]));
    assert.deepEqual(counts, {
      // tainted: sendfile 1000 + splice 500 + copy_file_range 2048 + preads 64 + 30; clean: sendfile of the clean file 210 + the copy read back 2048
      'file in': [3642, 2258],
      'file out': [2048, 0],
      // sendfile 1000 tainted + 210 clean, splice from the pipe 200 clean, sendmmsg 30 + 20
      'socket out': [1030, 430],
      'socket in': [0, 1460],
      // splice 500 tainted, write 200 clean, vmsplice 64 tainted + 36 clean
      'pipe out': [564, 236],
      'pipe in': [0, 800],
    });
  });

  it('a CAS spin lock stays control plane while the data it guards is data plane', async () => {
    const bin = compile(dir, 'pg_spinlock');
    const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    const cas = markerCounts(r.log, bin, 'pg_spinlock', 'cas');
    assert.ok(cas.execs >= 256);
    assert.equal(cas.tainted, 0);
    assert.ok(markerCounts(r.log, bin, 'pg_spinlock', 'sum').tainted >= 256);
  });

  it('a pthreads pipeline passes tainted buffers through a queue', async () => {
    const bin = compile(dir, 'pg_pipeline', ['-pthread']);
    const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /worker total=4096 tainted=4096 /);
    assert.equal(io(r.log, 'file', 'in').taintedBytes, 4096);
    assert.ok(markerCounts(r.log, bin, 'pg_pipeline', 'worker-sum').tainted >= 4096);
  });

  it('fork and exec children each get their own log; an exec does not overwrite the log of its pid (--trace-children=yes)', async () => {
    const bin = compile(dir, 'pg_forkexec');
    const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin', '--trace-children=yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /parent sum=(\d+) fork-child=7 exec-child=5/);
    const sum = Number(/parent sum=(\d+)/.exec(r.stdout)![1]);
    assert.match(r.stdout, new RegExp(`exec child sum=${sum}\n`));
    // parent, forked child, the second child before its exec and the program it exec'd
    assert.equal(r.logs.length, 4, r.logs.join(','));
    const logs = await Promise.all(r.logs.map((l) => readTaintLog(l)));
    const byEnd = (pred: (l: TaintLog) => boolean) => {
      const found = logs.filter(pred);
      assert.equal(found.length, 1, logs.map((l) => `${l.source}: ${JSON.stringify(l.end)}`).join('\n'));
      return found[0];
    };
    const parent = byEnd((l) => l.end.reason === 'exit' && l.end.code === 0);
    const forked = byEnd((l) => l.end.reason === 'exit' && l.end.code === 7);
    const beforeExec = byEnd((l) => l.end.reason === 'exec');
    const execd = byEnd((l) => l.end.reason === 'exit' && l.end.code === 5);
    assert.match(parent.source, /\/run\.\d+\.taintlog$/);
    assert.equal(beforeExec.source, parent.source.replace(/\d+\.taintlog$/, `${beforeExec.process.pid}.taintlog`));
    assert.equal(execd.source, beforeExec.source.replace(/\.taintlog$/, '.exec1.taintlog'), 'the exec\'d image names its log after the one before');
    assert.deepEqual(beforeExec.end, { reason: 'exec', next: execd.source });
    // process records: same pid across the exec, the new image's own argv
    assert.equal(execd.process.pid, beforeExec.process.pid);
    for (const l of [forked, beforeExec, execd]) assert.equal(l.process.ppid, parent.process.pid, l.source);
    assert.equal(new Set([parent, forked, beforeExec].map((l) => l.process.pid)).size, 3);
    assert.deepEqual(parent.process.args, ['input.bin']);
    assert.deepEqual(beforeExec.process.args, ['input.bin']);
    assert.deepEqual(execd.process.args, ['input.bin', 'child']);
    assert.match(readFileSync(execd.source, 'utf8'), /^process pid=\d+ ppid=\d+ exec=1 /m);
    // each image read 512 bytes of user data itself (the exec'd one after the exec, into its own log)
    for (const l of [parent, forked, execd]) {
      assert.equal(io(l, 'file', 'in').taintedBytes, 512, l.source);
      assert.ok([...l.labels.values()].some((x) => x.provenance.kind === 'file' && x.provenance.start === 0 && x.provenance.end === 512), `${l.source} has its file label`);
    }
    assert.equal(io(beforeExec, 'file', 'in').taintedBytes, 0, 'the child read nothing before its exec');
    for (const l of logs) assert.deepEqual(l.warnings, [], l.source);
    // classify finds all four (it globs *.taintlog) and keeps them as four runs
    assert.deepEqual(findTaintLogs([dirname(r.logs[0])]), [...r.logs].sort());
    const db = join(dir, 'forkexec.planes.db');
    assert.equal(await classifyCommand.run([dirname(r.logs[0]), '--out', db, '--quiet', '--no-hash']), 0);
    const runs = (await openPlanesDatabase(db)).runs();
    assert.deepEqual(runs.map((x) => x.logPath).sort(), [...r.logs].sort());
    assert.deepEqual(runs.map((x) => x.pid).sort(), logs.map((l) => l.process.pid).sort());
  });

  it('a log name without %p: forked children and exec\'d images still get their own logs', async () => {
    const bin = compile(dir, 'pg_forkexec');
    const logDir = tempDir('nopid');
    const res = spawnSync('valgrind', ['-q', '--tool=planegrind', '--trace-children=yes', '--user-data=*.bin', `--taint-log=${join(logDir, 'app.taintlog')}`, bin, 'input.bin'], {
      cwd: dir, env: { ...process.env, VALGRIND_LIB: VGLIB }, encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const names = readdirSync(logDir).sort();
    assert.equal(names.length, 4, names.join(','));
    assert.ok(names.includes('app.taintlog'));
    const pids = names.map((n) => /^app\.(\d+)\.(exec1\.)?taintlog$/.exec(n)).filter((m) => m);
    assert.equal(pids.length, 3, names.join(','));
    const execd = pids.find((m) => m![2])!;
    assert.ok(names.includes(`app.${execd[1]}.taintlog`), 'the exec\'d image follows the name of its pid\'s log');
    const logs = await Promise.all(names.map((n) => readTaintLog(join(logDir, n))));
    assert.deepEqual(logs.map((l) => l.end.reason === 'exit' ? `exit ${l.end.code}` : l.end.reason).sort(), ['exec', 'exit 0', 'exit 5', 'exit 7']);
  });

  it('counts tainted and clean bytes exactly for writes to a file, a pipe and a socket', async () => {
    const bin = compile(dir, 'pg_io');
    const r = await runPg(dir, [bin, 'input.bin', join(dir, 'written.out')], ['--user-data=*.bin']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(io(r.log, 'file', 'out'), { kind: 'file', direction: 'out', taintedBytes: 100, cleanBytes: 50 });
    assert.deepEqual(io(r.log, 'pipe', 'out'), { kind: 'pipe', direction: 'out', taintedBytes: 100, cleanBytes: 50 });
    assert.deepEqual(io(r.log, 'socket', 'out'), { kind: 'socket', direction: 'out', taintedBytes: 100, cleanBytes: 50 });
    assert.equal(io(r.log, 'file', 'in').taintedBytes, 100);
    assert.equal(io(r.log, 'pipe', 'in').cleanBytes, 150, 'a pipe read is clean (the kernel wrote it)');
    assert.equal(io(r.log, 'socket', 'in').cleanBytes, 150);
  });

  it('a segfaulting program leaves a log complete up to the crash, ending with signal 11', async () => {
    const bin = compile(dir, 'pg_segv');
    const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
    assert.equal(r.signal, 'SIGSEGV', `valgrind replays the fatal signal: code ${r.code}`);
    assert.deepEqual(r.log.end, { reason: 'signal', signal: 11 });
    const loop = markerCounts(r.log, bin, 'pg_segv', 'segv-loop');
    assert.ok(loop.tainted >= 1000 && loop.execs >= 1000, JSON.stringify(loop));
    assert.ok(markerCounts(r.log, bin, 'pg_segv', 'segv-crash').execs >= 1);
    assert.deepEqual(r.log.warnings, []);
  });

  describe('the end record carries the number of the fatal signal', () => {
    let bin: string;
    before(() => (bin = compile(dir, 'pg_abort', ['-pthread'])));

    it('abort() in the main thread: SIGABRT = 6', async () => {
      const r = await runPg(dir, [bin, 'input.bin'], ['--user-data=*.bin']);
      assert.equal(r.signal, 'SIGABRT', `code ${r.code} ${r.stderr}`);
      assert.deepEqual(r.log.end, { reason: 'signal', signal: 6 });
      assert.equal(io(r.log, 'file', 'in').taintedBytes, 256, 'the log is complete up to the abort');
    });

    it('a segfault in a second thread: SIGSEGV = 11', async () => {
      const r = await runPg(dir, [bin, 'input.bin', 'thread'], ['--user-data=*.bin']);
      assert.equal(r.signal, 'SIGSEGV', `code ${r.code} ${r.stderr}`);
      assert.deepEqual(r.log.end, { reason: 'signal', signal: 11 });
    });

    it('SIGTERM from another process while the program waits in a syscall: 15', async () => {
      buildTool();
      const logDir = tempDir('sigterm');
      const child = spawn('valgrind', ['-q', '--tool=planegrind', '--user-data=*.bin', `--taint-log=${join(logDir, 'w.%p.taintlog')}`, bin, 'input.bin', 'wait'], {
        cwd: dir, env: { ...process.env, VALGRIND_LIB: VGLIB },
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready\n')) child.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])));
      assert.equal(signal, 'SIGTERM', `code ${code}`);
      const logs = readdirSync(logDir);
      assert.equal(logs.length, 1);
      const log = await readTaintLog(join(logDir, logs[0]));
      assert.deepEqual(log.end, { reason: 'signal', signal: 15 });
      assert.equal(io(log, 'file', 'in').taintedBytes, 256);
    });

    it('a normal exit still ends with its exit code', async () => {
      const r = await runPg(dir, ['/bin/sh', '-c', 'exit 42']);
      assert.equal(r.code, 42);
      assert.deepEqual(r.log.end, { reason: 'exit', code: 42 });
    });

    it('a process whose last thread calls exit (not exit_group) ends with that code', async () => {
      const r = await runPg(dir, [compile(dir, 'pg_lastexit', ['-pthread'])]);
      assert.equal(r.code, 3, r.stderr);
      assert.deepEqual(r.log.end, { reason: 'exit', code: 3 });
    });
  });

  describe('bad input', () => {
    it('an unwritable log path fails before the program starts', async () => {
      const bin = compile(dir, 'pg_io');
      const res = spawnSync('valgrind', ['-q', '--tool=planegrind', '--taint-log=/nonexistent-dir/x.%p.taintlog', bin, 'input.bin', join(dir, 'never.out')], {
        cwd: dir, env: { ...process.env, VALGRIND_LIB: join(__dirname, '..', '..', 'native', 'build', 'vglib') }, encoding: 'utf8',
      });
      assert.equal(res.status, 1);
      assert.match(res.stderr, /cannot write the taint log '\/nonexistent-dir\/x\.\d+\.taintlog'/);
      assert.throws(() => readFileSync(join(dir, 'never.out')));
    });

    it('an unwritable log path names the path and the reason: a directory, a parent that is a file', () => {
      writeFileSync(join(dir, 'plain-file'), 'x');
      for (const [path, reason] of [[dir, 'Is a directory'], [join(dir, 'plain-file', 'x.taintlog'), 'Not a directory']]) {
        const res = spawnSync('valgrind', ['-q', '--tool=planegrind', `--taint-log=${path}`, '/usr/bin/touch', join(dir, 'never-touched')], {
          env: { ...process.env, VALGRIND_LIB: VGLIB }, encoding: 'utf8',
        });
        assert.equal(res.status, 1, res.stderr);
        assert.ok(res.stderr.includes(`cannot write the taint log '${path}': ${reason}; choose a writable --taint-log=PATH`), res.stderr);
      }
      assert.throws(() => readFileSync(join(dir, 'never-touched')), 'the program never ran');
    });

    // every planegrind option, malformed: Valgrind's "Bad option" / "Unknown option" with what is wrong, exit 1, before the program runs
    const badOptions: [string, RegExp][] = [
      ['--pointer-policy=maybe', /Bad option: --pointer-policy=maybe\n.*--pointer-policy must be 'insensitive' or 'sensitive'/],
      ['--pointer-policy=', /Bad option: --pointer-policy=\n.*must be 'insensitive' or 'sensitive'/],
      ['--pointer-policy', /Bad option: --pointer-policy\n.*needs a value: write --pointer-policy=insensitive\|sensitive \(with '='\)/],
      ['--user-data=', /Bad option: --user-data=\n.*--user-data needs a glob, e.g. --user-data='data\/\*'/],
      ['--user-data', /Bad option: --user-data\n.*needs a value: write --user-data=GLOB/],
      ['--user-data=data/[abc', /Bad option: --user-data=data\/\[abc\n.*the glob 'data\/\[abc' has a '\[' without its closing '\]'/],
      ['--user-data=data/', /Bad option: --user-data=data\/\n.*the glob 'data\/' ends with '\/': it names a directory, not files \(write DIR\/\* or DIR\/\*\*\)/],
      ['--taint-log=', /Bad option: --taint-log=\n.*--taint-log needs a file name/],
      ['--taint-log', /Bad option: --taint-log\n.*needs a value: write --taint-log=PATH/],
      ['--taint-log=x.%z.taintlog', /Bad option: --taint-log=x\.%z\.taintlog\n.*Expected 'p' or 'q' or '%' after '%'/],
      ['--taint-log=x.%q{PG_TEST_SURELY_UNSET}.taintlog', /Bad option: --taint-log=.*\n.*Environment variable 'PG_TEST_SURELY_UNSET' is not set/],
      ['--flush-interval=abc', /Bad option: --flush-interval=abc\n.*Invalid integer value 'abc'/],
      ['--flush-interval=5', /Bad option: --flush-interval=5\n.*'--flush-interval' argument must be between 10 and 3600000/],
      ['--flush-interval', /Bad option: --flush-interval\n.*needs a value: write --flush-interval=MS/],
      ['--stop-at-support=maybe', /Bad option: --stop-at-support=maybe\n.*--stop-at-support must be 'yes' or 'no'/],
      ['--stop-at-support', /Bad option: --stop-at-support\n.*needs a value/],
      ['--exec-seq=x', /Bad option: --exec-seq=x\n.*Invalid integer value 'x'/],
      ['--exec-prev-log=', /Bad option: --exec-prev-log=\n.*--exec-prev-log needs a file name/],
      ['--bogus-option=1', /Unknown option: --bogus-option=1/],
    ];
    for (const [opt, msg] of badOptions) {
      it(`${opt} gets a Valgrind-style error`, () => {
        const marker = join(dir, `ran-${badOptions.findIndex((b) => b[0] === opt)}`);
        const res = spawnSync('valgrind', ['-q', '--tool=planegrind', `--taint-log=${join(dir, 'bad-opt.%p.taintlog')}`, opt, '/usr/bin/touch', marker], {
          cwd: dir, env: { ...process.env, VALGRIND_LIB: VGLIB }, encoding: 'utf8',
        });
        assert.equal(res.status, 1, res.stderr);
        assert.match(res.stderr, msg);
        assert.throws(() => readFileSync(marker), 'the program never ran');
      });
    }

    it('a glob that matched no opened file gets a warning at exit', async () => {
      const bin = compile(dir, 'pg_io');
      const r = await runPg(dir, [bin, 'input.bin', join(dir, 'w2.out')], ['--user-data=*.bin', '--user-data=nothing-*.dat']);
      assert.equal(r.code, 0);
      assert.deepEqual(r.log.warnings, ["--user-data glob 'nothing-*.dat' matched no file opened in this run"]);
      assert.equal(r.stderr.split('\n').filter((l) => l.includes("planegrind: warning: --user-data glob 'nothing-*.dat' matched no file opened in this run")).length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\*\.bin/, 'the glob that matched gets no warning');
      // also when the process dies of a signal (the warning comes before the end record)
      const aborted = await runPg(dir, [compile(dir, 'pg_abort', ['-pthread']), 'input.bin'], ['--user-data=*.bin', '--user-data=nothing-*.dat']);
      assert.deepEqual(aborted.log.end, { reason: 'signal', signal: 6 });
      assert.deepEqual(aborted.log.warnings, ["--user-data glob 'nothing-*.dat' matched no file opened in this run"]);
      assert.match(readFileSync(aborted.logs[0], 'utf8'), /^warning text=.*\nend reason=signal signal=6 /m);
    });
  });
});

#!/usr/bin/env node
// planegrind benchmark (issue 4): three programs, each run natively, under --tool=none, under memcheck and
// under planegrind, side by side in one run. Prints wall and CPU (user+sys) time ratios against native
// and planegrind against memcheck, and peak memory against memcheck's. CPU time is the fairer number on
// a shared machine (wall time includes waiting for the CPU). Targets (DESIGN §8): planegrind/memcheck
// <= 1.0 and planegrind/native <= 10 on the checksum loop.
//   node bench/planegrind.mjs [--mb 50] [--reps 1] [--compare VGLIB_DIR]
// Start-up (Valgrind's own, plus reading the debug info of every loaded library: with libc6-dbg installed,
// as Debian's valgrind recommends, most of it) is measured apart: the checksum program over an empty file
// under each configuration. "after start-up" columns subtract it, which is what the programs' loops cost.
// Each program also runs under planegrind with --stop-at-support=yes (exact counting, what the debugger
// turns on), and under the compared build with it, for what exact counting costs.
// --compare runs a second planegrind build (a VALGRIND_LIB directory, e.g. one built from an earlier
// commit with `make -C native OUT=DIR` plus links to /usr/libexec/valgrind/*) in the same run, for
// before/after ratios measured side by side.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIMES_SCRIPT, childCpu } from './bashTimes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const MB = arg('mb', 50);
const REPS = arg('reps', 1);
const compareAt = process.argv.indexOf('--compare');
const COMPARE = compareAt >= 0 ? resolve(process.argv[compareAt + 1] ?? '') : undefined;
if (COMPARE !== undefined && !existsSync(join(COMPARE, 'planegrind-amd64-linux'))) {
  console.error(`--compare ${COMPARE}: no planegrind-amd64-linux there; give a VALGRIND_LIB directory holding a planegrind build`);
  process.exit(2);
}

const PROGRAMS = {
  // FNV-1a over the user-data file: the paper's data-plane loop
  checksum: `#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  static unsigned char buf[1 << 16];
  int fd = open(argv[1], O_RDONLY);
  uint64_t h = 1469598103934665603ULL;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 1099511628211ULL;
  printf("%016llx\\n", (unsigned long long)h);
  return 0;
}`,
  // memcpy-heavy: copies 8 MB of user data around, glibc's SIMD memcpy doing the work
  memcpy: `#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  size_t n = 8 << 20;
  char *a = malloc(n), *b = malloc(n);
  int fd = open(argv[1], O_RDONLY);
  size_t got = 0;
  ssize_t r;
  while (got < n && (r = read(fd, a + got, n - got)) > 0) got += r;
  unsigned long s = 0;
  for (int rep = 0; rep < 24; rep++) {
    memcpy(b, a, got);
    memmove(a + 1, b, got - 1);
    s += (unsigned char)a[rep * 4096];
  }
  printf("%lu\\n", s);
  return 0;
}`,
  // branchy control-heavy: a state machine over clean pseudo-random input, a little user data as seed
  branchy: `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  unsigned char seed[4] = {0};
  int fd = open(argv[1], O_RDONLY);
  read(fd, seed, sizeof seed);
  unsigned x = 2463534242u, state = 0, counts[8] = {0};
  for (long i = 0; i < 20000000; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    switch (state) {
      case 0: state = (x & 1) ? 1 : 2; break;
      case 1: state = (x & 6) == 6 ? 3 : 0; break;
      case 2: if (x % 3 == 0) state = 4; else if (x % 5 == 0) state = 5; else state = 0; break;
      case 3: state = x > 0x80000000u ? 6 : 1; break;
      case 4: state = 7; break;
      case 5: state = (x & 0xff) < 16 ? 2 : 0; break;
      case 6: state = 0; break;
      default: state = x & 3; break;
    }
    counts[state]++;
  }
  printf("%u %u\\n", counts[0] + seed[0], counts[7]);
  return 0;
}`,
};

const dir = mkdtempSync(join(tmpdir(), 'pg-bench-'));
try {
  execFileSync('make', ['-s', '-C', join(root, 'native')], { stdio: 'inherit' });
  const vglib = join(root, 'native', 'build', 'vglib');
  const data = join(dir, 'data.bin');
  writeFileSync(data, randomBytes(MB << 20));
  const empty = join(dir, 'empty.bin');
  writeFileSync(empty, '');
  const bins = {};
  for (const [name, src] of Object.entries(PROGRAMS)) {
    writeFileSync(join(dir, `${name}.c`), src);
    bins[name] = join(dir, name);
    execFileSync('gcc', ['-O2', '-g', join(dir, `${name}.c`), '-o', bins[name]]);
  }
  const pg = (bin, input, extra = []) => ['valgrind', '-q', '--tool=planegrind', '--user-data=' + join(dir, '*.bin'), `--taint-log=${join(dir, 'bench.%p.taintlog')}`, ...extra, bin, input];
  const exact = (bin, input) => pg(bin, input, ['--stop-at-support=yes']);
  const configs = {
    native: (bin, input) => [bin, input],
    none: (bin, input) => ['valgrind', '-q', '--tool=none', bin, input],
    memcheck: (bin, input) => ['valgrind', '-q', '--tool=memcheck', bin, input],
    planegrind: pg,
    'pg exact': exact,
  };
  if (COMPARE) Object.assign(configs, { compare: pg, 'cmp exact': exact });
  const measure = (argv, lib) => {
    let best;
    for (let i = 0; i < REPS; i++) {
      // GNU time for wall time and peak memory; bash's `times` for the CPU time, in milliseconds (GNU time
      // prints hundredths, and the native checksum takes some 0.06 s)
      const r = spawnSync('bash', ['-c', `/usr/bin/time -f "TIME %e %M" ${TIMES_SCRIPT}`, 'bash', ...argv], { encoding: 'utf8', env: { ...process.env, VALGRIND_LIB: lib } });
      if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
      const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr);
      const [user, sys] = childCpu(r.stderr);
      const res = { wall: Number(m[1]), cpu: user + sys, rssMB: Number(m[2]) / 1024, out: r.stdout.trim() };
      if (!best || res.cpu < best.cpu) best = res;
    }
    return best;
  };
  console.log(`planegrind benchmark: ${MB} MB user data, best of ${REPS}, load average ${(await import('node:os')).loadavg()[0].toFixed(1)}${COMPARE ? `; compare = planegrind from ${COMPARE}` : ''}`);
  const libOf = (cfg) => (cfg === 'compare' || cfg === 'cmp exact' ? COMPARE : vglib);
  const startup = {};
  for (const [cfg, argv] of Object.entries(configs)) startup[cfg] = measure(argv(bins.checksum, empty), libOf(cfg));
  console.log(`start-up (checksum over an empty file), cpu s: ${Object.entries(startup).map(([cfg, r]) => `${cfg} ${r.cpu.toFixed(3)}`).join(', ')}`);
  console.log('program    config       wall s   cpu s   xnative(wall)  xnative(cpu)  peak MB  cpu after start-up  xnative');
  const summary = [];
  for (const [name, bin] of Object.entries(bins)) {
    const res = {};
    const loop = {};
    for (const [cfg, argv] of Object.entries(configs)) {
      res[cfg] = measure(argv(bin, data), libOf(cfg));
      loop[cfg] = Math.max(res[cfg].cpu - startup[cfg].cpu, 0.001);
      const n = res.native;
      console.log(`${name.padEnd(10)} ${cfg.padEnd(11)} ${res[cfg].wall.toFixed(2).padStart(7)} ${res[cfg].cpu.toFixed(3).padStart(7)} ${(res[cfg].wall / n.wall).toFixed(1).padStart(14)} ${(res[cfg].cpu / Math.max(n.cpu, 0.01)).toFixed(1).padStart(13)} ${res[cfg].rssMB.toFixed(0).padStart(8)} ${loop[cfg].toFixed(3).padStart(19)} ${(loop[cfg] / loop.native).toFixed(1).padStart(8)}`);
    }
    for (const cfg of ['planegrind', 'pg exact'])
      if (res[cfg].out !== res.native.out) throw new Error(`${name}: ${cfg} changed the output (${res[cfg].out} vs ${res.native.out})`);
    summary.push({ name, loopVsMemcheck: loop.planegrind / loop.memcheck, loopVsNative: loop.planegrind / loop.native, wallVsMemcheck: res.planegrind.wall / res.memcheck.wall, cpuVsMemcheck: res.planegrind.cpu / res.memcheck.cpu, cpuVsNative: res.planegrind.cpu / Math.max(res.native.cpu, 0.01), memVsMemcheck: res.planegrind.rssMB / res.memcheck.rssMB, exactVsPlain: res['pg exact'].cpu / res.planegrind.cpu, compare: res.compare && { cpuVsMemcheck: res.compare.cpu / res.memcheck.cpu, cpuVsNative: res.compare.cpu / Math.max(res.native.cpu, 0.01), cpuVsThis: res.planegrind.cpu / res.compare.cpu, exactVsPlain: res['cmp exact'].cpu / res.compare.cpu, exactVsThis: res['pg exact'].cpu / res['cmp exact'].cpu } });
  }
  console.log('\nplanegrind vs memcheck (target <= 1.0) and vs native (target <= 10 on checksum):');
  for (const s of summary) {
    console.log(`  ${s.name.padEnd(10)} cpu x memcheck ${s.cpuVsMemcheck.toFixed(2)}  wall x memcheck ${s.wallVsMemcheck.toFixed(2)}  cpu x native ${s.cpuVsNative.toFixed(1)}  after start-up: x memcheck ${s.loopVsMemcheck.toFixed(2)}, x native ${s.loopVsNative.toFixed(1)}  peak memory x memcheck ${s.memVsMemcheck.toFixed(2)}  --stop-at-support=yes cpu x without ${s.exactVsPlain.toFixed(2)}`);
  }
  if (COMPARE) {
    console.log('\nthe compared build (same run):');
    for (const s of summary)
      console.log(`  ${s.name.padEnd(10)} cpu x memcheck ${s.compare.cpuVsMemcheck.toFixed(2)}  cpu x native ${s.compare.cpuVsNative.toFixed(1)}  this build's cpu / compared cpu ${s.compare.cpuVsThis.toFixed(2)}  its --stop-at-support=yes cpu x without ${s.compare.exactVsPlain.toFixed(2)}  this build's / its with --stop-at-support=yes ${s.compare.exactVsThis.toFixed(2)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

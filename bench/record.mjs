// Benchmark: the cost of recording a minidfs put (master, chunk server, client all recorded), measured
// side by side in one run against the same put with librecord only tagging (the anchor) and with no
// preload at all; log bytes per second; log size with user-data file reads by reference vs by value;
// and a replay of each recorded process (exit status as recorded). First: the cost per logged call.
// Wall time on a shared machine is mostly waiting for the CPU, so the CPU time (user + system) of the
// client and the chunk server is measured too (bash's `times`), and the slowdowns are given for both.
// Noise on a shared 2-core VM: modes run in rounds, each round in a rotated order; every put starts
// from the same state (the previous put's logs and chunks deleted right before it, then `sync`); the
// chunk store is on tmpfs (see `stores`); the ratios are taken per round (a mode against the round's
// no-preload put) and reported as best and median, with the load average before, during and after;
// user and system time are given apart, per process too.
// Usage: node bench/record.mjs [--size BYTES] [--runs N] [--modes none,tagging,by-reference,by-value]
//        (default 256 MiB, 2 rounds, all four modes; none is always measured)
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { buildMinidfs, cleanEnv, librecord, numberArg, root, timedPut, workDir, writeInput } from './minidfsWorkload.mjs';

const size = numberArg('--size', 256 << 20);
const runs = numberArg('--runs', 2);
const work = workDir('planescope-bench-record-');
// the chunk server's store on tmpfs: its 1 GiB of chunk files is the same work in every mode, and on ext4
// its write() time was bimodal here (0.29-0.38 or 0.55-0.86 s of system time for the same put, any mode;
// on tmpfs 0.36-0.42 s in 6 of 6); the logs stay on disk, in the work directory, as recorded for real
const stores = workDir('planescope-bench-record-store-', { tmpfs: true });
// a private copy: a build that rewrites dist/native/librecord.so in place would crash running programs
const lib = join(work, 'librecord.so');
copyFileSync(librecord, lib);
const bin = buildMinidfs(work);
const input = writeInput(join(work, 'input.bin'), size);

function envFor(mode, trace) {
  const env = cleanEnv();
  if (mode === 'none') return env;
  env.LD_PRELOAD = lib;
  if (mode === 'tagging') return env;
  Object.assign(env, { PLANESCOPE_RR_MODE: 'record', PLANESCOPE_RR_DIR: trace, PLANESCOPE_RR_USER_DATA: input, PLANESCOPE_RR_DATA: mode === 'by-reference' ? 'reference' : 'value' });
  return env;
}

/** One put through a fresh master + chunk server (its store kept until the next round deletes it);
 *  returns seconds of the put, the CPU time of client and chunk server, and the log bytes. */
async function put(mode, n) {
  const trace = join(work, `trace-${n}`);
  mkdirSync(trace);
  const store = join(stores, `store-${n}`);
  const { secs, cs, client } = await timedPut({ bin, input, env: envFor(mode, trace), store, cpuTimes: true, keepStore: true });
  const [cu, csys] = cs.cpuSplit(), [lu, lsys] = client.cpuSplit();
  const user = cu + lu, sys = csys + lsys, cpu = user + sys;
  const split = `client ${lu.toFixed(3)}+${lsys.toFixed(3)}, chunk server ${cu.toFixed(3)}+${csys.toFixed(3)}`;
  const logs = readdirSync(trace).filter((f) => f.endsWith('.rec')).map((f) => ({ f, bytes: statSync(join(trace, f)).size }));
  return { secs, cpu, user, sys, split, trace, store, logs, bytes: logs.reduce((s, l) => s + l.bytes, 0) };
}

/** Replays one log alone through `planescope replay`; resolves with its exit status and JSON. */
function replay(trace, log) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'replay', trace, '--process', log.replace(/\.rec$/, ''), '--json'],
      { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Per-call cost: a loop of logged calls (clock_gettime, a 64-byte read from a pipe-like device,
 *  a mutex lock/unlock pair), natively vs recorded, best of 3 alternating. */
async function perCall() {
  const src = join(work, 'calls.c');
  writeFileSync(src, `#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]); int fd = open("/dev/zero", O_RDONLY); char b[64]; struct timespec ts;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (long i = 0; i < n; i++) { clock_gettime(CLOCK_MONOTONIC, &ts); if (read(fd, b, sizeof b) != 64) return 1;
    pthread_mutex_lock(&m); pthread_mutex_unlock(&m); }
  return 0; }
`);
  execFileSync('gcc', ['-O2', '-o', join(work, 'calls'), src, '-lpthread']);
  const n = 100000;
  const best = { none: Infinity, record: Infinity };
  for (let i = 0; i < 3; i++) {
    for (const mode of ['none', 'record']) {
      const trace = join(work, `calls-${mode}-${i}`);
      mkdirSync(trace);
      const t0 = process.hrtime.bigint();
      execFileSync(join(work, 'calls'), [String(n)], { env: envFor(mode === 'none' ? 'none' : 'by-value', trace) });
      best[mode] = Math.min(best[mode], Number(process.hrtime.bigint() - t0) / 1e9);
      rmSync(trace, { recursive: true, force: true });
    }
  }
  const calls = 4 * n;
  console.log(`per logged call: native ${(best.none / calls * 1e9).toFixed(0)} ns, recorded ${(best.record / calls * 1e9).toFixed(0)} ns (a copy into the mapped log per record; ${calls} calls: clock_gettime, read 64 B, lock, unlock)`);
}

const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
const fmt = (xs, d = 2) => xs.map((x) => x.toFixed(d)).join(' ');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

try {
  const loadStart = load();
  console.log(`load average at start: ${loadStart}`);
  await perCall();
  const all = ['none', 'tagging', 'by-reference', 'by-value'];
  const mi = process.argv.indexOf('--modes');
  const asked = mi < 0 ? all : process.argv[mi + 1]?.split(',') ?? [];
  const unknown = asked.filter((m) => !all.includes(m));
  if (unknown.length) throw new Error(`--modes: unknown mode ${unknown.join(', ')}; the modes are ${all.join(', ')}`);
  const modes = all.filter((m) => m === 'none' || asked.includes(m));
  const drop = (x) => { rmSync(x.trace, { recursive: true, force: true }); rmSync(x.store, { recursive: true, force: true }); };
  // one put first, not counted: the first round ran ~2x the CPU of later ones (the fresh input file's page cache)
  let previous = await put('none', 'warmup');
  const rounds = []; // per round: mode -> { secs, cpu, bytes }
  const kept = {}; // the last round's recordings, for the replays (and the log sizes)
  for (let i = 0; i < runs; i++) {
    const round = {};
    // rotated order: over as many rounds as modes, every mode runs first, second, ... once
    const order = modes.map((_, k) => modes[(k + i) % modes.length]);
    for (const mode of order) {
      // the previous put's files go right before this one, so every put starts with as much free memory
      // and, after the sync, no writeback pending (touching 3 GiB of memory before each put, to hand it
      // page cache that was in use recently, made the chunk server's system time worse: 0.3-2.0 s)
      if (previous) drop(previous);
      execFileSync('sync'); // a by-value run's 2 GiB of dirty log pages would otherwise be written back during the next run
      const r = await put(mode, `${mode}-${i}`);
      round[mode] = r;
      // the last round's recordings stay for the replays (the chunk server replays from an empty store)
      if (i === runs - 1 && mode !== 'none' && mode !== 'tagging') { rmSync(r.store, { recursive: true, force: true }); kept[mode] = r; previous = null; } else previous = r;
      console.log(`round ${i + 1} ${mode.padEnd(12)} ${r.secs.toFixed(2)} s  ${(size / r.secs / (1 << 20)).toFixed(0)} MB/s  cpu ${r.cpu.toFixed(3)} s (user+sys: ${r.split})  logs ${(r.bytes / (1 << 20)).toFixed(2)} MiB  (load ${load()})`);
    }
    rounds.push(round);
  }
  const loadEnd = load();
  const col = (m, k) => rounds.map((r) => r[m][k]);
  console.log(`\nminidfs put of ${size} bytes (${(size / (1 << 20)).toFixed(0)} MiB), ${runs} rounds, all three processes preloaded; load average ${loadStart} at start, ${loadEnd} at end`);
  console.log('absolute (best / median; all rounds), cpu = user + system of client and chunk server:');
  for (const m of modes) {
    const c = col(m, 'cpu'), u = col(m, 'user'), w = col(m, 'secs');
    console.log(`  ${m.padEnd(12)} cpu ${Math.min(...c).toFixed(3)} / ${median(c).toFixed(3)} s (${fmt(c, 3)}); user ${Math.min(...u).toFixed(3)} / ${median(u).toFixed(3)} s; wall ${Math.min(...w).toFixed(2)} / ${median(w).toFixed(2)} s (${fmt(w)})`);
  }
  console.log('slowdown per round against that round\'s no-preload put (best / median; all rounds):  target <= 1.1x; anchors: paper\'s recorder 1.8x, rr ~1.2x');
  for (const base of ['none', 'tagging'].filter((b) => modes.includes(b))) {
    for (const m of modes.filter((x) => x !== 'none' && x !== base)) {
      for (const k of ['cpu', 'user', 'sys', 'secs']) {
        const q = rounds.map((r) => r[m][k] / r[base][k]);
        console.log(`  ${m.padEnd(12)} vs ${base.padEnd(7)} ${k === 'secs' ? 'wall' : k.padEnd(4)} ${Math.min(...q).toFixed(3)}x / ${median(q).toFixed(3)}x  (${fmt(q, 3)})`);
      }
    }
  }
  for (const m of modes.filter((x) => x !== 'none')) {
    console.log(`ratio of the medians, ${m} vs none: cpu ${(median(col(m, 'cpu')) / median(col('none', 'cpu'))).toFixed(3)}x, wall ${(median(col(m, 'secs')) / median(col('none', 'secs'))).toFixed(3)}x`);
  }
  const recorded = ['by-value', 'by-reference'].filter((m) => kept[m]);
  for (const m of recorded) {
    const r = kept[m];
    console.log(`log bytes ${m} (last round): ${r.bytes} (${(r.bytes / r.secs / (1 << 20)).toFixed(r.bytes > (64 << 20) ? 0 : 2)} MiB/s of log during the put); per process: ${r.logs.map((l) => `${l.f} ${l.bytes}`).join(', ')}`);
  }
  if (recorded.length === 2) console.log(`log size by-reference / by-value: ${(kept['by-reference'].bytes / kept['by-value'].bytes * 100).toFixed(3)}% (target <= 2%)`);
  for (const m of recorded) {
    for (const l of kept[m].logs) {
      const t0 = process.hrtime.bigint();
      const r = await replay(kept[m].trace, l.f);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      let msg = r.out;
      try { msg = JSON.parse(r.out).map((p) => p.message).join('; '); } catch { /* keep raw */ }
      console.log(`replay ${m} ${l.f}: exit ${r.code} in ${secs.toFixed(2)} s: ${msg}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(stores, { recursive: true, force: true });
}

// The minidfs workload shared by the benchmarks (bench/tagging.mjs, bench/record.mjs): a work
// directory, the example built into it, a generated user-data file, and one timed put through a fresh
// master + chunk server. Natively: each program is started as given (a preload comes with env).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIMES_SCRIPT, childCpu } from './bashTimes.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const librecord = join(root, 'dist', 'native', 'librecord.so');

/** A numeric command-line option (`--name VALUE`) or its default. */
export function numberArg(name, def) {
  const i = process.argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} wants a positive number, got ${process.argv[i + 1] ?? 'nothing'}`);
  return v;
}

/** A fresh work directory, on tmpfs when asked and available (so disk writes do not dominate). */
export function workDir(prefix, { tmpfs = false } = {}) {
  const base = tmpfs && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, prefix));
}

/** Builds examples/minidfs into DIR/bin; returns that directory. */
export function buildMinidfs(dir) {
  const bin = join(dir, 'bin');
  execFileSync('make', ['-s', '-C', join(root, 'examples', 'minidfs'), `OUT=${bin}`]);
  return bin;
}

/** A user-data file of `size` bytes (one random 1 MB piece repeated: generation stays cheap). */
export function writeInput(path, size) {
  const fd = openSync(path, 'w');
  try {
    const piece = randomBytes(1 << 20);
    for (let done = 0; done < size; done += piece.length) writeSync(fd, piece, 0, Math.min(piece.length, size - done));
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The environment of one mode: LD_PRELOAD and the recorder's variables cleared, then `extra`. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  for (const k of Object.keys(env)) if (k.startsWith('PLANESCOPE_RR_')) delete env[k];
  return { ...env, ...extra };
}

/** Starts a program; with cpuTimes it runs under `bash -c '...; times'`, whose report of the program's
 *  CPU time cpuSplit() ([user, sys]) and cpu() (their sum) read at exit, in milliseconds (GNU time prints
 *  only hundredths): CPU time is far less disturbed than wall time by other load on a shared machine.
 *  line(re) resolves with the first stdout match. */
export function startProgram(cmd, args, env, { cpuTimes = false } = {}) {
  let child;
  if (cpuTimes) {
    // bash must not be preloaded (librecord would record it too) and must not open a file (the program
    // would inherit its fd, and a replay would see other fd numbers): LD_PRELOAD reaches only the program
    const { LD_PRELOAD: preload, ...bashEnv } = env;
    const argv = ['/usr/bin/env', ...(preload ? [`LD_PRELOAD=${preload}`] : []), cmd, ...args];
    child = spawn('bash', ['-c', TIMES_SCRIPT, 'bash', ...argv], { env: bashEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  }
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const cpuSplit = () => childCpu(err);
  const cpu = () => cpuSplit()[0] + cpuSplit()[1];
  const line = (re) => new Promise((resolve, reject) => {
    const check = () => out.match(re);
    const t = setInterval(() => { const m = check(); if (m) { clearInterval(t); resolve(m); } }, 5);
    child.on('exit', () => { clearInterval(t); const m = check(); if (m) resolve(m); else reject(new Error(`${cmd} exited: ${out}${err}`)); });
  });
  const exited = new Promise((resolve) => child.on('close', (c, s) => resolve(s ?? c)));
  return { child, line, exited, cpu, cpuSplit, stderr: () => err };
}

/** One put of `input` through a fresh master + chunk server (store in `store`, removed unless keepStore);
 *  returns the put's wall seconds, the CPU seconds of client + chunk server (with cpuTimes), and the
 *  programs. */
export async function timedPut({ bin, input, env, store, chunkBytes = 64 << 20, cpuTimes = false, keepStore = false }) {
  const opts = { cpuTimes };
  const master = startProgram(join(bin, 'minidfs-master'), ['-p', '0', '-c', String(chunkBytes)], env, opts);
  const addr = (await master.line(/listening on (\S+)/))[1];
  const cs = startProgram(join(bin, 'minidfs-chunkserver'), ['-m', addr, '-d', store, '-i', '100'], env, opts);
  await master.line(/registered/);
  const t0 = process.hrtime.bigint();
  const client = startProgram(join(bin, 'minidfs-client'), ['-m', addr, 'put', input, 'f'], env, opts);
  const code = await client.exited;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await startProgram(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], env, opts).exited;
  await Promise.all([master.exited, cs.exited]);
  if (code !== 0) throw new Error(`the put failed (exit ${code}): ${client.stderr()}`);
  if (!keepStore) rmSync(store, { recursive: true, force: true });
  return { secs, cpu: cpuTimes ? client.cpu() + cs.cpu() : NaN, master, cs, client };
}

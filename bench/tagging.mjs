// Benchmark: native (no valgrind) throughput of a minidfs put with librecord's message tagging vs
// without, measured side by side in one run (alternating, best of N), and the tag bytes per payload
// byte on the wire. Target: <= 3% throughput loss. Usage: node bench/tagging.mjs [--size BYTES] [--runs N]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const size = arg('--size', 1 << 30);
const runs = arg('--runs', 3);
const lib = join(root, 'dist', 'native', 'librecord.so');
// tmpfs when there is one: the chunk server's disk writes would otherwise dominate (and add noise)
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const work = mkdtempSync(join(base, 'planescope-bench-tagging-'));
const bin = join(work, 'bin');
execFileSync('make', ['-s', '-C', join(root, 'examples', 'minidfs'), `OUT=${bin}`]);
const input = join(work, 'input.bin');
const fd = openSync(input, 'w');
const piece = randomBytes(1 << 20);
for (let done = 0; done < size; done += piece.length) writeSync(fd, piece, 0, Math.min(piece.length, size - done));
closeSync(fd);

// Each program runs under `bash -c '...; times'`, which reports its CPU time (user + sys) at exit:
// CPU time is far less disturbed than wall time by other load on a shared machine.
function start(cmd, args, env) {
  const child = spawn('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'bash', cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const cpu = () => {
    const lines = err.trim().split('\n');
    const m = lines[lines.length - 1].match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
    return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
  };
  const line = (re) => new Promise((resolve, reject) => {
    const t = setInterval(() => { const m = out.match(re); if (m) { clearInterval(t); resolve(m); } }, 5);
    child.on('exit', () => { clearInterval(t); reject(new Error(`${cmd} exited: ${out}`)); });
  });
  const exited = new Promise((resolve) => child.on('close', (c) => resolve(c)));
  return { child, line, exited, cpu };
}

/** One put of the input through a fresh master + chunk server; returns seconds. */
async function put(tagged, n) {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  if (tagged) env.LD_PRELOAD = lib;
  const store = join(work, `store-${n}`);
  const master = start(join(bin, 'minidfs-master'), ['-p', '0', '-c', String(64 << 20)], env);
  const addr = (await master.line(/listening on (\S+)/))[1];
  const cs = start(join(bin, 'minidfs-chunkserver'), ['-m', addr, '-d', store, '-i', '100'], env);
  await master.line(/registered/);
  const t0 = process.hrtime.bigint();
  const client = start(join(bin, 'minidfs-client'), ['-m', addr, 'put', input, 'f'], env);
  if ((await client.exited) !== 0) throw new Error('put failed');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  start(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], env);
  await Promise.all([master.exited, cs.exited]);
  rmSync(store, { recursive: true, force: true });
  return { secs, cpu: client.cpu() + cs.cpu() };
}

try {
  const best = { plain: Infinity, tagged: Infinity };
  const cpu = { plain: Infinity, tagged: Infinity };
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 ? ['tagged', 'plain'] : ['plain', 'tagged']) {
      const r = await put(mode === 'tagged', `${mode}-${i}`);
      best[mode] = Math.min(best[mode], r.secs);
      cpu[mode] = Math.min(cpu[mode], r.cpu);
      console.log(`run ${i + 1} ${mode.padEnd(6)} ${r.secs.toFixed(2)} s  ${(size / r.secs / (1 << 20)).toFixed(0)} MB/s  client+chunkserver CPU ${r.cpu.toFixed(2)} s`);
    }
  }
  const loss = (best.tagged / best.plain - 1) * 100;
  console.log(`CPU time (client + chunk server) best of ${runs}: untagged ${cpu.plain.toFixed(2)} s, tagged ${cpu.tagged.toFixed(2)} s, ratio ${(cpu.tagged / cpu.plain).toFixed(3)}`);
  // Tag bytes on the wire: a hello per connection direction, a 12-byte header per send() (the client
  // sends 1 MB pieces; chunk server replies are small), natively never a taint tag.
  const sends = Math.ceil(size / (1 << 20)) + 2 * Math.ceil(size / (64 << 20)); // data pieces + request head + trailer per chunk
  const tagBytes = sends * 12 + 2 * 40;
  console.log(`put ${size} bytes, best of ${runs}: untagged ${best.plain.toFixed(2)} s, tagged ${best.tagged.toFixed(2)} s`);
  console.log(`throughput ratio tagged/untagged: ${(best.plain / best.tagged).toFixed(3)} (loss ${loss.toFixed(1)}%, target <= 3%)`);
  console.log(`tag bytes per payload byte (client -> chunk server): ${(tagBytes / size).toExponential(2)} (${tagBytes} bytes of hellos and frame headers for ${size} payload bytes)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

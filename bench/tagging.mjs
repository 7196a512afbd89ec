// Benchmark: native (no valgrind) throughput of a minidfs put with librecord's message tagging vs
// without, measured side by side in one run (alternating), and the tag bytes per payload byte on the
// wire as librecord counted them (PLANESCOPE_TAG_STATS=1: bytes the kernel accepted, ours vs the
// application's). Target: <= 3% throughput loss.
// Usage: node bench/tagging.mjs [--size BYTES] [--runs N]   (default 1 GiB, 3 runs of each)
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { buildMinidfs, cleanEnv, librecord, numberArg, timedPut, workDir, writeInput } from './minidfsWorkload.mjs';

const size = numberArg('--size', 1 << 30);
const runs = numberArg('--runs', 3);
// tmpfs when there is one: the chunk server's disk writes would otherwise dominate (and add noise)
const work = workDir('planescope-bench-tagging-', { tmpfs: true });

/** Sums what every tagged process reported at exit. */
function tagStats(...programs) {
  const sum = { payload: 0, tag: 0 };
  for (const p of programs)
    for (const m of p.stderr().matchAll(/tag stats: (\d+) payload bytes sent on tagged sockets, (\d+) tag bytes/g))
      (sum.payload += Number(m[1])), (sum.tag += Number(m[2]));
  return sum;
}

const spread = (xs) => `min ${Math.min(...xs).toFixed(2)} median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2)} max ${Math.max(...xs).toFixed(2)}`;

try {
  const bin = buildMinidfs(work);
  const input = writeInput(join(work, 'input.bin'), size);
  const secs = { plain: [], tagged: [] };
  const cpu = { plain: [], tagged: [] };
  let stats = null;
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 ? ['tagged', 'plain'] : ['plain', 'tagged']) {
      const env = mode === 'tagged' ? cleanEnv({ LD_PRELOAD: librecord, PLANESCOPE_TAG_STATS: '1' }) : cleanEnv();
      const r = await timedPut({ bin, input, env, store: join(work, `store-${mode}-${i}`), cpuTimes: true });
      secs[mode].push(r.secs);
      cpu[mode].push(r.cpu);
      if (mode === 'tagged') {
        const client = tagStats(r.client);
        const all = tagStats(r.client, r.cs, r.master);
        if (client.payload < size) throw new Error(`the tagged client reported ${client.payload} payload bytes, less than the ${size} it put: were its connections tagged?`);
        stats = { client, all };
      }
      console.log(`run ${i + 1} ${mode.padEnd(6)} ${r.secs.toFixed(2)} s  ${(size / r.secs / (1 << 20)).toFixed(0)} MB/s  client+chunkserver CPU ${r.cpu.toFixed(2)} s`);
    }
  }
  const best = (xs) => Math.min(...xs);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`wall seconds, untagged: ${spread(secs.plain)}; tagged: ${spread(secs.tagged)}`);
  console.log(`CPU seconds (client + chunk server), untagged: ${spread(cpu.plain)}; tagged: ${spread(cpu.tagged)}`);
  const loss = (best(secs.tagged) / best(secs.plain) - 1) * 100;
  console.log(`throughput ratio tagged/untagged (best of ${runs}): ${(best(secs.plain) / best(secs.tagged)).toFixed(3)} (loss ${loss.toFixed(1)}%, target <= 3%)`);
  console.log(`CPU ratio tagged/untagged: best ${(best(cpu.tagged) / best(cpu.plain)).toFixed(3)}, median ${(median(cpu.tagged) / median(cpu.plain)).toFixed(3)} (CPU time is the steadier measure on a loaded machine)`);
  const { client, all } = stats;
  console.log(`tag bytes per payload byte, client: ${(client.tag / client.payload).toExponential(2)} (${client.tag} tag bytes for ${client.payload} payload bytes)`);
  console.log(`tag bytes per payload byte, all three programs: ${(all.tag / all.payload).toExponential(2)} (${all.tag} for ${all.payload})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

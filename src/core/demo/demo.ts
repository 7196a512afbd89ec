// `planescope demo`: builds minidfs into a work directory, runs its master, a chunk server and a client
// put + get of a generated user-data file, each under planegrind with librecord preloaded, then
// summarises the taint logs per component (Figures 1 and 5). Every process it starts is stopped when it
// ends, fails or is interrupted.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../assets';
import { run } from '../processes';
import { readTaintLog } from '../taintLog/reader';
import { Analyzed, analyzedEnv, startAnalyzed, stopProcess } from './analyzed';
import { ComponentSummary, summarizeLog } from './summary';

// Every process gets the same --user-data globs, as in production; each opens at most one of them, so
// planegrind's "matched no file opened" warnings are expected here and not shown.
const EXPECTED_WARNING = /planegrind: warning: --user-data glob .* matched no file opened in this run/;

export interface DemoOptions {
  size: number;
  /** Keep the work directory here (binaries, data, chunk store, taint logs); else a temporary one. */
  keep?: string;
  progress: (line: string) => void;
  /** Aborted by SIGINT: stop everything and reject. */
  signal?: AbortSignal;
  chunkSize?: number;
}

export interface DemoResult {
  workDir: string | null;
  size: number;
  seconds: { put: number; get: number; total: number };
  components: ComponentSummary[];
}

const COMPONENTS = ['master', 'chunkserver', 'client-put', 'client-get'];

export async function buildMinidfs(outDir: string): Promise<string> {
  const src = join(packageRoot(), 'examples', 'minidfs');
  if (!existsSync(join(src, 'Makefile'))) throw new Error(`the minidfs example sources are missing from ${src}`);
  const r = await run('make', ['-s', '-C', src, `OUT=${outDir}`]);
  if (r.code !== 0) throw new Error(`building minidfs failed (make -C ${src}):\n${r.stderr || r.stdout}`);
  return outDir;
}

/** A file of `size` random bytes (written in 1 MB pieces); returns its SHA-256. */
export function writeUserData(path: string, size: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size; ) {
      const piece = randomBytes(Math.min(1 << 20, size - done));
      writeSync(fd, piece);
      hash.update(piece);
      done += piece.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const work = opts.keep ?? mkdtempSync(join(tmpdir(), 'planescope-demo-'));
  mkdirSync(work, { recursive: true });
  const bin = join(work, 'bin');
  const data = join(work, 'data');
  const trace = join(work, 'trace');
  const store = join(work, 'chunks');
  for (const d of [data, trace]) mkdirSync(d, { recursive: true });
  for (const f of readdirSync(trace)) if (f.endsWith('.taintlog')) rmSync(join(trace, f));
  const live: Analyzed[] = [];
  const stopAll = () => Promise.all(live.map((p) => stopProcess(p)));
  const onAbort = () => void stopAll();
  opts.signal?.addEventListener('abort', onAbort);
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Error('interrupted');
  };
  try {
    opts.progress(`building minidfs into ${bin}`);
    await buildMinidfs(bin);
    checkAbort();
    const input = join(data, 'input.bin');
    opts.progress(`generating ${opts.size} bytes of user data in ${input}`);
    const inputHash = writeUserData(input, opts.size);
    const env = analyzedEnv();
    // User data is identified by the files it resides in (paper §2.2): the uploaded file, and once stored, the
    // chunk files of the store (not their .adler checksum files, which are the system's own metadata).
    const userData = [join(data, '*'), join(store, 'chunk-*[0-9]')];
    const start = (name: string, prog: string, args: string[]) => {
      const p = startAnalyzed({ name, trace, userData, command: join(bin, prog), args, onLine: (l) => { if (!EXPECTED_WARNING.test(l)) opts.progress(`${name}: ${l}`); } }, env);
      live.push(p);
      return p;
    };
    const waitOk = async (p: Analyzed) => {
      const code = await Promise.race([p.exited, new Promise<number>((_, rej) => opts.signal?.addEventListener('abort', () => rej(new Error('interrupted'))))]);
      if (code !== 0) throw new Error(`${p.name} failed with exit code ${code} (its output is above)`);
    };

    const chunk = String(opts.chunkSize ?? 8 << 20);
    const master = start('master', 'minidfs-master', ['-p', '0', '-c', chunk]);
    const masterAddr = (await master.waitForLine(/listening on (\S+)/, 60000))[1];
    checkAbort();
    const chunkserver = start('chunkserver', 'minidfs-chunkserver', ['-m', masterAddr, '-d', store, '-i', '500']);
    await chunkserver.waitForLine(/listening on (\S+)/, 60000);
    await master.waitForLine(/chunk server \S+ registered/, 60000);
    checkAbort();

    opts.progress(`put: storing ${input} (${opts.size} bytes) as demo.bin`);
    const t0 = Date.now();
    await waitOk(start('client-put', 'minidfs-client', ['-m', masterAddr, 'put', input, 'demo.bin']));
    const t1 = Date.now();
    const output = join(work, 'readback.bin');
    opts.progress('get: reading demo.bin back');
    await waitOk(start('client-get', 'minidfs-client', ['-m', masterAddr, 'get', 'demo.bin', output]));
    const t2 = Date.now();
    if (sha256(output) !== inputHash) throw new Error(`the file read back from minidfs (${output}) differs from the one stored`);
    opts.progress('put and get match; shutting the cluster down');
    const shutdown = await run(join(bin, 'minidfs-client'), ['-m', masterAddr, 'shutdown'], { env: { ...process.env, LD_PRELOAD: env.LD_PRELOAD } });
    if (shutdown.code !== 0) opts.progress(`shutdown request failed: ${shutdown.stderr.trim()}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([master.exited, chunkserver.exited]), new Promise((r) => (timer = setTimeout(r, 60000)))]);
    clearTimeout(timer); // a pending timer would keep the CLI alive
    await stopAll();

    opts.progress('reading the taint logs');
    const components: ComponentSummary[] = [];
    for (const name of COMPONENTS) {
      for (const f of readdirSync(trace).filter((x) => x.startsWith(`${name}.`) && x.endsWith('.taintlog')).sort()) {
        components.push(summarizeLog(name, await readTaintLog(join(trace, f))));
      }
    }
    return {
      workDir: opts.keep ? work : null,
      size: opts.size,
      seconds: { put: (t1 - t0) / 1000, get: (t2 - t1) / 1000, total: (Date.now() - started) / 1000 },
      components,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await stopAll();
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  }
}

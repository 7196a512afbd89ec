// Shared pieces of the debug adapter tests: building the standalone adapter, compiling the C fixture,
// finding lines by marker comments, starting a DebugClient whose DAP log is dumped when a test fails,
// and finding the processes a session started.
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { DebugProtocol } from '@vscode/debugprotocol';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '..', '..');
export const adapter = join(root, 'dist', 'debugAdapter.js');
export const fixtureSource = join(root, 'test', 'fixtures', 'debug', 'taintdemo.c');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    if (p.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/debugAdapter.js when a source it bundles is newer (only that bundle: others may be mid-edit). */
export function ensureAdapterBuilt(): void {
  const sources = Math.max(newestMtime(join(root, 'src', 'debug')), newestMtime(join(root, 'src', 'core')));
  if (existsSync(adapter) && statSync(adapter).mtimeMs >= sources) return;
  execFileSync(
    process.execPath,
    [
      '-e',
      `require('esbuild').buildSync({ entryPoints: ['src/debug/debugAdapter.ts'], outfile: 'dist/debugAdapter.js', bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' })`,
    ],
    { cwd: root, stdio: 'inherit' },
  );
}

export interface Fixture {
  dir: string;
  program: string;
  dataFile: string;
  data: Buffer;
}

/** Compiles the fixture with gcc -g -O0 into a fresh directory and writes its user-data file. */
export function buildFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'planescope-debug-test-'));
  const program = join(dir, 'taintdemo');
  execFileSync('gcc', ['-g', '-O0', '-o', program, fixtureSource]);
  const dataFile = join(dir, 'data.bin');
  const data = Buffer.from('user data bytes!');
  writeFileSync(dataFile, data);
  return { dir, program, dataFile, data };
}

/** The 1-based line of the fixture line holding `/* MARKER *\/`. */
export function markerLine(marker: string, source = fixtureSource): number {
  const lines = readFileSync(source, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(`/* ${marker} */`));
  if (index < 0) throw new Error(`marker ${marker} not found in ${source}`);
  return index + 1;
}

export interface Session {
  dc: DebugClient;
  log: string;
  output: string[];
  /** Events in arrival order (names only), to check what came before what. */
  events: string[];
}

/** Starts the standalone adapter under a DebugClient, logging DAP and MI traffic to a file. */
export async function startSession(env: NodeJS.ProcessEnv = {}): Promise<Session> {
  const log = join(mkdtempSync(join(tmpdir(), 'planescope-dap-')), 'dap.log');
  const dc = new DebugClient(process.execPath, adapter, 'planescope', { env: { ...process.env, PLANESCOPE_DAP_LOG: log, ...env } });
  dc.defaultTimeout = 30_000;
  await dc.start();
  const output: string[] = [];
  const events: string[] = [];
  dc.on('output', (e) => output.push(e.body.output));
  for (const name of ['stopped', 'continued', 'terminated', 'exited', 'initialized']) dc.on(name, () => events.push(name));
  return { dc, log, output, events };
}

function dumpLog(session: Session, title: string): void {
  const text = existsSync(session.log) ? readFileSync(session.log, 'utf8') : '(no DAP log written)';
  console.error(`---- DAP/MI log of failed test "${title}" (${session.log}) ----\n${text.split('\n').slice(-300).join('\n')}\n---- end of log ----`);
}

/** A test's teardown: prints the session's DAP log when the test failed, then ends the session. */
export async function endSession(session: Session | undefined, test: { state?: string; fullTitle(): string } | undefined): Promise<void> {
  if (!session) return;
  if (test?.state === 'failed') dumpLog(session, test.fullTitle());
  await session.dc.terminateRequest().catch(() => undefined);
  await session.dc.stop().catch(() => undefined);
}

/** Live (non-zombie) processes whose command line mentions `needle`. */
export function processesMentioning(needle: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle)) out.push({ pid: Number(name), cmdline });
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * The processes of a debug session of `program`, as a function to poll: valgrind's and gdb's command
 * lines name the program; valgrind's names the session's FIFO directory, which vgdb's command line names
 * too. Asserts that valgrind, gdb and vgdb run now.
 */
export function sessionProcesses(program: string): () => Array<{ pid: number; cmdline: string }> {
  const byProgram = processesMentioning(program);
  const fifoDir = /--vgdb-prefix=(\S+)\/vgdb/.exec(byProgram.map((p) => p.cmdline).join(' '))?.[1];
  assert.ok(fifoDir, `valgrind runs with a private vgdb prefix: ${JSON.stringify(byProgram)}`);
  const all = () => [...processesMentioning(program), ...processesMentioning(fifoDir)];
  assert.ok(all().some((p) => /valgrind|planegrind/.test(p.cmdline)), `valgrind runs: ${JSON.stringify(all())}`);
  assert.ok(all().some((p) => /\bgdb\b/.test(p.cmdline)), `gdb runs: ${JSON.stringify(all())}`);
  assert.ok(all().some((p) => /vgdb --vgdb-prefix/.test(p.cmdline)), `vgdb runs: ${JSON.stringify(all())}`);
  return all;
}

/** Waits until `check` returns true, polling; throws with `what` after the timeout. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const cli = join(root, 'dist', 'cli.js');

/** Records the fixture's run (`planescope run --trace DIR`, librecord's record mode) into fx.dir/name. */
export function recordFixture(fx: Fixture, name: string, extra: string[] = [], programArgs: string[] = ['data.bin']): string {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`bash scripts/build.sh\` first`);
  const dir = join(fx.dir, name);
  execFileSync(process.execPath, [cli, 'run', '--trace', dir, '--user-data', 'data.bin', ...extra, '--', './taintdemo', ...programArgs], { cwd: fx.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

/** The innermost frame of thread 1. */
export async function topFrame(s: Session): Promise<DebugProtocol.StackFrame> {
  return (await s.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
}

/** The variables of one scope (Locals, Registers, Taint) of the innermost frame. */
export async function scopeVariables(s: Session, scope: string): Promise<DebugProtocol.Variable[]> {
  const frame = await topFrame(s);
  const scopes = (await s.dc.scopesRequest({ frameId: frame.id })).body.scopes;
  const found = scopes.find((x) => x.name === scope);
  assert.ok(found, `scope ${scope} in ${scopes.map((x) => x.name)}`);
  return (await s.dc.variablesRequest({ variablesReference: found.variablesReference })).body.variables;
}

/** Sends a stepping request and resolves with the stop it causes. */
export async function step(s: Session, request: 'next' | 'stepIn' | 'stepOut' | 'stepBack' | 'reverseContinue' | 'continue'): Promise<DebugProtocol.StoppedEvent> {
  const stopped = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await s.dc.customRequest(request, { threadId: 1 });
  return stopped;
}

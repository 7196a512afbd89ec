// Shared by the planegrind native tests: builds the tool, compiles C fixtures into a temp dir, runs
// them under valgrind --tool=planegrind and parses their taint logs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTaintLog } from '../../src/core/taintLog/reader';
import type { InstructionCounts, LogModule, TaintLog } from '../../src/core/taintLog/types';

export const ROOT = resolve(__dirname, '..', '..');
export const VGLIB = join(ROOT, 'native', 'build', 'vglib');
export const FIXTURES = join(__dirname, 'fixtures');
export const PG_INCLUDE = join(ROOT, 'native', 'planegrind');

let built = false;
/** Builds planegrind (incremental) once per test run. */
export function buildTool(): void {
  if (built) return;
  execFileSync('make', ['-s', '-C', join(ROOT, 'native')], { stdio: 'inherit' });
  built = true;
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `pg-${tag}-`));
}

/** Compiles fixtures/<name>.c (non-PIE, -g) into dir; returns the binary path. */
export function compile(dir: string, name: string, extra: string[] = []): string {
  const out = join(dir, name);
  execFileSync('gcc', ['-g', '-O1', '-no-pie', '-fno-pie', `-I${PG_INCLUDE}`, '-I/usr/include/valgrind', join(FIXTURES, `${name}.c`), '-o', out, ...extra], { stdio: 'inherit' });
  return out;
}

export interface PgRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  logs: string[];
  log: TaintLog;
}

/** Runs argv under planegrind in cwd; logs go to cwd/logs/<name>.<pid>.taintlog. */
export async function runPg(cwd: string, argv: string[], toolArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<PgRun> {
  buildTool();
  const logDir = mkdtempSync(join(cwd, 'logs-'));
  const args = ['-q', '--tool=planegrind', `--taint-log=${join(logDir, 'run.%p.taintlog')}`, ...toolArgs, ...argv];
  const child = spawn('valgrind', args, { cwd, env: { ...process.env, VALGRIND_LIB: VGLIB, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])));
  const logs = readdirSync(logDir).filter((f) => f.endsWith('.taintlog')).map((f) => join(logDir, f)).sort();
  const log = logs.length ? await readTaintLog(logs[0]) : (undefined as unknown as TaintLog);
  return { code, signal, stdout, stderr, logs, log };
}

/** The module of a log whose path ends with name. */
export function moduleOf(log: TaintLog, name: string): LogModule {
  const m = log.modules.find((x) => x.path === name || x.path.endsWith(`/${name}`));
  if (!m) throw new Error(`module ${name} not in log: ${log.modules.map((x) => x.path).join(', ')}`);
  return m;
}

/** objdump's disassembly of one function of bin (without raw bytes), for finding its instructions. */
export function disassemble(bin: string, fn: string): string {
  return spawnSync('objdump', ['-d', '--no-show-raw-insn', `--disassemble=${fn}`, bin], { encoding: 'utf8' }).stdout;
}

/** Source line (file:line) of each offset of a non-PIE binary, through binutils addr2line. */
export function addr2line(bin: string, offsets: number[]): string[] {
  if (!offsets.length) return [];
  const r = spawnSync('addr2line', ['-e', bin, ...offsets.map((o) => `0x${o.toString(16)}`)], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').map((l) => l.replace(/ \(discriminator \d+\)$/, ''));
}

/** Line numbers of fixture lines that carry a marker comment, e.g. `// @crc-lookup`. */
export function markerLines(source: string, marker: string): number[] {
  const text = require('node:fs').readFileSync(source, 'utf8') as string;
  return text.split('\n').flatMap((l: string, i: number) => (l.includes(`@${marker}`) ? [i + 1] : []));
}

/** Per source line of `bin` (module `name`): summed executions and tainted executions. */
export function lineCounts(log: TaintLog, bin: string, name: string): Map<number, { execs: number; tainted: number }> {
  const mod = moduleOf(log, name);
  const insns = log.instructions.filter((i: InstructionCounts) => i.module === mod.id);
  const lines = addr2line(bin, insns.map((i) => i.offset));
  const out = new Map<number, { execs: number; tainted: number }>();
  insns.forEach((ins, k) => {
    const m = /:(\d+)$/.exec(lines[k] ?? '');
    if (!m) return;
    const line = Number(m[1]);
    const c = out.get(line) ?? { execs: 0, tainted: 0 };
    c.execs += ins.executions;
    c.tainted += ins.taintedExecutions;
    out.set(line, c);
  });
  return out;
}

/** Sites of module `name` mapped to their source lines. */
export function siteLines(log: TaintLog, bin: string, name: string): { line: number; access: string; count: number; label: number }[] {
  const mod = moduleOf(log, name);
  const sites = log.sites.filter((s) => s.module === mod.id);
  const lines = addr2line(bin, sites.map((s) => s.offset));
  return sites.map((s, k) => ({ line: Number(/:(\d+)$/.exec(lines[k] ?? '')?.[1] ?? 0), access: s.access, count: s.count, label: s.label }));
}

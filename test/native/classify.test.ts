// classify, sites, lines and report on real planegrind runs of C fixtures compiled here: the paper's CRC32
// table lookup and a lock picked by a hash of the data, each run under both pointer policies.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyCommand } from '../../src/cli/commands/classify';
import { linesCommand } from '../../src/cli/commands/lines';
import { reportCommand } from '../../src/cli/commands/report';
import { sitesCommand } from '../../src/cli/commands/sites';
import { packageRoot } from '../../src/core/assets';
import { openPlanesDatabase } from '../../src/core/db/reader';
import { analyzeRecording } from '../../src/core/recording/analyze';
import { recordRun } from '../../src/core/recording/session';
import { computeReport } from '../../src/core/report/index';
import { ensureValgrindLib } from '../../src/core/valgrindLib';

const CRC_C = `#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
static uint32_t crc32tab[256];
static void init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc32tab[i] = c;
  }
}
__attribute__((noinline)) uint32_t crc32(uint32_t crc, const unsigned char *buf, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++)
    crc = crc32tab[(crc ^ buf[i]) & 0xff] ^ (crc >> 8); /* LOOKUP */
  return ~crc;
}
int main(int argc, char **argv) {
  init();
  int fd = open(argv[1], O_RDONLY);
  unsigned char buf[4096];
  ssize_t n;
  uint32_t crc = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) crc = crc32(crc, buf, (size_t)n);
  printf("%08x\\n", crc);
  return 0;
}
`;

const HASHLOCK_C = `#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#define BUCKETS 64
#define RECORD 64
struct bucket { pthread_mutex_t lock; } table[BUCKETS];
static long stored;
__attribute__((noinline)) unsigned hash(const unsigned char *p, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u; /* HASH */
  return h;
}
__attribute__((noinline)) void put(const unsigned char *record) {
  unsigned h = hash(record, 16) % BUCKETS;
  pthread_mutex_lock(&table[h].lock); /* LOCK */
  stored++;
  pthread_mutex_unlock(&table[h].lock);
}
int main(int argc, char **argv) {
  for (int i = 0; i < BUCKETS; i++) pthread_mutex_init(&table[i].lock, NULL);
  int fd = open(argv[1], O_RDONLY);
  unsigned char rec[RECORD];
  while (read(fd, rec, RECORD) == RECORD) put(rec);
  printf("%ld\\n", stored);
  return 0;
}
`;

const tool = join(packageRoot(), 'dist', 'native', 'planegrind-amd64-linux');
const haveValgrind = spawnSync('valgrind', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'ps-native-classify-'));
const data = join(dir, 'data', 'blob.bin');

function lineOf(source: string, marker: string): number {
  return source.split('\n').findIndex((l) => l.includes(marker)) + 1;
}

function compile(name: string, source: string, flags: string[]): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const exe = join(dir, name);
  const r = spawnSync('gcc', [...flags, '-o', exe, src, '-pthread'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return exe;
}

function planegrind(exe: string, policy: string, log: string): void {
  const r = spawnSync('valgrind', ['-q', '--tool=planegrind', `--user-data=${join(dir, 'data')}/*`, `--pointer-policy=${policy}`, `--taint-log=${log}`, exe, data], {
    encoding: 'utf8', env: { ...process.env, VALGRIND_LIB: ensureValgrindLib() },
  });
  assert.equal(r.status, 0, r.stderr);
}

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    return { code: await run(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('classify on real planegrind runs', function () {
  this.timeout(600000);
  const logs = join(dir, 'logs');
  const db = join(dir, 'app.planes.db');
  let crcExe = '';

  before(function () {
    if (!haveValgrind || !existsSync(tool)) {
      console.log(`    (skipped: ${!haveValgrind ? 'valgrind is not installed' : `planegrind is not built (${tool}): npm run build`})`);
      this.skip();
    }
    spawnSync('mkdir', ['-p', join(dir, 'data'), logs]);
    // Deterministic "user data": 8 KiB.
    const bytes = Buffer.alloc(8192);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(data, bytes);
    crcExe = compile('crc32', CRC_C, ['-g', '-O1']);
    const lockExe = compile('hashlock', HASHLOCK_C, ['-g', '-O1']);
    for (const policy of ['insensitive', 'sensitive']) {
      planegrind(crcExe, policy, join(logs, `crc32-${policy}.taintlog`));
      planegrind(lockExe, policy, join(logs, `hashlock-${policy}.taintlog`));
    }
  });

  it('builds one database from the four runs, with progress on stderr', async () => {
    const r = await capture(() => classifyCommand.run([logs, '--out', db]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /4 run\(s\), 2 component\(s\), \d+ instructions \(\d+ data plane\)/);
    assert.match(r.err, /classify: reading log 1\/4/);
    const opened = await openPlanesDatabase(db);
    assert.deepEqual(opened.runs().map((x) => x.policy).sort(), ['insensitive', 'insensitive', 'sensitive', 'sensitive']);
    assert.equal(opened.meta('primary_policy'), 'insensitive');
    opened.close();
  });

  it('ranks the CRC32 table lookup first, the hashed lock below it, and says why', async () => {
    const opened = await openPlanesDatabase(db);
    const sites = opened.sites();
    opened.close();
    const top = sites[0];
    assert.equal(top.file, join(dir, 'crc32.c'));
    assert.equal(top.line, lineOf(CRC_C, 'LOOKUP'));
    assert.equal(top.function, 'crc32');
    assert.equal(top.access, 'load');
    assert.equal(top.policyDisagreement, true);
    assert.equal(top.count, 2 * 8192, 'once per byte in each of the two runs');
    assert.ok(top.evidence.some((e) => /per-byte work/.test(e)), top.evidence.join('; '));
    // The lock word is read through &table[hash(data)].lock inside libc's pthread_mutex_lock.
    const lock = sites.filter((s) => /pthread_mutex_lock/.test(`${s.function} ${s.file}`));
    assert.ok(lock.length > 0, `no pthread_mutex_lock site among ${sites.map((s) => `${s.function}@${s.module}`).join(', ')}`);
    for (const s of lock) assert.ok(s.rank > top.rank && s.score < top.score, `lock site #${s.rank} ${s.score} vs CRC ${top.score}`);
    const text = await capture(() => sitesCommand.run([db, '--limit', '3']));
    assert.match(text.out, /^#1 {2}score [\d.]+ {2}load in crc32 at .*crc32\.c:\d+ {2}\[policies disagree\]/);
  });

  it('classifies lines inline-aware: the lookup line is mixed, the hash line data plane, main control', async () => {
    const r = await capture(() => linesCommand.run([db, 'crc32.c', '--json']));
    assert.equal(r.code, 0, r.err);
    const { lines, sha256 } = JSON.parse(r.out);
    assert.match(sha256, /^[0-9a-f]{64}$/);
    const lookup = lines.find((l: { line: number }) => l.line === lineOf(CRC_C, 'LOOKUP'));
    assert.equal(lookup.plane, 'mixed', 'buf[i] is data; the table load is not tainted under the insensitive policy');
    assert.deepEqual(lookup.functions, ['crc32']);
    assert.equal(lookup.siteIds.length, 1);
    const init = lines.find((l: { line: number }) => l.line === lineOf(CRC_C, 'crc32tab[i] = c'));
    assert.equal(init.plane, 'control');
    const hashLines = await capture(() => linesCommand.run([db, 'hashlock.c', '--json']));
    const hash = JSON.parse(hashLines.out).lines.find((l: { line: number }) => l.line === lineOf(HASHLOCK_C, 'HASH'));
    assert.notEqual(hash.plane, 'control');
  });

  it('gives data-plane lines without a pointer site the provenance of their own instructions (insn label=)', async () => {
    const opened = await openPlanesDatabase(db);
    try {
      const file = opened.sourceFiles().find((f) => f.path.endsWith('hashlock.c'))!.path;
      const lines = opened.fileLines(file);
      const hash = lines.find((l) => l.line === lineOf(HASHLOCK_C, 'HASH'))!;
      assert.equal(hash.siteIds.length, 0, 'no pointer site on the hash line');
      assert.ok(hash.labels.length > 0, `the hash line has labels: ${JSON.stringify(hash)}`);
      for (const id of hash.labels) {
        const chain = opened.labelChain(id);
        assert.ok(chain.some((step) => step.file?.path === data && step.file.end > step.file.start), `label ${id} names the user-data file: ${JSON.stringify(chain)}`);
      }
      const init = lines.find((l) => l.line === lineOf(HASHLOCK_C, 'pthread_mutex_init'))!;
      assert.deepEqual([init.plane, init.labels], ['control', []]);
    } finally {
      opened.close();
    }
  });

  it('reports the figures per component, counting the two policy runs of a program once', async () => {
    const opened = await openPlanesDatabase(db);
    const report = computeReport(opened);
    opened.close();
    const crc = report.components.find((c) => c.name === 'crc32')!;
    assert.equal(crc.processes, 1);
    assert.equal(crc.io.dataIn, 8192);
    assert.equal(crc.io.dataOut, 0, 'the insensitive policy misses the CRC: printf writes clean bytes');
    assert.ok(crc.staticInstructions.data > 0 && crc.staticInstructions.control > crc.staticInstructions.data);
    assert.equal(crc.functions.data.functions, 1);
    assert.equal(crc.functions.data.top[0].name, 'crc32');
    const lock = report.components.find((c) => c.name === 'hashlock')!;
    assert.equal(lock.io.dataIn, 8192);
    const html = join(dir, 'report.html');
    const r = await capture(() => reportCommand.run([db, '--html', html]));
    assert.equal(r.code, 0, r.err);
    assert.match(readFileSync(html, 'utf8'), /<canvas id="fig5"/);
  });

  it('reports the log size of each recording mode for a program recorded with librecord both ways', async function () {
    const librecord = join(packageRoot(), 'dist', 'native', 'librecord.so');
    if (!existsSync(librecord)) {
      console.log(`    (skipped: librecord is not built (${librecord}): npm run build)`);
      this.skip();
    }
    const recordings = { value: join(dir, 'rec-value'), reference: join(dir, 'rec-reference') };
    for (const mode of ['value', 'reference'] as const) {
      const { exit } = await recordRun({ dir: recordings[mode], command: [crcExe, data], librecord, recordData: mode, userData: [join(dir, 'data', '*')], stdio: 'ignore' });
      assert.equal(exit.code, 0, `record ${mode}`);
    }
    const out = join(dir, 'recorded.planes.db');
    const r = await capture(() => classifyCommand.run([logs, recordings.value, recordings.reference, '--out', out]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /classify: 2 recorded process log\(s\)/);
    const text = await capture(() => reportCommand.run([out]));
    assert.match(text.out, /Recording logs: by-value .* \(1 process\), by-reference .* \(1 process\); by-reference is [\d.]+% of by-value/);
    const json = JSON.parse((await capture(() => reportCommand.run([out, '--json']))).out);
    const crc = json.components.find((c: { name: string }) => c.name === 'crc32');
    const [value, reference] = crc.recording;
    assert.deepEqual([value.mode, value.userDataBytes, value.userDataLoggedBytes], ['by-value', 8192, 8192]);
    assert.deepEqual([reference.mode, reference.userDataBytes, reference.userDataLoggedBytes], ['by-reference', 8192, 0]);
    assert.ok(value.logBytes > 8192 && reference.logBytes < value.logBytes - 7000, `by-value ${value.logBytes} B, by-reference ${reference.logBytes} B`);
    assert.equal(value.logPercentOfDataIn, Math.round((1e4 * value.logBytes) / 8192) / 100, 'against the 8 KiB of data-plane input');

    // The whole pipeline on the recording alone: replay --analyze writes DIR/analysis/<exe>.<pid>.taintlog,
    // and classify DIR pairs each recorded process with the run of its own taint log.
    const rec = readdirSync(recordings.value).filter((f) => f.endsWith('.rec')).map((f) => join(recordings.value, f));
    const [analyzed] = await analyzeRecording({ logs: rec, outDir: join(recordings.value, 'analysis'), librecord, stdio: 'ignore' });
    assert.ok(existsSync(analyzed.taintLog), `analyze wrote ${analyzed.taintLog}`);
    const alone = join(dir, 'analyzed.planes.db');
    assert.equal((await capture(() => classifyCommand.run([recordings.value, '--out', alone, '--quiet']))).code, 0);
    const analyzedReport = JSON.parse((await capture(() => reportCommand.run([alone, '--json']))).out);
    assert.deepEqual(analyzedReport.components.map((c: { name: string; io: { dataIn: number }; recording: Array<{ mode: string }> }) => [c.name, c.io.dataIn, c.recording.map((m) => m.mode)]),
      [['crc32', 8192, ['by-value']]]);
    assert.deepEqual(analyzedReport.recordings.withoutComponent, []);
  });

  it('keeps the rows of a binary without debug info, warns naming its build-id, names functions from symbols', async () => {
    const stripped = compile('crc32-nodebug', CRC_C, ['-O1']);
    const log = join(dir, 'nodebug.taintlog');
    planegrind(stripped, 'insensitive', log);
    const buildId = /build-id=([0-9a-f]+) path=\S*crc32-nodebug/.exec(readFileSync(log, 'utf8'))![1];
    const out = join(dir, 'nodebug.planes.db');
    const r = await capture(() => classifyCommand.run([log, '--out', out, '--quiet']));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`warning: module .*crc32-nodebug \\(build-id ${buildId}\\) has no usable debug info.*lines are unavailable`));
    const opened = await openPlanesDatabase(out);
    const module = opened.modules().find((m) => m.buildId === buildId)!;
    assert.equal(module.debug, 'none');
    const rows = opened.sql.exec('SELECT COUNT(*), SUM(file_id IS NULL) FROM insns WHERE module_id = ?', [module.id])[0].values[0];
    const dataFunctions = opened.sql.exec('SELECT DISTINCT f.name FROM insns i JOIN functions f ON f.id = i.func_id WHERE i.module_id = ? AND i.plane = 1', [module.id])[0].values.flat();
    opened.close();
    assert.deepEqual(dataFunctions, ['crc32'], 'from the ELF symbol table');
    assert.ok(Number(rows[0]) > 10 && rows[0] === rows[1], `instruction rows kept without lines: ${rows}`);
    // Where a user sees it: the report names the module and why its lines are unavailable; `lines` says why a file has none.
    const report = await capture(() => reportCommand.run([out]));
    assert.match(report.out, new RegExp(`Modules without source lines .*\\n  \\S*crc32-nodebug \\(build-id ${buildId}\\): no debug info`));
    await assert.rejects(linesCommand.run([out, 'crc32.c']), /crc32\.c has no classified lines in .*compiled without -g/);
  });

  it('warns about a binary that is gone and uses a log cut short up to its end', async () => {
    const gone = compile('crc32-gone', CRC_C, ['-g', '-O1']);
    const log = join(dir, 'gone.taintlog');
    planegrind(gone, 'insensitive', log);
    rmSync(gone);
    const text = readFileSync(log, 'utf8');
    const cut = join(dir, 'cut.taintlog');
    // Keep two thirds of the log and end on a torn line, as after a SIGKILL.
    writeFileSync(cut, text.slice(0, Math.floor(text.length * 2 / 3)));
    const out = join(dir, 'gone.planes.db');
    const r = await capture(() => classifyCommand.run([log, cut, '--out', out, '--quiet']));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: module .*crc32-gone \(build-id [0-9a-f]+\) is not on this machine/);
    assert.match(r.err, /cut\.taintlog was cut short/);
    const opened = await openPlanesDatabase(out);
    assert.deepEqual(opened.runs().map((x) => x.end), ['exit 0', 'truncated']);
    opened.close();
    // The cut log alone: its instructions up to the cut are classified, fewer than the whole log's.
    const cutOut = join(dir, 'cut.planes.db');
    const wholeOut = join(dir, 'whole.planes.db');
    assert.equal((await capture(() => classifyCommand.run([cut, '--out', cutOut, '--quiet']))).code, 0);
    assert.equal((await capture(() => classifyCommand.run([log, '--out', wholeOut, '--quiet']))).code, 0);
    const count = async (path: string) => {
      const d = await openPlanesDatabase(path);
      const [n, executions] = d.sql.exec('SELECT COUNT(*), SUM(executions) FROM insns')[0].values[0].map(Number);
      d.close();
      return { n, executions };
    };
    const [partial, whole] = [await count(cutOut), await count(wholeOut)];
    assert.ok(partial.n > 0 && partial.executions > 0, `the cut log's records are used: ${JSON.stringify(partial)}`);
    assert.ok(partial.executions < whole.executions, `cut ${JSON.stringify(partial)} vs whole ${JSON.stringify(whole)}`);
  });

  it('refuses a database of another schema version, naming it and the way to rebuild', async () => {
    const opened = await openPlanesDatabase(db);
    opened.sql.run('PRAGMA user_version = 0');
    const old = join(dir, 'old.planes.db');
    writeFileSync(old, opened.sql.export());
    opened.close();
    await assert.rejects(reportCommand.run([old]), /old\.planes\.db has classification schema version 0.*reads version 2: rebuild it from the taint logs with `planescope classify/);
  });
});

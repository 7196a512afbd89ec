// Figure 3 from a git repository made by the test: fix commits' pre-fix lines mapped to planes.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bugsCommand } from '../../src/cli/commands/bugs';
import { classifyLogs } from '../../src/core/classify/classify';
import { openPlanesDatabaseBytes } from '../../src/core/db/reader';
import { mapBugFixes, parseUnifiedDiff } from '../../src/core/report/bugs';
import { fakeIndex, makeLog } from './classify.helpers';

const repo = mkdtempSync(join(tmpdir(), 'ps-bugs-'));
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
const source = join(repo, 'src', 'app.c');
const version = (changes: Record<number, string>) => {
  const lines = ['int route(int x) {', '  if (x > 3) return 1;', '  int h = x * 31;', '  return crc(h);', '}', '', 'int unused(void) {', '  return 0;', '  /* never run */', '}'];
  for (const [n, text] of Object.entries(changes)) lines[Number(n) - 1] = text;
  return lines.join('\n') + '\n';
};
function commit(message: string, changes: Record<number, string>): string {
  writeFileSync(source, version(changes));
  git('add', '.');
  git('commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
}

let dataFix = '';
let controlFix = '';
let dbBytes: Uint8Array;

before(async () => {
  execFileSync('mkdir', ['-p', join(repo, 'src')]);
  git('init', '-q');
  commit('initial import', {});
  dataFix = commit('Fix checksum of large blocks', { 4: '  return crc(h) ^ 1;' });
  controlFix = commit('fix off-by-one in routing', { 2: '  if (x >= 3) return 1;', 4: '  return crc(h) ^ 1;' });
  commit('FIX comment in unused code', { 2: '  if (x >= 3) return 1;', 4: '  return crc(h) ^ 1;', 9: '  /* never run, really */' });
  commit('add a feature', { 2: '  if (x >= 3) return 1;', 4: '  return crc(h) ^ 1;', 9: '  /* never run, really */', 6: '/* feature */' });
  const exe = join(repo, 'app');
  writeFileSync(exe, '');
  const index = fakeIndex(exe, 'b1', {
    0x1: { file: source, line: 2, function: 'route' },
    0x2: { file: source, line: 3, function: 'route' },
    0x3: { file: source, line: 4, function: 'route' },
    0x4: { file: source, line: 4, function: 'route' },
  });
  const log = makeLog({
    source: 'app.taintlog', process: { pid: 1, ppid: 0, exe, args: [], startMs: 0 },
    modules: [{ id: 1, buildId: 'b1', path: exe, bias: 0 }],
    instructions: [
      { module: 1, offset: 0x1, executions: 5, taintedExecutions: 0 },
      { module: 1, offset: 0x2, executions: 5, taintedExecutions: 5 },
      { module: 1, offset: 0x3, executions: 5, taintedExecutions: 5 },
      { module: 1, offset: 0x4, executions: 5, taintedExecutions: 0 },
    ],
  });
  dbBytes = (await classifyLogs(['app.taintlog'], { readLog: async () => log, openIndex: () => index })).bytes;
  writeFileSync(join(repo, 'app.planes.db'), dbBytes);
});

describe('bugs (Figure 3)', () => {
  it('parses the pre-fix line numbers of git diff -U0, insertions as the line they follow', () => {
    const diff = ['diff --git a/x.c b/x.c', '--- a/x.c', '+++ b/x.c', '@@ -4 +4 @@', '-a', '+b', '@@ -10,2 +9,0 @@', '@@ -20,0 +21,3 @@',
      'diff --git a/new.c b/new.c', '--- /dev/null', '+++ b/new.c', '@@ -0,0 +1,2 @@'].join('\n');
    assert.deepEqual(parseUnifiedDiff(diff), [{ path: 'x.c', lines: [4, 10, 11, 20] }]);
  });

  it('maps each fix commit to a plane by its changed pre-fix lines', async () => {
    const db = await openPlanesDatabaseBytes('app.planes.db', dbBytes);
    const result = await mapBugFixes(db, repo, [dataFix, controlFix]);
    db.close();
    assert.equal(result.commits[0].plane, 'data', 'line 4 is mixed (data and control instructions)');
    assert.deepEqual(result.commits[0].lines, { control: 0, data: 0, mixed: 1, notExecuted: 0, unknownFile: 0 });
    assert.equal(result.commits[1].plane, 'control', 'line 2 only, in the pre-fix source');
    assert.deepEqual(result.commits[1].functions, ['route']);
    assert.deepEqual(result.counts, { control: 1, data: 1, unclassified: 0 });
  });

  it('selects commits with --grep and prints counts and the per-commit table', async () => {
    const out: string[] = [];
    const log = console.log;
    console.log = (s: string) => out.push(s);
    try {
      assert.equal(await bugsCommand.run(['--db', join(repo, 'app.planes.db'), '--repo', repo, '--grep', '^fix', '--json']), 0);
    } finally {
      console.log = log;
    }
    const result = JSON.parse(out.join('\n'));
    assert.deepEqual(result.counts, { control: 1, data: 1, unclassified: 1 });
    assert.equal(result.commits.length, 3);
    assert.deepEqual(result.perComponent, [{ component: 'app', control: 1, data: 1 }]);
    assert.equal(result.commits.find((c: { subject: string }) => c.subject.startsWith('FIX')).lines.notExecuted, 1);
  });

  it('names a bad revision and a missing selection clearly', async () => {
    await assert.rejects(bugsCommand.run(['--db', join(repo, 'app.planes.db'), '--repo', repo, '--fixes', 'no-such-rev']), /bugs: git rev-parse --verify no-such-rev\^\{commit\} failed/);
    await assert.rejects(bugsCommand.run(['--db', join(repo, 'app.planes.db'), '--repo', repo]), /--fixes REV\.\.\. or select them with --grep/);
  });
});

// A --user-data glob that one process's log says matched nothing is worth a warning only when no process
// of the classification opened a file it matches: one warning for the merge, not one per log.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunMerger } from '../../src/core/classify/merge';
import { readTaintLog } from '../../src/core/taintLog/reader';

const dir = mkdtempSync(join(tmpdir(), 'ps-globs-'));
const enc = (s: string) => s.replace(/[% =\x00-\x1f\x7f-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
const GLOBS = ['data/*', 'store/chunk-*', 'nothing/*'];

async function log(name: string, unmatched: string[]) {
  const path = join(dir, `${name}.taintlog`);
  writeFileSync(path, [
    'version v=1',
    'tool name=planegrind version=0.1.0 policy=insensitive',
    `process pid=${name.length} ppid=1 exe=/bin/${name} start-ms=5`,
    ...GLOBS.map((g) => `user-data glob=${enc(g)}`),
    ...unmatched.map((g) => `warning text=${enc(`--user-data glob '${g}' matched no file opened in this run`)}`),
    'end reason=exit code=0 icount=10',
  ].join('\n') + '\n');
  return readTaintLog(path);
}

describe('classify: --user-data globs that matched nothing', () => {
  it('warns once, for the glob no process matched, naming the runs', async () => {
    const merger = new RunMerger();
    merger.addLog(await log('client', ['store/chunk-*', 'nothing/*']));
    merger.addLog(await log('chunkserver', ['data/*', 'nothing/*']));
    const globWarnings = merger.warnings.filter((w) => /--user-data glob/.test(w.text));
    assert.equal(globWarnings.length, 1, JSON.stringify(merger.warnings));
    assert.match(globWarnings[0].text, /^--user-data glob 'nothing\/\*' matched no file opened in any of the 2 runs \(.*client\.taintlog, .*chunkserver\.taintlog\): check the pattern$/);
  });

  it('a glob matched by a later log loses the warning an earlier log raised', async () => {
    const merger = new RunMerger();
    merger.addLog(await log('client', ['store/chunk-*']));
    assert.equal(merger.warnings.filter((w) => w.subject === 'store/chunk-*').length, 1);
    merger.addLog(await log('chunkserver', []));
    assert.deepEqual(merger.warnings.filter((w) => /--user-data glob/.test(w.text)), []);
  });

  it('one log alone: each unmatched glob once, naming that run', async () => {
    const merger = new RunMerger();
    merger.addLog(await log('client', ['store/chunk-*', 'nothing/*']));
    const texts = merger.warnings.map((w) => w.text);
    assert.equal(texts.length, 2, JSON.stringify(texts));
    assert.ok(texts.every((t) => /matched no file opened in the run of .*client\.taintlog: check the pattern$/.test(t)), JSON.stringify(texts));
  });
});

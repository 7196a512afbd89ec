// `planescope demo` end to end (small size): its JSON summary, and that SIGINT stops every process it started.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/assets';

const cli = join(packageRoot(), 'dist', 'cli.js');

/** Pids of live processes whose command line mentions text. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
}

describe('planescope demo', function () {
  this.timeout(600000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'planescope-demo-test-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints Figures 1 and 5 per component as JSON', () => {
    const size = 1 << 20;
    const r = spawnSync(process.execPath, [cli, 'demo', '--size', String(size), '--json', '--keep', join(dir, 'run')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[demo +\d+s\] put: storing/, 'progress is visible');
    const out = JSON.parse(r.stdout);
    const by = new Map<string, { programInstructions: { control: number; data: number }; allInstructions: { data: number }; ioOut: { data: number } }>(
      out.components.map((c: { component: string }) => [c.component, c]),
    );
    assert.deepEqual([...by.keys()].sort(), ['chunkserver', 'client-get', 'client-put', 'master']);
    assert.equal(by.get('master')!.allInstructions.data, 0, 'the master is all control plane');
    assert.ok(by.get('master')!.programInstructions.control > 100);
    assert.ok(by.get('client-put')!.programInstructions.data > 0, "the client's adler32 is data plane");
    assert.ok(by.get('chunkserver')!.programInstructions.data > 0);
    assert.ok(by.get('chunkserver')!.ioOut.data >= size, 'the chunk server wrote the tainted chunk to disk');
    assert.deepEqual(processesMentioning(join(dir, 'run')), [], 'no process of the demo is left');
  });

  it('stops every process it started on SIGINT', async () => {
    const keep = join(dir, 'interrupted');
    const child = spawn(process.execPath, [cli, 'demo', '--size', String(64 << 20), '--keep', keep], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        err += d;
        if (/put: storing/.test(err)) resolve();
      });
      child.on('exit', () => reject(new Error(`demo exited early: ${err}`)));
    });
    assert.ok(processesMentioning(keep).length >= 2, 'master and chunk server run');
    child.kill('SIGINT');
    // 'close', not 'exit': the message saying it was interrupted must be read to the end first
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 130, err);
    assert.match(err, /interrupted/);
    assert.deepEqual(processesMentioning(keep), [], 'every process it started is gone');
  });
});

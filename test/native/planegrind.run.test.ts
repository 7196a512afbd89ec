// `planescope run --mode online`: runs a program under planegrind through the CLI command.
// (--mode record belongs to the record/replay part and is tested there.)
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/cli/commands/run';
import { readTaintLog } from '../../src/core/taintLog/reader';
import { ROOT, VGLIB, buildTool, compile, tempDir } from './planegrindHarness';

describe('planescope run', function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    buildTool();
    // what scripts/build.sh does for the tool, so ensureValgrindLib() finds the current build
    mkdirSync(join(ROOT, 'dist', 'native'), { recursive: true });
    copyFileSync(join(VGLIB, 'planegrind-amd64-linux'), join(ROOT, 'dist', 'native', 'planegrind-amd64-linux'));
    dir = tempDir('run');
    process.env.PLANESCOPE_CACHE = join(dir, 'cache');
    writeFileSync(join(dir, 'input.bin'), Buffer.alloc(300, 7));
  });

  it('rejects a bad pointer policy, a missing program and an unwritable trace directory before running', async () => {
    await assert.rejects(runCommand.run(['--mode', 'online', '--trace', dir, '--user-data', '*.bin', '--pointer-policy', 'maybe', '--', '/bin/true']), /--pointer-policy must be/);
    await assert.rejects(runCommand.run(['--mode', 'online', '--trace', dir, '--user-data', '*.bin']), /no program given/);
    await assert.rejects(runCommand.run(['--mode', 'online', '--trace', '/proc/planescope-nope', '--user-data', '*.bin', '--', '/bin/true']), /cannot write taint logs into \/proc\/planescope-nope/);
    await assert.rejects(runCommand.run(['--mode', 'online', '--bogus', '--', '/bin/true']), /unknown option --bogus/);
  });

  it('runs the program under planegrind, writes <name>.<pid>.taintlog and passes the exit code through', async () => {
    const bin = compile(dir, 'pg_io');
    const trace = join(dir, 'trace');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const code = await runCommand.run(['--mode', 'online', '--trace', trace, '--user-data', '*.bin', '--', bin, 'input.bin', join(dir, 'out.txt')]);
      assert.equal(code, 0);
      const logs = readdirSync(trace);
      assert.equal(logs.length, 1);
      assert.match(logs[0], /^pg_io\.\d+\.taintlog$/);
      const log = await readTaintLog(join(trace, logs[0]));
      assert.deepEqual(log.end, { reason: 'exit', code: 0 });
      assert.equal(log.io.find((x) => x.kind === 'file' && x.direction === 'out')?.taintedBytes, 100);
      const failing = await runCommand.run(['--mode', 'online', '--trace', trace, '--user-data', '*.bin', '--name', 'sh', '--', '/bin/sh', '-c', 'exit 3']);
      assert.equal(failing, 3);
    } finally {
      process.chdir(cwd);
    }
  });
});

// `planescope run --mode online`: runs a program under planegrind through the CLI command; and what the
// command itself does in --mode record (options, exit status). Recording itself is tested in replay*.test.ts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

  it('hands --tag-peers to librecord in the program (PLANESCOPE_TAG_PEERS), in both modes', () => {
    for (const mode of ['online', 'record']) {
      const r = cli(['--mode', mode, '--trace', join(dir, `peers-${mode}`), '--user-data', '*.bin', '--tag-peers', '10.1.2.3:7000 !10.1.2.4', '--', '/usr/bin/env']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^PLANESCOPE_TAG_PEERS=10\.1\.2\.3:7000 !10\.1\.2\.4$/m, `${mode}: ${r.stdout}`);
    }
  });

  it('--mode record: a program killed by a signal exits with 128 + the signal\'s number, as in --mode online', () => {
    for (const sig of ['SIGSEGV', 'SIGUSR1', 'SIGPIPE'] as const) {
      const r = cli(['--mode', 'record', '--trace', join(dir, `killed-${sig}`), '--', '/bin/sh', '-c', `kill -${sig.slice(3)} $$`]);
      assert.equal(r.status, 128 + osConstants.signals[sig], `${sig}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`killed by ${sig}`));
    }
  });

  /** `planescope run ...` as a user runs it: its own process, stderr captured. */
  function cli(args: string[], cwd = dir) {
    const res = spawnSync(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, join(ROOT, 'src', 'cli', 'main.ts'), 'run', ...args], {
      cwd, env: { ...process.env, PLANESCOPE_CACHE: join(dir, 'cache') }, encoding: 'utf8',
    });
    assert.doesNotMatch(res.stderr, /^\s+at /m, `no stack trace: ${res.stderr}`);
    assert.doesNotMatch(res.stderr, /PLANESCOPE_DEBUG/, res.stderr);
    return res;
  }

  it('--mode online: planegrind\'s option errors and an unwritable trace directory end with a clear message, no stack trace', () => {
    const marker = join(dir, 'never-ran');
    const bad = cli(['--mode', 'online', '--trace', join(dir, 'bad-glob'), '--user-data', 'data/[abc', '--', '/usr/bin/touch', marker]);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /Bad option: --user-data=data\/\[abc\n.*the glob 'data\/\[abc' has a '\[' without its closing '\]'/);
    assert.match(bad.stderr, /planescope: run: planegrind stopped before \/usr\/bin\/touch started \(its message is above\); no taint log was written into /);
    assert.throws(() => readFileSync(marker), 'the program never ran');
    writeFileSync(join(dir, 'a-file'), 'x');
    const notDir = cli(['--mode', 'online', '--trace', join(dir, 'a-file', 'sub'), '--user-data', '*.bin', '--', '/usr/bin/touch', marker]);
    assert.equal(notDir.status, 1);
    assert.match(notDir.stderr, new RegExp(`^planescope: run: cannot write taint logs into ${join(dir, 'a-file', 'sub')}: ${join(dir, 'a-file')} is not a directory$`, 'm'));
    const policy = cli(['--mode', 'online', '--trace', join(dir, 't'), '--user-data', '*.bin', '--pointer-policy', 'maybe', '--', '/bin/true']);
    assert.equal(policy.status, 2);
    assert.match(policy.stderr, /^planescope: run: --pointer-policy must be 'insensitive' or 'sensitive', not 'maybe'$/m);
    assert.throws(() => readFileSync(marker), 'the program never ran');
  });

  it('--mode online: a --user-data glob that matched no opened file is a warning on stderr and in the log; the program still runs', () => {
    const trace = join(dir, 'warn');
    const res = cli(['--mode', 'online', '--trace', trace, '--user-data', '*.bin', '--user-data', 'nothing-*.dat', '--', '/bin/cat', 'input.bin']);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.length, 300);
    assert.match(res.stderr, /planegrind: warning: --user-data glob 'nothing-\*\.dat' matched no file opened in this run/);
    assert.doesNotMatch(res.stderr, /glob '\*\.bin'/);
    const logs = readdirSync(trace);
    assert.equal(logs.length, 1);
    const text = readFileSync(join(trace, logs[0]), 'utf8');
    assert.match(text, /^warning text=--user-data%20glob%20'nothing-\*\.dat'%20matched%20no%20file%20opened%20in%20this%20run$/m);
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

// The foundation's promises: the built parts exist and work from Node, and the CLI behaves.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/assets';
import { instantiateDwarfWasm, DWARF_WASM_ABI } from '../../src/core/dwarfWasm';
import { ensureValgrindLib } from '../../src/core/valgrindLib';
import { parseArgs } from '../../src/cli/args';
import { UserError } from '../../src/cli/command';

const cli = join(packageRoot(), 'dist', 'cli.js');

describe('foundation', () => {
  it('loads the built DWARF .wasm from Node and calls it', () => {
    const wasm = instantiateDwarfWasm();
    assert.equal(wasm.ps_abi_version(), DWARF_WASM_ABI);
    const ptr = wasm.ps_alloc(64);
    assert.ok(ptr > 0, 'ps_alloc returns a pointer inside wasm memory');
    new Uint8Array(wasm.memory.buffer, ptr, 64).fill(7);
    wasm.ps_free(ptr, 64);
  });

  // Each run happens in its own directory: planegrind writes its default log into the working directory.
  let cwd: string;
  beforeEach(() => (cwd = mkdtempSync(join(tmpdir(), 'planescope-foundation-'))));
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('runs the built planegrind under valgrind on /bin/true', () => {
    const env = { ...process.env, VALGRIND_LIB: ensureValgrindLib() };
    const result = spawnSync('valgrind', ['--tool=planegrind', '/bin/true'], { cwd, env, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /planegrind-\d+\.\d+\.\d+, control\/data plane taint analysis/);
    assert.equal(readdirSync(cwd).filter((f) => f.endsWith('.taintlog')).length, 1, 'one taint log for one process');
  });

  it('passes the program its exit code and output unchanged under planegrind', () => {
    const env = { ...process.env, VALGRIND_LIB: ensureValgrindLib() };
    const result = spawnSync('valgrind', ['-q', '--tool=planegrind', '/bin/sh', '-c', 'echo hello; exit 3'], { cwd, env, encoding: 'utf8' });
    assert.equal(result.status, 3);
    assert.equal(result.stdout, 'hello\n');
  });

  it('prints the command list and exits 2 when run without a command', () => {
    const result = spawnSync(process.execPath, [cli], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stdout, /Usage: planescope <command>/);
    assert.match(result.stdout, /version/);
  });

  it('names an unknown command and lists the real ones, without a stack trace', () => {
    const result = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown command 'frobnicate'\. Commands: .*version/);
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
  });

  it('reports the built parts and tools with `version --json`', () => {
    const result = spawnSync(process.execPath, [cli, 'version', '--json'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const status = JSON.parse(result.stdout);
    assert.equal(status.planegrind, true);
    assert.equal(status.librecord, true);
    assert.equal(status.dwarfWasm, true);
  });
});

describe('option parsing', () => {
  it('takes values, repeatable values, flags and the command after --', () => {
    const parsed = parseArgs(['--trace', 'T', '--user-data=a/*', '--user-data', 'b', '--json', 'x', '--', './server', '--port', '1'],
      { values: ['trace'], repeatable: ['user-data'], flags: ['json'] }, 'run');
    assert.deepEqual(parsed.values.get('trace'), ['T']);
    assert.deepEqual(parsed.values.get('user-data'), ['a/*', 'b']);
    assert.ok(parsed.flags.has('json'));
    assert.deepEqual(parsed.positional, ['x']);
    assert.deepEqual(parsed.rest, ['./server', '--port', '1']);
  });

  it('refuses unknown options, missing values and repeated single options', () => {
    assert.throws(() => parseArgs(['--nope'], {}, 'x'), (e: unknown) => e instanceof UserError && /unknown option --nope/.test(e.message));
    assert.throws(() => parseArgs(['--trace'], { values: ['trace'] }, 'x'), /--trace needs a value/);
    assert.throws(() => parseArgs(['--trace', 'a', '--trace', 'b'], { values: ['trace'] }, 'x'), /given twice/);
  });
});

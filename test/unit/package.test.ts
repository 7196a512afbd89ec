// The .vsix holds exactly what runs (bundles, .wasm, native binaries, media, syntaxes) and stays small.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, planescopeVersion } from '../../src/core/assets';

describe('npm run package', () => {
  const vsix = join(packageRoot(), `planescope-${planescopeVersion()}.vsix`);
  let entries: string[];

  before(function () {
    this.timeout(180000);
    // The test script packages before mocha runs; package here too when mocha runs alone.
    try {
      statSync(vsix);
    } catch {
      const built = spawnSync('bash', ['scripts/package.sh'], { cwd: packageRoot(), encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
    }
    const listing = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    entries = listing.stdout.split('\n').filter(Boolean);
  });

  it('contains the three bundles, the .wasm files and the native binaries', () => {
    for (const required of [
      'extension/package.json',
      'extension/dist/extension.js',
      'extension/dist/debugAdapter.js',
      'extension/dist/cli.js',
      'extension/dist/planescope_dwarf.wasm',
      'extension/dist/sql-wasm.wasm',
      'extension/dist/native/planegrind-amd64-linux',
      'extension/dist/native/librecord.so',
      'extension/syntaxes/taintlog.tmLanguage.json',
      'extension/media/planescope.png',
      'extension/examples/minidfs/Makefile',
      'extension/examples/minidfs/master.c',
    ]) {
      assert.ok(entries.includes(required), `${required} missing from the .vsix`);
    }
  });

  it('contains nothing of src/, test/, node_modules, source maps or native sources', () => {
    const examples = entries.filter((e) => e.startsWith('extension/examples/') && !/^extension\/examples\/minidfs\/([\w-]+\.[ch]|Makefile)$/.test(e));
    assert.deepEqual(examples, [], 'only the example sources the demo builds');
    const unwanted = entries.filter((e) => /^extension\/(src|test|node_modules|native|wasm|bench|scripts)\//.test(e) || e.endsWith('.map') || e.endsWith('.ts'));
    assert.deepEqual(unwanted, []);
  });

  it('is smaller than 15 MB', () => {
    assert.ok(statSync(vsix).size < 15 * 1024 * 1024, `${statSync(vsix).size} bytes`);
  });
});

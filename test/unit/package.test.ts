// The .vsix holds exactly what runs (bundles, .wasm, native binaries, media, syntaxes) and stays small.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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

describe('package.json contributions', () => {
  interface MenuEntry {
    command: string;
    when?: string;
  }
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    capabilities: { untrustedWorkspaces: { supported: unknown } };
    contributes: { commands: { command: string }[]; menus: Record<string, MenuEntry[]> };
  };
  const commands = new Set(manifest.contributes.commands.map((c) => c.command));

  it('names only contributed commands in its menus (a typo there hides the entry without an error)', () => {
    const unknown = Object.entries(manifest.contributes.menus).flatMap(([menu, entries]) =>
      entries.filter((e) => !commands.has(e.command)).map((e) => `${menu}: ${e.command}`),
    );
    assert.deepEqual(unknown, []);
  });

  it('offers the Explorer entries on databases and on folders', () => {
    const explorer = manifest.contributes.menus['explorer/context'];
    const open = explorer.find((e) => e.command === 'planescope.openDatabase');
    const classify = explorer.find((e) => e.command === 'planescope.classifyTrace');
    assert.ok(open?.when && classify?.when, JSON.stringify(explorer));
    // The when clause's regular expression, as VS Code evaluates `resourceFilename =~ /.../`.
    const pattern = /resourceFilename =~ \/(.*)\/$/.exec(open.when);
    assert.ok(pattern, open.when);
    const re = new RegExp(pattern[1]);
    assert.ok(re.test('app.planes.db') && !re.test('app.db') && !re.test('planes.db.bak'));
    assert.equal(classify.when, 'explorerResourceIsFolder');
  });

  it('declares limited support of untrusted workspaces (databases are read, nothing is run)', () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  });
});

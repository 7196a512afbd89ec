// The demo's database in real VS Code: `planescope demo` (minidfs: master, chunk server and client under
// planegrind, taint carried across their sockets) and `planescope classify` run at test time; the
// workspace holds a copy of the example's sources and the database. The chunk server's lines must show
// the planes the database holds, and a data-carrying line's hover its counts and function.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LineRecord } from '../../src/core/db/api';
import { openPlanesDatabase } from '../../src/core/db/reader';
import { buildAndPackage } from './harness/extensionPackage';
import { repoRoot } from './harness/paths';
import { VSCode } from './harness/vscode';

const cli = join(repoRoot, 'dist', 'cli.js');

describe('extension: the demo database of the bundled example (code-server)', function () {
  this.timeout(900000);
  let work: string;
  let workspace: string;
  let vscode: VSCode;
  let dataLine: LineRecord;
  let controlLine: LineRecord;

  before(async () => {
    buildAndPackage();
    work = mkdtempSync(join(tmpdir(), 'ps-e2e-demo-'));
    const demo = spawnSync(process.execPath, [cli, 'demo', '--json', '--keep', join(work, 'run'), '--size', '256k'], { encoding: 'utf8' });
    assert.equal(demo.status, 0, demo.stderr.slice(-3000));
    workspace = join(work, 'minidfs');
    mkdirSync(workspace);
    const db = join(workspace, 'demo.planes.db');
    const classify = spawnSync(process.execPath, [cli, 'classify', join(work, 'run', 'trace'), '--out', db, '--quiet'], { encoding: 'utf8' });
    assert.equal(classify.status, 0, classify.stderr.slice(-3000));
    cpSync(join(repoRoot, 'examples', 'minidfs'), join(workspace, 'examples', 'minidfs'), { recursive: true });
    // What the database says about the chunk server (recorded under this repository's examples/).
    const reader = await openPlanesDatabase(db);
    try {
      const recorded = reader.sourceFiles().find((f) => f.path.endsWith('/examples/minidfs/chunkserver.c'));
      assert.ok(recorded, 'the demo database has no chunkserver.c');
      const lines = reader.fileLines(recorded.path);
      const tainted = lines.find((l) => l.plane !== 'control');
      const control = lines.find((l) => l.plane === 'control');
      assert.ok(tainted && control, 'the chunk server has no data-plane or no control-plane line');
      dataLine = tainted;
      controlLine = control;
    } finally {
      reader.close();
    }
    vscode = await VSCode.start({ workspace });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await vscode.saveArtifacts(`extension-demo-${this.currentTest.title}`);
  });

  after(async () => {
    await vscode?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('shades the chunk server as the database classified it', async () => {
    // Quick Open's file search can lag behind on a loaded machine: try again a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await vscode.workbench.openFile('examples/minidfs/chunkserver.c');
        break;
      } catch (e) {
        if (attempt === 4) throw e;
        await vscode.page.keyboard.press('Escape');
      }
    }
    const letter = dataLine.plane === 'data' ? 'D' : 'M';
    const d = await vscode.workbench.lineDecorations(dataLine.line, (d) => d.after.includes(letter), 120000);
    assert.ok(d.backgrounds.length > 0, `line ${dataLine.line} has no background`);
    const c = await vscode.workbench.lineDecorations(controlLine.line, (d) => d.after.includes('C'), 60000);
    assert.ok(c.backgrounds.length > 0, `line ${controlLine.line} has no background`);
  });

  it('hovers a data-carrying line with its plane, counts and function', async () => {
    const text = (await vscode.workbench.hoverLine(dataLine.line)).replace(/\s+/g, ' ');
    assert.match(text, new RegExp(`Planescope: ${dataLine.plane === 'data' ? 'data plane' : 'mixed'}`));
    assert.match(text, new RegExp(`${dataLine.dataInstructions} data-plane and ${dataLine.controlInstructions} control-plane instruction`));
    assert.ok(text.includes(dataLine.functions[0]), text);
    // Provenance is recorded per label of the line; the demo's taint logs carry labels on pointer sites.
    if (dataLine.labels.length) assert.match(text, /Where its tainted data came from/);
  });
});

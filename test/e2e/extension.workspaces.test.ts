// The extension in a multi-root workspace that the user did not trust (real VS Code, code-server, workspace
// trust on, Restricted Mode): each folder's database is discovered and shades that folder's files; a
// database the discovery glob leaves out opens from the Explorer's context menu; files outside the
// workspace are found through several path-prefix pairs (longest first); and the commands that would run
// programs (demo, classify, a debug launch) refuse, saying why, without starting anything.
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { classifyLogs } from '../../src/core/classify/classify';
import type { AddressInfo, ModuleIndex } from '../../src/core/dwarf/types';
import type { TaintLog } from '../../src/core/taintLog/types';
import { VSCode } from './harness/vscode';
import type { LineDecorations } from './harness/workbench';

// Every fixture source has the same two marked lines: a control-plane one and a data-plane one.
const source = (fn: string) => `// ${fn}: a fixture source of the multi-root e2e test.
int ${fn}(const unsigned char *p, int n) {
  int s = 0; /* @control */
  for (int i = 0; i < n; i++) s += p[i]; /* @data */
  return s;
}
`;
const CONTROL = 3;
const DATA = 4;
/** A file of LONG lines with data-plane lines far down. */
const LONG = 2500;
const LONG_DATA = [1200, 2480];

interface Classified {
  /** Path as the database records it (absolute, or relative: resolved against the database's directory). */
  recorded: string;
  fn: string;
  /** False: both lines control plane (a decoy that a wrong mapping would pick). */
  tainted: boolean;
  /** More data-plane lines (1-based). */
  moreData?: number[];
}

/**
 * A database, written by the real classifier from a synthetic log of one process, that classifies `files`;
 * with `hash`, the classifier records the sha256 of each file (absolute recorded paths only).
 */
async function writeDatabase(path: string, files: Classified[], hash = false): Promise<void> {
  const exe = join(dirname(path), `.${files[0].fn}.bin`);
  writeFileSync(exe, 'not an ELF: the fixture index answers for it');
  const table = new Map<number, { file: string; line: number; fn: string }>();
  const instructions: TaintLog['instructions'] = [];
  files.forEach((f, i) => {
    for (const [k, line] of [CONTROL, DATA, ...(f.moreData ?? [])].entries()) {
      const offset = 0x10000 * (i + 1) + 0x10 * k;
      table.set(offset, { file: f.recorded, line, fn: f.fn });
      instructions.push({ module: 1, offset, executions: 10, taintedExecutions: f.tainted && line !== CONTROL ? 10 : 0 });
    }
  });
  const index: ModuleIndex = {
    path: exe,
    buildId: 'ab12',
    lookup(offset: number): AddressInfo | undefined {
      const l = table.get(offset);
      return l && { offset, file: l.file, line: l.line, column: 1, function: l.fn, frames: [{ function: l.fn, file: l.file, line: l.line, column: 1 }] };
    },
    rangesForLine: () => [],
    files: () => files.map((f) => f.recorded),
  };
  const log: TaintLog = {
    version: 1,
    source: 'run.taintlog',
    tool: { name: 'planegrind', version: '0.1.0', policy: 'insensitive' },
    process: { pid: 7, ppid: 1, exe, args: [exe], startMs: 0 },
    userData: ['data/*'],
    modules: [{ id: 1, buildId: 'ab12', path: exe, bias: 0 }],
    labels: new Map(),
    instructions,
    sites: [],
    io: [],
    warnings: [],
    icount: 1000,
    end: { reason: 'exit', code: 0 },
  };
  const result = await classifyLogs([log.source], { readLog: async () => log, openIndex: () => index }, { hashSources: hash });
  writeFileSync(path, result.bytes);
}

interface Fixture {
  /** The workspace: ws.code-workspace with the folders alpha/ and beta/. */
  dir: string;
  /** Sources outside the workspace, reached through planescope.pathMappings. */
  outside: string;
}

async function buildFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-roots-'));
  const outside = mkdtempSync(join(tmpdir(), 'ps-e2e-outside-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };
  write(join(dir, 'ws.code-workspace'), JSON.stringify({ folders: [{ path: 'alpha' }, { path: 'beta' }] }, null, 2));
  write(join(dir, 'alpha', 'src', 'alpha.c'), source('alpha_sum'));
  write(join(dir, 'beta', 'src', 'beta.c'), source('beta_sum'));
  write(join(dir, 'beta', 'src', 'menu.c'), source('menu_sum'));
  // Longer than the window of lines that get letters around the viewport.
  write(join(dir, 'beta', 'src', 'long.c'), source('long_sum') + Array.from({ length: LONG - 7 }, (_, i) => `// filler ${i}`).join('\n') + '\n');
  write(join(dir, 'beta', 'trace', 'README'), 'a folder to right-click\n');
  write(join(outside, 'checkout', 'lib', 'core.c'), source('core_sum'));
  // Vendored code inside the checkout: both the recorded and the local prefixes nest, so only the
  // longest-first order finds it (in either direction).
  write(join(outside, 'checkout', 'vendor', 'zlib-1.3', 'inflate.c'), source('inflate_sum'));
  // A program and a launch configuration that must not run here (the trace file would show an adapter).
  mkdirSync(join(dir, 'alpha', 'bin'));
  copyFileSync('/bin/true', join(dir, 'alpha', 'bin', 'prog'));
  write(
    join(dir, 'alpha', '.vscode', 'launch.json'),
    JSON.stringify({
      version: '0.2.0',
      configurations: [
        { type: 'planescope', request: 'launch', name: 'Planescope: run alpha', program: '${workspaceFolder}/bin/prog', trace: '${workspaceFolder}/adapter-trace.log' },
      ],
    }, null, 2),
  );

  // alpha's database: its own file as the build machine named it (found by its trailing components),
  // and the files outside the workspace, under two nested build prefixes plus a decoy with the same
  // trailing components as core.c (so only the prefix pairs can tell which one is meant).
  await writeDatabase(join(dir, 'alpha', 'alpha.planes.db'), [
    { recorded: '/build/alpha/src/alpha.c', fn: 'alpha_sum', tainted: true },
    { recorded: '/build/proj/lib/core.c', fn: 'core_sum', tainted: true },
    { recorded: '/build/other/lib/core.c', fn: 'decoy_sum', tainted: false },
    { recorded: '/build/proj/third_party/zlib/inflate.c', fn: 'inflate_sum', tainted: true },
  ]);
  // beta's database: a relative name (no DWARF comp_dir), which resolves next to the database.
  await writeDatabase(join(dir, 'beta', 'beta.planes.db'), [
    { recorded: 'src/beta.c', fn: 'beta_sum', tainted: true },
    { recorded: 'src/long.c', fn: 'long_sum', tainted: true, moreData: LONG_DATA },
  ]);
  // A file edited since it was classified: the database has its old hash, so all its lines are stale.
  const changed = join(dir, 'beta', 'lib', 'changed.c');
  write(changed, source('changed_sum'));
  await writeDatabase(join(dir, 'beta', 'changed.planes.db'), [{ recorded: changed, fn: 'changed_sum', tainted: true }], true);
  write(changed, source('changed_sum').replace('return s;', 'return s + 1; /* edited after the run */'));
  // Below the discovery glob's reach: opened from the Explorer's context menu only.
  mkdirSync(join(dir, 'beta', 'extra'));
  await writeDatabase(join(dir, 'beta', 'extra', 'menu.planes.db'), [{ recorded: '../src/menu.c', fn: 'menu_sum', tainted: true }]);
  return { dir, outside };
}

/** Waits until `line` of the active editor shows the letter `letter` with a background. */
function shows(vscode: VSCode, line: number, letter: 'C' | 'D'): Promise<LineDecorations> {
  // Generous: the first call waits for activation, discovery and the first load of sql.js.
  return vscode.workbench.lineDecorations(line, (d) => d.after.includes(letter) && d.backgrounds.length > 0, 90000);
}

/** Opens a file by its absolute path (Quick Open resolves those without a search), retrying a slow first search. */
async function open(vscode: VSCode, absolute: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await vscode.workbench.openFile(absolute);
    } catch (e) {
      if (attempt === 3) throw e;
      await vscode.page.keyboard.press('Escape');
    }
  }
}

/** Processes whose command line names `path` (what a launched demo, classify or debuggee would show). */
function processesNaming(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(path)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

describe('extension in an untrusted multi-root workspace (code-server)', function () {
  this.timeout(600000);
  let fixture: Fixture;
  let vscode: VSCode;
  let alpha: string;
  let beta: string;

  before(async () => {
    fixture = await buildFixture();
    vscode = await VSCode.start({
      workspace: fixture.dir,
      workspaceFile: 'ws.code-workspace',
      untrusted: true,
      settings: {
        // Top level of each folder only: beta/extra/menu.planes.db is left for the context menu.
        'planescope.discoveryGlob': '*.planes.db',
        // Shorter prefix first on purpose: the longer one must still win for the vendored file.
        'planescope.pathMappings': [
          { from: '/build/proj', to: join(fixture.outside, 'checkout') },
          { from: '/build/proj/third_party/zlib', to: join(fixture.outside, 'checkout', 'vendor', 'zlib-1.3') },
        ],
      },
    });
    alpha = join(vscode.workspace, 'alpha');
    beta = join(vscode.workspace, 'beta');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await vscode.saveArtifacts(`extension-workspaces-${this.currentTest.title}`);
  });

  after(async () => {
    await vscode?.stop();
    if (fixture) for (const d of [fixture.dir, fixture.outside]) rmSync(d, { recursive: true, force: true });
  });

  it('runs in Restricted Mode', async () => {
    await vscode.page.locator('.statusbar-item', { hasText: /Restricted Mode/ }).first().waitFor();
  });

  it('discovers the database of each workspace folder and shades the files of both', async () => {
    await open(vscode, join(alpha, 'src', 'alpha.c'));
    await shows(vscode, DATA, 'D');
    await shows(vscode, CONTROL, 'C');
    await open(vscode, join(beta, 'src', 'beta.c'));
    await shows(vscode, DATA, 'D');
    await shows(vscode, CONTROL, 'C');
    const hover = (await vscode.workbench.hoverLine(DATA)).replace(/\s+/g, ' ');
    assert.match(hover, /Planescope: data plane/);
    assert.match(hover, /beta_sum/);
  });

  it('puts the letters on the lines of a long file wherever it is scrolled to', async () => {
    await open(vscode, join(beta, 'src', 'long.c'));
    await shows(vscode, DATA, 'D');
    for (const line of [...LONG_DATA, DATA]) await shows(vscode, line, 'D');
    // A line between them stays bare.
    const between = await vscode.workbench.lineDecorations(LONG_DATA[0] + 1);
    assert.deepEqual([between.after, between.backgrounds], [[], []]);
  });

  it('shows every line of a file changed since classification as stale, with the reason', async () => {
    await open(vscode, join(beta, 'lib', 'changed.c'));
    // The letter says what the line was: D? and C?.
    await vscode.workbench.lineDecorations(DATA, (d) => d.after.includes('D?') && d.backgrounds.length > 0, 90000);
    await vscode.workbench.lineDecorations(CONTROL, (d) => d.after.includes('C?'));
    const hover = (await vscode.workbench.hoverLine(DATA)).replace(/\s+/g, ' ');
    assert.match(hover, /Stale:.*changed\.c changed since it was classified \(sha256 now [0-9a-f]{12}…, classified [0-9a-f]{12}…\)/);
    assert.match(hover, /Re-run `?planescope classify`?/);
    await vscode.page.locator('.statusbar-item', { hasText: /Planescope: stale/ }).first().waitFor();
  });

  it('maps files outside the workspace through several prefix pairs, the longest first', async () => {
    await open(vscode, join(fixture.outside, 'checkout', 'vendor', 'zlib-1.3', 'inflate.c'));
    await shows(vscode, DATA, 'D');
    assert.match((await vscode.workbench.hoverLine(DATA)).replace(/\s+/g, ' '), /inflate_sum/);
    // /build/proj/lib/core.c, not the decoy /build/other/lib/core.c (control plane only).
    await open(vscode, join(fixture.outside, 'checkout', 'lib', 'core.c'));
    await shows(vscode, DATA, 'D');
    assert.match((await vscode.workbench.hoverLine(DATA)).replace(/\s+/g, ' '), /core_sum/);
  });

  it('opens a database from the Explorer context menu', async () => {
    await open(vscode, join(beta, 'src', 'menu.c'));
    const before = await vscode.workbench.lineDecorations(DATA);
    assert.ok(!before.after.includes('D'), 'menu.c is shaded before its database was opened');
    await vscode.workbench.runExplorerContextCommand('beta/extra/menu.planes.db', 'Open Classification Database');
    await open(vscode, join(beta, 'src', 'menu.c'));
    await shows(vscode, DATA, 'D');
    await vscode.waitForOutputChannel('Planescope', /opened .*menu\.planes\.db \(command/);
  });

  it('shows one level per database in both views when several are open', async () => {
    const wb = vscode.workbench;
    await wb.openView('Components');
    const names = ['alpha.planes.db', 'beta.planes.db', 'changed.planes.db', 'menu.planes.db'];
    const items = await wb.treeItems('Components', (rows) => names.every((n) => rows.some((it) => it.label === n)));
    for (const n of names) assert.ok(items.some((it) => it.label === n && it.depth === 1), `no ${n} row: ${JSON.stringify(items)}`);
    // alpha classifies 8 instructions, 3 of them data plane (alpha.c, core.c and inflate.c; the decoy none).
    assert.ok(items.some((it) => it.label === '.alpha_sum.bin' && it.depth === 2 && /^1 process · code 38% data/.test(it.description)), JSON.stringify(items));
    const sites = await wb.treeItems('Tainted Pointer Sites', (rows) => names.every((n) => rows.some((it) => it.label === n)));
    for (const n of names) assert.ok(sites.some((it) => it.label === n && it.depth === 1 && it.description === '0 sites'), `no ${n} row: ${JSON.stringify(sites)}`);
  });

  it('draws the report in Restricted Mode, of the active file\'s database', async () => {
    await open(vscode, join(alpha, 'src', 'alpha.c'));
    await vscode.workbench.runCommand('Planescope: Show Report');
    await vscode.page.locator('.tab', { hasText: 'Planescope Report' }).waitFor();
    // The webview's document is two frames down: VS Code's webview host, then the content frame.
    const report = vscode.page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await report.locator('h1', { hasText: 'Control plane / data plane report' }).waitFor({ timeout: 60000 });
    // alpha's one component: 8 instructions, 3 of them data plane.
    assert.match(await report.locator('#figures-table').innerText(), /\.alpha_sum\.bin\t1\t5\t3\t37\.5%/);
    await vscode.workbench.runCommand('View: Close All Editors');
  });

  it('refuses the demo and classify (palette and Explorer context menu) and starts nothing', async () => {
    const wb = vscode.workbench;
    await wb.runCommand('Planescope: Run the Demo Pipeline');
    await wb.waitForNotification(/does not run the demo pipeline in an untrusted workspace.*Manage Workspace Trust/);
    // Classify refuses before it asks for a folder: no file dialog opens.
    await wb.runExplorerContextCommand('beta/trace', 'Classify a Trace Directory');
    await wb.waitForNotification(/does not run classify \(of a trace directory\) in an untrusted workspace/);
    assert.equal(await vscode.page.locator('.quick-input-widget').isVisible(), false, 'classify asked for input');
    assert.equal(existsSync(join(alpha, 'planescope-demo')), false, 'the demo made its work directory');
    const output = await vscode.waitForOutputChannel('Planescope', /refused in an untrusted workspace: classify/);
    assert.match(output, /refused in an untrusted workspace: the demo pipeline \(nothing was started\)/);
    assert.doesNotMatch(output, /^\$ planescope/m);
    assert.deepEqual(processesNaming(vscode.workspace).filter((p) => /cli\.js|valgrind|planegrind/.test(p)), []);
  });

  it('asks for trust before a planescope debug launch; declined, no adapter starts', async () => {
    await vscode.page.keyboard.press('Control+P');
    const input = vscode.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill('debug Planescope: run alpha');
    await vscode.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Planescope: run alpha' }).first().click();
    // VS Code itself asks for trust before any debug session starts (no adapter exists yet); decline.
    const dialog = vscode.page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Do you trust the authors of the files in this workspace\?[\s\S]*Debugging executes/);
    await dialog.locator('.monaco-button', { hasText: /^\s*Cancel\s*$/ }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await vscode.page.locator('.debug-toolbar').isVisible(), false, 'a debug session started');
    assert.equal(existsSync(join(alpha, 'adapter-trace.log')), false, 'the debug adapter ran');
    assert.deepEqual(processesNaming(join(alpha, 'bin', 'prog')), []);
  });
});

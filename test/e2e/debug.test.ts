// e2e: a launch.json `planescope` session in real VS Code replays a recording (made here with
// `planescope run --trace`), stops at a breakpoint and the Variables view shows the Taint scope (the buffer read from the user-data file tainted, a constant-derived local
// clean). Saves a screenshot in test-results/screenshots (PLANESCOPE_UPDATE_SCREENSHOTS=1: into docs/images).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, useVSCode } from './harness';

const fixtureSource = join(repoRoot, 'test', 'fixtures', 'debug', 'taintdemo.c');
const lineOf = (marker: string) => readFileSync(fixtureSource, 'utf8').split('\n').findIndex((l) => l.includes(`/* ${marker} */`)) + 1;

// The workspace: the fixture's source, a user-data file and a launch.json that replays a recording.
// The program is compiled and recorded in the harness's copy of the workspace, so its DWARF paths are
// the paths VS Code shows.
function makeWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'planescope-e2e-debug-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, '.vscode'));
  copyFileSync(fixtureSource, join(dir, 'src', 'taintdemo.c'));
  writeFileSync(join(dir, 'data', 'input.bin'), 'user data bytes!');
  const config = {
    version: '0.2.0',
    configurations: [
      {
        type: 'planescope',
        request: 'launch',
        name: 'Planescope: taintdemo',
        recording: '${workspaceFolder}/trace',
        process: 'taintdemo',
      },
    ],
  };
  writeFileSync(join(dir, '.vscode', 'launch.json'), JSON.stringify(config, null, 2));
  return dir;
}

describe('e2e: planescope debug session', function () {
  this.timeout(300_000);
  const editor = useVSCode({ workspace: makeWorkspace() });

  before(() => {
    const ws = editor.vscode.workspace;
    execFileSync('gcc', ['-g', '-O0', '-o', join(ws, 'taintdemo'), join(ws, 'src', 'taintdemo.c')]);
    // Record the run (librecord's record mode, native speed); the session replays it.
    const cli = join(repoRoot, 'dist', 'cli.js');
    execFileSync(process.execPath, [cli, 'run', '--trace', join(ws, 'trace'), '--user-data', 'data/*', '--', './taintdemo', 'data/input.bin'], { cwd: ws, stdio: ['ignore', 'ignore', 'inherit'] });
  });

  it('stops at a breakpoint and the Variables view shows the Taint scope', async () => {
    const wb = editor.workbench;
    const line = lineOf('BREAK_HERE');
    await wb.openFile('src/taintdemo.c');
    await wb.goToLine(line);
    await wb.page.keyboard.press('F9'); // toggle a breakpoint on the cursor's line
    await wb.startDebugging('Planescope: taintdemo');
    assert.match(await wb.waitForPause(60_000), new RegExp(`^Stack Frame main, line ${line}, taintdemo\\.c`));
    // Locals first (VS Code expands the first scope): the tainted buffer carries the marker.
    await wb.page.locator('.debug-variables .monaco-list-row .expression .value', { hasText: /⟨tainted 16\/32 B⟩/ }).first().waitFor({ timeout: 30_000 });
    // Rows arrive one render at a time: wait until both locals show, then check their values.
    const locals = await wb.variables((rs) => ['buf', 'fixed'].every((n) => rs.some((r) => !r.scope && r.name === n)));
    assert.ok(locals.some((r) => !r.scope && r.name === 'buf' && /⟨tainted 16\/32 B⟩/.test(r.value)), JSON.stringify(locals));
    assert.ok(locals.some((r) => !r.scope && r.name === 'fixed' && r.value === '42'), JSON.stringify(locals));
    // The view renders only the rows that fit: collapse Locals, then open Taint.
    const localsRow = wb.page.locator('.debug-variables .monaco-list-row').filter({ has: wb.page.locator('.scope', { hasText: /^\s*Locals\s*$/ }) }).first();
    if ((await localsRow.getAttribute('aria-expanded')) === 'true') await localsRow.locator('.monaco-tl-twistie').click();
    await wb.expandVariable('Taint');
    await wb.page
      .locator('.debug-variables .monaco-list-row .expression .value', { hasText: /^tainted 16\/32 B/ })
      .first()
      .waitFor({ timeout: 30_000 });
    const taintOf = <R extends { name: string; scope: boolean }>(rs: R[]): R[] => {
      const start = rs.findIndex((r) => r.scope && r.name === 'Taint');
      return start < 0 ? [] : rs.slice(start + 1).filter((r) => !r.scope);
    };
    const rows = await wb.variables((rs) => ['buf', 'fixed'].every((n) => taintOf(rs).some((r) => r.name === n)));
    const taint = taintOf(rows);
    assert.ok(taint.some((r) => r.name === 'buf' && /^tainted 16\/32 B · label \d+$/.test(r.value)), JSON.stringify(rows));
    assert.ok(taint.some((r) => r.name === 'fixed' && /^clean/.test(r.value)), JSON.stringify(rows));
    // The picture in docs/debugging.md: refreshed only on request, so a test run leaves the tree clean.
    const shots = process.env.PLANESCOPE_UPDATE_SCREENSHOTS ? join(repoRoot, 'docs', 'images') : join(repoRoot, 'test-results', 'screenshots');
    mkdirSync(shots, { recursive: true });
    await wb.screenshot(join(shots, 'debug-taint.png'));
    await wb.stopDebugging();
  });

  it('the Taint Watch command runs until tainted data reaches the expression typed in', async () => {
    const wb = editor.workbench;
    await wb.openFile('src/taintdemo.c');
    await wb.goToLine(lineOf('BREAK_HERE'));
    await wb.toggleBreakpoint(lineOf('BREAK_HERE'), false);
    await wb.goToLine(lineOf('OPEN_HERE'));
    await wb.toggleBreakpoint(lineOf('OPEN_HERE'));
    await wb.startDebugging('Planescope: taintdemo');
    assert.match(await wb.waitForPause(60_000), new RegExp(`^Stack Frame main, line ${lineOf('OPEN_HERE')}, `));
    await wb.runCommand('Planescope: Taint Watch (run until tainted data reaches an expression)');
    await wb.fillQuickInput('buf');
    // It stops right after the line that read the user data into buf.
    const after = new RegExp(`^Stack Frame main, line ${lineOf('AFTER_READ')}, `);
    const deadline = Date.now() + 60_000;
    let top = '';
    while (!after.test(top) && Date.now() < deadline) {
      top = await wb.waitForPause(60_000);
      if (!after.test(top)) await wb.page.waitForTimeout(200);
    }
    assert.match(top, after);
    // The Call Stack's header shows the stop's description.
    await wb.page.locator('.debug-call-stack, .pane-header', { hasText: /tainted data reached buf/ }).first().waitFor({ timeout: 30_000 });
    await wb.stopDebugging();
  });
});

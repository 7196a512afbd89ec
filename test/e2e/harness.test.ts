// Self-test of the e2e harness: a test-only extension (fixtures/probe-extension) shows known decorations,
// a hover, a tree view and a debug session with known variables; the helpers must read exactly those.
// The extension and debugger tests rely on these helpers, so they are checked here against real VS Code.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir, groupAlive, liveGroups, useVSCode } from './harness';

const hello = readFileSync(join(fixturesDir, 'basic', 'src', 'hello.c'), 'utf8').split('\n');
const lineOf = (marker: string): number => hello.findIndex((l) => l.includes(marker)) + 1;
const dataLine = lineOf('MARK:data-loop');
const controlLine = lineOf('MARK:control');

describe('e2e harness (against a probe extension)', function () {
  const editor = useVSCode({
    workspace: 'basic',
    installPlanescope: false,
    extraExtensions: [join(fixturesDir, 'probe-extension')],
  });

  before(async () => {
    await editor.workbench.openFile('src/hello.c');
  });

  it('reads line backgrounds and before/after texts of decorations', async () => {
    const wb = editor.workbench;
    const data = await wb.lineDecorations(dataLine, (d) => d.backgrounds.length > 0);
    assert.ok(data.text.includes('MARK:data-loop'), data.text);
    assert.deepEqual(data.backgrounds, ['rgba(255, 0, 0, 0.25)']);
    assert.deepEqual(data.before, ['D']);
    assert.deepEqual(data.after, []);
    const control = await wb.lineDecorations(controlLine, (d) => d.backgrounds.length > 0);
    assert.deepEqual(control.backgrounds, ['rgba(0, 0, 255, 0.25)']);
    assert.deepEqual(control.after, [' control plane']);
    const plain = await wb.lineDecorations(2);
    assert.equal(plain.text, '#include <stdio.h>');
    assert.deepEqual([plain.backgrounds, plain.before, plain.after], [[], [], []]);
  });

  it('reads the overview ruler colours of a line', async () => {
    const wb = editor.workbench;
    const red = await wb.overviewRulerColorsAt(dataLine, (c) => c.includes('rgb(255, 0, 0)'));
    assert.ok(!red.includes('rgb(0, 0, 255)'), JSON.stringify(red));
    const blue = await wb.overviewRulerColorsAt(controlLine, (c) => c.includes('rgb(0, 0, 255)'));
    assert.ok(!blue.includes('rgb(255, 0, 0)'), JSON.stringify(blue));
  });

  it('hovers a line and reads the hover', async () => {
    const text = await editor.workbench.hoverLine(dataLine);
    assert.match(text, /Probe hover: data plane, from input\.bin offset 0/);
  });

  it('reads and expands a tree view', async () => {
    const wb = editor.workbench;
    const top = await wb.treeItems('Probe Tree', (items) => items.length >= 2);
    assert.deepEqual(top.map((i) => [i.label, i.description, i.depth, i.expanded]), [
      ['alpha', 'desc alpha', 1, false],
      ['beta', 'desc beta', 1, undefined],
    ]);
    await wb.setTreeItemExpanded('Probe Tree', 'alpha');
    const all = await wb.treeItems('Probe Tree', (items) => items.length >= 4);
    assert.deepEqual(all.map((i) => `${'  '.repeat(i.depth - 1)}${i.label}`), ['alpha', '  alpha.1', '  alpha.2', 'beta']);
  });

  it('starts a debug configuration and reads the Variables view', async () => {
    const wb = editor.workbench;
    await wb.toggleBreakpoint(controlLine);
    assert.ok((await wb.lineDecorations(controlLine)).gutterClasses.includes('codicon-debug-breakpoint'));
    await wb.startDebugging('Probe: stop in checksum');
    assert.equal(await wb.waitForPause(), `Stack Frame checksum, line ${dataLine}, hello.c`);
    // The scopes render before Locals' children: wait for the rows, then check them exactly.
    const shown = await wb.variables((rows) => rows.length >= 4);
    assert.deepEqual(shown.map((v) => [v.name, v.value, v.depth, v.scope]), [
      ['Locals', '', 1, true],
      ['sum', '42', 2, false],
      ['buf', '0x7ffc00', 2, false],
      ['Taint', '', 1, true],
    ]);
    await wb.expandVariable('Taint');
    await wb.expandVariable('buf');
    const expanded = await wb.variables((rows) => rows.length === 6);
    assert.deepEqual(expanded.map((v) => `${v.name}=${v.value}`), ['Locals=', 'sum=42', 'buf=0x7ffc00', '[0]=7', 'Taint=', 'sum=data plane (input.bin+0)']);
    await assert.rejects(wb.variables((rows) => rows.length === 99, 1500), /did not reach the expected state/);
    await wb.stopDebugging();
    await wb.openFile('src/hello.c');
    await wb.toggleBreakpoint(controlLine, false);
    assert.ok(!(await wb.lineDecorations(controlLine)).gutterClasses.some((c) => c.startsWith('codicon-debug-breakpoint')));
  });

  it('runs palette commands and takes screenshots', async () => {
    const wb = editor.workbench;
    assert.ok((await wb.paletteCommands('Probe: Decorate', 'Probe: Decorate Marked Lines')).includes('Probe: Decorate Marked Lines'));
    await wb.runCommand('Probe: Decorate Marked Lines');
    await assert.rejects(wb.runCommand('Probe: No Such Command', 2000), /not in the palette/);
    const dir = mkdtempSync(join(tmpdir(), 'planescope-shot-'));
    try {
      await wb.screenshot(join(dir, 'window.png'));
      const png = readFileSync(join(dir, 'window.png'));
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.ok(statSync(join(dir, 'window.png')).size > 10000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers the quick picks and input boxes a command opens', async () => {
    const wb = editor.workbench;
    await wb.runCommand('Probe: Pick a Plane');
    assert.deepEqual(await wb.quickInputItems(), ['control plane', 'data plane']);
    await wb.pickQuickInputItem('data plane');
    await wb.waitForNotification(/^Probe picked data plane$/);
    await wb.runCommand('Probe: Ask for a Name');
    await wb.fillQuickInput('chunkserver');
    await wb.waitForNotification(/^Probe was told chunkserver$/);
  });

  it('keeps a screenshot and the extension host log, then stops every process it started', async function () {
    const dir = await editor.vscode.saveArtifacts('harness self-test artifacts');
    try {
      assert.ok(existsSync(join(dir, 'screenshot.png')));
      assert.ok(editor.vscode.extensionHostLogs().length > 0, 'no extension host log found');
      assert.match(readFileSync(join(dir, 'exthost.log'), 'utf8'), /ExtensionService|extension host/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const pid = editor.vscode.pid;
    if (editor.vscode.backend.name !== 'code-server' || !pid) {
      await editor.vscode.stop(); // desktop: Playwright owns the Electron process
      return;
    }
    assert.ok(liveGroups().includes(pid));
    await editor.vscode.stop();
    assert.ok(!liveGroups().includes(pid));
    // No process of its group is left (code-server, extension host, file watcher, debug adapters).
    assert.equal(groupAlive(pid), false);
    assert.ok(!existsSync(editor.vscode.workspace), 'the scratch directory was not removed');
  });
});

// The whole pipeline from the editor, on a real run: a CRC32 program (the paper's tainted-pointer example)
// compiled with -g and run under planegrind at test time; in real VS Code, "Planescope: Classify a Trace
// Directory" from the palette runs the bundled CLI with a progress notification, opens the
// database it wrote, and the lookup line, its hover and the CRC32 pointer site appear.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureValgrindLib } from '../../src/core/valgrindLib';
import { buildAndPackage } from './harness/extensionPackage';
import { VSCode } from './harness/vscode';

const CRC_C = `// CRC32 of a user-data file by table lookup: the paper's example of data-plane work that a
// pointer-insensitive taint analysis misses (the table entry is a constant; its index is user data).
#include <stdint.h>
#include <stdio.h>

static uint32_t crc32tab[256];

static void crc32_init(void) {
  for (uint32_t i = 0; i < 256; i++) { /* @init */
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc32tab[i] = c;
  }
}

static uint32_t crc32(const unsigned char *buf, size_t len) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < len; i++)
    crc = crc32tab[(crc ^ buf[i]) & 0xff] ^ (crc >> 8); /* @lookup */
  return crc ^ 0xffffffffu;
}

static unsigned char buf[65536];

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: crc FILE\\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  crc32_init();
  printf("%08x\\n", crc32(buf, n));
  return 0;
}
`;

/** Running processes (not zombies) whose command line names `path`. */
function processesNaming(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(path)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

/** Polls `probe` (here: /proc, which has no change event) until it returns true or `timeoutMs` passes. */
async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lineOf(marker: string): number {
  return CRC_C.split('\n').findIndex((l) => l.includes(`/* @${marker} */`)) + 1;
}

describe('extension: classify a real planegrind trace from the editor (code-server)', function () {
  this.timeout(600000);
  let dir: string;
  let vscode: VSCode;

  before(async () => {
    buildAndPackage(); // dist/ (the tool, the CLI) as the .vsix carries it
    dir = mkdtempSync(join(tmpdir(), 'ps-e2e-pipe-'));
    for (const d of ['src', 'data', 'bin', 'trace']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'src', 'crc.c'), CRC_C);
    // 4 KiB of user data with every byte value, so every table entry is looked up.
    writeFileSync(join(dir, 'data', 'input.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff)));
    execFileSync('gcc', ['-g', '-O0', '-o', join(dir, 'bin', 'crc'), join(dir, 'src', 'crc.c')]);
    const run = spawnSync(
      'valgrind',
      ['-q', '--tool=planegrind', `--taint-log=${join(dir, 'trace', 'crc.%p.taintlog')}`, '--user-data=*.bin', join(dir, 'bin', 'crc'), 'input.bin'],
      { cwd: join(dir, 'data'), env: { ...process.env, VALGRIND_LIB: ensureValgrindLib() }, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readdirSync(join(dir, 'trace')).filter((f) => f.endsWith('.taintlog')).length, 1, 'planegrind wrote no taint log');
    vscode = await VSCode.start({ workspace: dir });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await vscode.saveArtifacts(`extension-pipeline-${this.currentTest.title}`);
  });

  after(async () => {
    await vscode?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs classify from the palette with progress and opens the database it wrote', async () => {
    const page = vscode.page;
    const input = page.locator('.quick-input-widget input.input');
    const trace = join(vscode.workspace, 'trace');
    const proposal = () => (document.querySelector('.quick-input-widget input.input') as HTMLInputElement | null)?.value ?? '';
    const accept = page.locator('.quick-input-widget .monaco-button', { hasText: 'Classify this trace directory' });
    // VS Code's own file dialogs in the browser are quick inputs holding a path: pick the trace folder,
    // accept with the dialog's own button until the save dialog proposes a database. While the dialog is
    // still listing a folder it ignores an accept, or accepts the folder it showed before the typed
    // path (seen on a loaded machine: it proposed <workspace>.planes.db): then start over.
    for (let attempt = 1; ; attempt++) {
      await vscode.workbench.runCommand('Planescope: Classify a Trace Directory');
      await input.waitFor({ state: 'visible' });
      // The dialog sets its own value once it has listed its first folder; typed before that, the path is
      // overwritten (seen in CI: the value stayed <workspace>/). Type again until it stays.
      const typedDeadline = Date.now() + 30000;
      for (;;) {
        await input.fill(`${trace}/`);
        const stayed = await page.waitForTimeout(500).then(() => page.evaluate(proposal)).then((v) => v === `${trace}/`);
        if (stayed) break;
        if (Date.now() > typedDeadline) throw new Error(`the folder dialog does not keep the typed path (it shows '${await page.evaluate(proposal)}')`);
      }
      const deadline = Date.now() + 30000;
      let proposed = '';
      while (!proposed && Date.now() < deadline) {
        if (await accept.isVisible()) await accept.click().catch(() => undefined);
        proposed = await page.waitForFunction(() => /\.planes\.db$/.test((document.querySelector('.quick-input-widget input.input') as HTMLInputElement | null)?.value ?? ''), undefined, { timeout: 3000 })
          .then(() => page.evaluate(proposal), () => '');
      }
      if (/trace\.planes\.db$/.test(proposed)) break;
      if (attempt === 3) throw new Error(`the folder dialog never accepted the trace directory (last proposal: '${proposed}')`);
      await page.keyboard.press('Escape');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden' }).catch(() => undefined);
    }
    await page.keyboard.press('Enter');
    await vscode.workbench.waitForNotification(/Planescope: opened .*trace\.planes\.db/, 240000);
  });

  it('shades the CRC32 lookup line as mixed and its initialisation as control, from the real run', async () => {
    await vscode.workbench.openFile('src/crc.c');
    const lookup = await vscode.workbench.lineDecorations(lineOf('lookup'), (d) => d.after.includes('M') || d.after.includes('D'), 60000);
    assert.ok(lookup.backgrounds.length > 0);
    await vscode.workbench.lineDecorations(lineOf('init'), (d) => d.after.includes('C'), 60000);
    const hover = (await vscode.workbench.hoverLine(lineOf('lookup'), 5)).replace(/\s+/g, ' ');
    assert.match(hover, /Planescope: (data plane|mixed)/);
    assert.match(hover, /input\.bin bytes 0\.\.4096/);
    assert.match(hover, /Tainted pointer site #1/);
  });

  it('lists the CRC32 table lookup as the top tainted pointer site', async () => {
    await vscode.workbench.openView('Tainted Pointer Sites');
    const items = await vscode.workbench.treeItems('Tainted Pointer Sites', (rows) => rows.some((i) => i.label.startsWith('#1 load at line')), 60000);
    assert.ok(items.some((i) => i.label === 'crc.c'), JSON.stringify(items));
    assert.ok(items.some((i) => i.label === 'crc32'), JSON.stringify(items));
    assert.ok(items.some((i) => i.label === `#1 load at line ${lineOf('lookup')}`), JSON.stringify(items));
  });

  it('classifies a folder from the Explorer context menu', async () => {
    const page = vscode.page;
    await vscode.workbench.runExplorerContextCommand('trace', 'Classify a Trace Directory');
    // No folder dialog: the right-clicked folder is the trace. The save dialog proposes <folder>.planes.db.
    const input = page.locator('.quick-input-widget input.input');
    await page.waitForFunction(() => /trace\.planes\.db$/.test((document.querySelector('.quick-input-widget input.input') as HTMLInputElement | null)?.value ?? ''));
    const target = join(vscode.workspace, 'from-menu.planes.db');
    await input.fill(target);
    await page.keyboard.press('Enter');
    await vscode.workbench.waitForNotification(/Planescope: opened .*from-menu\.planes\.db/, 240000);
    assert.ok(existsSync(target));
    await vscode.waitForOutputChannel('Planescope', /\$ planescope classify .*\/trace --out .*from-menu\.planes\.db/);
  });

  it('cancels the demo from its progress notification: every process it started stops, and the output says so', async () => {
    const page = vscode.page;
    const work = join(vscode.workspace, 'planescope-demo');
    await vscode.workbench.runCommand('Planescope: Run the Demo Pipeline');
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Planescope: running the demo' }).first();
    await toast.waitFor();
    // Cancel once the taint analysis runs: valgrind processes whose command line names the work directory.
    await until('valgrind under the demo', () => processesNaming(work).some((p) => /valgrind|planegrind/.test(p)), 180000);
    await toast.locator('.monaco-button', { hasText: /^\s*Cancel\s*$/ }).click();
    const output = await vscode.waitForOutputChannel('Planescope', /cancelled: planescope demo and every process it started have stopped/, 60000);
    assert.match(output, /cancelled: stopping planescope demo and every process it started \(SIGTERM to its process group, [1-9]\d* running\)/);
    assert.match(output, /planescope demo ended: (exit code 130|signal SIGTERM)/);
    await vscode.workbench.waitForNotification(/Planescope: the demo cancelled\./);
    assert.deepEqual(processesNaming(work), []);
    // Cancelled before classify: the demo's database was never written.
    assert.equal(existsSync(join(work, 'demo.planes.db')), false);
  });
});

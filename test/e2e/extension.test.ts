// The extension in real VS Code (code-server + Chromium): a classification database written by the real
// classifier and reader (from synthetic taint logs of a two-process client/chunk-server run over a CRC32
// chunk store), opened by auto-discovery; then what the user sees is read from the DOM: line planes,
// the hover's provenance, the pointer-site tree, the status bar, staleness after an edit, the report.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { classifyLogs } from '../../src/core/classify/classify';
import type { AddressInfo, ModuleIndex } from '../../src/core/dwarf/types';
import type { LogLabel, TaintLog } from '../../src/core/taintLog/types';
import { repoRoot } from './harness/paths';
import { VSCode } from './harness/vscode';
import type { LineDecorations } from './harness/workbench';

// ---- the fixture workspace --------------------------------------------------------------------------

const CHUNKSERVER_C = `// Chunk server of the e2e fixture: stores chunks and checksums them (CRC32 by table lookup).
#include <stddef.h>
#include <stdint.h>

static uint32_t crc32tab[256];

static void crc32_init(void) {
  for (uint32_t i = 0; i < 256; i++) { /* @init */
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc32tab[i] = c;
  }
}

uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) /* @loop */
    crc = crc32tab[(crc ^ buf[i]) & 0xff] ^ (crc >> 8); /* @lookup */
  return crc;
}

int handle_request(int op, const uint8_t *payload, size_t len) {
  if (op == 1) { /* @dispatch */
    uint32_t sum = crc32_update(0, payload, len); /* @checksum */
    return (int)sum;
  }
  return -1; /* @reject */
}
`;

const CLIENT_C = `// Client of the e2e fixture: reads the user's file and sends it to the chunk server.
#include <unistd.h>

int upload(int fd, int sock, char *buf, unsigned len) {
  ssize_t n = read(fd, buf, len); /* @read */
  return (int)write(sock, buf, (size_t)n); /* @send */
}
`;

function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(`/* @${marker} */`));
  if (i < 0) throw new Error(`marker @${marker} not in the fixture`);
  return i + 1;
}

function index(path: string, buildId: string, table: Record<number, { file: string; line: number; fn: string }>): ModuleIndex {
  return {
    path,
    buildId,
    lookup(offset: number): AddressInfo | undefined {
      const l = table[offset];
      return l && { offset, file: l.file, line: l.line, column: 1, function: l.fn, frames: [{ function: l.fn, file: l.file, line: l.line, column: 1 }] };
    },
    rangesForLine: () => [],
    files: () => [...new Set(Object.values(table).map((l) => l.file))],
  };
}

function log(partial: Partial<TaintLog> & { source: string }): TaintLog {
  return {
    version: 1,
    tool: { name: 'planegrind', version: '0.1.0', policy: 'insensitive' },
    process: { pid: 1, ppid: 1, exe: '/bin/x', args: [], startMs: 0 },
    userData: ['data/*'],
    modules: [],
    labels: new Map<number, LogLabel>(),
    instructions: [],
    sites: [],
    io: [],
    warnings: [],
    icount: 100000,
    end: { reason: 'exit', code: 0 },
    ...partial,
  };
}

interface Fixture {
  dir: string;
  server: string;
  /** The client's line that sends the user's bytes (data plane, no pointer site). */
  sendLine: number;
  lines: Record<string, number>;
  /** A second database of the same run in which the CRC32 lookup line is control plane (for the reload test). */
  reclassified: Uint8Array;
}

/** Writes the sources, the user data and fixture.planes.db (classified by the real classifier) into a new directory. */
async function buildFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ps-e2e-ext-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'bin'));
  const server = join(dir, 'src', 'chunkserver.c');
  const client = join(dir, 'src', 'client.c');
  const upload = join(dir, 'data', 'upload.txt');
  writeFileSync(server, CHUNKSERVER_C);
  writeFileSync(client, CLIENT_C);
  writeFileSync(upload, 'user data: the chunk the client uploads\n'.repeat(100));
  const serverExe = join(dir, 'bin', 'chunkserver');
  const clientExe = join(dir, 'bin', 'client');
  writeFileSync(serverExe, 'not an ELF: the fixture index answers for it');
  writeFileSync(clientExe, 'not an ELF: the fixture index answers for it');
  const L = (m: string) => lineOf(CHUNKSERVER_C, m);
  const lines = { init: L('init'), loop: L('loop'), lookup: L('lookup'), dispatch: L('dispatch'), checksum: L('checksum'), reject: L('reject') };

  const serverIndex = index(serverExe, 'c5c5', {
    0x10: { file: server, line: lines.init, fn: 'crc32_init' },
    0x20: { file: server, line: lines.loop, fn: 'crc32_update' },
    0x30: { file: server, line: lines.lookup, fn: 'crc32_update' },
    0x34: { file: server, line: lines.lookup, fn: 'crc32_update' },
    0x40: { file: server, line: lines.dispatch, fn: 'handle_request' },
    0x50: { file: server, line: lines.checksum, fn: 'handle_request' },
    0x54: { file: server, line: lines.checksum, fn: 'handle_request' },
    0x60: { file: server, line: lines.reject, fn: 'handle_request' },
  });
  const clientIndex = index(clientExe, 'c1c1', {
    0x10: { file: client, line: lineOf(CLIENT_C, 'read'), fn: 'upload' },
    0x20: { file: client, line: lineOf(CLIENT_C, 'send'), fn: 'upload' },
  });
  const fileText = `${upload} bytes 0..4000`;
  const clientLog = log({
    source: 'client.taintlog',
    process: { pid: 100, ppid: 1, exe: clientExe, args: [clientExe], startMs: 0 },
    modules: [{ id: 1, buildId: 'c1c1', path: clientExe, bias: 0 }],
    labels: new Map([[1, { id: 1, provenance: { kind: 'file', path: upload, start: 0, end: 4000 } }]]),
    instructions: [
      { module: 1, offset: 0x10, executions: 1, taintedExecutions: 0 },
      // planegrind's insn label=: the line's provenance without any pointer site on it.
      { module: 1, offset: 0x20, executions: 1, taintedExecutions: 1, label: 1 },
    ],
    io: [
      { kind: 'file', direction: 'in', taintedBytes: 4000, cleanBytes: 0 },
      { kind: 'socket', direction: 'out', taintedBytes: 4000, cleanBytes: 16 },
    ],
  });
  const serverLog = log({
    source: 'chunkserver.taintlog',
    process: { pid: 200, ppid: 1, exe: serverExe, args: [serverExe], startMs: 1 },
    modules: [{ id: 1, buildId: 'c5c5', path: serverExe, bias: 0 }],
    labels: new Map([[5, { id: 5, provenance: { kind: 'msg', peer: 'client:100', msg: 3, origin: fileText } }]]),
    instructions: [
      { module: 1, offset: 0x10, executions: 256, taintedExecutions: 0 },
      { module: 1, offset: 0x20, executions: 4000, taintedExecutions: 0 },
      { module: 1, offset: 0x30, executions: 4000, taintedExecutions: 4000 },
      { module: 1, offset: 0x34, executions: 4000, taintedExecutions: 4000 },
      { module: 1, offset: 0x40, executions: 2, taintedExecutions: 0 },
      { module: 1, offset: 0x50, executions: 1, taintedExecutions: 1, label: 5 },
      { module: 1, offset: 0x54, executions: 1, taintedExecutions: 0 },
      { module: 1, offset: 0x60, executions: 1, taintedExecutions: 0 },
    ],
    sites: [{ module: 1, offset: 0x30, access: 'load', count: 4000, label: 5 }],
    io: [
      { kind: 'socket', direction: 'in', taintedBytes: 4000, cleanBytes: 16 },
      { kind: 'socket', direction: 'out', taintedBytes: 0, cleanBytes: 8 },
    ],
  });
  const indexes: Record<string, ModuleIndex> = { [serverExe]: serverIndex, [clientExe]: clientIndex };
  const classify = async (logs: TaintLog[]) =>
    (await classifyLogs(logs.map((l) => l.source), {
      readLog: async (p) => logs.find((l) => l.source === p)!,
      openIndex: (p) => {
        const i = indexes[p];
        if (!i) throw new Error(`no index for ${p}`);
        return i;
      },
    })).bytes;
  writeFileSync(join(dir, 'fixture.planes.db'), await classify([clientLog, serverLog]));
  const untaintedLookup = serverLog.instructions.map((i) => (i.offset === 0x30 || i.offset === 0x34 ? { ...i, taintedExecutions: 0 } : i));
  const reclassified = await classify([clientLog, { ...serverLog, instructions: untaintedLookup }]);
  return { dir, server, sendLine: lineOf(CLIENT_C, 'send'), lines, reclassified };
}

// ---- reading the editor from the DOM --------------------------------------------------------------

type Plane = 'control' | 'data' | 'mixed' | 'stale';
const PLANES: Plane[] = ['control', 'data', 'mixed', 'stale'];
const LETTER: Record<Plane, RegExp> = { control: /^C$/, data: /^D$/, mixed: /^M$/, stale: /^[CDM]?\?$/ };

/** The default of a contributed colour for a theme kind, from package.json, as [r, g, b, alpha]. */
function contributedColor(id: string, kind: 'light' | 'dark' | 'highContrast' | 'highContrastLight'): number[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const entry = pkg.contributes.colors.find((c: { id: string }) => c.id === id);
  assert.ok(entry, `${id} is not contributed`);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})?$/i.exec(entry.defaults[kind]);
  assert.ok(hex, `${id} ${kind} default is not #RRGGBB[AA]`);
  return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16), hex[4] ? parseInt(hex[4], 16) / 255 : 1];
}

function parseCss(color: string): number[] {
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(color);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : [];
}

function sameColor(a: number[], b: number[]): boolean {
  return a.length === 4 && b.length === 4 && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && Math.abs(a[3] - b[3]) < 0.01;
}

async function themeKind(page: Page): Promise<'light' | 'dark' | 'highContrast' | 'highContrastLight'> {
  const cls = (await page.locator('.monaco-workbench').getAttribute('class')) ?? '';
  if (cls.includes('hc-light')) return 'highContrastLight';
  if (cls.includes('hc-black')) return 'highContrast';
  return cls.includes('vs-dark') ? 'dark' : 'light';
}

/** Waits until `line` shows `plane`: its contributed background colour and its letter, and no other plane's colour. */
async function expectPlane(vscode: VSCode, line: number, plane: Plane): Promise<LineDecorations> {
  const kind = await themeKind(vscode.page);
  const bg = Object.fromEntries(PLANES.map((p) => [p, contributedColor(`planescope.${p}LineBackground`, kind)])) as Record<Plane, number[]>;
  const has = (d: LineDecorations, p: Plane) => d.backgrounds.some((c) => sameColor(parseCss(c), bg[p]));
  // Generous: the first call waits for activation, discovery and the first load of sql.js on a busy machine.
  const d = await vscode.workbench.lineDecorations(line, (d) => has(d, plane) && d.after.some((a) => LETTER[plane].test(a)), 90000);
  assert.deepEqual(PLANES.filter((p) => p !== plane && has(d, p)), [], `line ${line} also shows another plane`);
  return d;
}

/** True when `line` shows none of our backgrounds nor letters. */
async function bare(vscode: VSCode, line: number): Promise<boolean> {
  const kind = await themeKind(vscode.page);
  const d = await vscode.workbench.lineDecorations(line);
  const ours = PLANES.map((p) => contributedColor(`planescope.${p}LineBackground`, kind));
  return !d.backgrounds.some((c) => ours.some((o) => sameColor(parseCss(c), o))) && !d.after.some((a) => /^[CDM]?\??$/.test(a));
}

/** Quick Open's file search can lag behind on a loaded machine: try again a few times. */
async function openFile(vscode: VSCode, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await vscode.workbench.openFile(path);
    } catch (e) {
      if (attempt === 3) throw e;
      await vscode.page.keyboard.press('Escape');
    }
  }
}

/** Polls `probe` until `ok` holds; a probe that throws (the DOM is not there yet) counts as not yet. */
async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let last: T | undefined;
    let error: unknown;
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (e) {
      error = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${error ? String(error) : JSON.stringify(last)}`);
    await vscode_idle();
  }
}
// Polling interval of waitFor (conditions, not sleeps, decide when a test goes on).
const vscode_idle = () => new Promise((r) => setTimeout(r, 200));

// ---- the tests ---------------------------------------------------------------------------------------

describe('extension in real VS Code (code-server)', function () {
  this.timeout(600000);
  let fixture: Fixture;
  let vscode: VSCode;
  let page: Page;

  before(async () => {
    fixture = await buildFixture();
    // Auto-save off: the edit test checks unsaved edits and undo back to the classified text.
    vscode = await VSCode.start({ workspace: fixture.dir, settings: { 'files.autoSave': 'off' } });
    page = vscode.page;
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await vscode.saveArtifacts(`extension-${this.currentTest.title}`);
  });

  after(async () => {
    await vscode?.stop();
    if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
  });

  it('discovers the database and shades data, control and mixed lines of the chunk server, with letters', async () => {
    await openFile(vscode, 'src/chunkserver.c');
    const { lines } = fixture;
    await expectPlane(vscode, lines.lookup, 'data');
    await expectPlane(vscode, lines.checksum, 'mixed');
    for (const l of [lines.init, lines.loop, lines.dispatch, lines.reject]) await expectPlane(vscode, l, 'control');
    // Lines that never ran stay bare.
    assert.ok(await bare(vscode, 1), 'line 1 never ran but is decorated');
    assert.ok(await bare(vscode, lines.lookup + 1), 'the return line never ran but is decorated');
    // The glyph margin stays free for breakpoints by default.
    assert.deepEqual((await vscode.workbench.lineDecorations(lines.lookup)).gutterIcons, []);
    // The status bar shows the file's instruction share: 3 of 8 instructions are data plane.
    const status = page.locator('.statusbar-item', { hasText: /C [\d.]+% · D [\d.]+%/ }).first();
    await status.waitFor();
    assert.match(await status.innerText(), /C 62% · D 38%/);
    // The output channel says which database shaded the file and what it cost.
    await vscode.waitForOutputChannel('Planescope', /shaded chunkserver\.c from fixture\.planes\.db \(recorded as .*chunkserver\.c\): 6 lines; lines read and indexed in [\d.]+ ms \(CPU [\d.]+ ms\), first decoration [\d.]+ ms/);
  });

  it('hovers a data line with its counts, function and provenance back to the user-data file', async () => {
    const text = (await vscode.workbench.hoverLine(fixture.lines.lookup, 5)).replace(/\s+/g, ' ');
    assert.match(text, /Planescope: data plane/);
    assert.match(text, /2 data-plane and 0 control-plane instructions · executed 8,000 times/);
    assert.match(text, /crc32_update/);
    assert.match(text, /Where its tainted data came from/);
    assert.match(text, /message 3 from client:100/);
    assert.match(text, /upload\.txt bytes 0\.\.4000/);
    assert.match(text, /open origin/);
    assert.match(text, /Tainted pointer site #1/);
    await page.mouse.move(1, 1);
    await page.keyboard.press('Escape');
  });

  it('hovers ordinary data-plane lines (no pointer site) with the provenance their own instructions logged', async () => {
    // The client's send: a user-data file label, with the byte range and a link to it.
    await openFile(vscode, 'src/client.c');
    await expectPlane(vscode, fixture.sendLine, 'data');
    const send = (await vscode.workbench.hoverLine(fixture.sendLine, 5)).replace(/\s+/g, ' ');
    assert.match(send, /Where its tainted data came from/);
    assert.match(send, /upload\.txt/);
    assert.match(send, /bytes 0(–|\.\.)4,?000/);
    assert.match(send, /open origin/);
    assert.doesNotMatch(send, /Tainted pointer site/);
    // The server's checksum call (mixed): a message label, back to the client's file.
    await openFile(vscode, 'src/chunkserver.c');
    await expectPlane(vscode, fixture.lines.checksum, 'mixed');
    const checksum = (await vscode.workbench.hoverLine(fixture.lines.checksum, 5)).replace(/\s+/g, ' ');
    assert.match(checksum, /Where its tainted data came from/);
    assert.match(checksum, /message 3 from client:100/);
    assert.match(checksum, /upload\.txt bytes 0\.\.4000/);
    assert.doesNotMatch(checksum, /Tainted pointer site/);
    await page.mouse.move(1, 1);
    await page.keyboard.press('Escape');
  });

  it('lists the CRC32 table lookup as the top tainted pointer site, grouped by file and function', async () => {
    await vscode.workbench.openView('Tainted Pointer Sites');
    const items = await waitFor('the site rows', () => vscode.workbench.treeItems('Tainted Pointer Sites'), (i) => ['chunkserver.c', 'crc32_update', `#1 load at line ${fixture.lines.lookup}`].every((l) => i.some((r) => r.label === l)));
    const file = items.find((i) => i.label === 'chunkserver.c');
    const fn = items.find((i) => i.label === 'crc32_update');
    const site = items.find((i) => i.label === `#1 load at line ${fixture.lines.lookup}`);
    assert.ok(file && fn && site, JSON.stringify(items));
    assert.match(file.description, /1 site · ×4,000/);
    assert.deepEqual([file.depth, fn.depth, site.depth], [1, 2, 3]);
    assert.match(site.description, /×4,000 · score/);
    // The README's picture: refreshed only on request (PLANESCOPE_UPDATE_SCREENSHOTS=1), so a test run
    // leaves the tree clean.
    const shots = process.env.PLANESCOPE_UPDATE_SCREENSHOTS ? join(repoRoot, 'docs', 'images') : join(repoRoot, 'test-results', 'screenshots');
    mkdirSync(shots, { recursive: true });
    await vscode.workbench.screenshot(join(shots, 'extension-overlay.png'));
  });

  it('lists the components with their plane statistics', async () => {
    await vscode.workbench.openView('Components');
    const items = await waitFor('the component rows', () => vscode.workbench.treeItems('Components'), (i) => ['chunkserver', 'client'].every((l) => i.some((r) => r.label === l)));
    const server = items.find((i) => i.label === 'chunkserver');
    assert.ok(server && items.some((i) => i.label === 'client'), JSON.stringify(items));
    assert.match(server.description, /^1 process · code \d+% data · I\/O \d+% data$/);
  });

  it('moves the marks below an inserted line and marks an edited line stale', async () => {
    await openFile(vscode, 'src/chunkserver.c');
    const { lines } = fixture;
    await vscode.workbench.goToLine(lines.dispatch - 1);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('// inserted');
    await expectPlane(vscode, lines.reject + 1, 'control');
    await expectPlane(vscode, lines.dispatch + 1, 'control');
    await expectPlane(vscode, lines.lookup, 'data');
    await vscode.workbench.goToLine(lines.lookup);
    await page.keyboard.press('End');
    await page.keyboard.type(' ');
    const stale = await expectPlane(vscode, lines.lookup, 'stale');
    assert.ok(stale.after.includes('D?'), JSON.stringify(stale.after));
    // Undo back to the saved text: the lines are the classified ones again.
    const dirtyTab = page.locator('.tabs-container .tab.active.dirty');
    for (let i = 0; i < 40 && (await dirtyTab.count()) > 0; i++) await page.keyboard.press('Control+Z');
    assert.equal(await dirtyTab.count(), 0, 'undo did not bring the saved text back');
    await expectPlane(vscode, lines.lookup, 'data');
    await expectPlane(vscode, lines.reject, 'control');
  });

  it('toggles the line planes off and on', async () => {
    await openFile(vscode, 'src/chunkserver.c');
    await expectPlane(vscode, fixture.lines.lookup, 'data');
    await vscode.workbench.runCommand('Planescope: Toggle Line Planes');
    await waitFor('the planes to disappear', () => bare(vscode, fixture.lines.lookup), (b) => b);
    await vscode.workbench.runCommand('Planescope: Toggle Line Planes');
    await expectPlane(vscode, fixture.lines.lookup, 'data');
  });

  it('opens the origin of the tainted data from the hover link, outside the workspace, with the bytes selected', async () => {
    await openFile(vscode, 'src/chunkserver.c');
    await vscode.workbench.hoverLine(fixture.lines.lookup, 5);
    await page.locator('.monaco-hover:not(.hidden) a', { hasText: 'open origin' }).first().click();
    await page.locator('.tabs-container .tab.active[aria-label^="upload.txt"]').waitFor();
    // 0..4000 selected: VS Code's status bar counts the selected characters.
    await page.locator('.statusbar-item', { hasText: /\(4000 selected\)/ }).first().waitFor();
  });

  it('reloads the database when its file changes', async () => {
    await openFile(vscode, 'src/chunkserver.c');
    await expectPlane(vscode, fixture.lines.lookup, 'data');
    writeFileSync(join(vscode.workspace, 'fixture.planes.db'), fixture.reclassified);
    await expectPlane(vscode, fixture.lines.lookup, 'control');
    await expectPlane(vscode, fixture.lines.checksum, 'mixed');
  });

  it('opens the report webview, whose charts are drawn under the strict CSP', async () => {
    await vscode.workbench.runCommand('Planescope: Show Report');
    await page.locator('.tab', { hasText: 'Planescope Report' }).waitFor();
    // The webview's document lives in nested iframes: find the frame holding the report.
    const frame = await waitFor(
      'the report frame',
      async () => {
        for (const f of page.frames()) {
          if (await f.locator('h1', { hasText: 'Control plane / data plane report' }).count().catch(() => 0)) return f;
        }
        return undefined;
      },
      (f) => f !== undefined,
    );
    const csp = await frame!.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(csp ?? '', /default-src 'none'/);
    assert.match(csp ?? '', /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(csp ?? '', /unsafe/);
    // Chart.js ran (its canvas got a drawing size), so the nonce'd scripts were allowed.
    await waitFor('the Figure 1 chart', () => frame!.locator('#fig1').evaluate((c) => (c as HTMLCanvasElement).width), (w) => w > 0);
    assert.match(await frame!.locator('#figures-table').innerText(), /chunkserver/);
  });
});

// The report's figures on a synthetic classification, and its HTML under a strict CSP in Chromium.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyLogs } from '../../src/core/classify/classify';
import { openPlanesDatabaseBytes, PlanesDatabase } from '../../src/core/db/reader';
import { buildReportHtml, computeReport, formatReportText, reportHtml } from '../../src/core/report/index';
import type { TaintLog } from '../../src/core/taintLog/types';
import { fakeIndex, makeLog } from './classify.helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-report-'));
const exe = join(dir, 'server');
const src = join(dir, 'server.c');
writeFileSync(exe, '');
writeFileSync(src, '');
const libc = '/usr/lib/x86_64-linux-gnu/libc.so.6';

const index = fakeIndex(exe, 'e1', {
  0x10: { file: src, line: 1, function: 'main' },
  0x11: { file: src, line: 2, function: 'parse' },
  0x12: { file: src, line: 3, function: 'route' },
  0x13: { file: src, line: 4, function: 'checksum' },
  0x14: { file: '/usr/include/c++/12/bits/stl_vector.h', line: 9, function: 'std::vector<char>::operator[]', inlinedInto: { function: 'checksum', file: src, line: 4 } },
});

function serverLog(): TaintLog {
  return makeLog({
    source: 'server.taintlog',
    process: { pid: 10, ppid: 1, exe, args: [exe], startMs: 0 },
    modules: [{ id: 1, buildId: 'e1', path: exe, bias: 0 }, { id: 2, buildId: 'c0ffee', path: libc, bias: 0 }],
    instructions: [
      { module: 1, offset: 0x10, executions: 10, taintedExecutions: 0 },
      { module: 1, offset: 0x11, executions: 50, taintedExecutions: 0 },
      { module: 1, offset: 0x12, executions: 40, taintedExecutions: 0 },
      { module: 1, offset: 0x13, executions: 100, taintedExecutions: 100 },
      { module: 1, offset: 0x14, executions: 300, taintedExecutions: 300 },
      { module: 2, offset: 0x500, executions: 600, taintedExecutions: 600 },
      { module: 2, offset: 0x600, executions: 900, taintedExecutions: 0 },
    ],
    io: [
      { kind: 'socket', direction: 'in', taintedBytes: 100000, cleanBytes: 500 },
      { kind: 'file', direction: 'out', taintedBytes: 100000, cleanBytes: 20 },
    ],
  });
}
function masterLog(): TaintLog {
  return makeLog({
    source: 'master.taintlog',
    process: { pid: 11, ppid: 1, exe: join(dir, 'master'), args: [], startMs: 0 },
    modules: [{ id: 1, buildId: 'c0ffee', path: libc, bias: 0 }],
    instructions: [{ module: 1, offset: 0x600, executions: 30, taintedExecutions: 0 }],
    io: [{ kind: 'socket', direction: 'in', taintedBytes: 0, cleanBytes: 300 }],
  });
}

async function database(): Promise<PlanesDatabase> {
  const logs = [serverLog(), masterLog()];
  const result = await classifyLogs(logs.map((l) => l.source), {
    readLog: async (p) => logs.find((l) => l.source === p)!,
    openIndex: (p) => {
      if (p === exe) return index;
      throw new Error('no debug info');
    },
  });
  return openPlanesDatabaseBytes(join(dir, 'app.planes.db'), result.bytes);
}

describe('report (synthetic classification)', () => {
  it('computes Figures 1, 2, 4 and 5 per component', async () => {
    const db = await database();
    const r = computeReport(db);
    assert.deepEqual(r.components.map((c) => c.name), ['master', 'server']);
    const server = r.components[1];
    assert.deepEqual(server.staticInstructions, { control: 4, data: 3, dataPercent: 42.86 });
    // Data plane: 600 (libc) + 300 (vector, inlined into checksum) + 100 (checksum) executions: 90% is reached
    // by libc's and operator[]'s instructions, two functions.
    assert.equal(server.functions.data.functions, 2);
    assert.equal(server.functions.data.executions, 1000);
    // Control: 900 (libc) + 50 + 40 + 10 = 1000: libc's 900 alone reaches 90%.
    assert.equal(server.functions.control.functions, 1);
    assert.deepEqual(server.functions.control.top[0], { name: `${libc}:??`, share: 90 });
    // Figure 4: libraries = libc + code inlined from /usr headers.
    assert.equal(server.libraries.dataPercent, 90);
    assert.equal(server.libraries.controlPercent, 90);
    assert.deepEqual({ ...server.io, byChannel: undefined, dataPercent: undefined }, { controlIn: 500, controlOut: 20, dataIn: 100000, dataOut: 100000, byChannel: undefined, dataPercent: undefined });
    assert.equal(server.io.dataPercent, 99.74);
    const master = r.components[0];
    assert.deepEqual(master.staticInstructions, { control: 1, data: 0, dataPercent: 0 });
    assert.equal(master.libraries.dataPercent, null);
    assert.equal(master.functions.data.functions, 0);
    assert.ok(r.modulesWithoutLines.some((m) => m.buildId === 'c0ffee'));
    const text = formatReportText(r);
    assert.match(text, /== server .*\n {2}Figure 1 {2}static instructions {3}control 4 {3}data 3/);
    db.close();
  });

  it('writes one self-contained HTML page: every script and style with the nonce, no handlers, no remote URL', async () => {
    const db = await database();
    const html = reportHtml(db, { nonce: 'bm9uY2UxMjM=' });
    assert.throws(() => buildReportHtml(computeReport(db), { nonce: '"><script>' }), /nonce must be base64/);
    db.close();
    const tags = html.match(/<(script|style)\b[^>]*>/g)!;
    assert.equal(tags.length, 4, 'the style, the data, Chart.js and the drawing script');
    for (const t of tags) assert.match(t, /nonce="bm9uY2UxMjM="/);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'nothing loaded from elsewhere');
    assert.match(html, /Chart\.js v4/);
  });

  it('draws its four charts in Chromium under the strict CSP without violations', async function () {
    if (!existsSync('/usr/bin/chromium')) this.skip();
    const db = await database();
    const html = reportHtml(db);
    db.close();
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`request ${r.url()}`); });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-charts="4"]', { timeout: 20000 });
      const drawn = await page.$$eval('canvas', (cs) => cs.map((c) => (c as HTMLCanvasElement).width > 0));
      assert.deepEqual(drawn, [true, true, true, true]);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});

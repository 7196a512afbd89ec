// The HTML report: one self-contained file (Chart.js, the drawing script, the styles and the data inline;
// nothing fetched), valid under a strict Content-Security-Policy: every <script>/<style> carries the nonce,
// no inline event handlers, no eval. The extension's report webview uses the same builder.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../assets';
import { chartJsSource } from './chartSource';
import type { ComponentFigures, ReportModel } from './figures';
import { TOP_SHARE } from './figures';

export interface HtmlOptions {
  /** The CSP nonce for every inline <script> and <style>; a fresh one when omitted. */
  nonce?: string;
  /** Add a <meta> Content-Security-Policy (default true; the webview sets its own). */
  cspMeta?: boolean;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that cannot end the <script> element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function asset(name: string): string {
  return readFileSync(join(packageRoot(), 'media', 'report', name), 'utf8');
}

function bytes(n: number): string {
  return n.toLocaleString('en-US');
}

const pct = (p: number | null) => (p === null ? '—' : `${p}%`);

function componentTable(components: ComponentFigures[]): string {
  const rows = components.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td>${c.processes}</td>` +
    `<td>${c.staticInstructions.control}</td><td>${c.staticInstructions.data}</td><td>${c.staticInstructions.dataPercent}%</td>` +
    `<td>${c.functions.control.functions}</td><td>${c.functions.data.functions}</td>` +
    `<td>${pct(c.libraries.controlPercent)}</td><td>${pct(c.libraries.dataPercent)}</td>` +
    `<td>${bytes(c.io.controlIn)}</td><td>${bytes(c.io.controlOut)}</td><td>${bytes(c.io.dataIn)}</td><td>${bytes(c.io.dataOut)}</td></tr>`);
  return `<table id="figures-table"><thead><tr><th rowspan="2">component</th><th rowspan="2">processes</th>` +
    `<th colspan="3">Fig. 1 static instructions</th><th colspan="2">Fig. 2 functions (top ${TOP_SHARE * 100}%)</th>` +
    `<th colspan="2">Fig. 4 % from libraries</th><th colspan="4">Fig. 5 I/O bytes</th></tr>` +
    `<tr><th class="plane-c">control</th><th class="plane-d">data</th><th>% data</th><th class="plane-c">control</th><th class="plane-d">data</th>` +
    `<th class="plane-c">control</th><th class="plane-d">data</th><th class="plane-c">in</th><th class="plane-c">out</th><th class="plane-d">in</th><th class="plane-d">out</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`;
}

function heaviest(components: ComponentFigures[]): string {
  const items = components.map((c) => {
    const list = (plane: 'control' | 'data') => c.functions[plane].top.map((t) => `${escapeHtml(t.name)} (${t.share}%)`).join(', ') || '—';
    return `<li><strong>${escapeHtml(c.name)}</strong>: <span class="plane-c">${list('control')}</span>; <span class="plane-d">${list('data')}</span></li>`;
  });
  return `<ul>${items.join('')}</ul>`;
}

function sitesTable(report: ReportModel): string {
  if (!report.topSites.length) return '';
  const rows = report.topSites.map((x) => `<tr><td>${x.rank}</td><td>${x.score.toFixed(2)}</td><td>${escapeHtml(x.function)}</td><td>${escapeHtml(x.where)}</td>` +
    `<td>${x.access}</td><td>${x.count}</td><td>${x.policyDisagreement ? 'yes' : ''}</td><td>${x.evidence.map(escapeHtml).join('<br>')}</td></tr>`);
  return `<h2>Tainted pointer sites most likely to hide data-plane work</h2><table id="sites-table"><thead><tr><th>rank</th><th>score</th><th>function</th>` +
    `<th>where</th><th>access</th><th>count</th><th>policies disagree</th><th>evidence</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function messagesTable(report: ReportModel): string {
  if (!report.messages.length) return '';
  const rows = report.messages.map((m) => `<tr><td>${escapeHtml(m.from)}</td><td>${escapeHtml(m.to)}</td><td>${m.messages}</td></tr>`);
  return `<h2>Messages carrying tainted data</h2><table id="messages-table"><thead><tr><th>from</th><th>to</th><th>messages</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function recordingTable(report: ReportModel): string {
  const rows = report.components.flatMap((c) => c.recording.map((m) => `<tr><td>${escapeHtml(c.name)}</td><td>${m.mode}</td><td>${m.processes}</td>` +
    `<td>${bytes(m.logBytes)}</td><td>${bytes(m.records)}</td><td>${bytes(m.userDataBytes)}</td><td>${bytes(m.userDataLoggedBytes)}</td><td>${bytes(m.messageBytesByReference)}</td>` +
    `<td>${bytes(c.io.dataIn)}</td><td>${pct(m.logPercentOfDataIn)}</td></tr>`));
  if (!rows.length) return '';
  const rec = report.recordings;
  const summary = `<p>All components: ${rec.byMode.map((m) => `${m.mode} ${bytes(m.logBytes)} bytes of log (${m.processes} process${m.processes === 1 ? '' : 'es'})`).join(', ')}` +
    (rec.referencePercentOfValue === null ? '' : `; by-reference is ${rec.referencePercentOfValue}% of by-value`) + '.' +
    (rec.withoutComponent.length ? ` Recorded but not classified: ${rec.withoutComponent.map(escapeHtml).join(', ')}.` : '') + '</p>';
  return `<h2>Recording log size per mode</h2><p>What librecord logged to replay each component (<code>planescope run --mode record` +
    ` --record-data by-value|by-reference</code>): the paper's claim is that a control-plane recording is a small fraction of the data it moves.</p>` +
    `<table id="recording-table"><thead><tr><th>component</th><th>mode</th><th>processes</th><th>log bytes</th><th>records</th>` +
    `<th>user data read</th><th>of it in the log</th><th>message bytes by reference</th><th class="plane-d">data-plane bytes in (Fig. 5)</th><th>log / data-plane in</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>${summary}`;
}

function figure(id: string, title: string, caption: string): string {
  return `<figure><h3>${title}</h3><div class="chart"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div><figcaption>${caption}</figcaption></figure>`;
}

/** The standalone report page for a computed ReportModel. */
export function buildReportHtml(report: ReportModel, options: HtmlOptions = {}): string {
  const nonce = options.nonce ?? randomBytes(16).toString('base64');
  if (!/^[A-Za-z0-9+/=]+$/.test(nonce)) throw new Error('a CSP nonce must be base64');
  const csp = `default-src 'none'; img-src data:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`;
  const warnings = report.warnings.length
    ? `<h2>Warnings</h2><ul class="warnings">${report.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '';
  const noLines = report.modulesWithoutLines.length
    ? `<p class="note">Modules without source lines (instructions counted): ${report.modulesWithoutLines.map((m) => `${escapeHtml(m.path)} [${escapeHtml(m.buildId || 'no build-id')}: ${m.why}]`).join('; ')}</p>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
${options.cspMeta === false ? '' : `<meta http-equiv="Content-Security-Policy" content="${csp}">`}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Planescope report — ${escapeHtml(report.database)}</title>
<style nonce="${nonce}">${asset('report.css')}</style>
</head>
<body>
<h1>Control plane / data plane report</h1>
<p class="meta">${escapeHtml(report.database)} · ${report.runs} run(s) · planes by the ${escapeHtml(report.primaryPolicy)} pointer policy · ${escapeHtml(report.generator)} · ${escapeHtml(report.created)}</p>
<p>Overall, <span class="plane-c">${report.totals.controlInstructions}</span> static instructions are control plane and
<span class="plane-d">${report.totals.dataInstructions}</span> data plane (${report.totals.dataPercent}% data); the data plane carries
${pct(report.totals.ioDataPercent)} of the I/O bytes. The paper's hypothesis: control plane ≈ 99% of the code, ≈ 1% of the I/O.</p>
<h2>Figures per component</h2>
<div class="grid">
${figure('fig1', 'Figure 1 — code size', 'Static instructions executed at least once, by plane (% of the component).')}
${figure('fig2', 'Figure 2 — function complexity', `Functions hosting the most executed instructions that make up ${TOP_SHARE * 100}% of each plane's executions.`)}
${figure('fig4', 'Figure 4 — well-tested code', 'Dynamic instructions from libraries (every shared object but the program\'s own, plus code inlined from system headers under /usr), % of each plane.')}
${figure('fig5', 'Figure 5 — data rates', 'Bytes read (in) and written (out) through files, sockets, pipes, ttys and devices, by plane (log scale).')}
</div>
<h2>Numbers</h2>
${componentTable(report.components)}
<h3>Heaviest functions per plane</h3>
${heaviest(report.components)}
${recordingTable(report)}
${sitesTable(report)}
${messagesTable(report)}
${noLines}
${warnings}
<script id="planescope-report-data" type="application/json" nonce="${nonce}">${scriptJson(report)}</script>
<script nonce="${nonce}">${chartJsSource()}</script>
<script nonce="${nonce}">${asset('report.js')}</script>
</body>
</html>
`;
}

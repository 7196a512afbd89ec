// The one place the extension asks for report HTML: the generator of `planescope report --html`
// (src/core/report), loaded on first use.
import type { PlanesDatabaseReader } from '../core/db/api';

/**
 * The report page of a database. With `nonce`, for the webview: every <script>/<style> carries it and the
 * page has no CSP of its own (the panel adds its policy). Without, the standalone page with its own CSP.
 */
export async function reportHtml(reader: PlanesDatabaseReader, nonce?: string): Promise<string> {
  const [{ PlanesDatabase }, { computeReport, buildReportHtml }] = await Promise.all([
    import('../core/db/reader.js'),
    import('../core/report/index.js'),
  ]);
  if (!(reader instanceof PlanesDatabase)) throw new Error(`${reader.path} was not opened by Planescope's database reader`);
  const model = computeReport(reader);
  return buildReportHtml(model, nonce ? { nonce, cspMeta: false } : {});
}

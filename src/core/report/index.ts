// The report as the CLI and the extension's webview ask for it.
import type { PlanesDatabaseReader } from '../db/api';
import { PlanesDatabase } from '../db/reader';
import { computeReport } from './figures';
import { buildReportHtml, HtmlOptions } from './html';

export { computeReport, formatReportText } from './figures';
export type { ReportModel, ComponentFigures } from './figures';
export { buildReportHtml } from './html';
export type { HtmlOptions } from './html';

/** The HTML report of an open database (one opened by openPlanesDatabase). */
export function reportHtml(reader: PlanesDatabaseReader, options: HtmlOptions = {}): string {
  if (!(reader instanceof PlanesDatabase)) throw new Error('the report needs a database opened with openPlanesDatabase() (src/core/db/reader.ts)');
  return buildReportHtml(computeReport(reader), options);
}

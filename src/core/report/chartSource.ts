// The Chart.js browser build, inlined into the self-contained HTML report. esbuild embeds the file as a
// string at bundle time (text import), so the packaged extension and CLI need no node_modules; run from
// sources (tests via tsx) the import yields the module instead and the file is read from node_modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-ignore -- a text import: esbuild's `with { type: 'text' }`, which TypeScript's node16 mode does not model
import bundled from '../../../node_modules/chart.js/dist/chart.umd.min.js' with { type: 'text' };
import { packageRoot } from '../assets';

let cached: string | undefined;

export function chartJsSource(): string {
  if (cached === undefined) {
    cached = typeof bundled === 'string' ? bundled : readFileSync(join(packageRoot(), 'node_modules/chart.js/dist/chart.umd.min.js'), 'utf8');
  }
  return cached;
}

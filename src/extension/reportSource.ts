// The one place the extension asks for report HTML (the generator of `planescope report --html`).
import type { PlanesDatabaseReader } from '../core/db/api';

export async function reportHtml(reader: PlanesDatabaseReader): Promise<string> {
  // TEMPORARY until src/core/report lands: a plain table of the components.
  const rows = reader.components().map((c) => `<tr><td>${c.name}</td><td>${c.controlInstructions}</td><td>${c.dataInstructions}</td></tr>`);
  return `<!DOCTYPE html><html><head><title>Planescope</title></head><body><table>${rows.join('')}</table></body></html>`;
}

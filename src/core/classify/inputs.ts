// Finds the taint logs to classify: *.taintlog files given directly or anywhere under given directories.
import { readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export function findTaintLogs(inputs: string[]): string[] {
  const found: string[] = [];
  const missing: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.taintlog')) found.push(path);
    }
  };
  for (const input of inputs) {
    let stat;
    try {
      stat = statSync(input);
    } catch {
      missing.push(input);
      continue;
    }
    if (stat.isDirectory()) walk(resolve(input), 0);
    else found.push(resolve(input));
  }
  if (missing.length) throw new Error(`no such file or directory: ${missing.join(', ')}`);
  return [...new Set(found)];
}

/** Writes the database next to its final name, then renames: readers never see half a file. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temp, bytes);
  renameSync(temp, path);
}

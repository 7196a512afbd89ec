// Reads Planescope's settings (package.json contributes.configuration) in one place, with their defaults.
import * as vscode from 'vscode';
import type { PrefixPair } from '../core/pathMap';

export interface Settings {
  /** Explicit database paths (absolute, or relative to the first workspace folder). */
  databases: string[];
  autoDiscover: boolean;
  discoveryGlob: string;
  pathMappings: PrefixPair[];
  compDir: string;
  gutterIcons: boolean;
  lineLetters: boolean;
  overviewRuler: boolean;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration('planescope', scope);
  const single = c.get<string>('database', '').trim();
  const pairs = c.get<unknown>('pathMappings', []);
  return {
    databases: single ? [single] : [],
    autoDiscover: c.get<boolean>('autoDiscover', true),
    discoveryGlob: c.get<string>('discoveryGlob', '**/*.planes.db'),
    pathMappings: parsePairs(pairs),
    compDir: c.get<string>('compDir', ''),
    gutterIcons: c.get<boolean>('decorations.gutterIcons', false),
    lineLetters: c.get<boolean>('decorations.letters', true),
    overviewRuler: c.get<boolean>('decorations.overviewRuler', true),
  };
}

// Accepts [{from,to}, ...] and the {"from": "to"} object form people write from other tools' settings.
function parsePairs(value: unknown): PrefixPair[] {
  if (Array.isArray(value)) {
    return value.filter((p): p is PrefixPair => !!p && typeof p.from === 'string' && typeof p.to === 'string');
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter((e): e is [string, string] => typeof e[1] === 'string')
      .map(([from, to]) => ({ from, to }));
  }
  return [];
}

// The first e2e test: the packaged extension, installed into a real VS Code, lists its commands in the
// palette, activates, and answers its version command.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, useVSCode } from './harness';

interface Manifest {
  version: string;
  contributes: {
    commands: { command: string; title: string; category?: string; enablement?: string }[];
    menus?: { commandPalette?: { command: string; when?: string }[] };
  };
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;

/**
 * The titles the palette shows for the manifest's commands in a fresh workspace. Left out: commands with a
 * `when` clause in menus.commandPalette or an `enablement` clause (the palette hides disabled commands).
 */
function paletteTitles(): string[] {
  const conditional = new Set((manifest.contributes.menus?.commandPalette ?? []).filter((m) => m.when).map((m) => m.command));
  return manifest.contributes.commands
    .filter((c) => !conditional.has(c.command) && !c.enablement)
    .map((c) => (c.category ? `${c.category}: ${c.title}` : c.title));
}

describe('e2e: Planescope in a real VS Code', function () {
  const editor = useVSCode({ workspace: 'basic' });

  it('lists every command of its manifest in the palette', async () => {
    const titles = paletteTitles();
    assert.ok(titles.includes('Planescope: Show Version and Tool Status'), 'the manifest lost its version command');
    // One look at the palette filtered on the category, then one look per title it did not render.
    const seen = new Set(await editor.workbench.paletteCommands('Planescope: ', titles[0]));
    const missing: string[] = [];
    for (const title of titles.filter((t) => !seen.has(t))) {
      const shown = await editor.workbench.paletteCommands(title, title);
      if (!shown.includes(title)) missing.push(`${title} (palette showed: ${shown.join(' | ')})`);
    }
    assert.deepEqual(missing, []);
  });

  it('activates and shows its version in a notification', async () => {
    await editor.workbench.runCommand('Planescope: Show Version and Tool Status');
    const text = await editor.workbench.waitForNotification(/^Planescope \d/);
    assert.match(text, new RegExp(`^Planescope ${manifest.version.replace(/\./g, '\\.')} \\(valgrind: .+, gdb: .+\\)$`));
  });

  it('was activated by the extension host (its log says so)', async () => {
    const logs = editor.vscode.extensionHostLogs();
    assert.ok(logs.length > 0, 'VS Code wrote no extension host log');
    const text = logs.filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('\n');
    assert.match(text, /activat\w* extension[^\n]*planescope\.planescope|planescope\.planescope[^\n]*activat/i);
  });
});

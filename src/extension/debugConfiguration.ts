// Launch configurations of the `planescope` debug type: initial ones for launch.json (one per recorded
// process found in the workspace, else a direct run of a program), and defaults filled in when F5 is
// pressed without a launch.json.
import * as vscode from 'vscode';
import { basename, dirname } from 'node:path';
import { MANIFEST_FILE, mergeManifestProcesses } from '../core/recording/manifest';

/** What a recording's manifest.json says of each process (docs/recording.md). */
interface ManifestProcess {
  log: string;
  process: string;
  pid?: number;
  exe: string;
}

/** Recordings in the workspace: directories with a manifest.json, or manifest-N.json for the N-th run recorded
 *  into the same directory (the processes of one system started one by one); each process once. */
async function findRecordings(token?: vscode.CancellationToken): Promise<Array<{ dir: string; processes: ManifestProcess[] }>> {
  const byDir = new Map<string, ManifestProcess[][]>();
  const manifests = (await vscode.workspace.findFiles('**/manifest*.json', '**/node_modules/**', 200, token)).filter((u) => MANIFEST_FILE.test(basename(u.fsPath)));
  for (const uri of manifests.sort((a, b) => a.fsPath.localeCompare(b.fsPath, undefined, { numeric: true }))) {
    try {
      const manifest = JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'));
      if (Array.isArray(manifest?.processes) && manifest.processes.every((p: ManifestProcess) => typeof p?.log === 'string' && typeof p?.process === 'string' && typeof p?.exe === 'string')) {
        const dir = dirname(uri.fsPath);
        byDir.set(dir, [...(byDir.get(dir) ?? []), manifest.processes]);
      }
    } catch {
      // not a recording manifest
    }
  }
  return [...byDir].map(([dir, listings]) => ({ dir, processes: mergeManifestProcesses(listings) }));
}

function relativeToWorkspace(folder: vscode.WorkspaceFolder | undefined, path: string): string {
  if (folder && path.startsWith(folder.uri.fsPath + '/')) return '${workspaceFolder}' + path.slice(folder.uri.fsPath.length);
  return path;
}

export class PlanescopeConfigurationProvider implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined, token?: vscode.CancellationToken): Promise<vscode.DebugConfiguration[]> {
    const configs: vscode.DebugConfiguration[] = [];
    for (const rec of await findRecordings(token)) {
      for (const p of rec.processes) {
        configs.push({
          type: 'planescope',
          request: 'launch',
          name: `Planescope: replay ${p.process} of ${rec.dir.split('/').pop()}`,
          recording: relativeToWorkspace(folder, rec.dir),
          process: p.process,
          stopOnEntry: false,
        });
      }
    }
    if (configs.length === 0) {
      configs.push({
        type: 'planescope',
        request: 'launch',
        name: 'Planescope: run under planegrind',
        program: '${workspaceFolder}/a.out',
        args: [],
        cwd: '${workspaceFolder}',
        userData: ['${workspaceFolder}/data/**'],
        stopOnEntry: true,
      });
    }
    return configs;
  }

  /** F5 without launch.json: debug the active C/C++ file's program if one is obvious, else explain. */
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor && (editor.document.languageId === 'c' || editor.document.languageId === 'cpp')) {
        const program = editor.document.uri.fsPath.replace(/\.(c|cc|cpp|cxx)$/, '');
        return { type: 'planescope', request: 'launch', name: 'Planescope: run under planegrind', program, cwd: folder?.uri.fsPath ?? dirname(program), stopOnEntry: true };
      }
      void vscode.window.showInformationMessage('Add a "planescope" configuration to launch.json: "recording" + "process" of a recorded run, or "program" (+ "args", "userData") to run under planegrind.');
      return undefined;
    }
    if (!config.recording && !config.program) {
      void vscode.window.showErrorMessage('The Planescope launch configuration needs "program" (run under planegrind) or "recording" and "process" (replay a recorded run).');
      return undefined;
    }
    config.cwd ??= folder?.uri.fsPath;
    return config;
  }
}

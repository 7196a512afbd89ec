// The e2e harness: real VS Code (code-server + Chromium here, Electron with npm run test:desktop) driven
// through its DOM. docs/testing.md documents it with examples.
export { useVSCode, e2eSkipReason, type VSCodeFixture } from './mocha';
export { VSCode, defaultSettings, type VSCodeOptions } from './vscode';
export { Workbench, type LineDecorations, type RulerBand, type TreeItem, type VariableRow } from './workbench';
export { fixturesDir, resultsDir, repoRoot } from './paths';
export { groupAlive, liveGroups } from './processes';

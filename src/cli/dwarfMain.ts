// `planescope dwarf ...` on its own (dist/cli-dwarf.js, loaded by src/cli/entry.ts): the DWARF
// commands without the code of every other command.
import { runAsProcess, runCommand } from './command';
import { dwarfCommand } from './commands/dwarf';

export function start(): void {
  runAsProcess(() => runCommand(dwarfCommand, process.argv.slice(3)));
}

// The `planescope` command: dispatches to a sub-command and turns errors into one clear line.
import { planescopeVersion } from '../core/assets';
import { Command, runAsProcess, runCommand, UserError } from './command';
import { commands } from './commands/index';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `planescope ${planescopeVersion()}: which code of a distributed C/C++ program is control plane and which is data plane`,
    '',
    'Usage: planescope <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `planescope help <command>` for the options of one command.',
  ].join('\n');
}

function find(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UserError(`unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}`, 2);
  return command;
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h') {
    console.log(overview());
    return verb ? 0 : 2;
  }
  if (verb === '--version') {
    console.log(planescopeVersion());
    return 0;
  }
  if (verb === 'help') {
    console.log(rest[0] ? find(rest[0]).help : overview());
    return 0;
  }
  return runCommand(find(verb), rest);
}

/** Runs the process's command line (dist/cli.js, src/cli/entry.ts, calls this for every command but `dwarf`). */
export function start(): void {
  runAsProcess(() => main(process.argv.slice(2)));
}

if (require.main === module) start();

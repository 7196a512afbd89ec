// `planescope version`: the versions of Planescope and of the tools it drives, and what is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, planescopeVersion } from '../../core/assets';
import { which } from '../../core/processes';
import { Command } from '../command';
import { parseArgs } from '../args';

export const versionCommand: Command = {
  name: 'version',
  summary: 'print versions and check that valgrind, gdb and the built parts are present',
  help: `Usage: planescope version [--json]

Prints the Planescope version and whether the tools it drives (valgrind, gdb, vgdb)
and its built parts (planegrind, librecord.so, the DWARF .wasm) are present.`,
  async run(args) {
    const parsed = parseArgs(args, { flags: ['json'] }, 'version');
    const dist = join(packageRoot(), 'dist');
    const status = {
      planescope: planescopeVersion(),
      valgrind: which('valgrind') ?? null,
      vgdb: which('vgdb') ?? null,
      gdb: which('gdb') ?? null,
      planegrind: existsSync(join(dist, 'native', 'planegrind-amd64-linux')),
      librecord: existsSync(join(dist, 'native', 'librecord.so')),
      dwarfWasm: existsSync(join(dist, 'planescope_dwarf.wasm')),
    };
    if (parsed.flags.has('json')) {
      console.log(JSON.stringify(status, null, 2));
    } else {
      console.log(`planescope ${status.planescope}`);
      for (const tool of ['valgrind', 'vgdb', 'gdb'] as const) console.log(`  ${tool.padEnd(11)} ${status[tool] ?? 'MISSING (apt-get install valgrind gdb)'}`);
      for (const part of ['planegrind', 'librecord', 'dwarfWasm'] as const) console.log(`  ${part.padEnd(11)} ${status[part] ? 'built' : 'MISSING (npm run build)'}`);
    }
    return 0;
  },
};

// The `planescope` executable (dist/cli.js): loads only the bundle the command needs. `planescope
// dwarf` is what scripts diff against binutils, often once per binary: its own bundle is a tenth of
// the size of all commands together, and parsing that takes node about 10 ms per run.
import { join } from 'node:path';

const bundle = process.argv[2] === 'dwarf' ? 'cli-dwarf.js' : 'cli-main.js';
// A path built at run time, so that esbuild leaves this require to node (the bundles sit next to this file).
(require(join(__dirname, bundle)) as { start(): void }).start();

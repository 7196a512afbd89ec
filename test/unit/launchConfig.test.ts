// checkProgram: a `program` launch is refused, with the reason, unless planegrind can run the file.
import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProgram } from '../../src/debug/launchConfig';

describe('debug launch: checkProgram', () => {
  it('accepts a 64-bit ELF executable and refuses a script and a 32-bit ELF, naming the file and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'planescope-launch-'));
    try {
      assert.equal(checkProgram('/bin/true', dir), '/bin/true');
      const script = join(dir, 'run.sh');
      writeFileSync(script, '#!/bin/sh\necho hi\n'.repeat(8));
      chmodSync(script, 0o755);
      assert.throws(() => checkProgram('run.sh', dir), new RegExp(`the program ${script} cannot be debugged: ${script} is not an ELF file`));
      const elf32 = join(dir, 'old');
      const head = Buffer.alloc(64);
      head.writeUInt32BE(0x7f454c46, 0);
      head[4] = 1; // ELFCLASS32
      head[5] = 1;
      writeFileSync(elf32, head);
      chmodSync(elf32, 0o755);
      assert.throws(() => checkProgram(elf32, dir), /is not a 64-bit little-endian ELF file/);
      assert.throws(() => checkProgram('missing', dir), /does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

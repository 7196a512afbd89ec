// PlanegrindTarget: start() resolves only once vgdb can connect. Valgrind prints its "TO DEBUG THIS PROCESS
// USING GDB" banner before it creates the FIFOs (seen in 37 of 40 starts here), so waiting for the banner alone
// let a fast gdb fail with "vgdb error: no FIFO found matching pid N".
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { PlanegrindTarget } from '../../src/debug/planegrindTarget';

describe('PlanegrindTarget', function () {
  this.timeout(60_000);

  it('resolves start() only when the gdbserver FIFOs and shared memory exist', async () => {
    for (let i = 0; i < 5; i++) {
      const target = new PlanegrindTarget({ vgdb: '/usr/bin/vgdb', onOutput: () => undefined });
      try {
        await target.start({ command: 'valgrind', args: [...target.gdbserverArgs, '/bin/true'], env: process.env, cwd: '/' });
        const names = readdirSync(target.workDir);
        for (const prefix of [`vgdb-from-vgdb-to-${target.pid}-`, `vgdb-to-vgdb-from-${target.pid}-`, `vgdb-shared-mem-vgdb-${target.pid}-`]) {
          assert.ok(names.some((n) => n.startsWith(prefix)), `start ${i}: no ${prefix}* in ${names.join(', ')}`);
        }
      } finally {
        await target.dispose();
      }
    }
  });
});

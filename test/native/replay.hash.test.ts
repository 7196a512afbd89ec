// librecord's content hash of by-reference records (native/librecord/lr_rr_hash.c): its AVX-512, AVX2 and
// scalar loops must give the same value, or a recording would not replay on a machine of another kind.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

describe('librecord by-reference hash', () => {
  it('gives the same value with AVX-512, AVX2 and the scalar loop, and sees a flipped bit and swapped stripes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'planescope-hash-'));
    try {
      const exe = join(dir, 'hash_check');
      const src = resolve(__dirname, 'fixtures', 'replay', 'hash_check.c');
      execFileSync('gcc', ['-O2', '-D_GNU_SOURCE', '-o', exe, src]);
      assert.match(execFileSync(exe, { encoding: 'utf8' }), /^ok/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareHashes, fileFreshness, sha256Hex } from '../../src/core/staleness';

describe('staleness', () => {
  it('hashes like sha256sum', () => {
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('says fresh, stale (with both hashes and the way out) or unknown', () => {
    assert.deepEqual(compareHashes('/a.c', 'AB', 'ab'), { state: 'fresh' });
    const stale = compareHashes('/a.c', '0123456789abcdef', 'fedcba9876543210');
    assert.equal(stale.state, 'stale');
    assert.match((stale as { reason: string }).reason, /\/a\.c changed since it was classified .*fedcba987654.*0123456789ab.*planescope classify/);
    assert.equal(compareHashes('/a.c', '', 'ab').state, 'unknown');
    assert.equal(compareHashes('/a.c', 'ab', undefined).state, 'unknown');
  });

  it('reads the file on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-stale-'));
    const file = join(dir, 'x.c');
    writeFileSync(file, 'int main(void){return 0;}\n');
    assert.equal((await fileFreshness(file, sha256Hex('int main(void){return 0;}\n'))).state, 'fresh');
    writeFileSync(file, 'int main(void){return 1;}\n');
    assert.equal((await fileFreshness(file, sha256Hex('int main(void){return 0;}\n'))).state, 'stale');
    assert.equal((await fileFreshness(join(dir, 'missing.c'), 'ab')).state, 'unknown');
  });
});

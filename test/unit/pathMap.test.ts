import { strict as assert } from 'node:assert';
import { PathMap, applyPrefixPairs, hasPathPrefix, normalizePath, resolveCompDir } from '../../src/core/pathMap';

describe('pathMap', () => {
  it('normalises paths and resolves relative DWARF names against comp_dir', () => {
    assert.equal(normalizePath('/a//b/./c/../d/'), '/a/b/d');
    assert.equal(resolveCompDir('src/x.c', '/build/proj'), '/build/proj/src/x.c');
    assert.equal(resolveCompDir('../inc/y.h', '/build/proj/src'), '/build/proj/inc/y.h');
    assert.equal(resolveCompDir('/abs/z.c', '/build'), '/abs/z.c');
  });

  it('matches prefixes on whole path components only', () => {
    assert.ok(hasPathPrefix('/build/a.c', '/build'));
    assert.ok(!hasPathPrefix('/buildx/a.c', '/build'));
    assert.ok(hasPathPrefix('/build', '/build'));
  });

  it('applies the longest matching prefix pair first, whatever the order given', () => {
    const pairs = [
      { from: '/build', to: '/home/me/proj' },
      { from: '/build/vendor/', to: '/opt/vendor' },
    ];
    assert.equal(applyPrefixPairs('/build/vendor/lib.c', pairs, 'toLocal'), '/opt/vendor/lib.c');
    assert.equal(applyPrefixPairs('/build/src/a.c', pairs, 'toLocal'), '/home/me/proj/src/a.c');
    assert.equal(applyPrefixPairs('/elsewhere/a.c', pairs, 'toLocal'), undefined);
    assert.equal(applyPrefixPairs('/opt/vendor/lib.c', pairs, 'toRecorded'), '/build/vendor/lib.c');
  });

  it('maps recorded files both ways through the pairs', () => {
    const map = new PathMap(['/build/src/a.c', '/build/vendor/lib.c'], {
      pairs: [{ from: '/build', to: '/w' }, { from: '/build/vendor', to: '/v' }],
    });
    assert.equal(map.toLocal('/build/src/a.c'), '/w/src/a.c');
    assert.equal(map.toLocal('/build/vendor/lib.c'), '/v/lib.c');
    assert.equal(map.toRecorded('/w/src/a.c'), '/build/src/a.c');
    assert.equal(map.toRecorded('/v/lib.c'), '/build/vendor/lib.c');
    assert.equal(map.toRecorded('/w/src/other.c'), undefined);
  });

  it('resolves relative recorded names against the comp_dir option', () => {
    const map = new PathMap(['src/a.c'], { compDir: '/ws/proj' });
    assert.equal(map.toLocal('src/a.c'), '/ws/proj/src/a.c');
    assert.equal(map.toRecorded('/ws/proj/src/a.c'), 'src/a.c');
  });

  it('falls back to a unique match on trailing components, and refuses ambiguous ones', () => {
    const map = new PathMap(['/b1/examples/cloudstore/chunk.c', '/b1/examples/cloudstore/util.c', '/b1/lib/util.c']);
    assert.equal(map.toRecorded('/home/u/checkout/examples/cloudstore/chunk.c'), '/b1/examples/cloudstore/chunk.c');
    assert.equal(map.toRecorded('/home/u/checkout/examples/cloudstore/util.c'), '/b1/examples/cloudstore/util.c');
    // Only the file name in common: too weak to claim.
    assert.equal(map.toRecorded('/home/u/other/chunk.c'), undefined);
    // Two equally good candidates: ambiguous.
    const twin = new PathMap(['/x/a/src/m.c', '/y/b/src/m.c']);
    assert.equal(twin.toRecorded('/z/src/m.c'), undefined);
  });
});

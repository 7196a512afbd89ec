import { strict as assert } from 'node:assert';
import { strictCsp, withStrictCsp } from '../../src/core/webviewCsp';

describe('webviewCsp', () => {
  const src = 'https://x.vscode-cdn.net';

  it('allows nothing remote and no inline code without the nonce', () => {
    const csp = strictCsp('abc=', src);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc='(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });

  it('stamps every script and style with the nonce, replacing foreign nonces and policies', () => {
    const html =
      '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src *"><style>p{}</style></head>' +
      '<body><script nonce="old">1</script><script type="module">2</script></body></html>';
    const out = withStrictCsp(html, 'N0nce', src);
    assert.equal((out.match(/Content-Security-Policy/g) ?? []).length, 1);
    assert.doesNotMatch(out, /default-src \*/);
    assert.doesNotMatch(out, /old/);
    assert.equal((out.match(/<script nonce="N0nce"/g) ?? []).length, 2);
    assert.match(out, /<style nonce="N0nce">/);
    assert.match(out, /<head><meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  });

  it('wraps fragments in a document and refuses a nonce that could break out of the attribute', () => {
    assert.match(withStrictCsp('<p>x</p>', 'a', src), /^<!DOCTYPE html><html><head><meta [^>]+><\/head><body><p>x<\/p><\/body><\/html>$/);
    assert.throws(() => withStrictCsp('', '"><script>', src), /base64/);
  });
});

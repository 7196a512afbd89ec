// Puts generated HTML under a strict Content-Security-Policy for a VS Code webview: nothing remote, no
// inline code except the <script> and <style> elements this function stamps with a fresh nonce.
// Pure string work so the same rule is unit-tested without VS Code.

/** The policy: scripts and styles only with the nonce, images only local or data:, nothing else. */
export function strictCsp(nonce: string, cspSource: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Adds the policy as the first element of <head> and the nonce to every <script> and <style>. */
export function withStrictCsp(html: string, nonce: string, cspSource: string): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(nonce)) throw new Error('a CSP nonce must be base64');
  let out = html.replace(/<meta[^>]+http-equiv=["']?content-security-policy["']?[^>]*>/gi, '');
  // Replace any nonce the generator set, so only ours is valid.
  out = out.replace(/<(script|style)\b([^>]*)>/gi, (_m, tag: string, attrs: string) => {
    const cleaned = attrs.replace(/\snonce=("[^"]*"|'[^']*'|[^\s>]+)/gi, '');
    return `<${tag} nonce="${nonce}"${cleaned}>`;
  });
  const meta = `<meta http-equiv="Content-Security-Policy" content="${strictCsp(nonce, cspSource)}">`;
  if (/<head\b[^>]*>/i.test(out)) return out.replace(/<head\b[^>]*>/i, (h) => `${h}${meta}`);
  if (/<html\b[^>]*>/i.test(out)) return out.replace(/<html\b[^>]*>/i, (h) => `${h}<head>${meta}</head>`);
  return `<!DOCTYPE html><html><head>${meta}</head><body>${out}</body></html>`;
}

/**
 * The headers every answer of the dashboard carries (docs/admin.md, "Sessions and security").
 * No `server-only` here: next.config.ts and the proxy read it too.
 */

/** The same on every response, static files included: next.config.ts sets them. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Old browsers' word for frame-ancestors 'none': no site may frame the dashboard.
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: under it a browser sends `Origin: null` on same-origin POSTs, which the
  // server actions' and route handlers' origin checks (route-helpers.ts) would then refuse.
  'Referrer-Policy': 'same-origin',
};

/**
 * The policy of answers that are never pages: the route handlers under /api and server actions'
 * replies (next.config.ts sets it; the proxy, which would buffer their bodies, skips them).
 * Nothing may load from them and nothing may frame them.
 */
export const DATA_CONTENT_SECURITY_POLICY =
  "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A fresh nonce per response: 128 random bits, base64. */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * The Content-Security-Policy: the proxy (src/proxy.ts) sets it on every response with a new
 * nonce, and on the request too, where Next.js reads the nonce and puts it on every script it
 * renders (its inline RSC payload scripts included, which is why 'self' alone cannot work and
 * every page renders per request: app/layout.tsx).
 */
export function contentSecurityPolicy(nonce: string, { dev }: { dev: boolean }): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    // 'strict-dynamic': the chunks Next.js's runtime loads trust the nonce'd scripts that load
    // them. `next dev` needs eval for React's error overlays; production never does.
    'script-src': [
      "'self'",
      `'nonce-${nonce}'`,
      "'strict-dynamic'",
      ...(dev ? ["'unsafe-eval'"] : []),
    ],
    // React renders `style={...}` props as style attributes, which no nonce can allow.
    'style-src': ["'self'", "'unsafe-inline'"],
    // Thumbnails come through /images (same origin); the playground and the uploader preview
    // the picked photo from a blob: URL.
    'img-src': ["'self'", 'blob:'],
    'font-src': ["'self'"],
    // The browser only ever talks to the dashboard (route handlers, server actions), never the API.
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

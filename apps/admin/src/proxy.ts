import { NextResponse, type NextRequest } from 'next/server';
import { env } from '@/env';
import { contentSecurityPolicy, newNonce } from '@/server/security-headers';

/**
 * Runs before every request but those below: a Content-Security-Policy with a nonce fresh for
 * this response. Set on the request as well, where Next.js finds the nonce and puts it on the
 * scripts it renders; the client's own CSP header, if any, is replaced.
 */
export function proxy(request: NextRequest): NextResponse {
  const policy = contentSecurityPolicy(newNonce(), { dev: env().NODE_ENV === 'development' });
  const headers = new Headers(request.headers);
  headers.set('Content-Security-Policy', policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('Content-Security-Policy', policy);
  return response;
}

/**
 * Not the requests that carry bodies: Next.js buffers the body of every request a proxy sees,
 * up to 10 MB (proxyClientMaxBodySize), which would cut the imports (/api/import streams up to
 * the API's 100 MiB) and large server-action uploads short. Their answers are JSON, files or RSC
 * payloads, never pages: next.config.ts gives them DATA_CONTENT_SECURITY_POLICY. (A form posted
 * without JavaScript has no next-action header: its answer is a page, and comes through here.)
 */
export const config = {
  matcher: [
    {
      source: '/((?!api(?:/|$)).*)',
      missing: [{ type: 'header', key: 'next-action' }],
    },
  ],
};

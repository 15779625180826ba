import { env } from '@/env';
import { sessionKey } from '@/server/session';

const WIDTHS = new Set(['64', '128', '256', '512']);

/**
 * The API's images, served through the dashboard so the API need not be reachable from the
 * browser. Signed-in users only; content-addressed, so cacheable forever (privately).
 */
export async function GET(
  req: Request,
  { params }: { params: Promise<{ sha256: string }> },
): Promise<Response> {
  if (!(await sessionKey())) return new Response('Sign in first', { status: 401 });
  const { sha256 } = await params;
  if (!/^[0-9a-f]{64}$/.test(sha256)) return new Response('Not an image id', { status: 400 });
  const w = new URL(req.url).searchParams.get('w');
  if (w !== null && !WIDTHS.has(w))
    return new Response('w must be 64, 128, 256 or 512', { status: 400 });
  let upstream: Response;
  try {
    upstream = await fetch(`${env().API_URL}/images/${sha256}${w ? `?w=${w}` : ''}`, {
      cache: 'no-store',
    });
  } catch {
    return new Response('The API is not reachable', { status: 502 });
  }
  if (!upstream.ok || !upstream.body)
    return new Response(upstream.status === 404 ? 'Image not found' : 'Image unavailable', {
      status: upstream.status === 404 ? 404 : 502,
    });
  return new Response(upstream.body, {
    headers: {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      'cache-control': 'private, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      ...(upstream.headers.get('etag') ? { etag: upstream.headers.get('etag') ?? '' } : {}),
    },
  });
}
